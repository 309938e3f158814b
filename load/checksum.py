"""Per-batch row counts and key checksums of a table, computed the same way on every engine.

The checksum of a batch is the sum, modulo 2**128, of one BLAKE2b-128 digest per row; a row's
digest is taken over its ``_row_hash`` and its key values as text, joined by U+001F (text as it
is, a date as ``YYYY-MM-DD``, an integer in decimal, NULL as the empty string). The sum does not
depend on row order, so an ``xf_`` table in staging and its target table give the same checksum
exactly when they hold the same keys with the same row hashes, whichever engines hold them.

The database does what it can: it counts the rows per batch and builds each row's text. Python
only hashes, in one tight loop over the driver's own cursor (a server-side cursor on PostgreSQL,
so memory stays bounded).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Set
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Engine,
    Integer,
    String,
    Table,
    Text,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

__all__ = ["BatchChecksum", "Checksums", "batch_checksums", "row_text"]

_MOD = 1 << 128
_SEPARATOR = "\x1f"
_CHUNK_ROWS = 20_000
#: Read a table whole and skip unwanted batches, rather than walk the ``_batch`` index, unless
#: the wanted rows are fewer than this share of the table (a scan is several times faster per
#: row than an index walk on SQLite).
_SCAN_SHARE = 0.25


@dataclass(frozen=True)
class BatchChecksum:
    rows: int
    checksum: int

    @property
    def hex(self) -> str:
        return f"{self.checksum:032x}"


@dataclass
class Checksums:
    """Checksums already read, per table name and batch, for a later reader to reuse.

    Both sides must have been read for the same wanted batches as the reuser's.
    """

    staged: dict[str, dict[str, BatchChecksum]] = field(default_factory=dict)
    target: dict[str, dict[str, BatchChecksum]] = field(default_factory=dict)


def batch_checksums(
    engine: Engine, table: Table, keys: tuple[str, ...], wanted: Set[str] | None = None
) -> dict[str, BatchChecksum]:
    """Row count and checksum per batch of ``table`` (every batch, or those in ``wanted``)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # One snapshot for the counts and the digests.
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            batch = table.c._batch
            per_batch = select(batch, func.count()).group_by(batch)
            counts = {str(row[0]): int(row[1]) for row in conn.execute(per_batch)}
            chosen = set(counts) if wanted is None else set(counts) & set(wanted)
            if not chosen:
                return {}
            query = select(batch, row_text(table, keys, conn.dialect.name))
            if sum(counts[b] for b in chosen) < _SCAN_SHARE * sum(counts.values()):
                query = query.where(batch.in_(sorted(chosen)))
            sums = _digest_sums(conn, str(_literal_sql(conn, query)))
    return {b: BatchChecksum(counts[b], sums.get(b, 0) % _MOD) for b in sorted(chosen)}


def row_text(table: Table, keys: tuple[str, ...], dialect: str) -> ColumnElement[str]:
    """SQL for the text a row's digest is taken over: ``_row_hash`` and the key values."""
    parts = [_as_text(table.c[name], dialect) for name in ("_row_hash", *keys)]
    text = parts[0]
    for part in parts[1:]:
        text = text + literal(_SEPARATOR, String) + part
    return text


def _as_text(column: Any, dialect: str) -> ColumnElement[str]:
    kind = column.type
    value: ColumnElement[str]
    if isinstance(kind, String):
        value = column
    elif isinstance(kind, Date) and dialect == "postgresql":
        # PostgreSQL's own text form of a date follows DateStyle; SQLite stores ISO text.
        value = func.to_char(column, "YYYY-MM-DD", type_=Text)
    elif isinstance(kind, Date | Integer):
        value = cast(column, Text)
    else:
        raise TypeError(f"{column.table.name}.{column.name}: no text form for key type {kind}")
    return func.coalesce(value, literal("", Text))


def _literal_sql(conn: Connection, query: Any) -> Any:
    return query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})


def _digest_sums(conn: Connection, sql: str) -> dict[str, int]:
    """Sum of the row digests per batch, for rows of ``(batch, text)`` (not reduced)."""
    raw: Any = conn.connection.driver_connection
    server_side = conn.dialect.name == "postgresql"
    cursor = raw.cursor(name="cutover_checksum") if server_side else raw.cursor()
    sums: defaultdict[str, int] = defaultdict(int)
    blake2b, from_bytes = hashlib.blake2b, int.from_bytes
    try:
        if server_side:
            cursor.itersize = _CHUNK_ROWS
        cursor.execute(sql)
        while rows := cursor.fetchmany(_CHUNK_ROWS):
            for batch, text in rows:
                sums[batch] += from_bytes(blake2b(text.encode(), digest_size=16).digest(), "big")
    finally:
        cursor.close()
    return sums
