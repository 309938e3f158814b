"""Across dry runs: new, fixed and regressed by stable identity; decisions carried or reviewed."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from cutover.batches import (
    add_explanation,
    batch_runs,
    blockers,
    diff_runs,
    discrepancies,
    list_register,
    quarantine_groups,
    triage_quarantine,
)
from cutover.errors import AccessDeniedError, ConfigError
from tests.batches.conftest import ENGINEER, VAL_ECI, VAL_RCI, VIEWER
from tests.batches.scenario import RUN_IDS, add_expiration_cause, write_run

GROUP = "credit_entry/CR_TXN/impossible_date/ENT_DT"


def test_runs_of_a_batch_are_ordered_and_failed_runs_left_out(engine: Engine) -> None:
    for n in (1, 2, 3):
        write_run(engine, n)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE runs SET outcome = 'failed' WHERE id = '{RUN_IDS[2]}'")
    with engine.connect() as conn:
        assert [r.run_id for r in batch_runs(conn, "ECI")] == list(RUN_IDS[:2])


def test_the_diff_names_new_fixed_and_regressed_discrepancies(engine: Engine) -> None:
    for n in (1, 2, 3):
        write_run(engine, n)
    with engine.connect() as conn:
        second = diff_runs(conn, "ECI", run_id=RUN_IDS[1])
        third = diff_runs(conn, "ECI")
        first = diff_runs(conn, "ECI", run_id=RUN_IDS[0])
    assert second.previous_run_id == RUN_IDS[0]
    assert second.new.items == (("P5", "CREDIT_WITHOUT_ASSIGNMENT", "MS_REL_DT", 4),)
    assert second.fixed.items == (("P2", "JAIL_CREDIT_MISPOSTED", "MS_REL_DT", 37),)
    assert second.regressed.count == 0
    assert third.regressed.items == (("P2", "JAIL_CREDIT_MISPOSTED", "MS_REL_DT", 37),)
    assert third.new.count == 0
    assert third.fixed.count == 0
    assert third.quarantine_new.items == (
        ("credit_entry", "CR_TXN", "OFF-0011|CR-2", "impossible_date", "ENT_DT"),
    )
    assert first.previous_run_id is None
    assert [item[0] for item in first.new.items] == ["P2", "P3", "P4"]
    assert first.quarantine_new.count == 2


def test_each_legacy_date_is_its_own_discrepancy_in_diffs_blockers_and_decisions(
    engine: Engine,
) -> None:
    """A cause that moved MAX_EXP_DT is tracked apart from the same cause on MS_REL_DT."""
    for n in (1, 2):
        write_run(engine, n)
    add_expiration_cause(engine, 1, "P3", "UNEXPLAINED", 2)
    add_expiration_cause(engine, 2, "P3", "UNEXPLAINED", 3)
    add_expiration_cause(engine, 2, "P4", "JAIL_CREDIT_MISPOSTED", -30)
    with engine.connect() as conn:
        d = diff_runs(conn, "ECI", run_id=RUN_IDS[1])
        p3 = list(discrepancies(conn, "ECI", RUN_IDS[1], person_id="P3"))
        found = blockers(conn, "ECI", RUN_IDS[1])
    assert d.new.items == (
        ("P4", "JAIL_CREDIT_MISPOSTED", "MAX_EXP_DT", -30),
        ("P5", "CREDIT_WITHOUT_ASSIGNMENT", "MS_REL_DT", 4),
    )
    # The release date's +5 is unchanged; only the expiration date's residual moved.
    assert d.changed.items == (("P3", "UNEXPLAINED", "MAX_EXP_DT", 2, 3),)
    assert [(x.code, x.date_field, x.days) for x in p3] == [
        ("UNEXPLAINED", "MS_REL_DT", 5),
        ("UNEXPLAINED", "MAX_EXP_DT", 3),
    ]
    assert "person P3: UNEXPLAINED +5 days (no cause accounts for it)" in found
    assert "person P3: UNEXPLAINED +3 days of MAX_EXP_DT (no cause accounts for it)" in found

    add_explanation(
        engine, actor=VAL_ECI, batch="ECI", person_id="P3", code="UNEXPLAINED",
        kind="explanation", reason="release certificate amended by hand in 2019",
    )  # fmt: skip
    (entry,) = list_register(engine, "ECI")
    assert entry.days == 5  # the release date's days, not both dates' added together
    with engine.connect() as conn:
        assert {x.resolution for x in discrepancies(conn, "ECI", RUN_IDS[1], person_id="P3")} == {
            "explained"
        }
        assert not any("P3" in b for b in blockers(conn, "ECI", RUN_IDS[1]))


def test_a_manual_explanation_carries_while_the_facts_are_unchanged(engine: Engine) -> None:
    write_run(engine, 1)
    add_explanation(
        engine, actor=VAL_ECI, batch="ECI", person_id="P3", code="UNEXPLAINED",
        kind="explanation", reason="hand-posted jail credit, confirmed with records office",
    )  # fmt: skip
    write_run(engine, 2)  # P3's facts are the same
    with engine.connect() as conn:
        (p3,) = discrepancies(conn, "ECI", RUN_IDS[1], person_id="P3")
        assert p3.resolution == "explained"
        assert p3.register_by == "val"
        assert not any("P3" in b for b in blockers(conn, "ECI", RUN_IDS[1]))
    assert [e.state for e in list_register(engine, "ECI")] == ["current"]

    write_run(engine, 3)  # P3's facts changed: flagged, not carried
    with engine.connect() as conn:
        (p3,) = discrepancies(conn, "ECI", RUN_IDS[2], person_id="P3")
        assert p3.resolution == "review"
        assert p3.blocking
        assert (
            "person P3: UNEXPLAINED +5 days (its explanation needs review: the facts changed "
            "since)" in blockers(conn, "ECI", RUN_IDS[2])
        )
    assert [e.state for e in list_register(engine, "ECI")] == ["review"]


def test_a_quarantine_triage_is_flagged_when_the_group_changes(engine: Engine) -> None:
    write_run(engine, 1)
    assert (
        triage_quarantine(engine, actor=VAL_ECI, batch="ECI", group=GROUP, reason="test postings")
        == 2
    )
    write_run(engine, 2)
    with engine.connect() as conn:
        (same,) = quarantine_groups(conn, "ECI", RUN_IDS[1])
    assert same.triaged
    write_run(engine, 3)  # one more row in the group
    with engine.connect() as conn:
        (grown,) = quarantine_groups(conn, "ECI", RUN_IDS[2])
    assert not grown.triaged
    assert grown.stale_triage
    assert grown.rows == 3


@pytest.mark.parametrize(
    ("actor", "kind"),
    [
        pytest.param(VIEWER, "explanation", id="viewer-explains"),
        pytest.param(ENGINEER, "accepted_variance", id="engineer-accepts"),
        pytest.param(VAL_RCI, "explanation", id="other-institution-explains"),
    ],
)
def test_only_validators_of_the_institution_record_decisions(
    engine: Engine, actor: object, kind: str
) -> None:
    write_run(engine, 1)
    with pytest.raises(AccessDeniedError):
        add_explanation(
            engine, actor=actor, batch="ECI", person_id="P3",  # type: ignore[arg-type]
            code="UNEXPLAINED", kind=kind, reason="a reason long enough",  # type: ignore[arg-type]
        )  # fmt: skip
    assert list_register(engine) == []


def test_a_decision_about_a_discrepancy_that_is_not_there_is_refused(engine: Engine) -> None:
    write_run(engine, 1)
    with pytest.raises(ConfigError, match="no discrepancy UNEXPLAINED for person P4"):
        add_explanation(
            engine, actor=VAL_ECI, batch="ECI", person_id="P4", code="UNEXPLAINED",
            kind="explanation", reason="a reason long enough",
        )  # fmt: skip


def test_a_viewer_cannot_triage_quarantine(engine: Engine) -> None:
    write_run(engine, 1)
    with pytest.raises(AccessDeniedError):
        triage_quarantine(engine, actor=VIEWER, batch="ECI", group=GROUP, reason="looks fine")
