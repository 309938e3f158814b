"""Same-engine copy: a SQLite legacy database staged into SQLite staging by SQLite itself.

When the source is a SQLite file (a ``sqlalchemy`` source with a ``sqlite`` URL) and staging is
SQLite too, rows need not pass through Python one by one. The source file is attached to a
staging connection read-only (``ATTACH 'file:...?mode=ro'``) and each chunk is one statement,
``INSERT INTO stg_... SELECT <columns>, run id, position, key text, row hash FROM source``,
committed together with its checkpoint as on the generic path (``extract.snapshot``), so an
interrupted copy resumes from its last checkpoint on either path.

What is staged is what the generic path stages, row for row:

- values: the source's values, inserted into the same staged columns, so the same column
  affinities apply to them;
- row hash: SQLite's ``json_array`` writes text, integers and NULL exactly as the canonical
  serialization does (compact, the same escapes, every other character as it is); a row holding
  a floating-point value is serialized by :func:`extract.hashing.canonical` itself, called from
  SQL (only columns whose affinity is not TEXT can hold one); the text is handed to a registered
  function as its bytes (``CAST(... AS BLOB)``, UTF-8 as the staging database's encoding must
  be), which hashes them as :func:`extract.hashing.text_digest` hashes the text: the bytes are
  the text's UTF-8 encoding, and a row whose bytes are not UTF-8 fails as reading it as text
  would (at 10,000 offenders this hands the ledger's 1.37 million rows over in 0.6 s less);
- order and positions: a keyed table is read in key order by keyset (``WHERE key > last ORDER
  BY key LIMIT n``) along a unique index of the key; each row gets the staged table's next rowid,
  which is ``_src_pos`` on SQLite, in the order the statement inserts them. A keyless table is
  first copied, sorted by every column, into a temporary table whose rowid gives the position;
- ``_src_key``: the key values as text joined by ``|`` (text as it is, integers by SQLite's
  ``CAST``, which writes them as Python's ``str`` does, anything else by ``str`` from SQL), or
  the position for a keyless table;
- checksum: the sum of the chunk's row hashes, counted as the function computes them; when the
  count differs from the rows inserted, the stored hashes are read back and summed instead.

A keyed table with :data:`SPLIT_ROWS` or more rows still to copy is shared out, one range of
keys per core: the source's unique key index gives the key at each share of the rows exactly,
so the position of every range's first row is known before it is read. This process copies the
first range as above; each worker process stages its range, by the same statements, into a
part file beside staging, shaped as the staged table and summing its hashes as it goes. Once
this process has reached a part's first key, the part is copied in as stored (a table whose
only index is the rowid takes SQLite's transfer path), with its checkpoint, in one transaction.
A part that cannot follow (its worker failed, say on a BLOB) is dropped, and this process copies
those rows itself and meets what the worker met. An interrupted copy resumes from the last
checkpoint; unfinished parts are deleted. Measured at 100,000 offenders (the ledger's 13.9
million rows, two cores, new and old in turn): 34.9 and 34.5 s split against 52.0 and 51.4 s;
copying the part of 7 million rows in took 5.5-7.0 s, why two cores do not halve the time.

The generic path is the reference: a table it would treat differently, or report a problem in,
goes there. That is a key no unique index or primary key guarantees, a key column holding NULL,
a key order that needs a sort, more than 100 columns, a staged table whose ``_src_pos`` is not
the rowid, a staging database whose text is not UTF-8, and any SQLite error during a chunk
other than a busy or locked database (a BLOB, which ``json_array`` refuses; text that is not
UTF-8, which the hash function refuses).
The chunk is rolled back and the table continues from its last checkpoint on the generic path.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cutover.digests import blake2b_128
from cutover.logs import get_logger
from cutover.pages import large_pages
from cutover.processes import (
    part_files,
    portable_error,
    read_only_uri,
    shareable,
    worker_context,
    worker_count,
)
from extract.base import Source, TableInfo
from extract.hashing import (
    EMPTY_CHECKSUM,
    Fingerprint,
    canonical,
    combine,
    to_hex,
)
from extract.retry import is_transient_message, translate
from extract.sql import SqlAlchemySource
from extract.staging import CheckpointState, Staging

__all__ = ["MAX_PARTS", "SPLIT_ROWS", "EngineCopy", "EngineUnsuitableError", "open_engine_copy"]

#: The schema name the source file is attached under.
_ALIAS = "cutover_source"
#: The temporary table a keyless table is sorted into.
_SORTED = "cutover_sorted"
#: SQLite limits a function to 127 arguments by default; wider tables take the generic path.
_MAX_COLUMNS = 100
#: Unsigned 64-bit words, to sum digests two halves at a time.
_WORDS = array("Q")
#: Rows still to copy of a keyed table from which worker processes stage its later ranges of
#: keys (see :meth:`EngineCopy.chunks`).
SPLIT_ROWS = 200_000
#: The most processes one table's copy is shared out to, this one included.
MAX_PARTS = 8
#: The schema name a worker's part is attached under, to be copied in.
_PART = "cutover_part"


class EngineUnsuitableError(Exception):
    """The engine cannot copy (the rest of) this table as the generic path would."""


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _affinity(declared: str) -> str:
    """SQLite's column affinity for a declared type (the rules of its documentation, in order)."""
    name = declared.upper()
    if "INT" in name:
        return "INTEGER"
    if "CHAR" in name or "CLOB" in name or "TEXT" in name:
        return "TEXT"
    if "BLOB" in name or not name:
        return "BLOB"
    if "REAL" in name or "FLOA" in name or "DOUB" in name:
        return "REAL"
    return "NUMERIC"


