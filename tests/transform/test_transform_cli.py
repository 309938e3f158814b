"""``cutover mappings check``, ``cutover transform`` and ``cutover quarantine`` end to end."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from transform_helpers import copy_example, stage_example
from typer.testing import CliRunner

from cutover.cli import app
from cutover.runs import list_runs
from cutover.settings import load_settings

MODELS = ["--target-models", "transform_helpers:TARGET"]
WIDE = {"COLUMNS": "200"}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / ".cutover").mkdir()
    copy_example(ws / "mappings")
    (ws / "cutover.toml").write_text(
        '[project]\nname = "t"\n[staging]\nurl = "sqlite:///.cutover/staging.db"\n'
        '[mappings]\ndir = "mappings"\n',
        encoding="utf-8",
    )
    engine = sa.create_engine(f"sqlite:///{ws / '.cutover' / 'staging.db'}")
    stage_example(engine)
    engine.dispose()
    return ws


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_mappings_check_reports_coverage(workspace: Path) -> None:
    code, out = _run("mappings", "check", "-w", str(workspace), *MODELS)
    assert code == 0, out
    assert "mappings OK" in out
    assert "UNK9" in out


def test_mappings_check_fails_with_every_problem(workspace: Path) -> None:
    sites = workspace / "mappings" / "sites.yaml"
    sites.write_text(
        sites.read_text(encoding="utf-8").replace("SITE_NM", "SITE_NME"), encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["mappings", "check", "-w", str(workspace), *MODELS])
    assert result.exit_code != 0
    assert "SITE_NME" in str(result.exception)
    assert f"{sites}:7" in str(result.exception)


def test_transform_then_quarantine_list_group_export(workspace: Path, tmp_path: Path) -> None:
    # Wide enough for every cell of the summary to stay on its row.
    result = CliRunner().invoke(app, ["transform", "-w", str(workspace), *MODELS], env=WIDE)
    code, out = result.exit_code, result.output
    assert code == 0, out
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if "│" in line}
    # person's name_title is a registered Python function: its share of the time is shown.
    assert re.search(r"\d+\.\d\d \(py \d+\.\d\d\)", lines["person"]), out
    assert "py" not in lines["site"], out
    [run] = list_runs(load_settings(workspace))
    assert (run["kind"], run["outcome"]) == ("transform", "succeeded")
    code, out = _run("quarantine", "group", "-w", str(workspace), "--table", "job")
    assert code == 0, out
    assert "unmapped_code" in out
    assert "invalid_date" not in out
    code, out = _run("quarantine", "list", "-w", str(workspace), "--rule", "orphan")
    assert code == 0, out
    assert "P00009" in out
    target = tmp_path / "q.csv"
    code, out = _run("quarantine", "export", str(target), "-w", str(workspace))
    assert code == 0, out
    with target.open(encoding="utf-8") as fh:
        exported = list(csv.DictReader(fh))
    assert {r["rule"] for r in exported} >= {"invalid_date", "unmapped_code", "orphan"}
    assert f"{len(exported)} quarantined row(s)" in out
