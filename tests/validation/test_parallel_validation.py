"""Validation split over worker processes records exactly what one process records.

The offenders are cut into ranges of ``person_id``; each worker reads, recomputes and writes its
own range. Every person falls in exactly one range, the stored results and the per-batch
summary are those of a run in one process, a small run never starts a worker, and a worker's
failure fails the run with the worker's own error, leaving no process behind.
"""

from __future__ import annotations

import itertools
import multiprocessing
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from diminution_builders import baseline, edit_ledger, post_clean, random_offender
from target_builders import new_target, write_offenders

from validation import OffenderFacts, RulePack, ValidationEngines, validate_run
from validation.queries import person_ranges
from validation.reader import read_offenders
from validation.store import read_explanations, read_offenders_of_run, read_summary

BATCHES = ("ECI", "MCIH", "RCI")


def population(pack: RulePack, size: int = 45) -> list[tuple[OffenderFacts, str]]:
    """Clean offenders, every third with a ledger posting changed, every fifth a legacy date,
    and the first with a work credit never posted (an explained difference)."""
    rng = random.Random(20261204)
    late = edit_ledger(post_clean(baseline(), pack), drop=("WT202002",))
    people = [(replace(late, person_id="P000"), BATCHES[0])]
    for n in range(1, size):
        facts = random_offender(rng, f"P{n:03d}", pack)
        if n % 3 == 0 and facts.ledger:
            first = facts.ledger[0]
            facts = edit_ledger(facts, set_days={first.key: first.days + 2})
        if n % 5 == 0 and facts.legacy.ms_release is not None:
            shifted = facts.legacy.ms_release + timedelta(days=4)
            facts = replace(facts, legacy=replace(facts.legacy, ms_release=shifted))
        people.append((facts, BATCHES[n % len(BATCHES)]))
    return people


@pytest.fixture
def engines(tmp_path: Path, pack: RulePack) -> Iterator[ValidationEngines]:
    target = new_target(tmp_path / "target.db")
    write_offenders(target, population(pack))
    control = sa.create_engine(f"sqlite:///{tmp_path / 'control.db'}")
    yield ValidationEngines(target, control)
    target.dispose()
    control.dispose()


def stored(control: sa.Engine, run_id: str) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """A run's rows with the run id left out, so that two runs can be compared."""
    offenders = [
        (o.person_id, o.batch, o.status, o.delta_days, o.max_exp_delta_days, o.facts_hash)
        for o in read_offenders_of_run(control, run_id)
    ]
    explanations = [
        (e.person_id, e.seq, e.code, e.days, e.evidence, e.detail, e.date_field)
        for e in read_explanations(control, run_id)
    ]
    summary = [
        tuple(getattr(s, n) for n in s.__slots__ if n != "run_id")
        for s in read_summary(control, run_id)
    ]
    return sorted(offenders), sorted(explanations), sorted(summary)


def test_person_ranges_put_every_person_in_exactly_one_range(engines: ValidationEngines) -> None:
    with engines.target.connect() as conn:
        ranges = person_ranges(conn, None, 4)
        in_batch = person_ranges(conn, ["ECI"], 4, min_persons=5)
        too_few = person_ranges(conn, None, 4, min_persons=23)
    assert (len(ranges), len(in_batch), too_few) == (4, 3, [(None, None)])
    assert ranges[0][0] is None
    assert ranges[-1][1] is None
    assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
    seen = [[r.person_id for r in read_offenders(engines.target, person_range=r)] for r in ranges]
    assert sorted(p for part in seen for p in part) == [f"P{n:03d}" for n in range(45)]
    assert sorted(len(part) for part in seen) == [11, 11, 11, 12]
    eci = [
        [r.person_id for r in read_offenders(engines.target, batches=["ECI"], person_range=r)]
        for r in in_batch
    ]
    assert [len(part) for part in eci] == [5, 5, 5]


def test_workers_record_what_one_process_records(
    engines: ValidationEngines, pack: RulePack
) -> None:
    one = validate_run(engines, "one", pack=pack, workers=1)
    done: list[int] = []
    split = validate_run(
        engines,
        "split",
        pack=pack,
        workers=3,
        min_persons_per_worker=10,
        chunk_persons=4,
        progress=done.append,
    )
    assert (one.workers, split.workers) == (1, 3)
    assert stored(engines.control, "split") == stored(engines.control, "one")
    assert split.counts() == one.counts()
    assert split.stats.rows == one.stats.rows
    assert split.stats.persons == 45
    assert done == sorted(done)
    assert done[-1] == 45
    statuses = {status for _, _, status, *_ in stored(engines.control, "one")[0]}
    assert {"match", "explained", "unexplained"} <= statuses
    assert multiprocessing.active_children() == []


def test_a_rerun_with_workers_replaces_only_its_batches(
    engines: ValidationEngines, pack: RulePack
) -> None:
    validate_run(engines, "run", pack=pack, workers=1)
    before = stored(engines.control, "run")
    validate_run(
        engines, "run", pack=pack, batches=["ECI", "RCI"], workers=2, min_persons_per_worker=5
    )
    assert stored(engines.control, "run") == before


def test_a_small_run_starts_no_worker(engines: ValidationEngines, pack: RulePack) -> None:
    result = validate_run(engines, "small", pack=pack, workers=2)
    assert result.workers == 1
    in_memory = ValidationEngines(engines.target, sa.create_engine("sqlite://"))
    kept = validate_run(in_memory, "memory", pack=pack, workers=2, min_persons_per_worker=1)
    assert kept.workers == 1
    assert kept.offenders == 45


def test_a_failing_worker_fails_the_run_with_its_own_error(
    engines: ValidationEngines, pack: RulePack
) -> None:
    with engines.target.begin() as conn:
        conn.exec_driver_sql("DROP TABLE legacy_release_calculation")
    with pytest.raises(sa.exc.OperationalError, match="legacy_release_calculation"):
        validate_run(engines, "broken", pack=pack, workers=2, min_persons_per_worker=1)
    assert multiprocessing.active_children() == []


@pytest.mark.postgres
def test_workers_on_postgresql_record_what_one_process_records(
    pg_target: sa.Engine, engines: ValidationEngines, pack: RulePack
) -> None:
    write_offenders(pg_target, population(pack))
    on_pg = ValidationEngines(pg_target, pg_target)
    split = validate_run(on_pg, "pg-split", pack=pack, workers=2, min_persons_per_worker=10)
    validate_run(engines, "sqlite-one", pack=pack, workers=1)
    assert split.workers == 2
    assert stored(pg_target, "pg-split") == stored(engines.control, "sqlite-one")