class _Tally:
    """The row hashes the current statement computed: their 16-byte digests, one after another."""

    __slots__ = ("digests",)

    def __init__(self) -> None:
        self.digests = bytearray()

    def reset(self) -> None:
        self.digests.clear()

    @property
    def count(self) -> int:
        return len(self.digests) // 16

    def total(self) -> int:
        """The sum of the digests read as big-endian 128-bit integers (not reduced)."""
        data = bytes(self.digests)
        if _WORDS.itemsize != 8:  # pragma: no cover - 8 on every platform CPython supports
            return sum(int.from_bytes(data[i : i + 16], "big") for i in range(0, len(data), 16))
        words = array("Q", data)
        if sys.byteorder == "little":
            words.byteswap()
        return (sum(words[0::2]) << 64) + sum(words[1::2])


def _utf8(data: bytes) -> bytes:
    """A serialization handed over as its bytes: refused, as decoding it as text would be, when
    they are not UTF-8 (only text with a character beyond ASCII needs the check)."""
    if not data.isascii():
        data.decode("utf-8")
    return data


class _Checksum:
    """The aggregate ``cutover_checksum(bytes)``: the checksum of the rows' serializations."""

    def __init__(self) -> None:
        self.total = 0

    def step(self, data: bytes) -> None:
        self.total += int.from_bytes(blake2b_128(_utf8(data)), "big")

    def finalize(self) -> str:
        return to_hex(combine(self.total, 0))


def _register(dbapi: Any, tally: _Tally) -> None:
    """The SQL functions the statements call, on this staging connection only."""

    keep = tally.digests.extend

    def row_hash(data: bytes) -> str:
        digest = blake2b_128(_utf8(data))
        keep(digest)
        return digest.hex()

    def row_canonical(*values: Any) -> str:
        return canonical(values)

    dbapi.create_function("cutover_row_hash", 1, row_hash, deterministic=True)
    dbapi.create_function("cutover_canonical", -1, row_canonical, deterministic=True)
    dbapi.create_function("cutover_str", 1, str, deterministic=True)
    dbapi.create_aggregate("cutover_checksum", 1, _Checksum)


