"""A large SQLite fill computed by worker processes, one per core.

SQLite runs every statement in one process. A fill whose select reads a large staged table
(``split_on`` names the table's position column; its positions span at least :data:`SPLIT_ROWS`) is
computed by worker processes instead, one per core, each over its own range of positions, into a
scratch database file of its own (:func:`_fill_part`, in 64 KiB pages: :mod:`cutover.pages`); this
process then copies the parts into the table in position order. A part is first stored in a table
of the same declared column types, so its values are the ones the table would store, and columns
derived from those stored values are computed there too: the row hash, which the ``xf_`` table's
fill would otherwise compute in this process, and the flags of the checks decided on the row alone
(and on tables already committed), which this process would otherwise set by an UPDATE of the table
each. When that decides every flag, the workers also write the rows that pass into a table declared
as the ``xf_`` table, and this process copies those in too instead of selecting them again; the
caller may then keep in the table only the rows it still reads (``keep``: for the transform, the
flagged ones) and have the workers count the rest (``tallies``). The workers read staging as it is
committed, so the split is taken only while this connection has no transaction open (every write it
made is visible to them); otherwise, and for a database no other process can open, the fill stays
in one statement. The parts stay attached until the connection goes back to the pool (SQLite cannot
detach a database inside the transaction that read it), and are deleted then. Queries that only
read staging are shared out the same way (:func:`select_in_parts`): the crosswalk coverage of
``mappings check`` counts the ledger's unmapped codes a range of positions per core.

Measured on the ledger at 10,000 offenders (1.37 million rows, 2 cores): in one process, the
working table's fill took 21.7 s and the ``xf_`` table's, hashing each row, 10.4 s; split, the
two parts took 18.3 s side by side (values and hashes), copying them in 1.5 s (4.8 s into the
indexed table), and the ``xf_`` table's fill, with the hashes made, 2.7 s. With the flags
(three orphan checks, a missing-value check, three deferred checks) decided in the parts too,
the ledger's transform took 29.4-29.7 s against 33.1-33.2 s; with its ``xf_`` rows written
by the workers as well, 27.9 s (two runs). Keeping only the flagged rows (2,357 of 1.37
million) spares this process copying the parts in, indexing their positions and scanning the
table four times for the flags and the counts: the ledger's transform took 13.9-16.6 s against
18.2-19.3 s (two runs each way, in turn, on a faster machine than the figures above).
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import CompileError
from sqlalchemy.pool import Pool
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql.visitors import iterate, replacement_traverse

from cutover.logs import get_logger
from cutover.pages import large_pages
from cutover.processes import part_files, read_only_uri, shareable, worker_count, worker_pool
from transform.sqlfuncs import register_sqlite_functions

__all__ = ["MAX_PARTS", "SPLIT_ROWS", "Parts", "fill_in_parts", "select_in_parts"]

#: Rows of the split-on table from which a SQLite fill is computed by worker processes: below
#: it, copying the parts back costs about what the split saves. Since workers fork from a
#: server that has the modules imported (``cutover.processes``), starting them costs little:
#: at 10,000 offenders, the assignments (56,905 rows) took 1.53-1.58 s split against
#: 2.02-2.10 s, the labor-pool weeks (94,205) 1.34-1.37 s against 1.62-1.74 s, while tables of
#: 8,000 to 25,000 rows gained nothing clear (four runs of the transform each way).
SPLIT_ROWS = 40_000
#: The most worker processes one fill uses.
MAX_PARTS = 8
#: Where the attached parts of a connection are listed (``Connection.info``) until checkin.
_PARTS_KEY = "cutover_fill_parts"
_numbers = itertools.count()
#: An expression or a select, rewritten to read a part's table.
_E = TypeVar("_E", sa.ColumnElement[Any], sa.Select[Any])


def fill_in_parts(
    conn: sa.Connection,
    table: sa.Table,
    names: Sequence[str],
    select: sa.Select[Any],
    split_on: sa.ColumnElement[int],
    derived: dict[str, sa.ColumnElement[Any]],
    then: tuple[sa.Table, sa.Select[Any]] | None = None,
    keep: sa.ColumnElement[bool] | None = None,
    tallies: Sequence[sa.Select[Any]] = (),
) -> Parts | None:
    """Fill the empty ``table`` from parts computed by worker processes, ``derived`` columns
    included; None (nothing done) when the split does not apply. ``then`` is another table and
    a select over ``table``'s final rows (``table.c``) giving all its columns: the workers
    compute it from their part too, and the table is made anew and filled from theirs in
    position order. ``keep``, a condition on ``table``'s final rows, leaves in ``table`` only
    the rows that meet it (``then`` still reads them all); ``tallies`` are selects over all of
    ``table``'s final rows, or over the rows of ``then``'s table, that each worker runs on its
    part (on the rows it wrote for ``then``), returned in :class:`Parts`."""
    driver = _splittable(conn)
    if driver is None:
        return None
    parts = worker_count(MAX_PARTS)
    span = _positions(conn, split_on)
    if span is None:
        return None
    low, high = span
    ranges = _ranges(low, high, parts)
    try:
        statements = [
            _literal(conn, select.where(split_on.between(first, last))) for first, last in ranges
        ]
        # With ``keep``, the parts' final rows are read only by the selects below, never
        # copied back whole: their derived columns go into a narrow table of their own,
        # read beside the stored rows through a view (see :func:`_finishing`).
        narrow = keep is not None
        finish = _finishing(conn, table, derived, narrow=narrow) if derived else ()
        final = _in_part(table, "part")
        # A tally that reads no derived column then reads the stored rows, without the view.
        stored = _in_part(table, "rows") if derived and narrow else final
        after = None
        if then is not None:
            # The parts' table of these rows is declared as the table itself (constraints
            # included), so that they are copied in as stored, without decoding each row.
            shape = then[0].to_metadata(sa.MetaData(), schema="fill", name="written")
            ddl = str(CreateTable(shape).compile(dialect=conn.dialect))
            after = (ddl, _literal(conn, _reading(table, final, then[1])))
        kept = (
            _literal(conn, sa.select(final).where(_reading(table, final, keep)))
            if keep is not None
            else None
        )
        counted = [_literal(conn, _tally(table, t, derived, final, stored, then)) for t in tallies]
    except CompileError:
        return None
    path = Path(conn.engine.url.database or "").resolve()
    number = next(_numbers)
    files = part_files(path, "fill", parts)
    columns = ", ".join(conn.dialect.identifier_preparer.quote(n) for n in names)
    started = time.perf_counter()
    try:
        with worker_pool(parts) as pool:
            futures = [
                pool.submit(
                    _fill_part,
                    str(path),
                    table.name,
                    columns,
                    sql,
                    finish,
                    str(f),
                    after,
                    kept,
                    counted,
                )
                for sql, f in zip(statements, files, strict=True)
            ]
            results = [future.result() for future in futures]
    except BrokenProcessPool:
        for f in files:
            f.unlink(missing_ok=True)
        get_logger("transform").warning(
            "fill_split_worker_lost", table=table.name, hint="the fill runs in this process"
        )
        return None
    except BaseException:
        for f in files:
            f.unlink(missing_ok=True)
        raise
    computed = time.perf_counter()
    rows = sum(count for count, _ in results)
    schemas = [f"cutover_fill_{number}_{k}" for k in range(parts)]
    for schema, f in zip(schemas, files, strict=True):
        driver.execute(f"ATTACH DATABASE ? AS {schema}", (str(f),))
        conn.info.setdefault(_PARTS_KEY, []).append((schema, str(f)))
    copied = _copy_parts(conn, table, schemas, "part" if kept is None else "kept")
    if then is not None:
        then[0].drop(conn, checkfirst=True)
        then[0].create(conn)
        _copy_parts(conn, then[0], schemas, "written")
    get_logger("transform").info(
        "fill_split",
        table=table.name,
        parts=parts,
        rows=rows,
        kept=None if kept is None else copied,
        positions=high - low + 1,
        derived=sorted(derived),
        then=then[0].name if then is not None else None,
        compute_seconds=round(computed - started, 3),
        copy_seconds=round(time.perf_counter() - computed, 3),
    )
    return Parts(
        rows=rows,
        tallies=[[row for _, found in results for row in found[k]] for k in range(len(counted))],
    )


@dataclass(frozen=True)
class Parts:
    """A fill the workers computed: the rows they computed (``keep`` aside) and, for each
    tally, the rows it gave on every part, in part order."""

    rows: int
    tallies: list[list[tuple[Any, ...]]]


def select_in_parts(
    conn: sa.Connection, selects: Sequence[tuple[sa.Select[Any], sa.ColumnElement[int] | None]]
) -> list[list[tuple[Any, ...]]] | None:
    """The rows of each of ``selects``, computed by worker processes reading staging as it is
    committed; None (nothing done) when none of them is large enough to split, or when a split
    does not apply (as for :func:`fill_in_parts`: not SQLite, a transaction open on ``conn``,
    a database no other process can open, one core).

    Each select comes with the position column it may be split on (None: never split). A
    select whose positions span :data:`SPLIT_ROWS` or more runs once per range of positions,
    one range per worker; the others run once each, in the same pool, beside them. Returns,
    per select, the rows of all its runs in range order: the caller combines them (a count
    grouped by some columns is the sum of the parts' counts)."""
    if _splittable(conn) is None:
        return None
    parts = worker_count(MAX_PARTS)
    runs: list[list[str]] = []
    try:
        for select, split_on in selects:
            span = _positions(conn, split_on) if split_on is not None else None
            if split_on is None or span is None:
                runs.append([_literal(conn, select)])
                continue
            runs.append(
                [
                    _literal(conn, select.where(split_on.between(first, last)))
                    for first, last in _ranges(*span, parts)
                ]
            )
    except CompileError:
        return None
    if all(len(statements) == 1 for statements in runs):
        return None
    database = str(Path(conn.engine.url.database or "").resolve())
    try:
        with worker_pool(parts) as pool:
            futures = [
                [pool.submit(_select_part, database, sql) for sql in statements]
                for statements in runs
            ]
            return [[row for future in found for row in future.result()] for found in futures]
    except BrokenProcessPool:
        get_logger("transform").warning(
            "select_split_worker_lost", hint="the selects run in this process"
        )
        return None


def _splittable(conn: sa.Connection) -> sqlite3.Connection | None:
    """``conn``'s SQLite connection, when worker processes can share its work: it has no
    transaction open (they see only what is committed), another process can open its database
    and there is more than one core."""
    driver = conn.connection.driver_connection
    if (
        not isinstance(driver, sqlite3.Connection)
        or driver.in_transaction
        or not shareable(conn.engine)
        or worker_count(MAX_PARTS) < 2
    ):
        return None
    return driver


def _positions(conn: sa.Connection, split_on: sa.ColumnElement[int]) -> tuple[int, int] | None:
    """The smallest and largest of ``split_on``, when they span :data:`SPLIT_ROWS` or more.

    The span of positions, not a count: staged positions run from 0 without gaps, and the
    smallest and the largest, each asked alone, are read at the ends of the position index,
    where counting reads the whole table (0.34 s for the ledger's 1.37 million rows at
    10,000 offenders; asked together, SQLite scans the table for them too)."""
    ends = [
        sa.select(f(split_on, type_=sa.Integer)).scalar_subquery()
        for f in (sa.func.min, sa.func.max)
    ]
    low, high = cast("tuple[int | None, int | None]", tuple(conn.execute(sa.select(*ends)).one()))
    if low is None or high is None or high - low + 1 < SPLIT_ROWS:
        return None
    return low, high


def _ranges(low: int, high: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` ranges of positions, first to last inclusive, together ``low`` to ``high``."""
    step = (high - low) // parts + 1
    return [(low + k * step, min(high, low + (k + 1) * step - 1)) for k in range(parts)]


def _select_part(database: str, statement: str) -> list[tuple[Any, ...]]:
    """In a worker: the rows of ``statement``, reading staging opened read-only."""
    conn = sqlite3.connect(read_only_uri(database), uri=True, isolation_level=None)
    try:
        register_sqlite_functions(conn)
        return [tuple(row) for row in conn.execute(statement)]
    finally:
        conn.close()


def _copy_parts(conn: sa.Connection, table: sa.Table, schemas: Sequence[str], name: str) -> int:
    """Append the table ``name`` of each attached part (in ``schemas`` order) to ``table``;
    returns the rows appended.

    Into a table without indexes, SQLite copies a part's records as they are stored, without
    decoding them (its transfer optimization), however many parts went in before; so the
    indexes are dropped first and built after, in one sort each."""
    for index in table.indexes:
        index.drop(conn)
    quoted = conn.dialect.identifier_preparer.format_table(table)
    copied = 0
    for schema in schemas:
        copied += conn.exec_driver_sql(
            f"INSERT INTO {quoted} SELECT * FROM {schema}.{name}"
        ).rowcount
    for index in table.indexes:
        index.create(conn)
    return copied


def _literal(conn: sa.Connection, statement: sa.Select[Any]) -> str:
    """``statement`` as SQL text with its values written in, for another process to run."""
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    return str(compiled)


def _finishing(
    conn: sa.Connection,
    table: sa.Table,
    derived: dict[str, sa.ColumnElement[Any]],
    *,
    narrow: bool,
) -> tuple[str, ...]:
    """The statements that make a part's final rows, ``fill.part``, of its stored rows,
    ``fill.rows``: every column of ``table``, the ``derived`` ones computed from the stored
    values.

    By default ``fill.part`` is a table, which the caller copies back as stored, and the
    stored rows are dropped once it is made: the tables written next take their pages from
    SQLite's free list instead of growing the file (for 1.37 million postings, the ledger at
    10,000 offenders in one part, the file took 595 MB instead of 840 MB, and writing the
    ``then`` table 1.17/1.21 s instead of 1.78/1.85 s).

    ``narrow`` (the caller reads the final rows only through selects) writes no second copy
    of the rows: the derived columns go into a table of their own, ``fill.derived``, keyed by
    the stored row's rowid, and ``fill.part`` is a view joining the two. For the ledger at
    100,000 offenders (6.96 million postings in a part; the part's statements run alone, in
    turn), the derived columns took 28.2/31.6 s against 36.4/38.7 s for the table and the
    drop, and reading the rows that pass through the view 1.4/2.4 s more. A view of the
    part's schema names its tables unqualified: SQLite looks them up in that schema.
    """
    stored = _in_part(table, "rows")
    if not narrow:
        made = _literal(conn, _derived_select(table, derived))
        return f"CREATE TABLE fill.part AS {made}", "DROP TABLE fill.rows"
    quote = conn.dialect.identifier_preparer.quote
    kinds = conn.dialect.type_compiler_instance
    own = [c for c in table.columns if c.name in derived]
    declared = ", ".join(f"{quote(c.name)} {kinds.process(c.type)}" for c in own)
    computed = sa.select(
        sa.literal_column("fill.rows.rowid"),
        *[sa.cast(_reading(table, stored, derived[c.name]), c.type) for c in own],
    )
    columns = ", ".join(
        f"{'derived' if c.name in derived else 'rows'}.{quote(c.name)} AS {quote(c.name)}"
        for c in table.columns
    )
    view = f"SELECT {columns} FROM rows JOIN derived ON derived._stored_row = rows.rowid"
    return (
        f"CREATE TABLE fill.derived (_stored_row INTEGER PRIMARY KEY, {declared})",
        f"INSERT INTO fill.derived {_literal(conn, computed)}",
        f"CREATE VIEW fill.part AS {view}",
    )


def _tally(
    table: sa.Table,
    tally: sa.Select[Any],
    derived: dict[str, sa.ColumnElement[Any]],
    final: sa.Table,
    stored: sa.Table,
    then: tuple[sa.Table, sa.Select[Any]] | None,
) -> sa.Select[Any]:
    """``tally`` made to read a part: the rows the worker wrote (``fill.written``) when it is
    over ``then``'s table, else the part's final rows, or its stored rows when it reads no
    ``derived`` column (no join with the view, on the narrow path)."""
    if then is not None and any(element is then[0] for element in iterate(tally)):
        return _reading(then[0], _in_part(then[0], "written"), tally)
    return _reading(table, final if _reads(tally, table, derived) else stored, tally)


def _reads(
    select: sa.Select[Any], table: sa.Table, columns: dict[str, sa.ColumnElement[Any]]
) -> bool:
    """``select`` reads one of ``columns`` (names of ``table``'s columns)."""
    return any(
        isinstance(element, sa.Column) and element.table is table and element.name in columns
        for element in iterate(select)
    )


def _derived_select(table: sa.Table, derived: dict[str, sa.ColumnElement[Any]]) -> sa.Select[Any]:
    """Every column of ``table`` read from a part's stored rows (``fill.rows``), the
    ``derived`` ones computed from them."""
    stored = _in_part(table, "rows")
    return sa.select(
        *[
            sa.cast(_reading(table, stored, derived[c.name]), c.type).label(c.name)
            if c.name in derived
            else stored.c[c.name]
            for c in table.columns
        ]
    )


def _in_part(table: sa.Table, name: str) -> sa.Table:
    """A table of a part's file (schema ``fill``) with ``table``'s columns."""
    return sa.Table(
        name, sa.MetaData(), *[sa.Column(c.name, c.type) for c in table.columns], schema="fill"
    )


def _reading(table: sa.Table, part: sa.Table, read: _E) -> _E:
    """``read`` (an expression or select over ``table``) made to read ``part`` instead."""

    def swap(element: Any, **_kw: Any) -> Any:
        if element is table:
            return part
        if isinstance(element, sa.Column) and element.table is table:
            return part.c[element.name]
        return None

    no_options: dict[str, Any] = {}
    return cast(_E, replacement_traverse(read, no_options, swap))


def _fill_part(
    database: str,
    table: str,
    columns: str,
    statement: str,
    finish: Sequence[str],
    part: str,
    then: tuple[str, str] | None = None,
    kept: str | None = None,
    tallies: Sequence[str] = (),
) -> tuple[int, list[list[tuple[Any, ...]]]]:
    """In a worker: the rows of ``statement`` (reading staging, opened read-only) into a new
    database file ``part``, in a table shaped as ``table`` (same declared column types, so the
    same values are stored); with ``finish`` (:func:`_finishing`), that table is ``fill.rows``
    and the statements make of it ``fill.part``, the final rows, derived columns computed.
    With ``then`` (the DDL of a table ``fill.written`` and a select over the final rows), the
    select's rows go into that table; with ``kept`` (a select of the final rows), its rows go
    into ``fill.kept``. Returns the rows and what each of ``tallies`` (selects over the final
    rows, or over the rows written for ``then``) found."""
    Path(part).unlink(missing_ok=True)
    conn = sqlite3.connect(read_only_uri(database), uri=True, isolation_level=None)
    try:
        register_sqlite_functions(conn)
        conn.execute("ATTACH DATABASE ? AS fill", (part,))
        large_pages(conn, "fill")
        conn.execute("PRAGMA fill.journal_mode = OFF")
        conn.execute("PRAGMA fill.synchronous = OFF")
        rows = "rows" if finish else "part"
        conn.execute(f'CREATE TABLE fill.{rows} AS SELECT * FROM main."{table}" WHERE 0')
        count = conn.execute(f"INSERT INTO fill.{rows} ({columns}) {statement}").rowcount
        for sql in finish:
            conn.execute(sql)
        if then is not None:
            ddl, rows_of_it = then
            conn.execute(ddl)
            conn.execute(f"INSERT INTO fill.written {rows_of_it}")
        if kept is not None:
            conn.execute(f"CREATE TABLE fill.kept AS {kept}")
        return count, [[tuple(row) for row in conn.execute(sql)] for sql in tallies]
    finally:
        conn.close()


@event.listens_for(Pool, "checkin")
def _release_parts(dbapi_conn: Any, record: Any) -> None:
    """Detach and delete the parts a fill attached, once the connection's transaction is over."""
    attached = record.info.pop(_PARTS_KEY, None) if record is not None else None
    if not attached or not isinstance(dbapi_conn, sqlite3.Connection):
        return
    for schema, path in attached:
        try:
            dbapi_conn.execute(f"DETACH DATABASE {schema}")
        finally:
            Path(path).unlink(missing_ok=True)
