"""Fact-table queries streamed as plain tuples, grouped by person.

The reader reads every fact row of the target once, so the cost per row decides its speed: each
statement runs on the connection's own DB-API cursor (:mod:`cutover.cursors`, server-side on
PostgreSQL), which hands back plain tuples in chunks. The queries (``validation.queries``)
select values in a form every driver gives the same way: dates as ISO text, flags as integers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPICursor

from cutover.cursors import rows_of

__all__ = ["Days", "PersonStream"]


class Days(dict[Any, Any]):
    """``days[value]``: a ``date`` from ISO text, parsed once per distinct value.

    ``None`` stays ``None``; a ``date`` (a driver that returns dates itself) is kept as it is.
    Values are typed ``Any`` so that a fact's date field takes them without a cast per row.
    """

    def __missing__(self, value: Any) -> date | None:
        day = value if value is None or isinstance(value, date) else date.fromisoformat(value)
        self[value] = day
        return day


class PersonStream:
    """One fact table's rows, ordered by person (first column), fetched ``fetch_rows`` at a time.

    ``take(person_id)`` gives that person's rows, sorted by the values at the row positions
    ``order``, and skips the rows of persons before them; persons must be asked for in the same
    order. ``rows`` and ``unmatched`` count what was taken and what was skipped.
    """

    def __init__(
        self,
        conn: Connection,
        name: str,
        cursor: DBAPICursor,
        fetch_rows: int,
        order: tuple[int, ...],
    ) -> None:
        self.name = name
        self.rows = 0
        self.unmatched = 0
        self._cursor = cursor
        self._order = itemgetter(*order)
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
        out = sorted(head[1], key=self._order)
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
