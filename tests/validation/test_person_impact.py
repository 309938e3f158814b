"""What a difference means for the person: released early or late, or the date already passed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from diminution_builders import baseline, edit_ledger, post_clean

import validation
from validation import LedgerEntryFact, OffenderFacts, RulePack, explain


def released(facts: OffenderFacts, on: date, typ: str = "MS") -> OffenderFacts:
    legacy = replace(facts.legacy, actual_release=on, release_type=typ)
    return replace(facts, status=typ, legacy=legacy)


def test_released_on_the_legacy_date_that_was_too_early(pack: RulePack) -> None:
    # Revocation never posted: legacy MS 2020-12-26, correct 2020-12-31.
    facts = edit_ledger(post_clean(baseline(), pack), drop=("RG-I1",))
    assert facts.legacy.ms_release == date(2020, 12, 26)
    impact = explain(released(facts, date(2020, 12, 26)), pack).impact
    assert (impact.kind, impact.days) == ("released_early", 5)


def test_released_late(pack: RulePack) -> None:
    facts = edit_ledger(post_clean(baseline(), pack), drop=("ED202004",))
    impact = explain(released(facts, date(2021, 1, 5)), pack).impact
    assert (impact.kind, impact.days) == ("released_late", 5)


def test_parole_release_is_not_judged_against_the_ms_date(pack: RulePack) -> None:
    facts = post_clean(baseline(), pack)
    impact = explain(released(facts, date(2020, 6, 1), "PA"), pack).impact
    assert impact.kind == "released_other"


def test_still_inside_past_the_correct_date_is_overdue(pack: RulePack) -> None:
    facts = post_clean(baseline(), pack)
    impact = explain(facts, pack, as_of=date(2021, 3, 1)).impact
    assert (impact.kind, impact.days) == ("overdue", 60)


def test_still_inside_before_the_correct_date_is_not_yet_due(pack: RulePack) -> None:
    facts = post_clean(baseline(), pack)
    impact = explain(facts, pack, as_of=date(2020, 12, 1)).impact
    assert (impact.kind, impact.days) == ("not_yet_due", 30)


def test_side_by_side_lists_legacy_and_recomputed_per_month_and_type(pack: RulePack) -> None:
    facts = edit_ledger(post_clean(baseline(), pack), set_days={"WT202002": 8})
    rows = {(r.month, r.credit_type): r for r in explain(facts, pack).side_by_side()}
    feb = rows[date(2020, 2, 1), "WT"]
    assert (feb.legacy, feb.recomputed, feb.eligible_days) == (8, 10, 29)
    assert rows[date(2020, 1, 1), "ED"].recomputed == 0


def test_undated_postings_follow_the_ledger_convention(pack: RulePack) -> None:
    facts = post_clean(baseline(), pack)
    undated = tuple(replace(r, entered=None) if r.type in {"GC", "WT"} else r for r in facts.ledger)
    late = LedgerEntryFact("UNDATED-JAN", "ED", date(2021, 1, 1), 5, None)
    result = explain(replace(facts, ledger=(*undated, late)), pack)
    assert result.status == "match"


def test_public_surface_is_pinned() -> None:
    assert {"explain", "explain_many", "recompute", "recompute_many", "load_pack"} <= set(
        validation.__all__
    )
    assert all(hasattr(validation, name) for name in validation.__all__)


def test_text_rendering_shows_dates_causes_and_differing_months(pack: RulePack) -> None:
    facts = edit_ledger(post_clean(baseline(), pack), set_days={"WT202002": 8})
    text = validation.format_comparison(explain(facts, pack))
    assert "person P1: unexplained" in text
    assert "2020-12-31" in text
    assert "-2  UNEXPLAINED" in text
    assert "2020-02      WT       8          10        29" in text
