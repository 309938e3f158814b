"""Sets of days as sorted, disjoint, inclusive ordinal spans, and their split by calendar month.

Credits are counted per month by intersecting periods, never by walking day by day: a ten-year
assignment is a handful of spans and a hundred and twenty month slices, whatever its length.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from validation.dates import days_in_month, month_length

__all__ = ["Span", "intersect", "merge", "month_days", "subtract"]

#: An inclusive run of days as ``(first ordinal, last ordinal)``.
Span = tuple[int, int]


def merge(spans: Iterable[Span]) -> list[Span]:
    """Sorted, disjoint spans covering the same days; touching spans are joined."""
    out: list[Span] = []
    for first, last in sorted(s for s in spans if s[0] <= s[1]):
        if out and first <= out[-1][1] + 1:
            if last > out[-1][1]:
                out[-1] = (out[-1][0], last)
        else:
            out.append((first, last))
    return out


def subtract(spans: list[Span], remove: list[Span]) -> list[Span]:
    """Days of ``spans`` not in ``remove`` (both merged)."""
    if not remove:
        return spans
    out: list[Span] = []
    j = 0
    for first, last in spans:
        cur = first
        while j < len(remove) and remove[j][1] < cur:
            j += 1
        k = j
        while k < len(remove) and remove[k][0] <= last:
            r_first, r_last = remove[k]
            if r_first > cur:
                out.append((cur, r_first - 1))
            cur = max(cur, r_last + 1)
            if cur > last:
                break
            k += 1
        if cur <= last:
            out.append((cur, last))
    return out


def intersect(spans: list[Span], keep: list[Span]) -> list[Span]:
    """Days in both ``spans`` and ``keep`` (both merged)."""
    out: list[Span] = []
    i = j = 0
    while i < len(spans) and j < len(keep):
        first = max(spans[i][0], keep[j][0])
        last = min(spans[i][1], keep[j][1])
        if first <= last:
            out.append((first, last))
        if spans[i][1] < keep[j][1]:
            i += 1
        else:
            j += 1
    return out


def month_days(spans: Iterable[Span], into: dict[int, int] | None = None) -> dict[int, int]:
    """Days per month (keyed by ``month_index``) of the given spans, added into ``into``."""
    counts: dict[int, int] = {} if into is None else into
    for first, last in spans:
        if first > last:
            continue
        day = date.fromordinal(first)
        key = day.year * 12 + day.month - 1
        cur = first
        month_last = first + days_in_month(day.year, day.month) - day.day
        while True:
            stop = last if last < month_last else month_last
            counts[key] = counts.get(key, 0) + stop - cur + 1
            if stop == last:
                break
            cur = stop + 1
            key += 1
            month_last = cur + month_length(key) - 1
    return counts