@dataclass(frozen=True)
class _Columns:
    """SQL fragments for one source table: its columns, their declared types and its key."""

    names: tuple[str, ...]
    declared: tuple[str, ...]
    key: tuple[str, ...]

    @property
    def listed(self) -> str:
        return ", ".join(_quote(c) for c in self.names)

    @property
    def serialized(self) -> str:
        """The row's canonical serialization as UTF-8 bytes, as SQL."""
        plain = f"json_array({self.listed})"
        floats = [
            c for c, t in zip(self.names, self.declared, strict=True) if _affinity(t) != "TEXT"
        ]
        if not floats:
            return f"CAST({plain} AS BLOB)"
        test = " OR ".join(f"typeof({_quote(c)}) = 'real'" for c in floats)
        text = f"CASE WHEN {test} THEN cutover_canonical({self.listed}) ELSE {plain} END"
        return f"CAST({text} AS BLOB)"

    @property
    def key_text(self) -> str:
        """The key values as text joined by ``|``, as SQL."""
        declared = dict(zip(self.names, self.declared, strict=True))
        parts = []
        for k in self.key:
            q = _quote(k)
            if _affinity(declared[k]) == "TEXT":
                parts.append(q)  # text (a BLOB fails json_array; NULL keys were ruled out)
            else:
                parts.append(
                    f"CASE WHEN typeof({q}) IN ('integer', 'text') THEN CAST({q} AS TEXT) "
                    f"ELSE cutover_str({q}) END"
                )
        return " || '|' || ".join(parts)

    @property
    def key_listed(self) -> str:
        return ", ".join(_quote(k) for k in self.key)

    @property
    def after(self) -> str:
        """``key > last``, as SQL with one parameter per key column."""
        return self.compared(">")

    def compared(self, operator: str) -> str:
        """``key <operator> value``, as SQL with one parameter per key column."""
        marks = ", ".join("?" for _ in self.key)
        if len(self.key) == 1:
            return f"{_quote(self.key[0])} {operator} ?"
        return f"({self.key_listed}) {operator} ({marks})"

    def staged(self, relation: str) -> str:
        """The select of a staged row: the columns, the run id (a parameter), the position
        (``{position}``, filled in), the key text and the row hash."""
        return (
            f"SELECT {self.listed}, ?, {{position}}, {self.key_text}, "
            f"cutover_row_hash({self.serialized}) FROM {relation}"
        )


