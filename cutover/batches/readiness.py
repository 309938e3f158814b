"""Cutover readiness: per institution, the gates between its latest dry run and the real load.

The gates, in order (each says why it is open or closed):

1. ``extract_verified``: the run's extract step succeeded and staging was verified against the
   source (a ``verify`` step in the run, or a successful ``verify`` run after it started);
2. ``mappings_clean``: the run's mapping check succeeded with no coverage gap;
3. ``rows_reconciled``: row accounting exists and balances for every source table;
4. ``quarantine_triaged``: every quarantine group is triaged for its current rows;
5. ``zero_unexplained``: no ``UNEXPLAINED`` discrepancy is left unresolved;
6. ``signed_fresh``: a validator signed the batch and the evidence has not changed since.

The overall answer is *go* only when every institution passes every gate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cutover.batches.evidence import (
    Summary,
    accounting,
    discrepancies,
    quarantine_groups,
    summary,
)
from cutover.batches.history import batch_runs, institutions
from cutover.batches.signoff import SignOffState, signoff_state
from cutover.batches.tables import run_quarantine, val_run_summary
from cutover.runs import RUN_STEPS, RUNS

__all__ = [
    "GATES",
    "Gate",
    "InstitutionReadiness",
    "Readiness",
    "TrendPoint",
    "institution_readiness",
    "readiness",
    "trend",
]

#: Gate name -> what it means, in the order they are shown.
GATES: dict[str, str] = {
    "extract_verified": "Extract verified",
    "mappings_clean": "Mappings clean",
    "rows_reconciled": "Rows reconciled",
    "quarantine_triaged": "Quarantine triaged",
    "zero_unexplained": "Zero unexplained",
    "signed_fresh": "Signed off and fresh",
}


@dataclass(frozen=True, slots=True)
class Gate:
    name: str
    ok: bool
    detail: str

    @property
    def label(self) -> str:
        return GATES[self.name]


@dataclass(frozen=True, slots=True)
class InstitutionReadiness:
    batch: str
    run_id: str | None
    summary: Summary | None
    gates: tuple[Gate, ...]
    signoff: SignOffState
    open_unexplained: int
    quarantined_rows: int

    @property
    def ready(self) -> bool:
        return all(g.ok for g in self.gates)


@dataclass(frozen=True, slots=True)
class Readiness:
    institutions: tuple[InstitutionReadiness, ...]

    @property
    def go(self) -> bool:
        return bool(self.institutions) and all(i.ready for i in self.institutions)

    @property
    def blocked(self) -> list[str]:
        return [i.batch for i in self.institutions if not i.ready]


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """Every batch's totals in one run, for the trend across dry runs."""

    run_id: str
    label: str
    matched: int
    explained: int
    unexplained: int
    incomplete: int
    quarantined: int


def _steps(conn: Connection, run_id: str) -> dict[str, tuple[str, dict[str, int]]]:
    rows = conn.execute(
        sa.select(RUN_STEPS.c.step, RUN_STEPS.c.outcome, RUN_STEPS.c.counts)
        .where(RUN_STEPS.c.run_id == run_id)
        .order_by(RUN_STEPS.c.id)
    )
    out: dict[str, tuple[str, dict[str, int]]] = {}
    for r in rows:
        previous = out.get(r.step)
        if previous is None or previous[0] == "ok":  # a failure of any attempt sticks
            out[r.step] = (r.outcome, json.loads(r.counts or "{}"))
    return out


def _extract_gate(conn: Connection, run_id: str) -> Gate:
    run = conn.execute(sa.select(RUNS).where(RUNS.c.id == run_id)).first()
    if run is None:
        return Gate("extract_verified", False, f"run {run_id} is not in the run ledger")
    steps = _steps(conn, run_id)
    extract = steps.get("extract")
    if extract is None or extract[0] != "ok":
        return Gate("extract_verified", False, "the run's extract step did not succeed")
    verify = steps.get("verify")
    if verify is not None:
        ok = verify[0] == "ok"
        return Gate("extract_verified", ok, "verified in the run" if ok else "verify failed")
    later = conn.execute(
        sa.select(RUNS.c.id, RUNS.c.outcome)
        .where(RUNS.c.kind == "verify", RUNS.c.started_at >= run.started_at)
        .order_by(RUNS.c.started_at.desc())
        .limit(1)
    ).first()
    if later is None:
        return Gate("extract_verified", False, "not verified: run 'cutover extract --verify'")
    ok = later.outcome == "succeeded"
    return Gate(
        "extract_verified", ok, f"verify run {later.id} {'succeeded' if ok else later.outcome}"
    )


