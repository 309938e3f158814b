"""``cutover validate``, ``cutover explain`` and ``cutover score`` in a workspace.

``explain`` shows the computation side by side month by month, each rule and each explanation,
as text and as JSON, with keys and dates only: never the person's name. Each month row carries
the legacy posting, the entitlement before the cap, the cap, the amount after it, the eligible
days, the rules that cut the month and the explanations that set it right; a difference of the
maximum expiration date is shown with its own explanations.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from diminution_builders import baseline, edit_ledger, post_clean
from target_builders import new_target, write_offenders
from typer.testing import CliRunner

from cutover.cli import app
from cutover.settings import load_settings
from validation import (
    AssignmentFact,
    LaborPoolWeekFact,
    LedgerEntryFact,
    OffenderFacts,
    RulePack,
    SegregationFact,
)

runner = CliRunner()


def validated_workspace(folder: Path, offenders: list[tuple[OffenderFacts, str]]) -> Path:
    """A new workspace at ``folder`` whose target holds ``offenders``, validated once."""
    result = runner.invoke(app, ["init", str(folder)])
    assert result.exit_code == 0, result.output
    url = load_settings(folder).target.url.get_secret_value()
    target = new_target(Path(url.removeprefix("sqlite:///")))
    write_offenders(target, offenders)
    target.dispose()
    result = runner.invoke(app, ["validate", "-w", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, pack: RulePack) -> Path:
    clean = post_clean(baseline(), pack)
    late = edit_ledger(replace(clean, person_id="P2"), drop=("WT202002",))
    return validated_workspace(
        tmp_path_factory.mktemp("ws") / "ws", [(clean, "MCIH"), (late, "MCIH")]
    )


def month_case(pack: RulePack) -> OffenderFacts:
    """The baseline with a cut of each kind, each posted wrong by the legacy in its own month.

    Feb 2020: segregation Feb 10-19 (10 days) leaves WT 19 of 29 days, 10 x 19/29 = 6.55 -> 7;
    posted 10. Apr 2020: special project S1 at 10 beside WT 10 and ED 5, 25 capped at 20 in the
    order WT, ED, SP: SP 5; posted 10. May 2020: I1 revokes 5 good-conduct days; RG posted twice.
    Sep 2020: labor pool L1 at 10, only the week of Mon 08-31 documented: Sep 1-6 eligible (24
    days cut), 10 x 6/30 = 2; posted 10. Delta +3 +8 +5 -5 = +11 days.
    """
    base = baseline()
    facts = replace(
        base,
        person_id="P3",
        assignments=(
            *base.assignments,
            AssignmentFact("S1", "MCIH", "S", "SP", None, 10, date(2020, 4, 1), date(2020, 4, 30)),
            AssignmentFact("L1", "MCIH", "L", "LP", None, 10, date(2020, 9, 1), date(2020, 9, 30)),
        ),
        segregations=(SegregationFact("G1", "DS", date(2020, 2, 10), date(2020, 2, 19)),),
        labor_pool=(
            LaborPoolWeekFact("LW1", date(2020, 8, 31), 3),
            LaborPoolWeekFact("LW2", date(2020, 9, 7), 2),
        ),
    )
    again = LedgerEntryFact("RG-again", "RG", date(2020, 5, 1), 5, date(2020, 5, 12))
    return edit_ledger(
        post_clean(facts, pack),
        set_days={"WT202002": 10, "SP202004": 10, "WT202009": 10},
        add=(again,),
    )


def later_expiration(pack: RulePack) -> OffenderFacts:
    """A clean ledger whose legacy MAX_EXP_DT is 5 days after the term's end; MS_REL_DT right."""
    clean = replace(post_clean(baseline(), pack), person_id="P4")
    legacy = clean.legacy
    assert legacy.max_expiration == date(2021, 12, 1)
    moved = replace(legacy, max_expiration=legacy.max_expiration + timedelta(days=5))
    return replace(clean, legacy=moved)


@pytest.fixture(scope="module")
def cut_workspace(tmp_path_factory: pytest.TempPathFactory, pack: RulePack) -> Path:
    return validated_workspace(
        tmp_path_factory.mktemp("ws-cuts") / "ws",
        [(month_case(pack), "MCIH"), (later_expiration(pack), "MCIH")],
    )


def explain_json(workspace: Path, *args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["explain", *args, "-w", str(workspace), "--json"])
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.output)
    return doc


def explain_text(workspace: Path, person_id: str) -> str:
    result = runner.invoke(app, ["explain", person_id, "-w", str(workspace)])
    assert result.exit_code == 0, result.output
    return result.output


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
    assert data["workers"] == 1  # two offenders: not worth a worker process
    refused = runner.invoke(app, ["validate", "-w", str(workspace), "--workers", "0"])
    assert refused.exit_code == 2
    assert "--workers" in refused.output


def test_explain_text_shows_rules_months_and_explanations_without_names(workspace: Path) -> None:
    out = explain_text(workspace, "P2")
    assert "person P2 (batch MCIH): explained" in out
    assert "rules applied: md.scope, md.jail_credit" in out
    assert "-10  ASSIGNMENT_WITHOUT_CREDIT in 2020-02" in out
    assert "ASGN:P2-A1" in out
    assert "2020-02     WT       0        10   20          10        29  < -" in out
    assert "ASSIGNMENT_WITHOUT_CREDIT\n  2020-03     ED" in out
    assert "2020-03     WT      10        10   20          10        31    -\n" in out
    assert "MS release                    2021-01-10  2020-12-31" in out
    assert "MAX_EXP_DT delta" not in out
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
            "kind": "earned",
            "legacy": 0,
            "entitled": 10,
            "cap": 20,
            "recomputed": 10,
            "eligible_days": 29,
            "cut_by": {},
            "codes": ["ASSIGNMENT_WITHOUT_CREDIT"],
            "differs": True,
        }
    ]
    assert (doc["max_expiration_delta_days"], doc["max_expiration_explanations"]) == (0, [])
    assert "Doe" not in result.output


