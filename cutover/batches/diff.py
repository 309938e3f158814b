"""What changed in a batch between two dry runs, by stable identities.

A discrepancy is identified by ``(person_id, code, date_field)``: the same cause can move both
the release date and the maximum expiration date, and each is tracked on its own. A quarantined
row is identified by ``(target_table, source_table, source_key, rule, column)``.

Against the previous run, an item of the current run is *new* when it was never seen before,
*regressed* when it had been seen in an earlier run, was gone in the previous one and is back; an
item of the previous run that is gone is *fixed*; a discrepancy present in both with other days is
*changed*. All of it is computed in the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cutover.batches.history import batch_runs
from cutover.batches.tables import run_quarantine, val_explanation, val_offender

__all__ = ["BatchDiff", "DiffPart", "diff_runs"]


@dataclass(frozen=True, slots=True)
class DiffPart:
    """How many items fall in one part of a diff, and the first of them."""

    count: int = 0
    items: tuple[tuple[Any, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class BatchDiff:
    batch: str
    run_id: str
    previous_run_id: str | None
    new: DiffPart = field(default_factory=DiffPart)
    fixed: DiffPart = field(default_factory=DiffPart)
    regressed: DiffPart = field(default_factory=DiffPart)
    changed: DiffPart = field(default_factory=DiffPart)
    quarantine_new: DiffPart = field(default_factory=DiffPart)
    quarantine_fixed: DiffPart = field(default_factory=DiffPart)
    quarantine_regressed: DiffPart = field(default_factory=DiffPart)


def _discrepancies(batch: str, run_id: str) -> sa.Subquery:
    """One run's discrepancies of ``batch``: ``(person_id, code, date_field, days)``."""
    o, e = val_offender.c, val_explanation.c
    return (
        sa.select(e.person_id, e.code, e.date_field, sa.func.sum(e.days).label("days"))
        .select_from(
            val_explanation.join(
                val_offender, sa.and_(o.run_id == e.run_id, o.person_id == e.person_id)
            )
        )
        .where(e.run_id == run_id, o.batch == batch)
        .group_by(e.person_id, e.code, e.date_field)
        .subquery()
    )


def _seen(batch: str, run_ids: list[str], item: sa.Subquery) -> sa.Exists:
    """Whether ``item``'s ``(person_id, code, date_field)`` is a discrepancy of ``batch`` in
    ``run_ids``.

    Correlated on the primary key's leading columns, so each probe is an index lookup.
    """
    o = val_offender.alias("o_seen")
    e = val_explanation.alias("e_seen")
    return sa.exists().where(
        e.c.run_id.in_(run_ids),
        e.c.person_id == item.c.person_id,
        e.c.code == item.c.code,
        e.c.date_field == item.c.date_field,
        o.c.run_id == e.c.run_id,
        o.c.person_id == e.c.person_id,
        o.c.batch == batch,
    )


def _days_in(batch: str, run_id: str, item: sa.Subquery) -> sa.ScalarSelect[Any]:
    o = val_offender.alias("o_days")
    e = val_explanation.alias("e_days")
    return (
        sa.select(sa.func.sum(e.c.days))
        .where(
            e.c.run_id == run_id,
            e.c.person_id == item.c.person_id,
            e.c.code == item.c.code,
            e.c.date_field == item.c.date_field,
            o.c.run_id == e.c.run_id,
            o.c.person_id == e.c.person_id,
            o.c.batch == batch,
        )
        .scalar_subquery()
    )


_QKEYS = ("target_table", "source_table", "source_key", "rule", "column_name")


def _quarantined(batch: str, run_id: str) -> sa.Subquery:
    q = run_quarantine.c
    return (
        sa.select(
            q.target_table,
            q.source_table,
            q.source_key,
            q.rule,
            sa.func.coalesce(q.column_name, "").label("column_name"),
        )
        .where(q.run_id == run_id, q.batch == batch)
        .distinct()
        .subquery()
    )


def _q_seen(batch: str, run_ids: list[str], item: sa.Subquery) -> sa.Exists:
    q = run_quarantine.alias("q_seen")
    return sa.exists().where(
        q.c.run_id.in_(run_ids),
        q.c.batch == batch,
        q.c.source_table == item.c.source_table,
        q.c.source_key == item.c.source_key,
        q.c.target_table == item.c.target_table,
        q.c.rule == item.c.rule,
        sa.func.coalesce(q.c.column_name, "") == item.c.column_name,
    )


def _part(conn: Connection, query: sa.Select[Any], order: list[Any], limit: int) -> DiffPart:
    count = conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    items = conn.execute(query.order_by(*order).limit(limit)).all()
    return DiffPart(int(count), tuple(tuple(r) for r in items))


def diff_runs(
    conn: Connection,
    batch: str,
    *,
    run_id: str | None = None,
    previous_run_id: str | None = None,
    limit: int = 200,
) -> BatchDiff:
    """The diff of ``batch`` from ``previous_run_id`` to ``run_id``.

    Defaults: the batch's latest run, and the run before it. With no earlier run everything
    is new. Items come sorted by identity, at most ``limit`` per part.
    """
    runs = [r.run_id for r in batch_runs(conn, batch)]
    current = run_id or (runs[-1] if runs else "")
    if previous_run_id is None:
        before = runs[: runs.index(current)] if current in runs else []
        previous_run_id = before[-1] if before else None
    earlier = runs[: runs.index(previous_run_id)] if previous_run_id in runs else []
    prev_ids = [previous_run_id] if previous_run_id else []
    cur, prev = _discrepancies(batch, current), _discrepancies(batch, previous_run_id or "")
    unseen, was_seen = ~_seen(batch, prev_ids, cur), _seen(batch, earlier, cur)
    order = [cur.c.person_id, cur.c.code, cur.c.date_field]
    before_days = _days_in(batch, previous_run_id or "", cur)
    changed = sa.select(
        cur.c.person_id, cur.c.code, cur.c.date_field, before_days.label("before"), cur.c.days
    )
    qcur, qprev = _quarantined(batch, current), _quarantined(batch, previous_run_id or "")
    qunseen, qwas = ~_q_seen(batch, prev_ids, qcur), _q_seen(batch, earlier, qcur)
    qorder = [qcur.c[n] for n in _QKEYS]
    return BatchDiff(
        batch=batch,
        run_id=current,
        previous_run_id=previous_run_id,
        new=_part(conn, sa.select(cur).where(unseen, ~was_seen), order, limit),
        regressed=_part(conn, sa.select(cur).where(unseen, was_seen), order, limit),
        fixed=_part(
            conn,
            sa.select(prev).where(~_seen(batch, [current], prev)),
            [prev.c.person_id, prev.c.code, prev.c.date_field],
            limit,
        ),
        changed=_part(
            conn,
            changed.where(before_days.is_not(None), before_days != cur.c.days),
            order,
            limit,
        ),
        quarantine_new=_part(conn, sa.select(qcur).where(qunseen, ~qwas), qorder, limit),
        quarantine_regressed=_part(conn, sa.select(qcur).where(qunseen, qwas), qorder, limit),
        quarantine_fixed=_part(
            conn,
            sa.select(qprev).where(~_q_seen(batch, [current], qprev)),
            [qprev.c[n] for n in _QKEYS],
            limit,
        ),
    )
