"""Fact-table queries streamed as plain tuples, grouped by person.

The reader reads every fact row of the target once, so the cost per row decides its speed. A
statement is compiled by SQLAlchemy (so dialects, collations and ``IN`` lists stay its
business) and run on the connection's own DB-API cursor, which hands back plain tuples in
chunks: no result rows, no per-value type processing. The queries (``validation.queries``)
select values in a form every driver gives the same way: dates as ISO text, flags as integers.

A server-side cursor is used on PostgreSQL, so that memory holds one chunk per stream whatever
the size of the table. Driver errors are raised as SQLAlchemy's, as from any other query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date
from functools import partial
from itertools import chain, count, groupby
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPICursor

__all__ = ["Days", "PersonStream", "open_cursor", "rows_of"]

#: Drivers whose cursors stream only when named (server-side).
_NAMED_CURSORS = frozenset({"psycopg", "psycopg2"})

#: Makes every cursor name unique, so that reads can share a connection.
_CURSOR_NUMBERS = count(1)


class Days(dict[Any, Any]):
    """``days[value]``: a ``date`` from ISO text, parsed once per distinct value.

    ``None`` stays ``None``; a ``date`` (a driver that returns dates itself) is kept as it is.
    Values are typed ``Any`` so that a fact's date field takes them without a cast per row.
    """

    def __missing__(self, value: Any) -> date | None:
        day = value if value is None or isinstance(value, date) else date.fromisoformat(value)
        self[value] = day
        return day


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


class PersonStream:
    """One fact table's rows, ordered by person (first column), fetched ``fetch_rows`` at a time.

    ``take(person_id)`` gives that person's rows and skips the rows of persons before them;
    persons must be asked for in the same order. ``rows`` and ``unmatched`` count what was
    taken and what was skipped.
    """

    def __init__(self, conn: Connection, name: str, cursor: DBAPICursor, fetch_rows: int) -> None:
        self.name = name
        self.rows = 0
        self.unmatched = 0
        self._cursor = cursor
        rows = rows_of(conn, cursor, fetch_rows)
        self._groups: Iterator[tuple[Any, Iterator[tuple[Any, ...]]]] = groupby(
            rows, key=itemgetter(0)
        )
        self._head = next(self._groups, None)

    def take(self, person_id: str) -> list[tuple[Any, ...]]:
        head = self._head
        while head is not None and head[0] < person_id:
            self.unmatched += sum(1 for _ in head[1])
            head = next(self._groups, None)
        if head is None or head[0] != person_id:
            self._head = head
            return []
        out = list(head[1])
        self.rows += len(out)
        self._head = next(self._groups, None)
        return out

    def drain(self) -> None:
        """Count what is left (rows of persons after the last one asked for)."""
        while self._head is not None:
            self.unmatched += sum(1 for _ in self._head[1])
            self._head = next(self._groups, None)

    def close(self) -> None:
        self._head = None
        self._cursor.close()


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


def rows_of(conn: Connection, cursor: DBAPICursor, fetch_rows: int) -> Iterator[tuple[Any, ...]]:
    """Every row of ``cursor``, fetched ``fetch_rows`` at a time."""
    fetch = _translated(conn, partial(cursor.fetchmany, fetch_rows))

    def chunks() -> Iterator[Sequence[tuple[Any, ...]]]:
        while chunk := fetch():
            yield chunk

    return chain.from_iterable(chunks())
