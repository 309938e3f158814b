"""The reader gives back, from the target schema, the facts the load wrote: same computation.

Offenders built by hand (``diminution_builders``) are written to a migrated target database as
the load would write them; the reader must give facts that recompute and explain exactly as the
originals do, stream them in person order whatever the chunk size, cite lineage keys, and say
what it could not use instead of dropping it.
"""

from __future__ import annotations

import random
from dataclasses import FrozenInstanceError, fields, replace
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from diminution_builders import baseline, edit_ledger, post_clean, random_offender
from target_builders import add_task, insert, new_target, write_offenders

import load
from load import models as m
from validation import (
    LedgerEntryFact,
    OffenderFacts,
    ReadStats,
    RulePack,
    SegregationFact,
    explain,
    read_offenders,
    reader,
    resolve_person,
)


def outcome(facts: OffenderFacts, pack: RulePack) -> tuple[object, ...]:
    c = explain(facts, pack)
    return (
        c.status,
        c.delta,
        c.legacy_ms_release,
        c.recomputed_ms_release,
        c.computation.max_expiration,
        tuple((e.code, e.days) for e in c.explanations),
    )


def offenders(pack: RulePack) -> list[tuple[OffenderFacts, str]]:
    rng = random.Random(11)
    clean = post_clean(baseline(), pack)
    defective = edit_ledger(replace(clean, person_id="P2"), drop=("WT202002",))
    out = [(clean, "MCIH"), (defective, "MCIH")]
    out += [(random_offender(rng, f"R{i:03d}", pack), ("ECI", "WCI")[i % 2]) for i in range(24)]
    return out


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, pack: RulePack) -> tuple[sa.Engine, list]:
    engine = new_target(tmp_path_factory.mktemp("reader") / "target.db")
    built = offenders(pack)
    write_offenders(engine, built)
    return engine, built


def test_read_facts_recompute_and_explain_like_the_facts_written(
    written: tuple[sa.Engine, list], pack: RulePack
) -> None:
    engine, built = written
    records = {r.person_id: r for r in read_offenders(engine)}
    assert set(records) == {f.person_id for f, _ in built}
    explained = 0
    for facts, batch in built:
        record = records[facts.person_id]
        assert record.batch == batch
        assert record.facts is not None
        assert outcome(record.facts, pack) == outcome(facts, pack)
        explained += explain(record.facts, pack).status == "explained"
    assert explained >= 1


@pytest.mark.parametrize("fetch_rows", [pytest.param(1, id="one-row"), pytest.param(7, id="7")])
def test_small_fetches_give_the_same_persons_in_order(
    written: tuple[sa.Engine, list], fetch_rows: int
) -> None:
    engine, _ = written
    whole = list(read_offenders(engine))
    stats = ReadStats()
    chunked = list(read_offenders(engine, fetch_rows=fetch_rows, stats=stats))
    assert [r.person_id for r in chunked] == sorted(r.person_id for r in whole)
    assert [r.facts_hash for r in chunked] == [r.facts_hash for r in whole]
    assert stats.persons == len(whole)
    assert stats.rows["credit_transaction"] > 0
    assert stats.unmatched == {}


def test_batches_and_person_ids_restrict_the_read(written: tuple[sa.Engine, list]) -> None:
    engine, built = written
    eci = {f.person_id for f, b in built if b == "ECI"}
    assert {r.person_id for r in read_offenders(engine, batches=["ECI"])} == eci
    assert [r.person_id for r in read_offenders(engine, person_ids=["P2", "R001"])] == [
        "P2",
        "R001",
    ]
    assert [r.person_id for r in read_offenders(engine, batches=["ECI"], person_ids=["P2"])] == []


def test_fact_keys_are_the_lineage_of_the_legacy_rows(written: tuple[sa.Engine, list]) -> None:
    engine, _ = written
    (record,) = read_offenders(engine, person_ids=["P1"])
    assert record.facts is not None
    assert record.facts.commitments[0].key == "CMT:P1-C1"
    assert record.facts.jail_credits[0].commitment_key == "CMT:P1-C1"
    assert record.facts.jail_certificates[0].key == "DOC_IDX:P1-D1"
    assert all(r.key.startswith("CR_TXN:P1-") for r in record.facts.ledger)
    assert record.facts.legacy.key == "REL_CALC:P1|20210101"


def test_resolve_person_finds_ids_merged_keys_and_padded_ids(
    tmp_path: Path, pack: RulePack
) -> None:
    engine = new_target(tmp_path / "t.db")
    write_offenders(engine, [(post_clean(baseline(), pack), "MCIH")])
    with engine.begin() as conn:
        insert(
            conn,
            "person_merge",
            "000000009",
            "MCIH",
            merged_key="000000009",
            survivor_person_id="P1",
            rule="same SID and DOB",
            merge_run_id="r",
        )
    assert resolve_person(engine, "P1") == "P1"
    assert resolve_person(engine, " P1 ") == "P1"
    assert resolve_person(engine, "000000009") == "P1"
    assert resolve_person(engine, "nobody") is None


