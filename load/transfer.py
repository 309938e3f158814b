"""Move one batch of an ``xf_`` table into an incoming table inside the target's transaction.

Three paths, each the fastest the pair of databases offers:

- SQLite to SQLite: the staging file is attached to the target connection and the batch is
  copied by one ``INSERT ... SELECT`` (no row ever passes through Python);
- any staging to PostgreSQL: rows are streamed in chunks into ``COPY ... FROM STDIN``;
- anything else: rows are streamed in chunks into multi-row inserts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import sql
from sqlalchemy import Connection, Engine, Row, Table, insert, select

__all__ = ["STAGING_SCHEMA", "fill_incoming"]

#: Schema name the staging database is attached under on SQLite.
STAGING_SCHEMA = "stg"


def fill_incoming(
    target: Connection,
    incoming: Table,
    xf: Table,
    batch: str,
    *,
    staging: Engine | None,
    chunk_rows: int,
) -> int:
    """Copy the rows of ``batch`` from ``xf`` into ``incoming``; return how many.

    ``staging`` is ``None`` when ``xf`` lives in a database attached to ``target``.
    """
    names = [c.name for c in incoming.columns]
    query = select(*(xf.c[n] for n in names)).where(xf.c._batch == batch)
    if staging is None:
        statement = insert(incoming).from_select(names, query)
        result = target.execute(statement, execution_options={"preserve_rowcount": True})
        return int(result.rowcount)
    copy = target.dialect.name == "postgresql" and target.dialect.driver == "psycopg"
    total = 0
    with staging.connect() as source:
        stream = source.execution_options(yield_per=chunk_rows).execute(query)
        if copy:
            return _copy(target, incoming.name, names, stream.partitions())
        for part in stream.partitions():
            target.execute(insert(incoming), [row._asdict() for row in part])
            total += len(part)
    return total


def _copy(target: Connection, table: str, names: list[str], parts: Any) -> int:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(n) for n in names)
    )
    raw: Any = target.connection.driver_connection
    total = 0
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        part: Sequence[Row[Any]]
        for part in parts:
            for row in part:
                copy.write_row(tuple(row))
            total += len(part)
    return total
