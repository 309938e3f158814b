"""Earned credits: proration by eligible days, segregation, labor-pool weeks, summing, rounding."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from diminution_builders import baseline

from validation import (
    AssignmentFact,
    LaborPoolWeekFact,
    OffenderFacts,
    RulePack,
    SegregationFact,
    recompute,
)


def with_assignments(*assignments: AssignmentFact, **changes: object) -> OffenderFacts:
    return replace(baseline(), assignments=assignments, **changes)  # type: ignore[arg-type]


def work(key: str, typ: str, rate: int, begin: date, end: date | None) -> AssignmentFact:
    return AssignmentFact(key, "MCIH", typ, "T1", "task", rate, begin, end)  # type: ignore[arg-type]


def month(pack: RulePack, facts: OffenderFacts, first: date) -> dict[str, int]:
    trace = recompute(facts, pack).month(first)
    return dict(trace.capped) if trace is not None else {}


def test_full_months_earn_the_rate_and_part_months_are_prorated(pack: RulePack) -> None:
    # Jan 1-15 of 31 days at 10: 150/31 = 4.84 -> 5; February 2020 full: 10.
    facts = with_assignments(
        work("A", "W", 10, date(2020, 1, 1), date(2020, 2, 29)), infractions=()
    )
    assert (
        month(
            pack,
            replace(facts, assignments=(work("A", "W", 10, date(2020, 1, 1), date(2020, 1, 15)),)),
            date(2020, 1, 1),
        )["WT"]
        == 5
    )
    assert month(pack, facts, date(2020, 2, 1))["WT"] == 10


def test_amounts_of_a_type_are_summed_before_rounding_half_up(pack: RulePack) -> None:
    # Two W assignments at 5 for June 1-3: 5x3/30 = 0.5 each; summed 1.0 -> 1 (not 1 + 1).
    a = work("A", "W", 5, date(2020, 6, 1), date(2020, 6, 3))
    b = work("B", "W", 5, date(2020, 6, 1), date(2020, 6, 3))
    assert month(pack, with_assignments(a, b), date(2020, 6, 1))["WT"] == 1
    # A single one: 0.5 rounds half up to 1.
    assert month(pack, with_assignments(a), date(2020, 6, 1))["WT"] == 1


@pytest.mark.parametrize(
    ("seg_type", "expected"),
    [
        pytest.param("DS", 7, id="disciplinary-stops"),
        pytest.param("AS", 7, id="administrative-stops"),
        pytest.param("XX", 10, id="other-type-does-not-stop"),
    ],
)
def test_segregation_days_earn_nothing(pack: RulePack, seg_type: str, expected: int) -> None:
    # February 2020 (29 days), segregation Feb 10-19 (10 days): 10 x 19/29 = 6.55 -> 7.
    facts = with_assignments(
        work("A", "W", 10, date(2020, 1, 1), None),
        segregations=(SegregationFact("S1", seg_type, date(2020, 2, 10), date(2020, 2, 19)),),
    )
    assert month(pack, facts, date(2020, 2, 1))["WT"] == expected


def test_open_segregation_stops_accrual_through_the_as_of_date(pack: RulePack) -> None:
    facts = with_assignments(
        work("A", "E", 10, date(2020, 1, 1), None),
        segregations=(SegregationFact("S1", "DS", date(2020, 12, 16), None),),
    )
    trace = recompute(facts, pack).month(date(2020, 12, 1))
    assert trace is not None
    assert trace.eligible_days["ED"] == 15
    assert trace.capped["ED"] == 5  # 150/31 = 4.84


def test_labor_pool_days_count_only_in_documented_weeks_straddling_months(pack: RulePack) -> None:
    # Week Mon 2021-06-28..Sun 07-04 documents 3 days; the week of 07-05 only 2.
    facts = with_assignments(
        work("L1", "L", 10, date(2020, 6, 1), date(2020, 7, 31)),
        labor_pool=(
            LaborPoolWeekFact("W1", date(2020, 6, 29), 3),
            LaborPoolWeekFact("W2", date(2020, 7, 6), 2),
        ),
    )
    comp = recompute(facts, pack)
    june, july = comp.month(date(2020, 6, 1)), comp.month(date(2020, 7, 1))
    assert june is not None
    assert july is not None
    assert june.eligible_days["WT"] == 2  # Jun 29, 30
    assert july.eligible_days["WT"] == 5  # Jul 1-5
    assert (june.capped["WT"], july.capped["WT"]) == (1, 2)  # 20/30 = 0.67, 50/31 = 1.61


def test_credits_stop_at_the_as_of_date_and_start_at_custody(pack: RulePack) -> None:
    facts = with_assignments(work("A", "W", 10, date(2019, 6, 1), None))
    comp = recompute(facts, pack)
    assert comp.months[0].month == date(2020, 1, 1)
    assert comp.months[-1].month == date(2020, 12, 1)
    assert comp.earned == 120


def test_the_trace_records_the_days_each_rule_cut_per_month_and_type(pack: RulePack) -> None:
    # W at 10 all of Feb-Mar 2020: segregation Feb 10-19 cuts 10 WT days; labor pool in March
    # with only the week of Mon 03-02 documented: Mar 1 and Mar 9-31 are cut (24 days).
    facts = with_assignments(
        work("W1", "W", 10, date(2020, 2, 1), date(2020, 2, 29)),
        work("L1", "L", 10, date(2020, 3, 1), date(2020, 3, 31)),
        segregations=(SegregationFact("S1", "DS", date(2020, 2, 10), date(2020, 2, 19)),),
        labor_pool=(LaborPoolWeekFact("LW1", date(2020, 3, 2), 3),),
        infractions=(),
    )
    comp = recompute(facts, pack)
    feb, mar = comp.month(date(2020, 2, 1)), comp.month(date(2020, 3, 1))
    assert feb is not None
    assert mar is not None
    assert (feb.eligible_days["WT"], feb.cuts) == (19, {"WT": {"segregation": 10}})
    assert (mar.eligible_days["WT"], mar.cuts) == (7, {"WT": {"undocumented_labor_pool": 24}})