def test_explain_with_a_run_shows_the_stored_result_beside_it(workspace: Path) -> None:
    run_id = latest_run(workspace)
    result = runner.invoke(app, ["explain", "P2", "-w", str(workspace), "--json", "--run", run_id])
    assert result.exit_code == 0, result.output
    stored = json.loads(result.output)["run"]
    assert stored["run_id"] == run_id
    assert stored["explanations"] == [{"code": "ASSIGNMENT_WITHOUT_CREDIT", "days": -10}]
    assert stored["max_expiration_explanations"] == []
    assert stored["facts_changed_since"] is False


def test_each_month_row_shows_the_entitlement_the_cap_the_cuts_and_the_codes(
    cut_workspace: Path,
) -> None:
    out = explain_text(cut_workspace, "P3")
    rows = {tuple(line.split()[:2]): line.split() for line in out.splitlines()}
    assert "month     type  legacy  entitled  cap  recomputed  eligible" in out
    assert rows["2020-02", "WT"] == [
        *("2020-02", "WT", "10", "7", "20", "7", "19", "<"),
        *("segregation", "10", "WORK_CREDIT_DURING_SEGREGATION"),
    ]
    assert rows["2020-04", "SP"] == [
        *("2020-04", "SP", "10", "10", "20", "5", "30", "<"),
        *("monthly_cap", "5", "MONTHLY_CAP_EXCEEDED"),
    ]
    assert rows["2020-04", "WT"] == ["2020-04", "WT", "10", "10", "20", "10", "30", "-"]
    assert rows["2020-05", "RG"] == [
        *("2020-05", "RG", "10", "5", "-", "5", "-", "<"),
        *("revocation", "5", "REVOCATION_MISMATCH"),
    ]
    assert rows["2020-09", "WT"] == [
        *("2020-09", "WT", "10", "2", "20", "2", "6", "<"),
        *("undocumented_labor_pool", "24", "UNDOCUMENTED_LABOR_POOL"),
    ]
    assert "revoked good conduct                  10           5" in out
    assert "delta +11 days" in out


def test_the_json_month_rows_carry_the_same_columns(cut_workspace: Path) -> None:
    doc = explain_json(cut_workspace, "P3")
    assert doc["status"] == "explained"
    assert doc["delta_days"] == 11
    months = {(m["month"], m["credit_type"]): m for m in doc["months"]}
    assert months["2020-02", "WT"] == {
        "month": "2020-02",
        "credit_type": "WT",
        "kind": "earned",
        "legacy": 10,
        "entitled": 7,
        "cap": 20,
        "recomputed": 7,
        "eligible_days": 19,
        "cut_by": {"segregation": 10},
        "codes": ["WORK_CREDIT_DURING_SEGREGATION"],
        "differs": True,
    }
    sp = months["2020-04", "SP"]
    assert (sp["entitled"], sp["cap"], sp["recomputed"], sp["cut_by"], sp["codes"]) == (
        10,
        20,
        5,
        {"monthly_cap": 5},
        ["MONTHLY_CAP_EXCEEDED"],
    )
    assert months["2020-04", "ED"]["cut_by"] == {}
    assert months["2020-04", "ED"]["codes"] == []
    rg = months["2020-05", "RG"]
    assert (rg["kind"], rg["legacy"], rg["recomputed"], rg["cap"], rg["eligible_days"]) == (
        "revoked",
        10,
        5,
        None,
        None,
    )
    assert (rg["cut_by"], rg["codes"]) == ({"revocation": 5}, ["REVOCATION_MISMATCH"])
    sep = months["2020-09", "WT"]
    assert (sep["entitled"], sep["eligible_days"], sep["cut_by"], sep["codes"]) == (
        2,
        6,
        {"undocumented_labor_pool": 24},
        ["UNDOCUMENTED_LABOR_POOL"],
    )
    assert (doc["legacy"]["revoked_good_conduct"], doc["legacy"]["revoked_special_project"]) == (
        10,
        0,
    )
    assert doc["computation"]["revoked_good_conduct"] == 5


def test_a_max_expiration_difference_is_shown_with_its_explanation(cut_workspace: Path) -> None:
    out = explain_text(cut_workspace, "P4")
    assert "person P4 (batch MCIH): unexplained" in out
    assert "max expiration                2021-12-06  2021-12-01" in out
    assert "MS release                    2020-12-31  2020-12-31" in out
    assert "delta +0 days" in out
    assert "MAX_EXP_DT delta -5 days\n      -5  UNEXPLAINED: legacy 2021-12-06" in out
    doc = explain_json(cut_workspace, "P4", "--run", latest_run(cut_workspace))
    assert (doc["delta_days"], doc["explanations"]) == (0, [])
    assert doc["max_expiration_delta_days"] == -5
    assert [(e["code"], e["days"]) for e in doc["max_expiration_explanations"]] == [
        ("UNEXPLAINED", -5)
    ]
    stored = doc["run"]
    assert (stored["status"], stored["delta_days"], stored["max_expiration_delta_days"]) == (
        "unexplained",
        0,
        -5,
    )
    assert stored["explanations"] == []
    assert stored["max_expiration_explanations"] == [{"code": "UNEXPLAINED", "days": -5}]


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
