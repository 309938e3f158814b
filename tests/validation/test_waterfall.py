"""Explanations as a waterfall: one cause at a time, in code order, summing to the delta exactly.

Every case starts from the hand-computed baseline (MS 2020-12-31, see ``diminution_builders``)
with a clean legacy ledger, injects one defect the way the audits describe it, and checks the
days each cause gets by hand.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from diminution_builders import baseline, edit_ledger, post_clean, settle

from validation import (
    UNEXPLAINED,
    AssignmentFact,
    Comparison,
    InfractionFact,
    LaborPoolWeekFact,
    LedgerEntryFact,
    OffenderFacts,
    RulePack,
    SegregationFact,
    explain,
)


def codes(result: Comparison) -> dict[str, int]:
    return {e.code: e.days for e in result.explanations}


def balanced(result: Comparison) -> bool:
    return result.delta == sum(e.days for e in result.explanations)


def max_codes(result: Comparison) -> list[tuple[str, int]]:
    return [(e.code, e.days) for e in result.max_expiration_explanations]


def with_legacy_max(facts: OffenderFacts, days: int) -> OffenderFacts:
    """``facts`` with the legacy MAX_EXP_DT moved by ``days`` and MS_REL_DT left as it is."""
    legacy = facts.legacy
    assert legacy.max_expiration is not None
    moved = replace(legacy, max_expiration=legacy.max_expiration + timedelta(days=days))
    return replace(facts, legacy=moved)


def test_clean_ledger_matches_to_the_day(pack: RulePack) -> None:
    result = explain(post_clean(baseline(), pack), pack)
    assert (result.status, result.delta, result.explanations) == ("match", 0, ())
    assert (result.max_expiration_delta, result.max_expiration_explanations) == (0, ())
    assert result.legacy_ms_release == date(2020, 12, 31)
    assert result.legacy_max_expiration == result.recomputed_max_expiration == date(2021, 12, 1)


def test_work_credit_during_segregation(pack: RulePack) -> None:
    # Feb 2020: segregation Feb 10-19; entitled 10 x 19/29 = 6.55 -> 7; legacy posted 10.
    seg = (SegregationFact("S1", "DS", date(2020, 2, 10), date(2020, 2, 19)),)
    facts = post_clean(replace(baseline(), segregations=seg), pack)
    facts = edit_ledger(facts, set_days={"WT202002": 10})
    result = explain(facts, pack)
    assert codes(result) == {"WORK_CREDIT_DURING_SEGREGATION": 3}
    assert result.delta == 3
    found = result.explanations[0]
    assert {"WT202002", "S1", "A1"} <= set(found.evidence)
    assert found.months == (date(2020, 2, 1),)


def test_jail_credit_misposted_moves_max_expiration_and_good_conduct(pack: RulePack) -> None:
    # Posted 21 jail days, certificate 31: legacy MAX 2021-12-11, GC at 10 over 23 months and
    # 10/31 = 233.2 -> 233. The fix: MAX -10 days, GC 233 -> 230, so the date moves -10 + 3.
    facts = post_clean(baseline(posted_jail=21), pack)
    assert facts.legacy.max_expiration == date(2021, 12, 11)
    result = explain(facts, pack)
    assert codes(result) == {"JAIL_CREDIT_MISPOSTED": -7}
    assert result.delta == -7
    assert {"C1", "J1", "D1"} <= set(result.explanations[0].evidence)
    # The same step explains MAX_EXP_DT: 2021-12-11 -> 2021-12-01.
    assert result.max_expiration_delta == -10
    assert max_codes(result) == [("JAIL_CREDIT_MISPOSTED", -10)]
    assert result.status == "explained"


@pytest.mark.parametrize(
    ("moved", "days"),
    [
        pytest.param(5, -5, id="legacy-later"),
        pytest.param(-3, 3, id="legacy-earlier"),
    ],
)
def test_a_max_expiration_difference_alone_is_not_a_match(
    pack: RulePack, moved: int, days: int
) -> None:
    # MS_REL_DT is right; only the legacy MAX_EXP_DT is off, and no cause in the facts moves it.
    result = explain(with_legacy_max(post_clean(baseline(), pack), moved), pack)
    assert result.status == "unexplained"
    assert (result.delta, result.explanations) == (0, ())
    assert result.legacy_max_expiration == date(2021, 12, 1) + timedelta(days=moved)
    assert result.recomputed_max_expiration == date(2021, 12, 1)
    assert result.max_expiration_delta == days
    assert max_codes(result) == [(UNEXPLAINED, days)]
    assert result.max_expiration_unexplained_days == days
    assert {"RC1", "C1"} <= set(result.max_expiration_explanations[0].evidence)
    assert [f for f, _ in result.dated_explanations()] == ["MAX_EXP_DT"]


def test_what_the_jail_fix_leaves_of_a_max_expiration_difference_is_unexplained(
    pack: RulePack,
) -> None:
    # Posted 21 jail days instead of 31 (MAX +10), and the legacy MAX 5 days later still.
    result = explain(with_legacy_max(post_clean(baseline(posted_jail=21), pack), 5), pack)
    assert result.max_expiration_delta == -15
    assert max_codes(result) == [("JAIL_CREDIT_MISPOSTED", -10), (UNEXPLAINED, -5)]
    assert result.status == "unexplained"


def test_missing_jail_row_is_misposted_too(pack: RulePack) -> None:
    facts = post_clean(replace(baseline(), jail_credits=()), pack)
    result = explain(facts, pack)
    assert set(codes(result)) == {"JAIL_CREDIT_MISPOSTED"}
    assert balanced(result)
    assert result.status == "explained"


def test_jail_and_good_conduct_rate_interact_in_code_order(pack: RulePack) -> None:
    # Violent offense (rate 5) keyed at 10, and jail posted 21 instead of 31.
    # Legacy: MAX 2021-12-11, GC 233. Jail step at the keyed rate: -10 + 3 = -7.
    # Rate step at the corrected MAX: GC 230 -> 5 x 23 = 115, +115. Delta 108.
    facts = post_clean(baseline(offense_class="V", posted_jail=21), pack, gc_rate=10)
    result = explain(facts, pack)
    assert [(e.code, e.days) for e in result.explanations] == [
        ("JAIL_CREDIT_MISPOSTED", -7),
        ("GOOD_CONDUCT_RATE", 115),
    ]
    assert result.delta == 108
    assert result.legacy_start is not None
    assert result.legacy_start.gc_rate == 10


def test_good_conduct_rate_alone(pack: RulePack) -> None:
    facts = post_clean(baseline(offense_class="D"), pack, gc_rate=10)
    result = explain(facts, pack)
    assert codes(result) == {"GOOD_CONDUCT_RATE": 115}
    assert result.delta == 115


def test_credit_without_assignment(pack: RulePack) -> None:
    # A1 ended 2020-06-30; 10 WT days posted for August.
    extra = LedgerEntryFact("X1", "WT", date(2020, 8, 1), 10, date(2020, 9, 1))
    facts = edit_ledger(post_clean(baseline(), pack), add=(extra,))
    result = explain(facts, pack)
    assert codes(result) == {"CREDIT_WITHOUT_ASSIGNMENT": 10}
    assert "X1" in result.explanations[0].evidence


def test_assignment_without_credit(pack: RulePack) -> None:
    facts = edit_ledger(post_clean(baseline(), pack), drop=("ED202004",))
    result = explain(facts, pack)
    assert codes(result) == {"ASSIGNMENT_WITHOUT_CREDIT": -5}
    assert "A2" in result.explanations[0].evidence


def test_undocumented_labor_pool(pack: RulePack) -> None:
    # Labor pool all of September 2020; only the week of Mon 08-31 documents 3 days: Sep 1-6
    # eligible, 10 x 6/30 = 2. The legacy posted the whole month's 10.
    labor = AssignmentFact("L1", "MCIH", "L", "LP", None, 10, date(2020, 9, 1), date(2020, 9, 30))
    facts = replace(
        baseline(),
        assignments=(*baseline().assignments, labor),
        labor_pool=(
            LaborPoolWeekFact("LW1", date(2020, 8, 31), 3),
            LaborPoolWeekFact("LW2", date(2020, 9, 7), 2),
        ),
    )
    facts = edit_ledger(post_clean(facts, pack), set_days={"WT202009": 10})
    result = explain(facts, pack)
    assert codes(result) == {"UNDOCUMENTED_LABOR_POOL": 8}
    assert {"WT202009", "L1", "LW2"} <= set(result.explanations[0].evidence)


def test_monthly_cap_exceeded(pack: RulePack) -> None:
    # March 2020: WT 10 + ED 5 + SP 10 = 25 posted; capped WT 10, ED 5, SP 5.
    sp = AssignmentFact("S1", "MCIH", "S", "SP", None, 10, date(2020, 3, 1), date(2020, 3, 31))
    facts = post_clean(replace(baseline(), assignments=(*baseline().assignments, sp)), pack)
    facts = edit_ledger(facts, set_days={"SP202003": 10})
    result = explain(facts, pack)
    assert codes(result) == {"MONTHLY_CAP_EXCEEDED": 5}


def test_revocation_posted_twice(pack: RulePack) -> None:
    twice = LedgerEntryFact("RG-again", "RG", date(2020, 5, 1), 5, date(2020, 5, 10))
    facts = edit_ledger(post_clean(baseline(), pack), add=(twice,))
    result = explain(facts, pack)
    assert codes(result) == {"REVOCATION_MISMATCH": -5}
    assert {"RG-again", "RG-I1", "I1"} <= set(result.explanations[0].evidence)


def test_revocation_not_posted(pack: RulePack) -> None:
    facts = edit_ledger(post_clean(baseline(), pack), drop=("RG-I1",))
    result = explain(facts, pack)
    assert codes(result) == {"REVOCATION_MISMATCH": 5}


def test_several_causes_in_one_offender_sum_to_the_delta(pack: RulePack) -> None:
    seg = (SegregationFact("S1", "AS", date(2020, 2, 10), date(2020, 2, 19)),)
    infr = (*baseline().infractions, InfractionFact("I2", date(2020, 10, 3), gc_revoked=3))
    facts = post_clean(
        replace(baseline(offense_class="V", posted_jail=21), segregations=seg, infractions=infr),
        pack,
        gc_rate=10,
    )
    facts = edit_ledger(facts, set_days={"WT202002": 10}, drop=("RG-I2", "ED202011"))
    result = explain(facts, pack)
    assert [(e.code, e.days) for e in result.explanations] == [
        ("WORK_CREDIT_DURING_SEGREGATION", 3),
        ("JAIL_CREDIT_MISPOSTED", -7),
        ("ASSIGNMENT_WITHOUT_CREDIT", -5),
        ("REVOCATION_MISMATCH", 3),
        ("GOOD_CONDUCT_RATE", 115),
    ]
    assert balanced(result)
    assert result.delta == 109


def test_a_difference_no_cause_fits_is_unexplained(pack: RulePack) -> None:
    # 8 WT posted for February instead of 10, with nothing in the facts to say why.
    facts = edit_ledger(post_clean(baseline(), pack), set_days={"WT202002": 8})
    result = explain(facts, pack)
    assert result.status == "unexplained"
    assert codes(result) == {UNEXPLAINED: -2}
    assert result.explanations[0].evidence == ("RC1", "WT202002")
    assert result.unexplained_days == -2


def test_legacy_date_inconsistent_with_its_own_ledger_is_unexplained(pack: RulePack) -> None:
    facts = post_clean(baseline(), pack)
    facts = replace(facts, legacy=replace(facts.legacy, ms_release=date(2020, 12, 20)))
    result = explain(facts, pack)
    assert codes(result) == {UNEXPLAINED: 11}


def test_unknown_keyed_rate_leaves_good_conduct_to_unexplained(pack: RulePack) -> None:
    # Posted GC matches neither rate: the jail step moves only MAX_EXP_DT.
    facts = post_clean(baseline(posted_jail=21), pack)
    facts = edit_ledger(facts, set_days={"GC202001": 0})
    result = explain(facts, pack)
    assert result.legacy_start is not None
    assert result.legacy_start.gc_rate is None
    assert codes(result)["JAIL_CREDIT_MISPOSTED"] == -10
    assert UNEXPLAINED in codes(result)
    assert balanced(result)


def test_postings_entered_after_the_as_of_date_do_not_count(pack: RulePack) -> None:
    late = LedgerEntryFact("LATE", "WT", date(2020, 12, 1), 10, date(2021, 2, 1))
    facts = settle(
        replace(post_clean(baseline(), pack), ledger=(*post_clean(baseline(), pack).ledger, late))
    )
    assert explain(facts, pack).status == "match"


def test_lifer_is_out_of_scope(pack: RulePack) -> None:
    base = baseline()
    facts: OffenderFacts = replace(base, commitments=(replace(base.commitments[0], life=True),))
    result = explain(facts, pack)
    assert (result.status, result.delta, result.impact.kind) == (
        "out_of_scope",
        None,
        "out_of_scope",
    )


def test_segregation_fix_covers_the_types_the_cap_squeezed_in_that_month(pack: RulePack) -> None:
    # February 2020, segregation Feb 10-19: W at 10 earns 10 x 19/29 = 7, E at 25 earns 16.4 -> 16;
    # capped WT 7, ED 13. The legacy took all of February as eligible: WT 10, ED 25 capped to 10.
    edu = AssignmentFact("E9", "MCIH", "E", "GED", None, 25, date(2020, 2, 1), date(2020, 2, 29))
    seg = (SegregationFact("S1", "DS", date(2020, 2, 10), date(2020, 2, 19)),)
    base = baseline()
    facts = post_clean(replace(base, assignments=(*base.assignments, edu), segregations=seg), pack)
    extra = LedgerEntryFact("ED202002", "ED", date(2020, 2, 1), 10, date(2020, 3, 1))
    facts = edit_ledger(facts, set_days={"WT202002": 10}, drop=("ED202002",), add=(extra,))
    result = explain(facts, pack)
    assert result.computation.month(date(2020, 2, 1)).capped == {"WT": 7, "ED": 13, "SP": 0}  # type: ignore[union-attr]
    assert codes(result) == {"WORK_CREDIT_DURING_SEGREGATION": 0}
    assert result.status == "explained"


def test_legacy_without_a_release_date_is_incomplete_not_a_crash(pack: RulePack) -> None:
    facts = post_clean(baseline(), pack)
    facts = replace(facts, legacy=replace(facts.legacy, ms_release=None))
    result = explain(facts, pack)
    assert (result.status, result.delta, result.impact.kind) == ("incomplete", None, "unknown")
    assert result.reason == "the legacy computation has no MS_REL_DT"
