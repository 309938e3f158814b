"""The run ledger: every run, its steps, counts, timings and outcome, in the control database."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import structlog

from cutover.errors import ExtractError
from cutover.runs import get_run, list_runs, mappings_hash, run_steps, start_run
from cutover.settings import Settings, load_settings


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """Commands run earlier through CliRunner leave logging bound to a closed stream."""
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


def _settings(tmp_path: Path, control_url: str | None = None) -> Settings:
    (tmp_path / "mappings").mkdir(exist_ok=True)
    (tmp_path / "mappings" / "offender.yaml").write_text("table: person\n", encoding="utf-8")
    control = f'\n[control]\nurl = "{control_url}"\n' if control_url else ""
    (tmp_path / "cutover.toml").write_text(
        f'[project]\nname = "t"\n[mappings]\ndir = "mappings"\n{control}', encoding="utf-8"
    )
    return load_settings(tmp_path, environ={})


def _exercise_ledger(settings: Settings) -> None:
    run = start_run(settings, "extract", actor="alice")
    with run.step("extract", table="obscis.OFFNDR") as step:
        step.add(rows=10, written=4)
        step.add(rows=5)
        step.note(status="new")
    with pytest.raises(ExtractError), run.step("extract", table="obscis.CR_TXN"):
        raise ExtractError("source vanished", hint="rerun later")
    run.record_sources({"stg_obscis_offndr": "15:abc"})
    run.finish("failed", failed_tables=1)

    stored = get_run(settings, run.id)
    assert stored is not None
    assert (stored["kind"], stored["actor"], stored["outcome"]) == ("extract", "alice", "failed")
    assert stored["finished_at"] >= stored["started_at"]
    assert stored["mappings_hash"] == mappings_hash(settings.mappings_dir)
    assert stored["source_checksums"] == {"stg_obscis_offndr": "15:abc"}
    assert stored["detail"] == {"failed_tables": 1}
    assert stored["code_version"].startswith("0.")
    ok, failed = run_steps(settings, run.id)
    assert (ok["table_name"], ok["counts"], ok["notes"], ok["outcome"]) == (
        "obscis.OFFNDR",
        {"rows": 15, "written": 4},
        {"status": "new"},
        "ok",
    )
    assert ok["seconds"] >= 0
    assert failed["outcome"] == "failed"
    assert "source vanished" in failed["error"]


def test_ledger_records_runs_steps_counts_and_outcomes_on_sqlite(tmp_path: Path) -> None:
    _exercise_ledger(_settings(tmp_path))


@pytest.mark.postgres
def test_ledger_records_runs_steps_counts_and_outcomes_on_postgresql(
    tmp_path: Path, pg_url: str
) -> None:
    _exercise_ledger(_settings(tmp_path, pg_url))


def test_who_defaults_to_the_os_user_and_a_run_as_context_finishes_itself(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with start_run(settings, "verify") as run:
        pass
    with pytest.raises(RuntimeError), start_run(settings, "verify") as failing:
        raise RuntimeError("boom")
    runs = {r["id"]: r for r in list_runs(settings)}
    assert runs[run.id]["actor"] == getpass.getuser()
    assert runs[run.id]["outcome"] == "succeeded"
    assert runs[failing.id]["outcome"] == "failed"
    assert list_runs(settings, kind="extract") == []


def test_tables_are_created_idempotently_and_keep_history(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    for _ in range(3):
        start_run(settings, "extract", actor="bob").finish()
    engine = sa.create_engine(settings.control.url.get_secret_value())
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM runs").scalar_one() == 3
    engine.dispose()


def test_mappings_hash_changes_when_a_mapping_file_changes(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    before = mappings_hash(settings.mappings_dir)
    (settings.mappings_dir / "offender.yaml").write_text("table: people\n", encoding="utf-8")
    assert mappings_hash(settings.mappings_dir) != before
    assert mappings_hash(tmp_path / "missing") is None
