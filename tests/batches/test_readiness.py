"""Readiness gates per institution, the go/no-go, the trend and the charts."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from cutover.batches import add_explanation, readiness, sign, trend, triage_quarantine
from cutover.batches.charts import days_histogram, histogram_svg, trend_svg
from cutover.batches.tables import run_accounting
from cutover.runs import RUN_STEPS
from tests.batches.conftest import ENGINEER, VAL_ECI, VAL_RCI
from tests.batches.scenario import RUN_IDS, write_run


def _gates(engine: Engine) -> dict[str, dict[str, bool]]:
    with engine.connect() as conn:
        state = readiness(conn)
    return {i.batch: {g.name: g.ok for g in i.gates} for i in state.institutions}


def test_go_only_when_every_institution_passes_every_gate(engine: Engine) -> None:
    write_run(engine, 1)
    gates = _gates(engine)
    assert gates["ECI"] == {
        "extract_verified": True,
        "mappings_clean": True,
        "rows_reconciled": True,
        "quarantine_triaged": False,
        "zero_unexplained": False,
        "signed_fresh": False,
    }
    add_explanation(
        engine, actor=VAL_ECI, batch="ECI", person_id="P3", code="UNEXPLAINED",
        kind="explanation", reason="confirmed with the records office",
    )  # fmt: skip
    triage_quarantine(
        engine,
        actor=ENGINEER,
        batch="ECI",
        group="credit_entry/CR_TXN/impossible_date/ENT_DT",
        reason="test postings",
    )
    sign(engine, actor=VAL_ECI, batch="ECI")
    with engine.connect() as conn:
        state = readiness(conn)
    assert [i.batch for i in state.institutions if i.ready] == ["ECI"]
    assert not state.go
    assert state.blocked == ["RCI"]

    add_explanation(
        engine, actor=VAL_RCI, batch="RCI", person_id="P11", code="UNEXPLAINED",
        kind="accepted_variance", reason="within the agency's three-day tolerance",
    )  # fmt: skip
    sign(engine, actor=VAL_RCI, batch="RCI")
    with engine.connect() as conn:
        assert readiness(conn).go


def test_a_failed_verify_or_a_coverage_gap_closes_its_gate(engine: Engine) -> None:
    write_run(engine, 1)
    with engine.begin() as conn:
        conn.execute(
            RUN_STEPS.update().where(RUN_STEPS.c.step == "verify").values(outcome="failed")
        )
        conn.execute(
            RUN_STEPS.update()
            .where(RUN_STEPS.c.step == "check")
            .values(counts='{"coverage_gaps": 3}')
        )
    gates = _gates(engine)["ECI"]
    assert not gates["extract_verified"]
    assert not gates["mappings_clean"]


def test_the_trend_counts_every_run_oldest_first(engine: Engine) -> None:
    for n in (1, 2, 3):
        write_run(engine, n)
    with engine.connect() as conn:
        points = trend(conn)
    assert [p.run_id for p in points] == list(RUN_IDS)
    assert [(p.explained, p.unexplained, p.quarantined) for p in points] == [
        (2, 2, 2),
        (2, 2, 2),
        (3, 2, 3),
    ]
    svg = str(trend_svg(points))
    assert svg.startswith("<svg")
    assert svg.count("<polyline") == 3
    assert "Unexplained <tspan" in svg


def test_the_days_histogram_splits_early_and_late(engine: Engine) -> None:
    write_run(engine, 1)
    with engine.connect() as conn:
        found = days_histogram(conn, "ECI", RUN_IDS[0])
    assert {b.label: (b.early, b.late) for b in found} == {
        "1-7": (1, 0),  # P3 +5
        "8-30": (0, 1),  # P4 -12
        "31-90": (1, 0),  # P2 +37
        "91-365": (0, 0),
        "> 365": (0, 0),
    }
    svg = str(histogram_svg(found))
    assert "Legacy date too early" in svg
    assert svg.count("<rect") == 10


def test_a_batch_without_offenders_passes_the_unexplained_gate_only_once_validation_ran(
    engine: Engine,
) -> None:
    """Orphan rows land in a batch with no offender; nothing there can be unexplained, but only
    a validation step that succeeded can say so."""
    run_id = write_run(engine, 1)
    with engine.begin() as conn:
        conn.execute(
            run_accounting.insert().values(
                run_id=run_id, target_table="credit_transaction", source_table="CR_TXN",
                batch="_UNASSIGNED", source_rows=3, loaded=0, merged=0, quarantined=3,
            )
        )  # fmt: skip
    assert _gates(engine)["_UNASSIGNED"]["zero_unexplained"] is False
    with engine.begin() as conn:
        conn.execute(
            RUN_STEPS.insert().values(
                run_id=run_id, step="validate", started_at="2026-11-01T08:00:00.000+00:00",
                finished_at="2026-11-01T08:00:00.000+00:00", seconds=0.1, counts="{}",
                notes="{}", outcome="ok",
            )
        )  # fmt: skip
    gates = _gates(engine)
    assert gates["_UNASSIGNED"]["zero_unexplained"] is True
    assert gates["ECI"]["zero_unexplained"] is False
