"""Which batches exist and which dry runs produced evidence for each, oldest first.

A run counts for a batch when it wrote validation results (``val_run_summary``) or row accounting
(``run_accounting``) for it. Runs the ledger records as ``running`` or ``failed`` are left out:
their evidence is partial. Runs are ordered by their start in the ledger (run ids sort the same
way when a run is missing from it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cutover.batches.tables import run_accounting, val_run_summary
from cutover.runs import RUNS

__all__ = ["GLOBAL_BATCH", "RunRef", "batch_names", "batch_runs", "institutions"]

#: The batch of catalogue rows (institutions, tasks, users): no institution signs it.
GLOBAL_BATCH = "_GLOBAL"

_UNUSABLE = ("running", "failed")


@dataclass(frozen=True, slots=True)
class RunRef:
    """One run of a batch's history."""

    run_id: str
    started_at: str | None
    kind: str | None
    outcome: str | None

    @property
    def label(self) -> str:
        """A short label for charts: the start as ``MM-DD HH:MM`` (or the run id's start)."""
        when = self.started_at or _id_time(self.run_id)
        return when[5:16].replace("T", " ") if when else self.run_id[:12]


def _id_time(run_id: str) -> str | None:
    stamp = run_id[:15]
    if len(stamp) == 15 and stamp[8] == "T" and (stamp[:8] + stamp[9:]).isdigit():
        return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}"
    return None


def batch_names(conn: Connection) -> list[str]:
    """Every batch with evidence in any run, sorted (``_GLOBAL`` included)."""
    query = sa.union(
        sa.select(val_run_summary.c.batch), sa.select(run_accounting.c.batch)
    ).subquery()
    found: list[Any] = list(conn.execute(sa.select(query.c.batch)).scalars())
    return sorted(str(name) for name in found)


def institutions(conn: Connection) -> list[str]:
    """The institution batches: every batch but the catalogue one."""
    return [b for b in batch_names(conn) if b != GLOBAL_BATCH]


def batch_runs(conn: Connection, batch: str | None = None) -> list[RunRef]:
    """The usable runs with evidence for ``batch`` (any batch when ``None``), oldest first."""
    parts = [sa.select(val_run_summary.c.run_id), sa.select(run_accounting.c.run_id)]
    if batch is not None:
        parts = [
            parts[0].where(val_run_summary.c.batch == batch),
            parts[1].where(run_accounting.c.batch == batch),
        ]
    ids = sa.union(*parts).subquery()
    query = sa.select(ids.c.run_id, RUNS.c.started_at, RUNS.c.kind, RUNS.c.outcome).select_from(
        ids.outerjoin(RUNS, RUNS.c.id == ids.c.run_id)
    )
    found = [
        RunRef(str(r.run_id), r.started_at, r.kind, r.outcome)
        for r in conn.execute(query)
        if r.outcome not in _UNUSABLE
    ]
    return sorted(found, key=lambda r: (r.started_at or _id_time(r.run_id) or "", r.run_id))