class EngineCopy:
    """One table's copy by the engine, on a staging connection with the source attached."""

    def __init__(
        self,
        conn: Connection,
        staging: Staging,
        info: TableInfo,
        columns: _Columns,
        tally: _Tally,
        *,
        source: str,
        source_file: str,
    ) -> None:
        self._conn = conn
        self._source_file = source_file
        self._staging = staging
        self._info = info
        self._cols = columns
        self._tally = tally
        self._source = source
        self._relation = f"{_ALIAS}.{_quote(info.name)}"
        #: Extraction order: by the key, or by every column for a keyless table.
        self._order = columns.key_listed if info.key else columns.listed
        #: The sorted copy's position column (see ``_sort_keyless``), named unlike any column.
        self._ordinal = "cutover_pos"
        while self._ordinal in {c.lower() for c in columns.names}:
            self._ordinal += "_"

    # -- fingerprints --------------------------------------------------------------------------

    def fingerprint(
        self, *, limit: int | None = None
    ) -> tuple[Fingerprint, tuple[Any, ...] | None] | None:
        """Count and checksum of the table (or its first ``limit`` rows in extraction order),
        and the last key of those rows; ``None`` when the engine cannot compute them."""
        cols, rel = self._cols, self._relation
        if limit is None:
            sql = f"SELECT count(*), cutover_checksum({cols.serialized}) FROM {rel}"
            params: tuple[Any, ...] = ()
        else:
            sql = (
                f"SELECT count(*), cutover_checksum(j) FROM (SELECT {cols.serialized} AS j "
                f"FROM {rel} ORDER BY {self._order} LIMIT ?)"
            )
            params = (limit,)
        try:
            counted = self._conn.exec_driver_sql(sql, params).one()
            # An aggregate over no rows is NULL: the checksum of nothing.
            rows, checksum = int(counted[0]), str(counted[1] or EMPTY_CHECKSUM)
            last: tuple[Any, ...] | None = None
            if limit is not None and rows and self._info.key:
                found = self._conn.exec_driver_sql(
                    f"SELECT {cols.key_listed} FROM {rel} ORDER BY {self._order} LIMIT 1 OFFSET ?",
                    (rows - 1,),
                ).one()
                last = tuple(found)
            self._conn.commit()
        except sa.exc.DBAPIError as exc:
            self._conn.rollback()
            if is_transient_message(str(exc.orig)):
                raise translate(
                    exc, source=self._source, table=self._info.name, action="read"
                ) from exc
            return None
        return Fingerprint(rows, checksum), last

    # -- staging -------------------------------------------------------------------------------

    def chunks(
        self, table: sa.Table, cp: CheckpointState, *, chunk_rows: int
    ) -> Iterator[tuple[CheckpointState, int]]:
        """Stage the rows after ``cp``, one committed chunk at a time; yields each new
        checkpoint with the rows it added. Raises :class:`EngineUnsuitableError` (the chunk
        under way rolled back) when the rest of the table must take the generic path."""
        keyed = bool(self._info.key)
        try:
            if keyed:
                self._check_keyed(table)
            else:
                self._sort_keyless()
        except sa.exc.DBAPIError as exc:
            self._conn.rollback()
            raise self._refused(exc) from exc
        except EngineUnsuitableError:
            self._conn.rollback()
            raise
        ahead = self._start_parts(table, cp, chunk_rows) if keyed else []
        try:
            while True:
                until = ahead[0].first if ahead else None
                try:
                    with self._conn.begin():
                        if keyed:
                            cp, added = self._keyed_chunk(table, cp, chunk_rows, until)
                        else:
                            cp, added = self._keyless_chunk(table, cp, chunk_rows)
                except sa.exc.DBAPIError as exc:
                    raise self._refused(exc) from exc
                if not added and ahead:
                    taken = self._take_part(table, cp, ahead.pop(0))
                    if taken is None:
                        # This process copies the rest itself, from where it is.
                        for part in ahead:
                            part.stop()
                        ahead = []
                        continue
                    cp, added = taken
                if not added:
                    return
                yield cp, added
        finally:
            for part in ahead:
                part.stop()

    def _refused(self, exc: sa.exc.DBAPIError) -> Exception:
        """A busy or locked database is retried by the caller; anything else ends the copy."""
        if is_transient_message(str(exc.orig)):
            return translate(exc, source="staging", table=self._info.name, action="write staging")
        return EngineUnsuitableError(f"SQLite refused a chunk ({type(exc.orig).__name__})")

    def _insert_head(self, table: sa.Table) -> str:
        names = [*self._cols.names, "_run_id", "_src_pos", "_src_key", "_row_hash"]
        return f"INSERT INTO main.{_quote(table.name)} ({', '.join(map(_quote, names))})"

    def _chunk_sql(self, table: sa.Table) -> _ChunkSql:
        cols = self._cols
        return _ChunkSql(
            insert=f"{self._insert_head(table)} {cols.staged(self._relation)}",
            relation=self._relation,
            key_listed=cols.key_listed,
            order=self._order,
            after=cols.after,
            at_or_after=cols.compared(">="),
            before=cols.compared("<"),
            hashes=f'SELECT "_row_hash" FROM main.{_quote(table.name)} WHERE "_src_pos" >= ?',
        )

    def _check_keyed(self, table: sa.Table) -> None:
        """Rule out what would make a keyset copy differ from the generic path's read."""
        conn, cols, rel = self._conn, self._cols, self._relation
        key = {k.lower() for k in self._info.key}
        declared = conn.exec_driver_sql(
            f"PRAGMA {_ALIAS}.table_info({_quote(self._info.name)})"
        ).all()
        if key not in _unique_column_sets(conn, self._info.name, declared):
            raise EngineUnsuitableError("no unique index or primary key on the key columns")
        # An INTEGER PRIMARY KEY is the rowid, never NULL: no need to look.
        primary = [r for r in declared if int(r[5])]
        rowid = (
            len(primary) == 1
            and {str(primary[0][1]).lower()} == key
            and str(primary[0][2]).upper() == "INTEGER"
        )
        nullable = [
            str(r[1]) for r in declared if str(r[1]).lower() in key and not r[3] and not rowid
        ]
        for column in nullable:
            found = conn.exec_driver_sql(
                f"SELECT 1 FROM {rel} WHERE {_quote(column)} IS NULL LIMIT 1"
            ).first()
            if found is not None:
                raise EngineUnsuitableError("a key column holds NULL")
        plan = conn.exec_driver_sql(
            f"EXPLAIN QUERY PLAN SELECT {cols.listed} FROM {rel} WHERE {cols.after} "
            f"ORDER BY {self._order} LIMIT ?",
            (*(None for _ in self._info.key), 1),
        ).all()
        if any("TEMP B-TREE" in str(r[-1]).upper() for r in plan):
            raise EngineUnsuitableError("reading in key order needs a sort")
        staged = conn.exec_driver_sql(f"PRAGMA main.table_info({_quote(table.name)})").all()
        if [(str(r[2]).upper(), int(r[5])) for r in staged if r[1] == "_src_pos"] != [
            ("INTEGER", 1)
        ] or sum(1 for r in staged if int(r[5])) != 1:
            raise EngineUnsuitableError("the staged table's _src_pos is not its rowid")
        conn.commit()

    def _keyed_chunk(
        self,
        table: sa.Table,
        cp: CheckpointState,
        chunk_rows: int,
        until: tuple[Any, ...] | None = None,
    ) -> tuple[CheckpointState, int]:
        """The next chunk of rows after the checkpoint, all of them before the key ``until``
        when it is given (a worker process stages the rows from there on)."""
        conn, sql = self._conn, self._chunk_sql(table)
        bounded = until is not None
        self._tally.reset()
        added = 0
        after = cp.last_key
        room = chunk_rows
        if cp.position == 0:
            # The first row gets position 0 explicitly; every later one the next rowid.
            added = conn.exec_driver_sql(sql.first(0, at=False), (cp.run_id,)).rowcount
            if not added:
                return cp, 0
            after = tuple(conn.exec_driver_sql(sql.key_at(after=False), (0,)).one())
            room -= 1
        if after is None:
            raise EngineUnsuitableError("the checkpoint has no key to continue after")
        rest = 0
        if room > 0:
            rest = conn.exec_driver_sql(
                sql.more(bounded=bounded), (cp.run_id, *after, *(until or ()), room)
            ).rowcount
            added += rest
        if not added:
            return cp, 0
        last = after
        if rest:
            found = conn.exec_driver_sql(
                sql.key_at(after=True, bounded=bounded), (*after, *(until or ()), rest - 1)
            ).one()
            last = tuple(found)
        return self._finish_chunk(table, cp, added, last), added

    def _sort_keyless(self) -> None:
        """Copy the keyless table, sorted by every column, into a temporary table whose rowid
        (from 1, the next one for each row inserted) follows that order: a chunk is a range of
        rowids, and the rowid less one is the position. The columns have no declared type, so
        the values are kept exactly as the source holds them."""
        cols, ordinal = self._cols, _quote(self._ordinal)
        with self._conn.begin():
            self._conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{_SORTED}")
            self._conn.exec_driver_sql(
                f"CREATE TEMP TABLE {_SORTED} ({ordinal} INTEGER PRIMARY KEY, {cols.listed})"
            )
            self._conn.exec_driver_sql(
                f"INSERT INTO temp.{_SORTED} ({cols.listed}) "
                f"SELECT {cols.listed} FROM {self._relation} ORDER BY {self._order}"
            )

    def _keyless_chunk(
        self, table: sa.Table, cp: CheckpointState, chunk_rows: int
    ) -> tuple[CheckpointState, int]:
        cols, ordinal = self._cols, _quote(self._ordinal)
        self._tally.reset()
        added = self._conn.exec_driver_sql(
            f"{self._insert_head(table)} SELECT {cols.listed}, ?, {ordinal} - 1, "
            f"CAST({ordinal} - 1 AS TEXT), cutover_row_hash({cols.serialized}) "
            f"FROM temp.{_SORTED} WHERE {ordinal} > ? ORDER BY {ordinal} LIMIT ?",
            (cp.run_id, cp.position, chunk_rows),
        ).rowcount
        if not added:
            return cp, 0
        return self._finish_chunk(table, cp, added, None), added

    def _start_parts(self, table: sa.Table, cp: CheckpointState, chunk_rows: int) -> list[_Part]:
        """Worker processes staging the later ranges of the rows still to copy, one range each,
        into part files beside staging; this process copies the first range meanwhile. None
        start when the rows left are fewer than :data:`SPLIT_ROWS`, there is one core, or
        staging is not a file. Each range starts at the key found at its share of the rows
        (the unique index makes it exact), so its first row's position is known before it is
        read."""
        conn, sql = self._conn, self._chunk_sql(table)
        parts = worker_count(MAX_PARTS)
        database = conn.engine.url.database
        if parts < 2 or not database or not shareable(conn.engine):
            return []
        resumed = cp.last_key is not None
        after = tuple(cp.last_key or ())
        where = f" WHERE {sql.after}" if resumed else ""
        try:
            remaining = int(
                conn.exec_driver_sql(
                    f"SELECT count(*) FROM {sql.relation}{where}", after
                ).scalar_one()
            )
            if remaining < SPLIT_ROWS:
                conn.commit()
                return []
            firsts: list[tuple[tuple[Any, ...], int]] = []
            for k in range(1, parts):
                offset = remaining * k // parts
                found = conn.exec_driver_sql(sql.key_at(after=resumed), (*after, offset)).one()
                firsts.append((tuple(found), cp.position + offset))
            ddl = str(
                conn.exec_driver_sql(
                    "SELECT sql FROM main.sqlite_master WHERE type = 'table' AND name = ?",
                    (table.name,),
                ).scalar_one()
            )
            conn.commit()
        except sa.exc.DBAPIError:
            conn.rollback()
            return []
        files = part_files(Path(database).resolve(), "extract", len(firsts))
        started: list[_Part] = []
        try:
            for k, ((first, position), path) in enumerate(zip(firsts, files, strict=True)):
                job = _PartJob(
                    source_file=self._source_file,
                    path=str(path),
                    ddl=ddl,
                    run_id=cp.run_id,
                    first=first,
                    until=firsts[k + 1][0] if k + 1 < len(firsts) else (),
                    position=position,
                    chunk_rows=chunk_rows,
                    sql=sql,
                )
                started.append(_Part.start(job))
        except BaseException:
            for part in started:
                part.stop()
            raise
        get_logger("extract").info(
            "engine_copy_split",
            stg_table=cp.stg_table,
            rows=remaining,
            parts=len(started) + 1,
        )
        return started

    def _take_part(
        self, table: sa.Table, cp: CheckpointState, part: _Part
    ) -> tuple[CheckpointState, int] | None:
        """Copy a worker's part in after the rows this process staged, with its checkpoint,
        in one transaction; None (the part dropped) when it cannot follow them: it starts at
        another position, or its worker failed (this process then copies those rows itself,
        and meets what the worker met)."""
        try:
            return self._copy_in(table, cp, part)
        finally:
            part.stop()

    def _copy_in(
        self, table: sa.Table, cp: CheckpointState, part: _Part
    ) -> tuple[CheckpointState, int] | None:
        log = get_logger("extract")
        if cp.position != part.position:
            log.info("engine_part_dropped", stg_table=cp.stg_table, reason="position")
            return None
        waited = time.perf_counter()
        try:
            rows, total, last = part.result()
        except Exception as exc:  # noqa: BLE001 - whatever it was, this process does the rows
            log.info("engine_part_dropped", stg_table=cp.stg_table, reason=type(exc).__name__)
            return None
        if not rows:
            return None
        conn, name = self._conn, _quote(table.name)
        copied = time.perf_counter()
        try:
            conn.exec_driver_sql(f"ATTACH DATABASE ? AS {_PART}", (str(part.path),))
            conn.commit()
            try:
                with conn.begin():
                    # Same table, no index but the rowid: SQLite copies the records as stored.
                    added = conn.exec_driver_sql(
                        f"INSERT INTO main.{name} SELECT * FROM {_PART}.{name}"
                    ).rowcount
                    cp = self._finish_chunk(
                        table, cp, added, last, total if added == rows else None
                    )
            finally:
                conn.exec_driver_sql(f"DETACH DATABASE {_PART}")
                conn.commit()
        except sa.exc.DBAPIError as exc:
            raise self._refused(exc) from exc
        log.info(
            "engine_part_taken",
            stg_table=cp.stg_table,
            rows=added,
            wait_seconds=round(copied - waited, 3),
            copy_seconds=round(time.perf_counter() - copied, 3),
        )
        return cp, added

    def _finish_chunk(
        self,
        table: sa.Table,
        cp: CheckpointState,
        added: int,
        last: tuple[Any, ...] | None,
        total: int | None = None,
    ) -> CheckpointState:
        """Check the positions, add the chunk's hashes to the checksum (``total``, when the
        chunk's rows came summed), move the checkpoint."""
        conn = self._conn
        name = f"main.{_quote(table.name)}"
        top: Any = conn.exec_driver_sql(f'SELECT max("_src_pos") FROM {name}').scalar_one()
        if top != cp.position + added - 1:
            raise EngineUnsuitableError("the staged positions are not consecutive")
        if total is None and self._tally.count == added:
            total = self._tally.total()
        if total is None:
            total = _hashes_total(
                conn.exec_driver_sql(self._chunk_sql(table).hashes, (cp.position,))
            )
        new_cp = CheckpointState(
            cp.stg_table,
            cp.run_id,
            cp.position + added,
            last,
            to_hex(combine(int(cp.checksum, 16), total)),
            cp.columns_sig,
            cp.start_status,
        )
        self._staging.put_checkpoint(
            conn, new_cp, source=self._source, source_table=self._info.name
        )
        return new_cp