def _mappings_gate(conn: Connection, run_id: str) -> Gate:
    check = _steps(conn, run_id).get("check")
    if check is None:
        return Gate("mappings_clean", False, "the run has no mapping check step")
    if check[0] != "ok":
        return Gate("mappings_clean", False, "the mapping check failed")
    gaps = int(check[1].get("coverage_gaps", 0))
    if gaps:
        return Gate("mappings_clean", False, f"{gaps} coverage gap(s) in the mappings")
    return Gate("mappings_clean", True, "checked, no coverage gap")


def _unexplained_gate(
    conn: Connection, run_id: str, found: Summary | None, open_items: int
) -> Gate:
    if found is None:
        # A batch with rows but no offenders (orphan rows whose offender is gone) has no
        # validation summary; it passes only when the run's validation itself succeeded.
        validate = _steps(conn, run_id).get("validate")
        if validate is not None and validate[0] == "ok":
            return Gate("zero_unexplained", True, "no offenders in this batch to validate")
        return Gate("zero_unexplained", False, "validation has not run")
    if open_items:
        return Gate("zero_unexplained", False, f"{open_items} unexplained")
    return Gate("zero_unexplained", True, "every difference explained")


def institution_readiness(conn: Connection, batch: str) -> InstitutionReadiness:
    runs = batch_runs(conn, batch)
    state = signoff_state(conn, batch)
    if not runs:
        gates = tuple(Gate(n, False, "no dry run evidence") for n in GATES)
        return InstitutionReadiness(batch, None, None, gates, state, 0, 0)
    run_id = runs[-1].run_id
    lines = accounting(conn, batch, run_id)
    bad = [a.source_table for a in lines if not a.balanced]
    groups = quarantine_groups(conn, batch, run_id)
    untriaged = [g for g in groups if not g.triaged]
    open_items = sum(1 for _ in discrepancies(conn, batch, run_id, only_blocking=True))
    found = summary(conn, batch, run_id)
    rows_gate = Gate(
        "rows_reconciled",
        bool(lines) and not bad,
        "no row accounting"
        if not lines
        else f"does not balance: {', '.join(bad)}"
        if bad
        else f"{len(lines)} source table(s) balance",
    )
    gates = (
        _extract_gate(conn, run_id),
        _mappings_gate(conn, run_id),
        rows_gate,
        Gate(
            "quarantine_triaged",
            not untriaged,
            f"{len(untriaged)} of {len(groups)} group(s) to triage"
            if untriaged
            else f"{len(groups)} group(s) triaged"
            if groups
            else "nothing quarantined",
        ),
        _unexplained_gate(conn, run_id, found, open_items),
        Gate("signed_fresh", state.fresh, state.short()),
    )
    return InstitutionReadiness(
        batch, run_id, found, gates, state, open_items, sum(g.rows for g in groups)
    )


def readiness(conn: Connection) -> Readiness:
    return Readiness(tuple(institution_readiness(conn, b) for b in institutions(conn)))


def trend(conn: Connection) -> list[TrendPoint]:
    """Totals per run over every batch, oldest first."""
    s = val_run_summary.c
    totals = {
        r.run_id: r
        for r in conn.execute(
            sa.select(
                s.run_id,
                sa.func.sum(s.matched).label("matched"),
                sa.func.sum(s.explained).label("explained"),
                sa.func.sum(s.unexplained).label("unexplained"),
                sa.func.sum(s.incomplete).label("incomplete"),
            ).group_by(s.run_id)
        )
    }
    quarantined: dict[str, int] = dict(
        conn.execute(
            sa.select(run_quarantine.c.run_id, sa.func.count()).group_by(run_quarantine.c.run_id)
        ).all()
    )
    points = []
    for ref in batch_runs(conn):
        t = totals.get(ref.run_id)
        points.append(
            TrendPoint(
                ref.run_id,
                ref.label,
                int(t.matched or 0) if t else 0,
                int(t.explained or 0) if t else 0,
                int(t.unexplained or 0) if t else 0,
                int(t.incomplete or 0) if t else 0,
                int(quarantined.get(ref.run_id, 0)),
            )
        )
    return points
