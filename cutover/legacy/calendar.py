"""Date arithmetic for the generator, on proleptic Gregorian ordinals (``date.toordinal``).

Dates are plain ``int`` ordinals so that the per-offender story can add, compare and count days
without allocating objects; months are ``year * 12 + month - 1`` indexes. The term arithmetic is
the rules file's: add years, then months (a day past the month's end clamps to its last day), then
days; the expiration date is start + term (Smith v. State: 30 years from 1977-06-10 expires
2007-06-10).
"""

from __future__ import annotations

import calendar as _cal
from datetime import date
from functools import cache

__all__ = [
    "CURRENT_CALC",
    "TODAY",
    "add_term",
    "days_in_month",
    "fmt_date",
    "fmt_month",
    "monday_of",
    "month_of",
    "month_start",
    "ordinal",
    "round_half_up",
]


def ordinal(year: int, month: int, day: int) -> int:
    """The ordinal of a calendar date."""
    return date(year, month, day).toordinal()


#: The legacy system's "today": the day the database was frozen for the cutover.
TODAY = ordinal(2007, 7, 16)
#: The as-of date of the last monthly computation for offenders still inside.
CURRENT_CALC = ordinal(2007, 7, 1)


@cache
def _month_table(index: int) -> tuple[int, int]:
    year, month0 = divmod(index, 12)
    first = date(year, month0 + 1, 1).toordinal()
    return first, _cal.monthrange(year, month0 + 1)[1]


def month_start(index: int) -> int:
    """Ordinal of the first day of month ``index``."""
    return _month_table(index)[0]


def days_in_month(index: int) -> int:
    """Number of days of month ``index``."""
    return _month_table(index)[1]


@cache
def _month_of_cached(day: int) -> int:
    d = date.fromordinal(day)
    return d.year * 12 + d.month - 1


def month_of(day: int) -> int:
    """Month index of an ordinal."""
    return _month_of_cached(day)


def monday_of(day: int) -> int:
    """Ordinal of the Monday that begins the week (Monday to Sunday) holding ``day``."""
    # ordinal 1 (0001-01-01) is a Monday
    return day - (day - 1) % 7


@cache
def fmt_date(day: int) -> str:
    """``YYYYMMDD`` of an ordinal."""
    d = date.fromordinal(day)
    return f"{d.year:04d}{d.month:02d}{d.day:02d}"


@cache
def fmt_month(index: int) -> str:
    """``YYYYMM`` of a month index."""
    year, month0 = divmod(index, 12)
    return f"{year:04d}{month0 + 1:02d}"


def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, _cal.monthrange(year, month)[1]))


def add_term(start: int, years: int, months: int, days: int) -> int:
    """``start`` + a term: years, then months (clamping to the month's end), then days."""
    d = date.fromordinal(start)
    d = _clamped(d.year + years, d.month, d.day)
    total = d.year * 12 + d.month - 1 + months
    d = _clamped(total // 12, total % 12 + 1, d.day)
    return d.toordinal() + days


def round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up, for non-negative numerators."""
    return (2 * numerator + denominator) // (2 * denominator)