@dataclass(frozen=True)
class _ChunkSql:
    """The statements that stage a keyed table a chunk at a time in key order, the same for
    this process and its workers (:meth:`EngineCopy._chunk_sql`). An insert takes the run id,
    then its keys; a key is one parameter per key column."""

    #: ``INSERT ... SELECT`` of staged rows from the source, ``{position}`` to fill in.
    insert: str
    relation: str
    key_listed: str
    order: str
    #: ``key > ?``, ``key >= ?`` and ``key < ?``.
    after: str
    at_or_after: str
    before: str
    #: The staged rows' hashes from a position on.
    hashes: str

    def first(self, position: int, *, at: bool) -> str:
        """Stage the first row (at or after a key, with ``at``) at ``position``."""
        where = f" WHERE {self.at_or_after}" if at else ""
        return f"{self.insert.format(position=position)}{where} ORDER BY {self.order} LIMIT 1"

    def more(self, *, bounded: bool) -> str:
        """Stage up to a limit of rows after a key (and before another, ``bounded``), each at
        the next rowid."""
        where = self._range(after=True, bounded=bounded)
        return f"{self.insert.format(position='NULL')} WHERE {where} ORDER BY {self.order} LIMIT ?"

    def key_at(self, *, after: bool, bounded: bool = False) -> str:
        """The key at an offset in key order (the last parameter), after a key and before
        another when asked."""
        where = self._range(after=after, bounded=bounded)
        return (
            f"SELECT {self.key_listed} FROM {self.relation}{' WHERE ' + where if where else ''} "
            f"ORDER BY {self.order} LIMIT 1 OFFSET ?"
        )

    def _range(self, *, after: bool, bounded: bool) -> str:
        return " AND ".join(c for c, on in ((self.after, after), (self.before, bounded)) if on)


