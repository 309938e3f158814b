"""Micro-benchmarks of the dry run's hot paths, on a small generated legacy system.

- parsing: the SQL the mapping compiler emits for the reference mappings' ``date:`` and
  ``month:`` columns of the credit ledger, run over every staged ``CR_TXN`` row in SQLite,
  beside a bare scan of the same column, and for the term text of the document index
  (``5Y 3M 0D``);
- crosswalk application: the compiled lookups of a global crosswalk (the ledger's credit type)
  and of a per-institution one (an assignment's task code) over every staged row;
- the monthly credit computation: the rule pack's ``md.earned_credits`` and ``md.monthly_cap``
  steps over every offender, and ``validation.recompute`` (every step) over every offender.

The system (``CUTOVER_BENCH_OFFENDERS`` offenders, default 400) is built once per run through
the public API (generate, dry run into a scratch target, read the facts back, compile the
mappings), so the benchmarks follow whatever the packages do inside. Named ``bench_*.py`` so
that the test suite never collects them; run::

    .venv/bin/pytest -o python_files='bench_*.py' tests/benchmarks --benchmark-enable

``make bench`` runs them with the rest and keeps their figures in ``bench-out/results.json``.
Each benchmark's ``extra_info`` says how many rows or offenders one call covers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pytest_benchmark.fixture import BenchmarkFixture

from cutover.commands.workspace import write_workspace
from cutover.legacy import DB_FILE, DOCUMENTS_FILE, generate
from cutover.pipeline import dry_run, target_metadata
from cutover.settings import load_settings
from load import create_target_engine
from transform import check_project, load_project
from validation import OffenderFacts, RulePack, Workpad, load_pack, read_offenders, recompute

#: Offenders of the generated system: about 140 ledger rows each.
OFFENDERS = int(os.environ.get("CUTOVER_BENCH_OFFENDERS", "400"))
MAPPINGS = Path(__file__).resolve().parents[2] / "mappings" / "obscis"


@dataclass(frozen=True)
class Reference:
    """The migrated system the benchmarks read: staging with its compiled plans, and facts."""

    staging: sa.Engine
    plans: dict[str, Any]
    facts: list[OffenderFacts]
    pack: RulePack


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    root = tmp_path_factory.mktemp("hot-paths")
    legacy = root / "legacy"
    generate(legacy, OFFENDERS, seed=7)
    workspace = root / "ws"
    write_workspace(
        workspace,
        source_url=f"sqlite:///{legacy / DB_FILE}",
        documents=str(legacy / DOCUMENTS_FILE),
        mappings=str(MAPPINGS),
    )
    settings = load_settings(workspace)
    dry_run(settings, actor="benchmark")
    staging = sa.create_engine(settings.staging.url.get_secret_value())
    report = check_project(load_project(settings.mappings_dir), staging, target_metadata())
    plans = {plan.name: plan for plan in report.compiled.plans}
    target = create_target_engine(settings.scratch.url.get_secret_value())
    try:
        facts = [r.facts for r in read_offenders(target) if r.facts is not None]
    finally:
        target.dispose()
    yield Reference(staging, plans, facts, load_pack(settings.rule_pack))
    staging.dispose()


def _column_query(plan: Any, column: str) -> sa.Select[int, Any]:
    """One compiled column over the plan's driving table: its value and every check on it.

    Aggregated, so that the figure is the engine evaluating the expression, not Python
    fetching rows.
    """
    failed = [c.failed for c in plan.checks if c.column == column]
    failed += [r.repaired for r in plan.repairs if r.column == column]
    if not failed:
        raise AssertionError(f"{plan.name}.{column} has no check: is it still parsed?")
    flagged = sa.case((sa.or_(*failed), 1), else_=0)
    return sa.select(sa.func.count(plan.values[column]), sa.func.sum(flagged)).select_from(
        plan.driving
    )


def _bench_sql(
    benchmark: BenchmarkFixture, ref: Reference, query: sa.Executable, plan: Any
) -> tuple[Any, ...]:
    """Benchmark one aggregate ``query`` over ``plan``'s driving table; return its row."""
    with ref.staging.connect() as conn:
        count = sa.select(sa.func.count()).select_from(plan.driving)
        rows = int(conn.execute(count).scalar_one())
        assert rows > 0

        def run() -> sa.Row[Any]:
            return conn.execute(query).one()

        benchmark.extra_info.update(rows=rows, table=plan.source_table)
        return tuple(benchmark(run))


