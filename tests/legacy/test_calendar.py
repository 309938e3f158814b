"""Term arithmetic and rounding, as the rules file states them."""

from __future__ import annotations

from datetime import date

import pytest

from cutover.legacy.calendar import add_term, monday_of, round_half_up


def _o(y: int, m: int, d: int) -> int:
    return date(y, m, d).toordinal()


@pytest.mark.parametrize(
    ("start", "term", "expected"),
    [
        pytest.param((1977, 6, 10), (30, 0, 0), (2007, 6, 10), id="smith-v-state-30-years"),
        pytest.param((2001, 1, 31), (0, 1, 0), (2001, 2, 28), id="month-end-clamps"),
        pytest.param((2000, 2, 29), (1, 0, 0), (2001, 2, 28), id="leap-day-plus-a-year"),
        pytest.param((2000, 2, 29), (1, 1, 0), (2001, 3, 28), id="years-then-months"),
        pytest.param((2003, 1, 31), (0, 1, 1), (2003, 3, 1), id="months-then-days"),
        pytest.param((1999, 12, 15), (0, 18, 20), (2001, 7, 5), id="months-roll-the-year"),
    ],
)
def test_add_term_adds_years_then_months_then_days(
    start: tuple[int, int, int], term: tuple[int, int, int], expected: tuple[int, int, int]
) -> None:
    assert add_term(_o(*start), *term) == _o(*expected)


@pytest.mark.parametrize(
    ("num", "den", "expected"),
    [
        pytest.param(5, 10, 1, id="half-rounds-up"),
        pytest.param(4, 10, 0, id="below-half-rounds-down"),
        pytest.param(310, 31, 10, id="exact"),
        pytest.param(15, 2, 8, id="seven-and-a-half"),
    ],
)
def test_round_half_up(num: int, den: int, expected: int) -> None:
    assert round_half_up(num, den) == expected


def test_monday_of_returns_the_weeks_monday() -> None:
    assert monday_of(_o(2003, 6, 15)) == _o(2003, 6, 9)  # a Sunday
    assert monday_of(_o(2003, 6, 9)) == _o(2003, 6, 9)