def _hashes_total(hashes: Iterable[Any]) -> int:
    """The sum of staged row hashes read back, each a row of one hex digest."""
    return sum(int(str(h), 16) for (h,) in hashes)


@dataclass(frozen=True)
class _PartJob:
    """What a worker needs to stage one range of keys into a part file (see
    :meth:`EngineCopy._start_parts`): the statements are this process's, made for it."""

    source_file: str
    path: str
    ddl: str
    run_id: str
    first: tuple[Any, ...]
    #: The first key of the next range; empty for the last range.
    until: tuple[Any, ...]
    position: int
    chunk_rows: int
    sql: _ChunkSql


@dataclass
class _Part:
    """A range of keys a worker process is staging into the file ``path``.

    A process of its own (from :func:`cutover.processes.worker_context`) rather than a task of
    :func:`~cutover.processes.worker_pool`: when this process stops copying (an error, a chunk
    the generic path must take, an interrupt), a pool could only wait for a task already under
    way; this worker is ended at once and its part deleted."""

    first: tuple[Any, ...]
    position: int
    path: Path
    process: BaseProcess
    receiver: Pipe

    @classmethod
    def start(cls, job: _PartJob) -> _Part:
        context = worker_context()
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_stage_part, args=(job, sender), daemon=True)
        process.start()
        sender.close()  # the worker's end: closed here, so that a worker gone reads as EOF
        return cls(job.first, job.position, Path(job.path), process, receiver)

    def result(self) -> tuple[int, int, tuple[Any, ...] | None]:
        """Wait for the worker: its rows, the sum of their hashes and the last key; raises
        what it raised."""
        try:
            done, value = self.receiver.recv()
        except EOFError as exc:
            raise EngineUnsuitableError("the worker staging a part ended without a word") from exc
        if not done:
            raise value
        rows, total, last = value
        return int(rows), int(total), last

    def stop(self) -> None:
        """End the worker if it still runs, and delete its part."""
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
        self.receiver.close()
        self.path.unlink(missing_ok=True)


