"""Every injected data-quality defect is caught by the rule that should catch it, and those rules
catch nothing that was not injected: scored against the generator's answer key, per kind.

| answer-key code         | caught by                                                      |
|-------------------------|----------------------------------------------------------------|
| IMPOSSIBLE_DATE         | rule ``invalid_date``: set to NULL, recorded in ``xf__repair``, |
|                         | the row kept (no ``invalid_date`` in quarantine at all)        |
| UNKNOWN_TASK_CODE       | rule ``unmapped_code`` (crosswalk ``task``), quarantined        |
| ORPHAN_ROW              | rule ``orphan``, quarantined                                   |
| DUPLICATE_OFFENDER      | duplicates ``person``: ``person_merge``                        |
| DUPLICATE_USER          | duplicates ``user``: ``user_merge``                            |
| DOCUMENT_DISAGREEMENT   | precedence fact ``jail_certificate_no``: ``xf__disagreement``  |
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from .conftest import Pipeline
from .support import answers_of, staged_rows, target_rows

#: Where each non-critical legacy date column lands in the target.
DATE_COLUMNS = {
    ("CR_TXN", "ENT_DT"): "entered_on",
    ("JAIL_CR", "POST_DT"): "posted_on",
    ("OFFNDR", "LST_UPD_DT"): "last_updated_on",
    ("USR_ACCT", "LST_LOGIN_DT"): "last_login_on",
    ("DOC_IDX", "IDX_DT"): "indexed_on",
    ("INFR", "HRG_DT"): "hearing_date",
}

Item = tuple[str, ...]


@dataclass(frozen=True)
class Score:
    kind: str
    expected: frozenset[Item]
    found: frozenset[Item]

    @property
    def caught(self) -> int:
        return len(self.expected & self.found)

    @property
    def recall(self) -> float:
        return self.caught / len(self.expected) if self.expected else 1.0

    @property
    def precision(self) -> float:
        return self.caught / len(self.found) if self.found else 1.0

    def line(self) -> str:
        missed = sorted(self.expected - self.found)[:3]
        extra = sorted(self.found - self.expected)[:3]
        return (
            f"{self.kind:<22} {len(self.expected):>8} {len(self.found):>6} {self.caught:>6} "
            f"{self.recall:>7.3f} {self.precision:>9.3f}  missed={missed} extra={extra}"
        )


def _table(scores: list[Score]) -> str:
    head = f"{'kind':<22} {'injected':>8} {'found':>6} {'caught':>6} {'recall':>7} {'precision':>9}"
    return "\n".join([head, *(s.line() for s in scores)])


def _keys(pipeline: Pipeline, code: str) -> frozenset[Item]:
    return frozenset(
        (a["table"], key.strip()) for a in answers_of(pipeline, code) for key in a["keys"]
    )


def _quarantined(pipeline: Pipeline, rule: str) -> frozenset[Item]:
    return frozenset(
        (r["source_table"], r["source_key"].strip())
        for r in staged_rows(pipeline, "xf__quarantine")
        if r["rule"] == rule
    )


def impossible_dates(pipeline: Pipeline) -> Score:
    expected = frozenset(
        (a["table"], a["keys"][0].strip(), DATE_COLUMNS[(a["table"], a["column"])])
        for a in answers_of(pipeline, "IMPOSSIBLE_DATE")
    )
    # The workspace declares DOC_ID as the document index's key, so every source key is a key.
    repaired = {
        (r["source_table"], r["source_key"].strip(), r["column_name"])
        for r in staged_rows(pipeline, "xf__repair")
        if r["rule"] == "invalid_date"
    }
    quarantined = {(t, k, "quarantined") for t, k in _quarantined(pipeline, "invalid_date")}
    return Score("IMPOSSIBLE_DATE", expected, frozenset(repaired | quarantined))


def unknown_task_codes(pipeline: Pipeline) -> Score:
    return Score(
        "UNKNOWN_TASK_CODE",
        _keys(pipeline, "UNKNOWN_TASK_CODE"),
        _quarantined(pipeline, "unmapped_code"),
    )


def orphans(pipeline: Pipeline) -> Score:
    return Score("ORPHAN_ROW", _keys(pipeline, "ORPHAN_ROW"), _quarantined(pipeline, "orphan"))


def _pairs(pipeline: Pipeline, code: str) -> frozenset[Item]:
    return frozenset(
        tuple(sorted(k.strip() for k in a["keys"])) for a in answers_of(pipeline, code)
    )


def duplicate_offenders(pipeline: Pipeline) -> Score:
    merges = frozenset(
        tuple(sorted((r["merged_key"], r["survivor_person_id"])))
        for r in target_rows(pipeline, "person_merge")
    )
    return Score("DUPLICATE_OFFENDER", _pairs(pipeline, "DUPLICATE_OFFENDER"), merges)


def duplicate_users(pipeline: Pipeline) -> Score:
    merges = frozenset(
        tuple(sorted((r["merged_key"], r["survivor_user_id"])))
        for r in target_rows(pipeline, "user_merge")
    )
    return Score("DUPLICATE_USER", _pairs(pipeline, "DUPLICATE_USER"), merges)


def document_disagreements(pipeline: Pipeline) -> Score:
    found = frozenset(
        (r["source_table"], r["source_key"].strip())
        for r in staged_rows(pipeline, "xf__disagreement")
        if r["fact"] == "jail_certificate_no"
    )
    return Score("DOCUMENT_DISAGREEMENT", _keys(pipeline, "DOCUMENT_DISAGREEMENT"), found)


SCORERS: list[Callable[[Pipeline], Score]] = [
    impossible_dates,
    unknown_task_codes,
    orphans,
    duplicate_offenders,
    duplicate_users,
    document_disagreements,
]


def test_every_injected_defect_is_caught_by_its_rule_and_nothing_else(pipeline: Pipeline) -> None:
    scores = [score(pipeline) for score in SCORERS]
    table = _table(scores)
    assert all(s.expected for s in scores), f"a defect kind was not injected:\n{table}"
    assert all(s.recall == 1.0 and s.precision == 1.0 for s in scores), table


@pytest.mark.parametrize(
    ("table", "column"),
    [pytest.param(t, c, id=f"{t}.{c}") for t, c in sorted(DATE_COLUMNS)],
)
def test_rows_with_a_repaired_date_are_loaded_with_null_there(
    pipeline: Pipeline, table: str, column: str
) -> None:
    keys = {
        a["keys"][0].strip()
        for a in answers_of(pipeline, "IMPOSSIBLE_DATE")
        if (a["table"], a["column"]) == (table, column)
    }
    target_table, target_key = {
        "CR_TXN": ("credit_transaction", "txn_id"),
        "JAIL_CR": ("jail_credit", "jail_credit_id"),
        "OFFNDR": ("person", "person_id"),
        "USR_ACCT": ("app_user", "user_id"),
        "DOC_IDX": ("document", "document_id"),
        "INFR": ("infraction", "infraction_id"),
    }[table]
    assert keys, f"no impossible {table}.{column} was injected: raise the rate in conftest"
    rows = {r[target_key]: r for r in target_rows(pipeline, target_table)}
    assert keys <= set(rows), "a row with an impossible housekeeping date was not loaded"
    assert all(rows[k][DATE_COLUMNS[(table, column)]] is None for k in keys)
