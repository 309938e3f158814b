"""Queries run on the connection's own DB-API cursor, read as the plain tuples the driver makes.

Whoever reads millions of rows (extraction from a legacy database, the load's copy from staging and
its checksums, validation reading the migrated facts) pays per row, so rows are fetched straight
from the driver's cursor in chunks: no SQLAlchemy result row per row, no per-value type processing.
The statement is still compiled by SQLAlchemy, so dialects, quoting and ``IN`` lists stay its
business; select untyped or plainly typed columns, whose values SQLAlchemy would hand over unchanged
anyway.

On drivers whose cursors stream only when named (psycopg, psycopg2) a named cursor is opened,
which PostgreSQL runs server-side: memory holds one chunk whatever the size of the table. Every
driver error, on opening, executing or fetching, is raised as SQLAlchemy's ``DBAPIError``, as
from any other query, so callers handle one kind of error whichever path read the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from functools import partial
from itertools import chain, count
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPICursor

__all__ = ["chunks_of", "open_cursor", "rows_of", "select_chunks", "streams"]

#: Drivers whose cursors stream only when named (server-side).
_NAMED_CURSORS = frozenset({"psycopg", "psycopg2"})

#: Makes every cursor name unique, so that reads can share a connection.
_CURSOR_NUMBERS = count(1)


def streams(conn: Connection) -> bool:
    """Whether :func:`open_cursor` reads ``conn`` a chunk at a time, not the whole result at
    once: SQLite's cursor fetches as it goes, and the named cursors of psycopg and psycopg2 run
    server-side. Another driver may hold every row in memory on execute."""
    return conn.dialect.name == "sqlite" or conn.dialect.driver in _NAMED_CURSORS


def open_cursor(conn: Connection, statement: sa.Select[Any], name: str) -> DBAPICursor:
    """Run ``statement`` on a DB-API cursor of ``conn``, server-side where the driver needs it.

    ``name`` (an identifier) names a server-side cursor, with a number that makes it unique.
    """
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    args: Any = (
        tuple(params[key] for key in compiled.positiontup or ()) if compiled.positional else params
    )
    sql = str(compiled)
    dbapi = conn.connection.dbapi_connection
    if dbapi is None:  # pragma: no cover - a checked-out connection always has one
        raise sa.exc.InvalidRequestError("the connection is closed")
    error = conn.dialect.loaded_dbapi.Error
    named = conn.dialect.driver in _NAMED_CURSORS
    try:
        cursor = dbapi.cursor(f"{name}_{next(_CURSOR_NUMBERS)}") if named else dbapi.cursor()
    except error as exc:
        raise sa.exc.DBAPIError.instance(sql, args, exc, error) from exc
    try:
        cursor.execute(sql, args)
    except error as exc:
        cursor.close()
        raise sa.exc.DBAPIError.instance(sql, args, exc, error) from exc
    return cursor


def _translated(
    conn: Connection, fetch: Callable[[], Sequence[Any]]
) -> Callable[[], Sequence[Any]]:
    """``fetch`` with driver errors raised as SQLAlchemy's."""
    error = conn.dialect.loaded_dbapi.Error

    def fetched() -> Sequence[Any]:
        try:
            return fetch()
        except error as exc:
            raise sa.exc.DBAPIError.instance(None, None, exc, error) from exc

    return fetched


def chunks_of(
    conn: Connection, cursor: DBAPICursor, fetch_rows: int
) -> Iterator[Sequence[tuple[Any, ...]]]:
    """The rows of ``cursor``, ``fetch_rows`` at a time, as the driver returns each chunk."""
    fetch = _translated(conn, partial(cursor.fetchmany, fetch_rows))
    while chunk := fetch():
        yield chunk


def rows_of(conn: Connection, cursor: DBAPICursor, fetch_rows: int) -> Iterator[tuple[Any, ...]]:
    """Every row of ``cursor``, fetched ``fetch_rows`` at a time."""
    return chain.from_iterable(chunks_of(conn, cursor, fetch_rows))


def select_chunks(
    conn: Connection, statement: sa.Select[Any], name: str, fetch_rows: int
) -> Generator[Sequence[tuple[Any, ...]], None, None]:
    """:func:`open_cursor` and :func:`chunks_of` in one: the cursor is closed when the
    iteration ends, however it ends."""
    cursor = open_cursor(conn, statement, name)
    try:
        yield from chunks_of(conn, cursor, fetch_rows)
    finally:
        cursor.close()
