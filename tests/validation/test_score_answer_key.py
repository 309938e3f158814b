"""The scorer: per code, precision and recall of explanations with the right days; clean offenders.

A run over hand-built offenders is scored against answer keys written for it: the true key
scores 1.0 everywhere; a key with other days, another code, or a defect on a clean offender
scores lower, and says which offender and code missed.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from diminution_builders import baseline, edit_ledger, post_clean
from target_builders import new_target, write_offenders

from cutover.errors import ConfigError
from validation import (
    RulePack,
    Score,
    ValidationEngines,
    format_score,
    load_answer_key,
    score_run,
    validate_run,
)


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory, pack: RulePack) -> ValidationEngines:
    folder = tmp_path_factory.mktemp("score")
    target = new_target(folder / "target.db")
    clean = post_clean(baseline(), pack)
    missing = edit_ledger(replace(clean, person_id="P2"), drop=("WT202002",))
    doubled = edit_ledger(replace(clean, person_id="P3"), drop=("RG-I1",))
    write_offenders(target, [(clean, "MCIH"), (missing, "MCIH"), (doubled, "ECI")])
    engines = ValidationEngines(target, sa.create_engine(f"sqlite:///{folder / 'control.db'}"))
    validate_run(engines, "run-1", pack=pack)
    return engines


def key_file(path: Path, entries: list[tuple[str, str, int]]) -> Path:
    lines = [
        {"kind": "release_date", "off_id": f"{p}   ", "code": c, "days": d, "rows": {}}
        for p, c, d in entries
    ]
    lines.append({"kind": "data_quality", "code": "DUPLICATE_USER", "table": "USR_ACCT",
                  "keys": ["U1", "U2"], "column": "EMP_NO"})  # fmt: skip
    lines.append({"kind": "summary", "offenders": 3})
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return path


TRUE_KEY = [("P2", "ASSIGNMENT_WITHOUT_CREDIT", -10), ("P3", "REVOCATION_MISMATCH", 5)]


def by_code(score: Score) -> dict[str, tuple[float, float]]:
    return {c.code: (c.precision, c.recall) for c in score.codes}


def test_the_true_answer_key_scores_one_everywhere(
    engines: ValidationEngines, tmp_path: Path
) -> None:
    score = score_run(engines.control, "run-1", key_file(tmp_path / "k.jsonl", TRUE_KEY))
    assert by_code(score) == {
        "ASSIGNMENT_WITHOUT_CREDIT": (1.0, 1.0),
        "REVOCATION_MISMATCH": (1.0, 1.0),
    }
    assert score.perfect
    assert score.clean_offenders == 1
    assert score.clean_explained == []
    assert score.unexplained == []
    assert "PERFECT" in format_score(score)


@pytest.mark.parametrize(
    ("entries", "code", "expected", "miss"),
    [
        pytest.param(
            [("P2", "ASSIGNMENT_WITHOUT_CREDIT", -9), TRUE_KEY[1]],
            "ASSIGNMENT_WITHOUT_CREDIT",
            (0.0, 0.0),
            ("P2", "ASSIGNMENT_WITHOUT_CREDIT", -9, -10),
            id="wrong-days",
        ),
        pytest.param(
            [("P2", "CREDIT_WITHOUT_ASSIGNMENT", -10), TRUE_KEY[1]],
            "CREDIT_WITHOUT_ASSIGNMENT",
            (1.0, 0.0),
            ("P2", "CREDIT_WITHOUT_ASSIGNMENT", -10, None),
            id="other-code",
        ),
        pytest.param(
            [*TRUE_KEY, ("P3", "GOOD_CONDUCT_RATE", 12)],
            "GOOD_CONDUCT_RATE",
            (1.0, 0.0),
            ("P3", "GOOD_CONDUCT_RATE", 12, None),
            id="defect-not-found",
        ),
    ],
)
def test_a_miss_lowers_its_codes_score_and_is_named(
    engines: ValidationEngines,
    tmp_path: Path,
    entries: list[tuple[str, str, int]],
    code: str,
    expected: tuple[float, float],
    miss: tuple[str, str, int, int | None],
) -> None:
    score = score_run(engines.control, "run-1", key_file(tmp_path / "k.jsonl", entries))
    assert by_code(score)[code] == expected
    assert miss in score.mismatches
    assert not score.perfect


def test_an_explained_offender_missing_from_the_key_counts_as_clean_explained(
    engines: ValidationEngines, tmp_path: Path
) -> None:
    score = score_run(engines.control, "run-1", key_file(tmp_path / "k.jsonl", TRUE_KEY[:1]))
    assert score.clean_explained == ["P3"]
    assert by_code(score)["REVOCATION_MISMATCH"] == (0.0, 1.0)
    assert not score.perfect


def test_duplicate_accounts_of_the_key_are_scored_against_the_findings(
    engines: ValidationEngines, tmp_path: Path
) -> None:
    score = score_run(engines.control, "run-1", key_file(tmp_path / "k.jsonl", TRUE_KEY))
    dup = next(c for c in score.findings if c.code == "DUPLICATE_USER")
    assert (dup.expected, dup.hits, dup.found) == (1, 0, 0)


@pytest.fixture(scope="module")
def expiring(tmp_path_factory: pytest.TempPathFactory, pack: RulePack) -> ValidationEngines:
    """Run ``jail``: P1 clean and P4 with a misposted jail credit (MS -7, MAX_EXP_DT -10 days).
    Run ``max``: P5, whose legacy MAX_EXP_DT alone is 5 days late."""
    folder = tmp_path_factory.mktemp("score-max")
    target = new_target(folder / "target.db")
    clean = post_clean(baseline(), pack)
    jail = replace(post_clean(baseline(posted_jail=21), pack), person_id="P4")
    late = replace(
        clean,
        person_id="P5",
        legacy=replace(clean.legacy, max_expiration=date(2021, 12, 6)),
    )
    write_offenders(target, [(clean, "MCIH"), (jail, "MCIH"), (late, "ECI")])
    engines = ValidationEngines(target, sa.create_engine(f"sqlite:///{folder / 'control.db'}"))
    validate_run(engines, "jail", pack=pack, batches=["MCIH"])
    validate_run(engines, "max", pack=pack, batches=["ECI"])
    return engines


def test_a_max_expiration_moved_by_a_keyed_cause_scores_perfect(
    expiring: ValidationEngines, tmp_path: Path
) -> None:
    key = key_file(tmp_path / "k.jsonl", [("P4", "JAIL_CREDIT_MISPOSTED", -7)])
    score = score_run(expiring.control, "jail", key)
    assert by_code(score) == {"JAIL_CREDIT_MISPOSTED": (1.0, 1.0)}
    assert (score.expiration_differences, score.expiration_misses) == (1, [])
    assert score.perfect
    assert "MAX_EXP_DT differences: 1" in format_score(score)


def test_a_max_expiration_explained_by_a_cause_the_key_lacks_is_a_miss(
    expiring: ValidationEngines, tmp_path: Path
) -> None:
    key = key_file(tmp_path / "k.jsonl", [("P4", "GOOD_CONDUCT_RATE", -7)])
    score = score_run(expiring.control, "jail", key)
    assert score.expiration_misses == [("P4", "JAIL_CREDIT_MISPOSTED", -10)]
    assert "miss: P4 JAIL_CREDIT_MISPOSTED on MAX_EXP_DT: given -10" in format_score(score)
    assert not score.perfect


def test_a_max_expiration_difference_alone_is_unexplained_and_not_perfect(
    expiring: ValidationEngines, tmp_path: Path
) -> None:
    score = score_run(expiring.control, "max", key_file(tmp_path / "k.jsonl", []))
    assert score.expiration_differences == 1
    assert score.unexplained == ["P5"]
    assert score.clean_explained == ["P5"]
    assert score.expiration_misses == []
    assert not score.perfect


def test_a_bad_answer_key_line_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "k.jsonl"
    path.write_text('{"kind": "summary"}\n{"kind": "release_date", "off_id": "P1"}\n')
    with pytest.raises(ConfigError, match=r"k\.jsonl:2"):
        load_answer_key(path)
