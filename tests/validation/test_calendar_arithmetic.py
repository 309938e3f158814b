"""Date arithmetic of the rules file: terms, month-end clamping, leap years, rounding, periods."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from validation.dates import (
    Period,
    add_term,
    days_in_month,
    iter_months,
    month_index,
    month_length,
    round_half_up,
    round_ratio,
    week_start,
)


@pytest.mark.parametrize(
    ("start", "term", "expected"),
    [
        pytest.param(date(1977, 6, 10), (30, 0, 0), date(2007, 6, 10), id="smith-v-state-30y"),
        pytest.param(date(2021, 1, 31), (0, 1, 0), date(2021, 2, 28), id="jan31-plus-1m-clamps"),
        pytest.param(date(2020, 1, 31), (0, 1, 0), date(2020, 2, 29), id="jan31-plus-1m-leap"),
        pytest.param(date(2020, 2, 29), (1, 0, 0), date(2021, 2, 28), id="feb29-plus-1y"),
        pytest.param(date(2020, 2, 29), (4, 0, 0), date(2024, 2, 29), id="feb29-plus-4y"),
        pytest.param(date(2021, 1, 31), (0, 1, 1), date(2021, 3, 1), id="months-then-days"),
        pytest.param(date(2019, 3, 31), (1, 11, 0), date(2021, 2, 28), id="years-and-months"),
        pytest.param(date(2021, 12, 15), (0, 0, 20), date(2022, 1, 4), id="days-cross-year"),
        # The years clamp before the months are added (2017-02-28, then nine months on).
        pytest.param(
            date(2012, 2, 29), (5, 9, 0), date(2017, 11, 28), id="feb29-years-clamp-first"
        ),
    ],
)
def test_add_term_adds_years_then_months_clamped_then_days(
    start: date, term: tuple[int, int, int], expected: date
) -> None:
    assert add_term(start, *term) == expected


@pytest.mark.parametrize(
    ("year", "month", "days"),
    [
        pytest.param(2020, 2, 29, id="leap-feb"),
        pytest.param(2100, 2, 28, id="century-not-leap"),
        pytest.param(2000, 2, 29, id="400-year-leap"),
        pytest.param(2021, 4, 30, id="april"),
    ],
)
def test_days_in_month(year: int, month: int, days: int) -> None:
    assert days_in_month(year, month) == days
    assert month_length(month_index(date(year, month, 1))) == days


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(Fraction(5, 2), 3, id="half-up"),
        pytest.param(Fraction(249, 100), 2, id="below-half"),
        pytest.param(Fraction(-5, 2), -3, id="negative-half-away-from-zero"),
        pytest.param(Decimal("0.5"), 1, id="decimal-half"),
        pytest.param(Decimal("1.4999"), 1, id="decimal-below-half"),
        pytest.param(7, 7, id="int"),
    ],
)
def test_round_half_up_on_exact_values(value: Fraction | Decimal | int, expected: int) -> None:
    assert round_half_up(value) == expected


def test_round_ratio_modes_differ_only_on_ties() -> None:
    assert [round_ratio(5, 2, m) for m in ("half_up", "half_even", "down")] == [3, 2, 2]
    assert [round_ratio(7, 2, m) for m in ("half_up", "half_even", "down")] == [4, 4, 3]
    assert round_ratio(2, 3, "down") == 0


def test_iter_months_spans_year_end() -> None:
    assert list(iter_months(date(2020, 11, 15), date(2021, 2, 1))) == [
        date(2020, 11, 1),
        date(2020, 12, 1),
        date(2021, 1, 1),
        date(2021, 2, 1),
    ]


def test_period_includes_both_ends_and_an_open_end_runs_on() -> None:
    closed = Period(date(2021, 3, 1), date(2021, 3, 10))
    assert closed.contains(date(2021, 3, 1))
    assert closed.contains(date(2021, 3, 10))
    assert not closed.contains(date(2021, 3, 11))
    assert closed.days(through=date(2030, 1, 1)) == 10
    opened = Period(date(2021, 3, 1))
    assert opened.contains(date(2099, 1, 1))
    assert opened.days(through=date(2021, 3, 31)) == 31


def test_week_start_is_monday() -> None:
    assert week_start(date(2021, 7, 4)) == date(2021, 6, 28)
    assert week_start(date(2021, 6, 28)) == date(2021, 6, 28)


def test_add_term_agrees_with_the_generator_on_every_month_end_start() -> None:
    """The rule pack and the reference legacy system add terms the same way (the spec's rule),
    over starts on every day of two leap cycles' month ends and a spread of terms."""
    from cutover.legacy.calendar import add_term as legacy_add_term  # noqa: PLC0415

    starts = [
        date(year, month, day)
        for year in range(2000, 2009)
        for month in range(1, 13)
        for day in range(26, 32)
        if day <= (date(year + month // 12, month % 12 + 1, 1) - date(year, month, 1)).days
    ]
    terms = [(y, m, d) for y in (0, 1, 3, 5) for m in (0, 1, 2, 9, 11) for d in (0, 1, 30)]
    wrong = [
        (start, term)
        for start in starts
        for term in terms
        if add_term(start, *term).toordinal() != legacy_add_term(start.toordinal(), *term)
    ]
    assert not wrong, wrong[:5]