def _stage_part(job: _PartJob, sender: Pipe) -> None:
    """In a worker: stage the job's range and send home ``(True, result)`` or ``(False,
    error)``."""
    try:
        found = _staged_part(job)
    except BaseException as exc:  # noqa: BLE001 - sent home and raised there
        sender.send((False, portable_error(exc)))
    else:
        sender.send((True, found))
    finally:
        sender.close()


def _staged_part(job: _PartJob) -> tuple[int, int, tuple[Any, ...] | None]:
    """The rows from the key ``job.first`` to before ``job.until`` (or the end) staged into a
    new file shaped as staging's table, a chunk per statement as this process does it: the
    rows, the sum of their hashes and the last key."""
    Path(job.path).unlink(missing_ok=True)
    conn = sqlite3.connect(job.path, isolation_level=None)
    try:
        large_pages(conn)
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute(f"ATTACH DATABASE ? AS {_ALIAS}", (read_only_uri(job.source_file),))
        tally = _Tally()
        _register(conn, tally)
        conn.execute(job.ddl)

        sql, bounded = job.sql, bool(job.until)

        def summed(added: int, start: int) -> int:
            if tally.count == added:
                return tally.total()
            return _hashes_total(conn.execute(sql.hashes, (start,)))

        added = conn.execute(sql.first(job.position, at=True), (job.run_id, *job.first)).rowcount
        if not added:
            return 0, 0, None
        rows, total, last = added, summed(added, job.position), job.first
        more, last_key = sql.more(bounded=bounded), sql.key_at(after=True, bounded=bounded)
        while True:
            tally.reset()
            added = conn.execute(more, (job.run_id, *last, *job.until, job.chunk_rows)).rowcount
            if not added:
                return rows, total, last
            total += summed(added, job.position + rows)
            last = tuple(conn.execute(last_key, (*last, *job.until, added - 1)).fetchone())
            rows += added
    finally:
        conn.close()


