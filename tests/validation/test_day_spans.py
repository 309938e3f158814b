"""Span algebra: merge, subtract, intersect and per-month day counts without per-day loops."""

from __future__ import annotations

from datetime import date

from validation.dates import month_index
from validation.spans import intersect, merge, month_days, subtract


def o(y: int, m: int, d: int) -> int:
    return date(y, m, d).toordinal()


def test_merge_joins_overlapping_and_touching_spans() -> None:
    assert merge([(10, 12), (1, 3), (4, 5), (11, 20), (30, 29)]) == [(1, 5), (10, 20)]


def test_subtract_removes_days_inside_and_at_edges() -> None:
    assert subtract([(1, 30)], [(0, 2), (10, 12), (30, 40)]) == [(3, 9), (13, 29)]
    assert subtract([(1, 5), (8, 9)], [(1, 9)]) == []


def test_intersect_keeps_common_days() -> None:
    assert intersect([(1, 10), (20, 30)], [(5, 22), (29, 40)]) == [(5, 10), (20, 22), (29, 30)]


def test_month_days_splits_spans_at_month_ends_including_leap_february() -> None:
    counts = month_days([(o(2020, 1, 30), o(2020, 3, 2))])
    assert counts == {
        month_index(date(2020, 1, 1)): 2,
        month_index(date(2020, 2, 1)): 29,
        month_index(date(2020, 3, 1)): 2,
    }
