"""``cutover db`` and ``cutover trace`` on a workspace."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
import typer
from conftest import build_dataset, write_staging
from typer.testing import CliRunner

from cutover.commands.load import register
from cutover.commands.workspace import write_workspace
from cutover.logs import configure_logging
from load.loader import load_run
from load.migrate import current, head


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        configure_logging(level="WARNING", json=True)

    register(app)
    return app


def _workspace(tmp_path: Path) -> tuple[Path, str, str]:
    ws = tmp_path / "ws"
    write_workspace(ws, documents=None)
    return (
        ws,
        f"sqlite:///{ws / '.cutover' / 'staging.db'}",
        f"sqlite:///{ws / '.cutover' / 'target.db'}",
    )


def test_db_upgrade_current_and_downgrade_base(tmp_path: Path) -> None:
    ws, _, target = _workspace(tmp_path)
    runner = CliRunner()
    result = runner.invoke(_app(), ["db", "current", "-w", str(ws)])
    assert result.exit_code == 0, result.output
    assert "base (empty)" in result.output
    result = runner.invoke(_app(), ["db", "upgrade", "-w", str(ws)])
    assert result.exit_code == 0, result.output
    assert current(target) == head()
    result = runner.invoke(_app(), ["db", "current", "-w", str(ws)])
    assert "up to date" in result.output
    result = runner.invoke(_app(), ["db", "downgrade", "base", "-w", str(ws)])
    assert result.exit_code == 0, result.output
    assert current(target) is None


def test_trace_prints_lineage_without_identity_unless_asked(tmp_path: Path) -> None:
    ws, staging, target = _workspace(tmp_path)
    runner = CliRunner()
    assert runner.invoke(_app(), ["db", "upgrade", "-w", str(ws)]).exit_code == 0
    write_staging(staging, build_dataset(institutions=("ECI",), people=2))
    load_run(staging, target)

    result = runner.invoke(_app(), ["trace", "person", "000100001", "-w", str(ws), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["lineage"]["_source_key"] == "000100001"
    assert data["staged_table"] == "stg_obscis_offndr"
    assert data["ok"] is True
    assert "Doe1" not in result.output

    result = runner.invoke(
        _app(), ["trace", "person", "000100001", "-w", str(ws), "--values", "--show-sensitive"]
    )
    assert result.exit_code == 0, result.output
    assert "Doe1" in result.output
    assert "stg_obscis_offndr" in result.output


def test_trace_fails_when_the_legacy_row_is_gone(tmp_path: Path) -> None:
    ws, staging, target = _workspace(tmp_path)
    runner = CliRunner()
    assert runner.invoke(_app(), ["db", "upgrade", "-w", str(ws)]).exit_code == 0
    write_staging(staging, build_dataset(institutions=("ECI",), people=1))
    load_run(staging, target)
    engine = sa.create_engine(staging)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM stg_obscis_cmt")
    engine.dispose()
    result = runner.invoke(_app(), ["trace", "commitment", "C0001000001", "-w", str(ws)])
    assert result.exit_code == 1
    assert "does not trace to exactly one staged legacy row" in result.output


def test_load_command_loads_reconciles_and_prints_both_reports(tmp_path: Path) -> None:
    ws, staging, _ = _workspace(tmp_path)
    runner = CliRunner()
    assert runner.invoke(_app(), ["db", "upgrade", "-w", str(ws)]).exit_code == 0
    write_staging(staging, build_dataset(institutions=("ECI", "MCIH"), people=2))

    result = runner.invoke(_app(), ["load", "-w", str(ws), "--force"])
    assert result.exit_code == 0, result.output
    assert "reconciled" in result.output
    assert "NOT reconciled" not in result.output

    result = runner.invoke(_app(), ["load", "-w", str(ws), "--json", "--force"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["changed"] == 0
    assert data["reconciliation"]["ok"] is True


def test_reconcile_command_fails_when_the_target_lost_a_row(tmp_path: Path) -> None:
    ws, staging, target = _workspace(tmp_path)
    runner = CliRunner()
    assert runner.invoke(_app(), ["db", "upgrade", "-w", str(ws)]).exit_code == 0
    write_staging(staging, build_dataset(institutions=("ECI",), people=2))
    load_run(staging, target)
    assert runner.invoke(_app(), ["reconcile", "-w", str(ws)]).exit_code == 0

    engine = sa.create_engine(target)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM credit_transaction WHERE txn_id = 'T0001000011'")
    engine.dispose()
    result = runner.invoke(_app(), ["reconcile", "-w", str(ws), "--json"])
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert "credit_transaction [ECI]: 6 row(s) staged, 5 in the target" in problems
