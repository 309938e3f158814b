"""The dry run: every step recorded, evidence kept per run, and a rerun that changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from rich.console import Console

import load
from cutover import pipeline
from cutover.batches.evidence import evidence_hash
from cutover.batches.tables import run_accounting, run_quarantine
from cutover.commands.pipeline import print_readiness, run_demo
from cutover.pipeline import STEPS, DryRunResult, dry_run
from cutover.runs import run_steps
from cutover.settings import Settings, load_settings


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, DryRunResult]:
    directory = tmp_path_factory.mktemp("demo")
    result = run_demo(directory, offenders=150, seed=5, console=Console(quiet=True))
    return load_settings(directory), result


def _control(settings: Settings) -> sa.Engine:
    return sa.create_engine(settings.control.url.get_secret_value())


def test_the_demo_records_every_step_of_the_dry_run(demo: tuple[Settings, DryRunResult]) -> None:
    settings, result = demo
    assert result.outcome == "succeeded"
    steps = run_steps(settings, result.run_id)
    assert [s["step"] for s in steps if s["table_name"] is None] == list(STEPS)
    assert all(s["outcome"] == "ok" for s in steps)
    extracted = {s["table_name"] for s in steps if s["step"] == "extract"}
    assert extracted >= {"obscis.CR_TXN", "documents.DOC_IDX"}
    assert list(result.seconds) == list(STEPS)
    assert (settings.workspace / "readiness-report.html").stat().st_size > 1000


def test_every_offender_is_validated_and_nothing_is_unexplained(
    demo: tuple[Settings, DryRunResult],
) -> None:
    _, result = demo
    counts = result.validation.counts()
    assert counts["offenders"] >= 150
    assert counts["unexplained"] == 0
    assert counts["explained"] > 0
    assert counts["offenders"] == sum(
        counts[k] for k in ("matched", "explained", "unexplained", "out_of_scope", "incomplete")
    )


def test_the_run_keeps_its_quarantine_and_accounting_with_values_only_as_hashes(
    demo: tuple[Settings, DryRunResult],
) -> None:
    settings, result = demo
    staging = sa.create_engine(settings.staging.url.get_secret_value())
    control = _control(settings)
    try:
        with staging.connect() as conn:
            staged_q = conn.execute(sa.text("SELECT count(*), count(value) FROM xf__quarantine"))
            q_rows, q_values = staged_q.one()
            acc = conn.execute(sa.text("SELECT sum(source_rows) FROM xf__accounting")).scalar()
        with control.connect() as conn:
            kept = conn.execute(
                sa.select(sa.func.count(), sa.func.count(run_quarantine.c.value_hash)).where(
                    run_quarantine.c.run_id == result.run_id
                )
            ).one()
            kept_acc = conn.execute(
                sa.select(sa.func.sum(run_accounting.c.source_rows)).where(
                    run_accounting.c.run_id == result.run_id
                )
            ).scalar()
            hashes = conn.execute(sa.select(run_quarantine.c.value_hash)).scalars().all()
    finally:
        staging.dispose()
        control.dispose()
    assert q_rows > 0
    assert tuple(kept) == (q_rows, q_values)
    assert kept_acc == acc
    assert all(h is None or len(h) == 32 for h in hashes)


def _loads_rebuilt(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The ``rebuilt`` of every ``load_run`` the dry runs after this call make, in order."""
    loads: list[object] = []
    real_load = load.load_run

    def spied_load(*args: Any, **kwargs: Any) -> Any:
        loads.append(kwargs.get("rebuilt"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(load, "load_run", spied_load)
    return loads


def test_a_second_dry_run_on_an_unchanged_source_changes_nothing(
    demo: tuple[Settings, DryRunResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, first = demo
    loads = _loads_rebuilt(monkeypatch)
    control = _control(settings)
    try:
        with control.connect() as conn:
            before = evidence_hash(conn, "ECI", first.run_id)
        second = dry_run(settings, actor="test")
        with control.connect() as conn:
            after = evidence_hash(conn, "ECI", second.run_id)
    finally:
        control.dispose()
    assert loads == [True]  # the scratch target is one the next dry run rebuilds
    assert {t.status for t in second.extracted} == {"unchanged"}
    assert second.load.changed == 0
    assert second.validation.counts() == first.validation.counts()
    assert before == after


def test_readiness_is_no_go_until_batches_are_signed(
    demo: tuple[Settings, DryRunResult], tmp_path: Path
) -> None:
    settings, _ = demo
    console = Console(file=(tmp_path / "out.txt").open("w"), width=200)
    assert print_readiness(console, settings) is False
    console.file.close()
    text = (tmp_path / "out.txt").read_text()
    assert "NO-GO" in text
    assert "sign-off" in text


def test_a_scratch_target_that_is_the_target_is_not_loaded_as_rebuilt(
    demo: tuple[Settings, DryRunResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a scratch database of its own is loaded as one the next dry run rebuilds (on
    SQLite, commits that do not wait for the disk): settings that point the scratch target at
    the real target keep the target's durability."""
    settings, _ = demo
    assert pipeline._scratch_apart(settings)
    target = settings.target.url.get_secret_value()
    same = load_settings(settings.workspace, overrides={"scratch_url": target})
    assert same.scratch.url.get_secret_value() == target
    assert not pipeline._scratch_apart(same)
    loads = _loads_rebuilt(monkeypatch)
    dry_run(same, actor="test")
    assert loads == [False]
