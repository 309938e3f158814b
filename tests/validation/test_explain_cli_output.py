"""``cutover validate``, ``cutover explain`` and ``cutover score`` in a workspace.

``explain`` shows the computation side by side month by month, each rule and each explanation,
as text and as JSON, with keys and dates only: never the person's name.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from diminution_builders import baseline, edit_ledger, post_clean
from target_builders import new_target, write_offenders
from typer.testing import CliRunner

from cutover.cli import app
from cutover.settings import load_settings
from validation import RulePack

runner = CliRunner()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, pack: RulePack) -> Path:
    folder = tmp_path_factory.mktemp("ws") / "ws"
    result = runner.invoke(app, ["init", str(folder)])
    assert result.exit_code == 0, result.output
    url = load_settings(folder).target.url.get_secret_value()
    target = new_target(Path(url.removeprefix("sqlite:///")))
    clean = post_clean(baseline(), pack)
    late = edit_ledger(replace(clean, person_id="P2"), drop=("WT202002",))
    write_offenders(target, [(clean, "MCIH"), (late, "MCIH")])
    target.dispose()
    result = runner.invoke(app, ["validate", "-w", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


def latest_run(workspace: Path) -> str:
    result = runner.invoke(app, ["validate", "-w", str(workspace), "--json"])
    assert result.exit_code == 0, result.output
    return str(json.loads(result.output)["run_id"])


def test_validate_prints_the_batch_summary_and_the_audit_comparison(workspace: Path) -> None:
    result = runner.invoke(app, ["validate", "-w", str(workspace)])
    assert result.exit_code == 0, result.output
    assert "MCIH" in result.output
    assert "share on the wrong date" in result.output
    data = json.loads(runner.invoke(app, ["validate", "-w", str(workspace), "--json"]).output)
    assert data["counts"]["explained"] == 1
    assert data["counts"]["matched"] == 1
    assert data["batches"]["MCIH"]["offenders"] == 2


def test_explain_text_shows_rules_months_and_explanations_without_names(workspace: Path) -> None:
    result = runner.invoke(app, ["explain", "P2", "-w", str(workspace)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "person P2 (batch MCIH): explained" in out
    assert "rules applied: md.scope, md.jail_credit" in out
    assert "-10  ASSIGNMENT_WITHOUT_CREDIT in 2020-02" in out
    assert "ASGN:P2-A1" in out
    assert "2020-02     WT       0          10        29  <" in out
    assert "2020-03     WT      10          10        31" in out
    assert "MS release                    2021-01-10  2020-12-31" in out
    assert "Doe" not in out


def test_explain_json_carries_the_same_computation(workspace: Path) -> None:
    result = runner.invoke(app, ["explain", "P2", "-w", str(workspace), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["status"] == "explained"
    assert doc["delta_days"] == -10
    assert doc["explanations"][0]["code"] == "ASSIGNMENT_WITHOUT_CREDIT"
    assert doc["computation"]["max_expiration"] == "2021-12-01"
    feb = [m for m in doc["months"] if m["month"] == "2020-02" and m["credit_type"] == "WT"]
    assert feb == [
        {
            "month": "2020-02",
            "credit_type": "WT",
            "legacy": 0,
            "recomputed": 10,
            "eligible_days": 29,
            "differs": True,
        }
    ]
    assert "Doe" not in result.output


def test_explain_with_a_run_shows_the_stored_result_beside_it(workspace: Path) -> None:
    run_id = latest_run(workspace)
    result = runner.invoke(app, ["explain", "P2", "-w", str(workspace), "--json", "--run", run_id])
    assert result.exit_code == 0, result.output
    stored = json.loads(result.output)["run"]
    assert stored["run_id"] == run_id
    assert stored["explanations"] == [{"code": "ASSIGNMENT_WITHOUT_CREDIT", "days": -10}]
    assert stored["facts_changed_since"] is False


def test_explain_of_an_unknown_offender_fails_with_a_hint(workspace: Path) -> None:
    result = runner.invoke(app, ["explain", "NOBODY", "-w", str(workspace)])
    assert result.exit_code == 1
    assert "no person 'NOBODY'" in str(result.exception)


def test_score_exits_zero_only_when_perfect(workspace: Path, tmp_path: Path) -> None:
    key = tmp_path / "answer_key.jsonl"
    entry = {"kind": "release_date", "off_id": "P2", "code": "ASSIGNMENT_WITHOUT_CREDIT"}
    key.write_text(json.dumps({**entry, "days": -10, "rows": {}}) + "\n", encoding="utf-8")
    good = runner.invoke(app, ["score", str(key), "-w", str(workspace)])
    assert good.exit_code == 0, good.output
    assert "PERFECT" in good.output
    key.write_text(json.dumps({**entry, "days": -11, "rows": {}}) + "\n", encoding="utf-8")
    bad = runner.invoke(app, ["score", str(key), "-w", str(workspace), "--json"])
    assert bad.exit_code == 1
    assert json.loads(bad.output)["perfect"] is False
