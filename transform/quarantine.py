"""Reading the quarantine: list, group and export the rows a run set aside.

Every function reads ``xf__quarantine`` in the staging database; filters are optional and
combine. Export streams in bounded chunks to a CSV file, so it works on any size.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from transform.schema import OutputTables

__all__ = [
    "QuarantineFilter",
    "QuarantineGroup",
    "export_quarantine",
    "group_quarantine",
    "list_quarantine",
]

COLUMNS = (
    "target_table",
    "source_table",
    "source_key",
    "batch",
    "rule",
    "column_name",
    "value",
    "message",
    "run_id",
)


@dataclass(frozen=True)
class QuarantineFilter:
    table: str | None = None
    rule: str | None = None
    batch: str | None = None

    def apply(self, query: sa.Select[Any], q: sa.Table) -> sa.Select[Any]:
        for col, value in (
            ("target_table", self.table),
            ("rule", self.rule),
            ("batch", self.batch),
        ):
            if value is not None:
                query = query.where(q.c[col] == value)
        return query


@dataclass(frozen=True)
class QuarantineGroup:
    target_table: str
    rule: str
    column_name: str
    batch: str
    rows: int


def _table(engine: sa.Engine) -> sa.Table | None:
    q = OutputTables.define().quarantine
    return q if sa.inspect(engine).has_table(q.name) else None


def list_quarantine(
    engine: sa.Engine, where: QuarantineFilter | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Up to ``limit`` quarantined rows, ordered by table, rule and source key."""
    q = _table(engine)
    if q is None:
        return []
    query = (where or QuarantineFilter()).apply(sa.select(*[q.c[c] for c in COLUMNS]), q)
    query = query.order_by(q.c.target_table, q.c.rule, q.c.source_key).limit(limit)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def group_quarantine(
    engine: sa.Engine, where: QuarantineFilter | None = None
) -> list[QuarantineGroup]:
    """Counts of quarantined rows per table, rule, column and batch."""
    q = _table(engine)
    if q is None:
        return []
    keys = [q.c.target_table, q.c.rule, q.c.column_name, q.c.batch]
    query = (where or QuarantineFilter()).apply(
        sa.select(*keys, sa.func.count()).group_by(*keys).order_by(*keys), q
    )
    with engine.connect() as conn:
        return [
            QuarantineGroup(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]))
            for r in conn.execute(query)
        ]


def _chunks(
    engine: sa.Engine, q: sa.Table, where: QuarantineFilter, chunk_rows: int
) -> Iterator[Sequence[sa.Row[Any]]]:
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(
            where.apply(sa.select(*[q.c[c] for c in COLUMNS]), q).order_by(
                q.c.target_table, q.c.rule, q.c.source_key
            )
        )
        yield from result.partitions(chunk_rows)


def export_quarantine(
    engine: sa.Engine, path: Path, where: QuarantineFilter | None = None, chunk_rows: int = 10_000
) -> int:
    """Write quarantined rows to ``path`` as CSV (header first); returns the row count."""
    q = _table(engine)
    written = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(COLUMNS)
        if q is None:
            return 0
        for chunk in _chunks(engine, q, where or QuarantineFilter(), chunk_rows):
            out.writerows(tuple(row) for row in chunk)
            written += len(chunk)
    return written
