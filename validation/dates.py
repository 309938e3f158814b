"""Calendar arithmetic for sentence computation: terms, months, inclusive periods, rounding.

Everything here is exact: dates are ``datetime.date``, shares are ``Fraction`` or integer ratios,
and rounding happens only where a caller asks for it. Days are also handled as proleptic
ordinals (``date.toordinal()``) so that period arithmetic is integer arithmetic.
"""

from __future__ import annotations

import calendar
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Literal

__all__ = [
    "Period",
    "RoundingMode",
    "add_months",
    "add_term",
    "days_in_month",
    "iter_months",
    "month_end",
    "month_index",
    "month_length",
    "month_of_index",
    "month_start",
    "round_half_up",
    "round_ratio",
    "week_start",
]

RoundingMode = Literal["half_up", "half_even", "down"]


_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def days_in_month(year: int, month: int) -> int:
    """Days of a calendar month (February of a leap year has 29)."""
    if month == 2 and calendar.isleap(year):
        return 29
    return _DAYS[month - 1]


@functools.cache
def month_length(index: int) -> int:
    """Days of the month a ``month_index`` names (remembered: a few hundred months recur)."""
    year, month0 = divmod(index, 12)
    return days_in_month(year, month0 + 1)


def add_months(start: date, months: int) -> date:
    """``start`` moved by whole months; a day past the target month's end clamps to its last day."""
    index = start.year * 12 + start.month - 1 + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    return date(year, month, min(start.day, days_in_month(year, month)))


def add_term(start: date, years: int = 0, months: int = 0, days: int = 0) -> date:
    """Add a term: years, then months (clamping to the month's end), then days.

    The result is the expiration date itself, not the day before it: a 30-year term beginning
    1977-06-10 expires 2007-06-10 (Smith v. State, 140 Md. App. 445).
    """
    # Years first, clamped on their own: 2012-02-29 + 5 years is 2017-02-28, so + 5y9m is
    # 2017-11-28, where adding 69 months at once would give 2017-11-29.
    return add_months(add_months(start, years * 12), months) + timedelta(days=days)


def month_start(day: date) -> date:
    """The first day of the month ``day`` falls in."""
    return day.replace(day=1)


def month_end(day: date) -> date:
    """The last day of the month ``day`` falls in."""
    return day.replace(day=days_in_month(day.year, day.month))


def month_index(day: date) -> int:
    """A month as one integer (``year * 12 + month - 1``), for fast month arithmetic."""
    return day.year * 12 + day.month - 1


@functools.cache
def month_of_index(index: int) -> date:
    """The first day of the month a ``month_index`` names."""
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, 1)


def iter_months(first: date, last: date) -> Iterator[date]:
    """First days of the months from ``first``'s month through ``last``'s month, inclusive."""
    for index in range(month_index(first), month_index(last) + 1):
        yield month_of_index(index)


def week_start(day: date) -> date:
    """The Monday of the Monday-to-Sunday week ``day`` falls in."""
    return day - timedelta(days=day.weekday())


def round_half_up(value: Fraction | Decimal | int) -> int:
    """Round an exact non-negative or negative value to the nearest integer, halves away from 0."""
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return round_ratio(value.numerator, value.denominator, "half_up")


def round_ratio(numerator: int, denominator: int, mode: RoundingMode = "half_up") -> int:
    """``numerator / denominator`` rounded to an integer, with integer arithmetic only.

    ``half_up`` rounds halves away from zero, ``half_even`` to the even neighbour, ``down``
    truncates toward zero.
    """
    if denominator <= 0:
        raise ValueError(f"denominator must be positive, got {denominator}")
    sign = -1 if numerator < 0 else 1
    n = abs(numerator)
    whole, rest = divmod(n, denominator)
    if mode == "down":
        return sign * whole
    twice = 2 * rest
    if twice > denominator or (twice == denominator and (mode == "half_up" or whole % 2 == 1)):
        whole += 1
    return sign * whole


@dataclass(frozen=True, slots=True)
class Period:
    """A period of days including both ends; ``end=None`` means still open."""

    begin: date
    end: date | None = None

    def contains(self, day: date) -> bool:
        """Whether ``day`` is in the period (``begin <= day <= end``)."""
        return self.begin <= day and (self.end is None or day <= self.end)

    def ordinals(self, *, horizon: int) -> tuple[int, int]:
        """The period as inclusive day ordinals; an open end is cut at ``horizon``."""
        end = horizon if self.end is None else min(self.end.toordinal(), horizon)
        return self.begin.toordinal(), end

    def days(self, *, through: date) -> int:
        """Days in the period, an open end counted through ``through``."""
        first, last = self.ordinals(horizon=through.toordinal())
        return max(0, last - first + 1)
