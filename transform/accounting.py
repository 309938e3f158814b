"""Row accounting: every source row of a mapping is loaded, merged or quarantined, once.

Computed after a table is written, from what was written (not from what was intended): per
source batch, ``source_rows`` (rows the mapping's filter keeps) must equal ``loaded`` (rows in
``xf_<table>``) + ``merged`` + ``quarantined`` (distinct source keys in ``xf__quarantine``).
``filtered`` counts the rows the filter excluded, and the staged table's row count must equal
the kept rows plus the filtered ones (a join that multiplies rows breaks this). Either failure
raises :class:`cutover.errors.ReconciliationError` naming the table and batch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from cutover.errors import ReconciliationError
from transform import sqlfuncs as sf
from transform.worktables import work_table

if TYPE_CHECKING:
    from transform.checker import CompiledProject
    from transform.plan import TablePlan

__all__ = ["TableAccount", "account_table", "check_fanout"]


@dataclass(frozen=True)
class TableAccount:
    target_table: str
    source_table: str
    source_rows: int
    loaded: int
    merged: int
    quarantined: int
    filtered: int
    batches: int


def check_fanout(conn: sa.Connection, plan: TablePlan, work: sa.Table) -> None:
    """Raise when a join gave a source row more than one result row."""
    total, distinct = conn.execute(
        sa.select(sa.func.count(), sa.func.count(sa.distinct(work.c._pos)))
    ).one()
    if total != distinct:
        raise ReconciliationError(
            f"{plan.name}: {distinct} source rows of {plan.source_table} became {total} rows",
            table=plan.name,
            source_table=plan.source_table,
            hint="a join matches more than one row per source row: make every join a "
            "many-to-one lookup (join on the looked-up table's full key)",
        )


def _counts(conn: sa.Connection, query: sa.Select[Any]) -> Counter[str]:
    return Counter({str(row[0]): int(row[1] or 0) for row in conn.execute(query)})


def account_table(
    conn: sa.Connection, compiled: CompiledProject, plan: TablePlan, run_id: str
) -> TableAccount:
    """Write ``xf__accounting`` rows for one table and check that they balance."""
    work = work_table(plan)
    xf = compiled.xf_tables[plan.name]
    q = compiled.outputs.quarantine
    source = _counts(conn, sa.select(work.c._batch, sa.func.count()).group_by(work.c._batch))
    merged = _counts(
        conn, sa.select(work.c._batch, sa.func.sum(work.c._merged)).group_by(work.c._batch)
    )
    loaded = _counts(conn, sa.select(xf.c._batch, sa.func.count()).group_by(xf.c._batch))
    quarantined = _counts(
        conn,
        sa.select(q.c.batch, sa.func.count(sa.distinct(q.c.source_key)))
        .where(q.c.target_table == plan.name)
        .group_by(q.c.batch),
    )
    filtered: Counter[str] = Counter()
    if plan.where is not None:
        filtered = _counts(
            conn,
            sa.select(plan.batch, sa.func.count())
            .select_from(plan.from_)
            .where(sa.not_(sf.is_true(plan.where)))
            .group_by(plan.batch),
        )
    staged_rows = int(
        conn.execute(sa.select(sa.func.count()).select_from(plan.staged)).scalar_one()
    )
    distinct = int(conn.execute(sa.select(sa.func.count(sa.distinct(work.c._pos)))).scalar_one())
    batches = sorted(set(source) | set(loaded) | set(quarantined) | set(filtered))
    rows: list[dict[str, Any]] = [
        {
            "run_id": run_id,
            "target_table": plan.name,
            "source_table": plan.source_table,
            "batch": b,
            "source_rows": source[b],
            "loaded": loaded[b],
            "merged": merged[b],
            "quarantined": quarantined[b],
            "filtered": filtered[b],
        }
        for b in batches
    ]
    if rows:
        conn.execute(compiled.outputs.accounting.insert(), rows)
    kept = sum(source.values())
    if kept + sum(filtered.values()) != staged_rows or distinct != kept:
        raise ReconciliationError(
            f"{plan.name}: {staged_rows} staged rows of {plan.source_table} became {kept} kept "
            f"+ {sum(filtered.values())} filtered ({distinct} distinct)",
            table=plan.name,
            source_table=plan.source_table,
            hint="a join matches more than one row per source row: make every join a "
            "many-to-one lookup (join on the looked-up table's full key)",
        )
    for row in rows:
        if row["source_rows"] != row["loaded"] + row["merged"] + row["quarantined"]:
            raise ReconciliationError(
                f"{plan.name}: batch {row['batch']}: {row['source_rows']} source rows != "
                f"{row['loaded']} loaded + {row['merged']} merged + {row['quarantined']} "
                "quarantined",
                table=plan.name,
                source_table=plan.source_table,
                batch=row["batch"],
                hint="a row was lost or counted twice; inspect xf__quarantine and the mapping",
            )
    return TableAccount(
        plan.name,
        plan.source_table,
        kept,
        sum(loaded.values()),
        sum(merged.values()),
        sum(quarantined.values()),
        sum(filtered.values()),
        len(batches),
    )
