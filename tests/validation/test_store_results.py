"""``validate_run`` records each offender, its explanations, findings and per-batch summaries.

Writing a run again replaces what it wrote (per batch when batches are given), never doubles
it; the tables are the contract's, on SQLite and PostgreSQL. A MAX_EXP_DT difference is recorded
as one, with explanation rows that name the date they explain; a control database written before
those columns existed gains them in place.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from diminution_builders import baseline, edit_ledger, post_clean
from target_builders import new_target, write_offenders

import load
from validation import RulePack, ValidationEngines, validate_run
from validation.facts import CommitmentFact, LegacyCalcFact, OffenderFacts
from validation.store import (
    ADDED_COLUMNS,
    VAL_EXPLANATION,
    VAL_OFFENDER,
    VALIDATION_METADATA,
    ensure_tables,
    read_explanations,
    read_offenders_of_run,
    read_summary,
)


def population(pack: RulePack) -> list[tuple[OffenderFacts, str]]:
    clean = post_clean(baseline(), pack)
    late = edit_ledger(replace(clean, person_id="P2"), drop=("WT202002",))
    released = replace(
        clean,
        person_id="P3",
        legacy=replace(clean.legacy, actual_release=date(2020, 12, 21), release_type="MS"),
    )
    lifer = OffenderFacts(
        "P4",
        "IN",
        (CommitmentFact("C1", "V", date(2001, 1, 1), 0, 0, 0, True, None, date(2001, 1, 1)),),
        LegacyCalcFact("R", None, None, date(2021, 1, 1)),
    )
    return [(clean, "MCIH"), (late, "MCIH"), (released, "ECI"), (lifer, "ECI")]


@pytest.fixture
def engines(tmp_path: Path, pack: RulePack) -> ValidationEngines:
    target = new_target(tmp_path / "target.db")
    write_offenders(target, population(pack))
    return ValidationEngines(target, sa.create_engine(f"sqlite:///{tmp_path / 'control.db'}"))


def counts(engines: ValidationEngines, run_id: str) -> tuple[int, int]:
    with engines.control.connect() as conn:
        offenders = conn.execute(
            sa.select(sa.func.count()).where(VAL_OFFENDER.c.run_id == run_id)
        ).scalar_one()
        explanations = conn.execute(
            sa.select(sa.func.count()).where(VAL_EXPLANATION.c.run_id == run_id)
        ).scalar_one()
    return offenders, explanations


def test_every_offender_is_recorded_with_its_status_dates_and_impact(
    engines: ValidationEngines, pack: RulePack
) -> None:
    result = validate_run(engines, "run-1", pack=pack)
    rows = {r.person_id: r for r in read_offenders_of_run(engines.control, "run-1")}
    assert {p: r.status for p, r in rows.items()} == {
        "P1": "match",
        "P2": "explained",
        "P3": "match",
        "P4": "out_of_scope",
    }
    p2 = rows["P2"]
    assert p2.batch == "MCIH"
    assert p2.delta_days == -10
    assert p2.legacy_ms_rel == date(2021, 1, 10)
    assert p2.recomputed_ms_rel == date(2020, 12, 31)
    assert p2.legacy_max_exp == p2.recomputed_max_exp == date(2021, 12, 1)
    assert len(p2.facts_hash) == 32
    assert rows["P3"].impact_kind == "released_early"
    assert rows["P3"].impact_days == 10
    assert rows["P4"].reason is not None
    assert "life" in rows["P4"].reason
    (why,) = read_explanations(engines.control, "run-1", person_id="P2")
    assert (why.seq, why.code, why.days) == (1, "ASSIGNMENT_WITHOUT_CREDIT", -10)
    assert "CR_TXN:P2-WT202002" not in why.evidence
    assert "ASGN:P2-A1" in why.evidence
    summary = {s.batch: s for s in read_summary(engines.control, "run-1")}
    assert (summary["MCIH"].offenders, summary["MCIH"].matched, summary["MCIH"].explained) == (
        2,
        1,
        1,
    )
    assert (summary["ECI"].out_of_scope, summary["ECI"].released_early) == (1, 1)
    assert result.counts()["offenders"] == 4
    assert result.read_seconds > 0
    assert result.compute_seconds > 0


def test_a_second_write_of_the_same_run_replaces_the_first(
    engines: ValidationEngines, pack: RulePack
) -> None:
    validate_run(engines, "run-1", pack=pack, chunk_persons=1)
    first = counts(engines, "run-1")
    validate_run(engines, "run-1", pack=pack, chunk_persons=3)
    assert counts(engines, "run-1") == first == (4, 1)
    assert len(read_summary(engines.control, "run-1")) == 2


def test_a_batch_rewrite_leaves_the_other_batches_and_runs_alone(
    engines: ValidationEngines, pack: RulePack
) -> None:
    validate_run(engines, "run-1", pack=pack)
    validate_run(engines, "run-2", pack=pack)
    with engines.target.begin() as conn:
        conn.execute(sa.text("DELETE FROM credit_transaction WHERE person_id = 'P1'"))
    validate_run(engines, "run-1", pack=pack, batches=["MCIH"])
    rows = {r.person_id: r for r in read_offenders_of_run(engines.control, "run-1")}
    assert set(rows) == {"P1", "P2", "P3", "P4"}
    assert rows["P1"].status == "unexplained"
    before = {r.person_id: r for r in read_offenders_of_run(engines.control, "run-2")}
    assert before["P1"].status == "match"
    assert before["P1"].facts_hash != rows["P1"].facts_hash
    assert counts(engines, "run-2") == (4, 1)
    assert {s.batch for s in read_summary(engines.control, "run-1")} == {"MCIH", "ECI"}


def test_a_batch_with_no_offenders_still_gets_a_summary(
    engines: ValidationEngines, pack: RulePack
) -> None:
    validate_run(engines, "run-1", pack=pack, batches=["NBCI"])
    (summary,) = read_summary(engines.control, "run-1")
    assert (summary.batch, summary.offenders) == ("NBCI", 0)


def test_a_max_expiration_difference_is_recorded_beside_the_release_date(
    tmp_path: Path, pack: RulePack
) -> None:
    clean = post_clean(baseline(), pack)
    late_max = replace(
        clean,
        person_id="P5",
        legacy=replace(clean.legacy, max_expiration=date(2021, 12, 1) + timedelta(days=5)),
    )
    jail = replace(post_clean(baseline(posted_jail=21), pack), person_id="P6")
    target = new_target(tmp_path / "target.db")
    write_offenders(target, [(clean, "MCIH"), (late_max, "MCIH"), (jail, "MCIH")])
    engines = ValidationEngines(target, sa.create_engine(f"sqlite:///{tmp_path / 'control.db'}"))
    result = validate_run(engines, "run-1", pack=pack)
    rows = {r.person_id: r for r in read_offenders_of_run(engines.control, "run-1")}
    p5 = rows["P5"]
    assert (p5.status, p5.delta_days, p5.max_exp_delta_days) == ("unexplained", 0, -5)
    assert (p5.legacy_max_exp, p5.recomputed_max_exp) == (date(2021, 12, 6), date(2021, 12, 1))
    assert (rows["P1"].status, rows["P1"].max_exp_delta_days) == ("match", 0)
    (why,) = read_explanations(engines.control, "run-1", person_id="P5")
    assert (why.seq, why.code, why.days, why.date_field) == (1, "UNEXPLAINED", -5, "MAX_EXP_DT")
    assert why.detail.startswith("MAX_EXP_DT: legacy 2021-12-06, recomputed 2021-12-01")
    p6 = rows["P6"]
    assert (p6.status, p6.delta_days, p6.max_exp_delta_days) == ("explained", -7, -10)
    steps = read_explanations(engines.control, "run-1", person_id="P6")
    assert [(e.seq, e.code, e.days, e.date_field) for e in steps] == [
        (1, "JAIL_CREDIT_MISPOSTED", -7, "MS_REL_DT"),
        (2, "JAIL_CREDIT_MISPOSTED", -10, "MAX_EXP_DT"),
    ]
    (summary,) = read_summary(engines.control, "run-1")
    assert (summary.matched, summary.explained, summary.unexplained) == (1, 1, 1)
    assert result.unexplained == 1


def test_a_control_database_from_before_the_new_columns_gains_them(
    tmp_path: Path, pack: RulePack
) -> None:
    control = sa.create_engine(f"sqlite:///{tmp_path / 'control.db'}")
    try:
        check_old_control_gains_columns(control, tmp_path, pack)
    finally:
        control.dispose()


@pytest.mark.postgres
def test_a_postgresql_control_database_from_before_the_new_columns_gains_them(
    pg_url: str, tmp_path: Path, pack: RulePack
) -> None:
    control = load.create_target_engine(pg_url)
    try:
        check_old_control_gains_columns(control, tmp_path, pack)
    finally:
        control.dispose()


def check_old_control_gains_columns(control: sa.Engine, tmp_path: Path, pack: RulePack) -> None:
    """Tables made without :data:`ADDED_COLUMNS` gain them, keep their rows, and take a run."""
    added = {(t.name, c) for t, c in ADDED_COLUMNS}
    old = sa.MetaData()
    for table in VALIDATION_METADATA.sorted_tables:
        keep = [
            sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
            for c in table.columns
            if (table.name, c.name) not in added
        ]
        sa.Table(table.name, old, *keep)
    old.create_all(control)
    with control.begin() as conn:
        conn.execute(
            sa.insert(old.tables["val_explanation"]).values(
                run_id="old", person_id="P9", seq=1, code="UNEXPLAINED", days=2,
                evidence=json.dumps(["RC9"]), detail="",
            )
        )  # fmt: skip
    ensure_tables(control)
    ensure_tables(control)
    columns = {
        t: {c["name"] for c in sa.inspect(control).get_columns(t)}
        for t in ("val_offender", "val_explanation")
    }
    assert all(c in columns[t] for t, c in added)
    (kept,) = read_explanations(control, "old")
    assert (kept.code, kept.days, kept.date_field) == ("UNEXPLAINED", 2, "MS_REL_DT")
    target = new_target(tmp_path / "target.db")
    write_offenders(target, population(pack))
    validate_run(ValidationEngines(target, control), "new", pack=pack)
    assert {r.person_id for r in read_offenders_of_run(control, "new")} == {"P1", "P2", "P3", "P4"}


@pytest.mark.postgres
def test_postgresql_control_and_target_hold_the_same_results(
    pg_target: sa.Engine, engines: ValidationEngines, pack: RulePack
) -> None:
    write_offenders(pg_target, population(pack))
    on_pg = ValidationEngines(pg_target, pg_target)
    validate_run(on_pg, "run-pg", pack=pack)
    validate_run(on_pg, "run-pg", pack=pack)
    validate_run(engines, "run-pg", pack=pack)
    assert read_offenders_of_run(pg_target, "run-pg") == read_offenders_of_run(
        engines.control, "run-pg"
    )
    assert read_explanations(pg_target, "run-pg") == read_explanations(engines.control, "run-pg")
    assert read_summary(pg_target, "run-pg") == read_summary(engines.control, "run-pg")