def _unique_column_sets(conn: Connection, table: str, declared: Sequence[Any]) -> list[set[str]]:
    """The column sets (lower case) the source declares unique: primary key, unique indexes.

    ``declared`` is the table's ``PRAGMA table_info``.
    """
    sets: list[set[str]] = []
    pk = {str(r[1]).lower() for r in declared if int(r[5])}
    if pk:
        sets.append(pk)
    indexes = conn.exec_driver_sql(f"PRAGMA {_ALIAS}.index_list({_quote(table)})").all()
    for index in indexes:
        if not int(index[2]) or int(index[4]):  # not unique, or partial
            continue
        parts = conn.exec_driver_sql(f"PRAGMA {_ALIAS}.index_info({_quote(str(index[1]))})")
        names = [r[2] for r in parts]
        if names and all(n is not None for n in names):
            sets.append({str(n).lower() for n in names})
    return sets


def _source_file(source: Source) -> str | None:
    if not isinstance(source, SqlAlchemySource):
        return None
    path = source.sqlite_file
    if path is None or not path.is_file():
        return None
    return os.path.realpath(path)


@contextmanager
def open_engine_copy(
    staging: Staging, source: Source, info: TableInfo
) -> Iterator[EngineCopy | None]:
    """The engine copy for this table, or ``None`` when the source is not a SQLite file or
    staging is not SQLite (then the generic path does everything)."""
    path = _source_file(source)
    dialect = staging.engine.dialect
    if (
        path is None
        or dialect.name != "sqlite"
        or dialect.driver != "pysqlite"
        or len(info.columns) > _MAX_COLUMNS
    ):
        yield None
        return
    conn = staging.engine.connect()
    try:
        copy = _attach(conn, staging, source, info, path)
        yield copy
    finally:
        # The connection carries the attached source, the functions and the temporary table:
        # it is closed rather than returned to the pool.
        conn.invalidate()
        conn.close()


def _attach(
    conn: Connection, staging: Staging, source: Source, info: TableInfo, path: str
) -> EngineCopy | None:
    _, options = conn.dialect.create_connect_args(staging.engine.url)
    uri_ok = bool(options.get("uri")) or bool(
        conn.exec_driver_sql("SELECT sqlite_compileoption_used('USE_URI')").scalar_one()
    )
    databases = conn.exec_driver_sql("PRAGMA database_list").all()
    main = next((str(r[2]) for r in databases if r[1] == "main"), "")
    # The row hash reads text as its bytes (``_Columns.serialized``): they must be UTF-8.
    encoding = str(conn.exec_driver_sql("PRAGMA encoding").scalar_one())
    if not uri_ok or not main or os.path.realpath(main) == path or encoding != "UTF-8":
        conn.rollback()
        return None
    try:
        literal = read_only_uri(path).replace("'", "''")
        conn.exec_driver_sql(f"ATTACH DATABASE '{literal}' AS {_ALIAS}")
        attached = conn.exec_driver_sql("PRAGMA database_list").all()
        conn.commit()
    except sa.exc.DBAPIError:
        conn.rollback()
        return None
    where = next((str(r[2]) for r in attached if r[1] == _ALIAS), "")
    if not where or os.path.realpath(where) != path:
        return None
    declared = conn.exec_driver_sql(f"PRAGMA {_ALIAS}.table_info({_quote(info.name)})").all()
    conn.commit()
    if tuple(str(r[1]) for r in declared) != info.column_names:
        return None
    columns = _Columns(info.column_names, tuple(str(r[2] or "") for r in declared), info.key)
    tally = _Tally()
    _register(conn.connection.driver_connection, tally)
    return EngineCopy(conn, staging, info, columns, tally, source=source.name, source_file=path)
