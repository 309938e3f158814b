"""Good conduct, earned credits and the cap, against first principles."""

from __future__ import annotations

import calendar
import random
from datetime import date
from fractions import Fraction

import pytest

from cutover.legacy.credits import apply_cap, earned_by_month, gc_rows, gc_total, month_amounts
from cutover.legacy.facts import Assignment, Segregation


def _o(y: int, m: int, d: int) -> int:
    return date(y, m, d).toordinal()


def _gc_by_definition(rate: int, start: int, end: int) -> list[int]:
    """Per month: round(cumulative exact share) - round(previous cumulative share)."""
    out, cum, prev = [], Fraction(0), 0
    day = start
    while day < end:
        d = date.fromordinal(day)
        n = calendar.monthrange(d.year, d.month)[1]
        month_end = date(d.year, d.month, n).toordinal() + 1
        cum += Fraction(rate * (min(end, month_end) - day), n)
        rounded = int(cum + Fraction(1, 2))
        out.append(rounded - prev)
        prev = rounded
        day = month_end
    return out


def test_good_conduct_rows_match_the_definition_on_random_terms() -> None:
    rng = random.Random(5)
    for _ in range(300):
        start = _o(1980, 1, 1) + rng.randrange(9000)
        end = start + rng.randrange(1, 3000)
        rate = rng.choice((5, 10))
        rows = gc_rows(rate, start, end)
        assert [d for _, d in rows] == _gc_by_definition(rate, start, end)
        assert gc_total(rate, start, end) == sum(_gc_by_definition(rate, start, end))


def test_good_conduct_total_is_rounded_once() -> None:
    # 17 days of a 31-day month at 10 is 5.48..., then two full months
    rows = gc_rows(10, _o(2003, 1, 15), _o(2003, 4, 1))
    assert [d for _, d in rows] == [5, 10, 10]


@pytest.mark.parametrize(
    ("amounts", "capped"),
    [
        pytest.param((10, 10, 5), (10, 10, 0), id="special-project-cut-first"),
        pytest.param((15, 10, 5), (15, 5, 0), id="then-education"),
        pytest.param((25, 0, 0), (20, 0, 0), id="work-alone-capped"),
        pytest.param((5, 5, 5), (5, 5, 5), id="under-the-cap"),
    ],
)
def test_cap_applies_in_order_wt_ed_sp(
    amounts: tuple[int, int, int], capped: tuple[int, int, int]
) -> None:
    assert apply_cap(amounts) == capped


def _work(bgn: int, end: int | None, typ: str = "W", rate: int = 10) -> Assignment:
    return Assignment("A1", "ECI", typ, "PNT1", rate, bgn, end, "000000001")


def test_segregation_days_earn_no_work_credit() -> None:
    june = _o(2003, 6, 1)
    seg = Segregation("S1", "ECI", "DS", _o(2003, 6, 11), _o(2003, 6, 25), "000000001")
    credits = earned_by_month([_work(june, None)], [seg], {}, june, _o(2003, 7, 1))
    (month,) = credits
    # 30 days, 15 in segregation: 10 x 15 / 30
    assert month_amounts(month, credits[month])[0] == 5
    loose = earned_by_month([_work(june, None)], [seg], {}, june, _o(2003, 7, 1), seg_rule=False)
    assert month_amounts(month, loose[month])[0] == 10


def test_labor_pool_counts_only_weeks_with_three_documented_days() -> None:
    start = _o(2003, 6, 2)  # a Monday
    pool = _work(start, _o(2003, 6, 29), typ="L", rate=5)
    weeks = {start: 5, start + 7: 2, start + 14: 3}  # the fourth week has no log row
    credits = earned_by_month([pool], [], weeks, start, _o(2003, 7, 1))
    (month,) = credits
    assert credits[month].nums[0] == 5 * 14
    assert month_amounts(month, credits[month])[0] == 2


def test_eligible_days_stop_at_the_as_of_date() -> None:
    start = _o(2003, 6, 1)
    credits = earned_by_month([_work(start, None)], [], {}, start, _o(2003, 7, 1))
    assert list(credits) == [2003 * 12 + 5]
