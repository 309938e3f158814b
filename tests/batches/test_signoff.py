"""Sign-off: refused with blockers, bound to the evidence hash, stale after a change, revocable."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cutover.batches import (
    add_explanation,
    blockers,
    evidence_hash,
    revoke,
    sign,
    signoff_state,
    triage_quarantine,
    unsigned_batches,
)
from cutover.batches.tables import run_accounting
from cutover.control import list_entries, verify
from cutover.errors import AccessDeniedError, SignOffError
from tests.batches.conftest import ENGINEER, VAL_ECI, VAL_RCI, VIEWER
from tests.batches.scenario import RUN_IDS, write_run

GROUP = "credit_entry/CR_TXN/impossible_date/ENT_DT"


def _clear_eci(engine: Engine) -> None:
    add_explanation(
        engine, actor=VAL_ECI, batch="ECI", person_id="P3", code="UNEXPLAINED",
        kind="explanation", reason="hand-posted jail credit, confirmed with records office",
    )  # fmt: skip
    triage_quarantine(
        engine, actor=ENGINEER, batch="ECI", group=GROUP, reason="test postings, never used"
    )


def test_sign_off_is_refused_with_every_blocker_listed(engine: Engine) -> None:
    write_run(engine, 1)
    with pytest.raises(SignOffError) as refused:
        sign(engine, actor=VAL_ECI, batch="ECI")
    assert refused.value.blockers == [
        "person P3: UNEXPLAINED +5 days (no cause accounts for it)",
        f"quarantine group {GROUP}: 2 row(s) not triaged",
    ]
    with engine.connect() as conn:
        assert signoff_state(conn, "ECI").state == "unsigned"
    assert not [e for e in list_entries(engine) if e.action == "batch.signed"]


def test_unbalanced_row_accounting_blocks_the_sign_off(engine: Engine) -> None:
    write_run(engine, 1)
    _clear_eci(engine)
    with engine.begin() as conn:
        conn.execute(run_accounting.update().values(loaded=run_accounting.c.loaded - 1))
    with engine.connect() as conn:
        found = blockers(conn, "ECI", RUN_IDS[0])
    assert found == [
        (
            "row accounting of CR_TXN does not balance: 122 source rows, "
            "117 loaded + 2 merged + 2 quarantined"
        )
    ]


@pytest.mark.parametrize(
    ("actor", "batch"),
    [
        pytest.param(VIEWER, "ECI", id="viewer"),
        pytest.param(ENGINEER, "ECI", id="engineer"),
        pytest.param(VAL_RCI, "ECI", id="validator-of-another-institution"),
    ],
)
def test_only_a_validator_of_the_institution_may_sign(
    engine: Engine, actor: object, batch: str
) -> None:
    write_run(engine, 1)
    _clear_eci(engine)
    with pytest.raises(AccessDeniedError):
        sign(engine, actor=actor, batch=batch)  # type: ignore[arg-type]
    with engine.connect() as conn:
        assert signoff_state(conn, batch).signoff is None


def test_a_sign_off_stays_fresh_while_the_evidence_is_unchanged_and_goes_stale_after(
    engine: Engine,
) -> None:
    write_run(engine, 1)
    _clear_eci(engine)
    done = sign(engine, actor=VAL_ECI, batch="ECI", statement="reviewed every difference")
    with engine.connect() as conn:
        state = signoff_state(conn, "ECI")
    assert state.state == "fresh"
    assert state.evidence_hash == done.evidence_hash
    signed = [e for e in list_entries(engine) if e.action == "batch.signed"]
    assert signed[0].details["evidence_hash"] == done.evidence_hash
    assert verify(engine).ok

    write_run(engine, 2)  # P2 fixed, P5 new: the evidence changed
    with engine.connect() as conn:
        state = signoff_state(conn, "ECI")
        assert state.state == "stale"
        assert "stale, the evidence changed in run " + RUN_IDS[1] in state.describe()
    assert unsigned_batches(engine, ["ECI", "_GLOBAL"]) == [("ECI", state.describe())]


def test_the_evidence_hash_ignores_the_run_id_but_not_the_evidence(engine: Engine) -> None:
    for n in (1, 2):
        write_run(engine, n)
    with engine.connect() as conn:
        rci = [evidence_hash(conn, "RCI", run) for run in RUN_IDS[:2]]
        eci = [evidence_hash(conn, "ECI", run) for run in RUN_IDS[:2]]
    assert rci[0] == rci[1]
    assert eci[0] != eci[1]


def test_revoking_needs_a_reason_and_is_audited(engine: Engine) -> None:
    write_run(engine, 1)
    _clear_eci(engine)
    sign(engine, actor=VAL_ECI, batch="ECI")
    revoke(engine, actor=VAL_ECI, batch="ECI", reason="records office found another error")
    with engine.connect() as conn:
        assert signoff_state(conn, "ECI").state == "unsigned"
    revoked = [e for e in list_entries(engine) if e.action == "batch.signoff_revoked"]
    assert revoked[0].details["reason"] == "records office found another error"
    assert revoked[0].actor == "val"


def test_a_decision_recorded_after_signing_makes_the_sign_off_stale(engine: Engine) -> None:
    write_run(engine, 1)
    _clear_eci(engine)
    sign(engine, actor=VAL_ECI, batch="ECI")
    add_explanation(
        engine, actor=VAL_ECI, batch="ECI", person_id="P4", code="GOOD_CONDUCT_RATE",
        kind="accepted_variance", reason="agency policy keeps the legacy rate for this term",
    )  # fmt: skip
    with engine.connect() as conn:
        assert signoff_state(conn, "ECI").state == "stale"


def test_state_changes_and_their_audit_entries_commit_together(engine: Engine) -> None:
    write_run(engine, 1)
    _clear_eci(engine)
    sign(engine, actor=VAL_ECI, batch="ECI")
    actions = [e.action for e in reversed(list_entries(engine))]
    assert actions == ["explanation.added", "quarantine.triaged", "batch.signed"]
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT count(*) FROM batch_signoff")).scalar_one()
    assert count == 1