def test_the_rate_in_effect_is_used_and_split_where_it_changes(
    tmp_path: Path, pack: RulePack
) -> None:
    """A task whose rate goes from 10 to 5 on 2020-04-01: Jan-Mar earn 10, later months 5."""
    facts = post_clean(baseline(), pack)
    engine = new_target(tmp_path / "t.db")
    write_offenders(engine, [(facts, "MCIH")])
    with engine.begin() as conn:
        insert(
            conn,
            "task_rate",
            "MCIH|PNT1|2020-04-01",
            load.GLOBAL_BATCH,
            institution_id="MCIH",
            task_code="PNT1",
            effective_date=date(2020, 4, 1),
            monthly_rate=5,
        )
    (record,) = read_offenders(engine)
    assert record.facts is not None
    painter = [a for a in record.facts.assignments if a.task_code == "PNT1"]
    assert [(a.rate, a.begin, a.end) for a in painter] == [
        (10, date(2020, 1, 1), date(2020, 3, 31)),
        (5, date(2020, 4, 1), date(2020, 6, 30)),
    ]
    assert {a.key for a in painter} == {"ASGN:P1-A1"}
    comp = explain(record.facts, pack).computation
    assert comp.earned_of("WT") == 3 * 10 + 3 * 5


def test_a_task_without_a_rate_in_effect_earns_nothing_and_says_so(
    tmp_path: Path, pack: RulePack
) -> None:
    facts = post_clean(baseline(), pack)
    engine = new_target(tmp_path / "t.db")
    write_offenders(engine, [(facts, "MCIH")], rate_from=date(2020, 5, 1))
    (record,) = read_offenders(engine)
    assert record.facts is not None
    assert any("before task MCIH/PNT1 has a rate" in n for n in record.notes)
    early = [a for a in record.facts.assignments if a.task_code == "PNT1" and a.rate == 0]
    assert [(a.begin, a.end) for a in early] == [(date(2020, 1, 1), date(2020, 4, 30))]


def test_far_future_end_dates_mean_still_open(tmp_path: Path, pack: RulePack) -> None:
    facts = replace(
        post_clean(baseline(), pack),
        segregations=(SegregationFact("S1", "DS", date(2020, 12, 20), date(9999, 12, 31)),),
    )
    engine = new_target(tmp_path / "t.db")
    write_offenders(engine, [(facts, "MCIH")])
    (record,) = read_offenders(engine)
    assert record.facts is not None
    assert record.facts.segregations[0].end is None
    assert [a.end for a in record.facts.assignments if a.task_code == "GED"] == [None]


def test_a_person_without_a_legacy_calculation_is_reported_not_dropped(
    tmp_path: Path, pack: RulePack
) -> None:
    engine = new_target(tmp_path / "t.db")
    write_offenders(engine, [(post_clean(baseline(), pack), "MCIH")])
    with engine.begin() as conn:
        conn.execute(sa.delete(m.LegacyReleaseCalculation.__table__))
    (record,) = read_offenders(engine)
    assert record.facts is None
    assert record.reason is not None
    assert "REL_CALC" in record.reason


def test_an_unusable_certificate_is_noted_and_the_posted_days_count(
    tmp_path: Path, pack: RulePack
) -> None:
    engine = new_target(tmp_path / "t.db")
    write_offenders(engine, [(post_clean(baseline(posted_jail=20), pack), "MCIH")])
    with engine.begin() as conn:
        conn.execute(sa.update(m.Document.__table__).values(sentence_begin_date=None))
    (record,) = read_offenders(engine)
    assert record.facts is not None
    assert record.facts.jail_certificates == ()
    assert any("DOC_IDX:P1-D1 has no sentence begin date" in n for n in record.notes)
    assert explain(record.facts, pack).computation.spans[0].jail_source == "posted"


def test_catalogue_rates_of_other_institutions_do_not_leak(tmp_path: Path, pack: RulePack) -> None:
    engine = new_target(tmp_path / "t.db")
    write_offenders(engine, [(post_clean(baseline(), pack), "MCIH")])
    with engine.begin() as conn:
        add_task(conn, "ECI", "PNT1", "painter", "W", [(date(1900, 1, 1), 5)])
    (record,) = read_offenders(engine)
    assert record.facts is not None
    assert {a.rate for a in record.facts.assignments if a.task_code == "PNT1"} == {10}


@pytest.mark.postgres
def test_postgresql_gives_the_same_facts_as_sqlite(
    pg_url: str, written: tuple[sa.Engine, list], pack: RulePack
) -> None:
    _, built = written
    load.upgrade(pg_url)
    engine = load.create_target_engine(pg_url)
    try:
        write_offenders(engine, built)
        records = list(read_offenders(engine, fetch_rows=3))
        sqlite_engine, _ = written
        assert [(r.person_id, r.facts_hash) for r in records] == [
            (r.person_id, r.facts_hash) for r in read_offenders(sqlite_engine)
        ]
    finally:
        engine.dispose()


def test_the_ledger_rows_fast_constructor_makes_what_the_class_makes() -> None:
    """The reader builds ledger facts without the frozen class's ``__init__``: every field
    must land in its own slot, and the result must be the same frozen value."""
    args = ("CR_TXN:T1", "WT", date(2020, 3, 1), 7, date(2020, 4, 2))
    made = reader._ledger_entry(*args)
    assert made == LedgerEntryFact(*args)
    assert tuple(getattr(made, f.name) for f in fields(LedgerEntryFact)) == args
    assert reader._ledger_entry(*args[:4], None).entered is None
    with pytest.raises(FrozenInstanceError):
        made.days = 8  # type: ignore[misc]
