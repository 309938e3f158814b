"""Fixture dry runs written straight into the contract tables, as validation and the dry run do.

Three dry runs of two institutions (ECI, RCI), with changes between them:

- run 1: ECI has P2 explained (jail credit, +37), P3 UNEXPLAINED (+5), P4 explained (-12) and
  two quarantined rows; RCI has P11 UNEXPLAINED (+3);
- run 2: P2 fixed, P5 new (+4); P3 unchanged (same facts); ECI's quarantine unchanged;
- run 3: P2 back (regressed), P3's facts changed; one more quarantined row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cutover.batches.tables import (
    ensure_tables,
    run_accounting,
    run_quarantine,
    val_explanation,
    val_finding,
    val_offender,
    val_run_summary,
)
from cutover.runs import RUN_STEPS, RUNS

RUN_IDS = ("20261101T080000-aaaa0001", "20261108T080000-aaaa0002", "20261115T080000-aaaa0003")
LEGACY_REL = date(2029, 3, 1)


@dataclass
class Offender:
    person_id: str
    causes: list[tuple[str, int]] = field(default_factory=list)
    facts: str = "f1"

    @property
    def delta(self) -> int:
        return sum(days for _, days in self.causes)

    @property
    def status(self) -> str:
        if not self.causes:
            return "match"
        return "unexplained" if any(c == "UNEXPLAINED" for c, _ in self.causes) else "explained"


@dataclass
class BatchRun:
    offenders: list[Offender]
    quarantine: list[tuple[str, str]] = field(default_factory=list)  # (source_key, value_hash)
    findings: list[tuple[str, str]] = field(default_factory=list)
    accounting: tuple[int, int, int, int] | None = None


def eci(run: int) -> BatchRun:
    people = [Offender("P1")]
    if run != 2:
        people.append(Offender("P2", [("JAIL_CREDIT_MISPOSTED", 37)]))
    people.append(Offender("P3", [("UNEXPLAINED", 5)], facts="f1" if run < 3 else "f2"))
    people.append(Offender("P4", [("GOOD_CONDUCT_RATE", -12)]))
    if run >= 2:
        people.append(Offender("P5", [("CREDIT_WITHOUT_ASSIGNMENT", 4)]))
    quarantine = [("OFF-0007|CR-1", "h1"), ("OFF-0009|CR-4", "h2")]
    if run == 3:
        quarantine.append(("OFF-0011|CR-2", "h3"))
    rows = 120 + len(quarantine)
    return BatchRun(
        people,
        quarantine,
        findings=[("user:JSMITH", "DUPLICATE_USER")],
        accounting=(rows, 118, 2, len(quarantine)),
    )


def rci(run: int) -> BatchRun:
    return BatchRun(
        [Offender("P10"), Offender("P11", [("UNEXPLAINED", 3)])], accounting=(40, 40, 0, 0)
    )


def write_run(engine: Engine, number: int, *, ledger: bool = True) -> str:
    """Write dry run ``number`` (1, 2 or 3) of both institutions; returns its run id."""
    ensure_tables(engine)
    run_id = RUN_IDS[number - 1]
    started = f"2026-11-{number * 7 - 6:02d}T08:00:00.000+00:00"
    with engine.begin() as conn:
        if ledger:
            conn.execute(
                sa.insert(RUNS).values(
                    id=run_id, kind="dry-run", actor="eng", started_at=started,
                    finished_at=started, outcome="succeeded", code_version="test",
                    source_checksums="{}", detail="{}",
                )
            )  # fmt: skip
            for step, counts in (
                ("extract", {"rows": 160}),
                ("verify", {"differing": 0}),
                ("check", {"coverage_gaps": 0}),
                ("transform", {}),
                ("load", {}),
            ):
                conn.execute(
                    sa.insert(RUN_STEPS).values(
                        run_id=run_id, step=step, started_at=started, finished_at=started,
                        seconds=0.1, counts=json.dumps(counts), notes="{}", outcome="ok",
                    )
                )  # fmt: skip
        for batch, data in (("ECI", eci(number)), ("RCI", rci(number))):
            _write_batch(conn, run_id, batch, data)
    return run_id


def _write_batch(conn: sa.Connection, run_id: str, batch: str, data: BatchRun) -> None:
    for o in data.offenders:
        conn.execute(
            val_offender.insert().values(
                run_id=run_id,
                batch=batch,
                person_id=o.person_id,
                status=o.status,
                legacy_max_exp=date(2031, 1, 1),
                recomputed_max_exp=date(2031, 1, 1),
                legacy_ms_rel=LEGACY_REL,
                recomputed_ms_rel=LEGACY_REL + timedelta(days=o.delta),
                delta_days=o.delta,
                impact_kind="released_on_time" if not o.delta else "not_yet_due",
                impact_days=0,
                facts_hash=f"{o.person_id}-{o.facts}",
            )
        )
        for seq, (code, days) in enumerate(o.causes, start=1):
            conn.execute(
                val_explanation.insert().values(
                    run_id=run_id,
                    person_id=o.person_id,
                    seq=seq,
                    code=code,
                    days=days,
                    evidence=json.dumps([f"JAIL_CR:{o.person_id}-1"]),
                    detail=f"{code.lower().replace('_', ' ')} of {days:+d} days",
                )
            )
    counts = {s: sum(1 for o in data.offenders if o.status == s) for s in
              ("match", "explained", "unexplained")}  # fmt: skip
    conn.execute(
        val_run_summary.insert().values(
            run_id=run_id, batch=batch, offenders=len(data.offenders), matched=counts["match"],
            explained=counts["explained"], unexplained=counts["unexplained"], out_of_scope=0,
            incomplete=0, released_early=0, released_late=0,
        )
    )  # fmt: skip
    for key, value_hash in data.quarantine:
        conn.execute(
            run_quarantine.insert().values(
                run_id=run_id, batch=batch, target_table="credit_entry", source_table="CR_TXN",
                source_key=key, rule="impossible_date", column_name="ENT_DT",
                value_hash=value_hash, message="ENT_DT is not a valid date",
            )
        )  # fmt: skip
    for key, kind in data.findings:
        conn.execute(
            val_finding.insert().values(
                run_id=run_id, batch=batch, finding_key=key, kind=kind,
                detail=json.dumps({"accounts": 2}),
            )
        )  # fmt: skip
    if data.accounting is not None:
        source_rows, loaded, merged, quarantined = data.accounting
        conn.execute(
            run_accounting.insert().values(
                run_id=run_id, source_table="CR_TXN", batch=batch, source_rows=source_rows,
                loaded=loaded, merged=merged, quarantined=quarantined,
            )
        )  # fmt: skip


def add_expiration_cause(engine: Engine, number: int, person_id: str, code: str, days: int) -> None:
    """Give ``person_id`` in run ``number`` a cause that moved its ``MAX_EXP_DT`` by ``days``.

    The row comes after the person's release-date rows, as validation writes them, and the
    offender's recomputed expiration date moves with it.
    """
    run_id = RUN_IDS[number - 1]
    o, e = val_offender.c, val_explanation.c
    with engine.begin() as conn:
        seq = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(e.seq), 0)).where(
                e.run_id == run_id, e.person_id == person_id
            )
        ).scalar_one()
        conn.execute(
            val_explanation.insert().values(
                run_id=run_id, person_id=person_id, seq=seq + 1, code=code, days=days,
                evidence=json.dumps([f"SCAN:{person_id}-JAIL"]),
                detail=f"MAX_EXP_DT: {code.lower().replace('_', ' ')} of {days:+d} days",
                date_field="MAX_EXP_DT",
            )
        )  # fmt: skip
        legacy, delta = conn.execute(
            sa.select(o.legacy_max_exp, sa.func.coalesce(o.max_exp_delta_days, 0)).where(
                o.run_id == run_id, o.person_id == person_id
            )
        ).one()
        conn.execute(
            val_offender.update()
            .where(o.run_id == run_id, o.person_id == person_id)
            .values(
                recomputed_max_exp=legacy + timedelta(days=delta + days),
                max_exp_delta_days=delta + days,
            )
        )