def test_date_parsing_sql(benchmark: BenchmarkFixture, reference: Reference) -> None:
    """``entered_on: {date: t.ENT_DT, on_invalid: null}`` over every ledger row."""
    plan = reference.plans["credit_transaction"]
    parsed, repaired = _bench_sql(benchmark, reference, _column_query(plan, "entered_on"), plan)
    assert parsed > 0
    assert repaired >= 0


def test_month_parsing_sql(benchmark: BenchmarkFixture, reference: Reference) -> None:
    """``credit_month: {month: t.CR_MO}`` over every ledger row."""
    plan = reference.plans["credit_transaction"]
    parsed, _ = _bench_sql(benchmark, reference, _column_query(plan, "credit_month"), plan)
    assert parsed > 0


def test_bare_scan_sql(benchmark: BenchmarkFixture, reference: Reference) -> None:
    """The same ledger column counted unparsed: what the parsing above adds to a scan."""
    plan = reference.plans["credit_transaction"]
    query = sa.select(sa.func.count(plan.driving.c.ENT_DT)).select_from(plan.driving)
    (count,) = _bench_sql(benchmark, reference, query, plan)
    assert count > 0


def test_term_parsing_sql(benchmark: BenchmarkFixture, reference: Reference) -> None:
    """``document.term_years``: the number before ``Y`` in a commitment order's term text, over
    every document, where the mapping reads it in SQL."""
    plan = reference.plans["document"]
    assert "term_years" in plan.values, "document.term_years is no longer computed in SQL"
    parsed, _ = _bench_sql(benchmark, reference, _column_query(plan, "term_years"), plan)
    assert parsed > 0


def test_crosswalk_global_sql(benchmark: BenchmarkFixture, reference: Reference) -> None:
    """``credit_type: {crosswalk: credit_type, ...}`` looked up for every ledger row."""
    plan = reference.plans["credit_transaction"]
    found, unmapped = _bench_sql(benchmark, reference, _column_query(plan, "credit_type"), plan)
    assert found > 0
    assert unmapped >= 0


def test_crosswalk_per_institution_sql(benchmark: BenchmarkFixture, reference: Reference) -> None:
    """``task_code: {crosswalk: task, institution: ...}`` looked up for every assignment."""
    plan = reference.plans["assignment"]
    found, _ = _bench_sql(benchmark, reference, _column_query(plan, "task_code"), plan)
    assert found > 0


def _steps_before(pack: RulePack, name: str) -> list[Any]:
    names = [s.name for s in pack.steps]
    if name not in names:
        raise AssertionError(f"the pack has no step {name!r}: {names}")
    return list(pack.steps[: names.index(name)])


def test_monthly_credit_computation(benchmark: BenchmarkFixture, reference: Reference) -> None:
    """The pack's ``md.earned_credits`` and ``md.monthly_cap`` over every offender; the steps
    before them run in the (untimed) setup of each round."""
    pack = reference.pack
    before = _steps_before(pack, "md.earned_credits")
    monthly = [s for s in pack.steps if s.name in ("md.earned_credits", "md.monthly_cap")]

    def setup() -> tuple[tuple[list[Workpad]], dict[str, Any]]:
        pads = []
        for facts in reference.facts:
            pad = Workpad(facts=facts)
            for step in before:
                step.fn(facts, pack.params, pad)
                if pad.halted is not None:
                    break
            if pad.halted is None:
                pads.append(pad)
        return (pads,), {}

    def run(pads: list[Workpad]) -> int:
        for pad in pads:
            for step in monthly:
                step.fn(pad.facts, pack.params, pad)
        return sum(len(pad.earned) for pad in pads)

    benchmark.extra_info.update(offenders=len(reference.facts))
    pedantic: Callable[..., int] = benchmark.pedantic
    months = pedantic(run, setup=setup, rounds=10)
    assert months > 0


def test_recompute(benchmark: BenchmarkFixture, reference: Reference) -> None:
    """``validation.recompute``: every step of the pack, over every offender."""
    pack = reference.pack

    def run() -> int:
        return sum(1 for f in reference.facts if recompute(f, pack).ms_release is not None)

    benchmark.extra_info.update(offenders=len(reference.facts))
    assert benchmark(run) > 0
