"""The rules file's arithmetic: term, good conduct, earned credits, monthly cap.

The generator posts its clean ledger with these functions and computes the waterfall's steps with
them, so a clean offender's recomputed date equals the legacy one to the day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from cutover.legacy.calendar import (
    add_term,
    days_in_month,
    monday_of,
    month_of,
    month_start,
    ordinal,
    round_half_up,
)
from cutover.legacy.facts import (
    Assignment,
    Commitment,
    MonthCredit,
    Segregation,
    credit_type_index,
)

__all__ = [
    "MONTHLY_CAP",
    "apply_cap",
    "earned_by_month",
    "gc_rate_for",
    "gc_rows",
    "gc_total",
    "max_expiration",
    "month_amounts",
]

MONTHLY_CAP = 20
#: Terms whose sentences all began before this day earn good conduct at 5 a month.
GC_HALF_RATE_BEFORE = ordinal(1992, 10, 1)


def max_expiration(commitments: Sequence[Commitment], jail_days: Mapping[str, int]) -> int:
    """Last day of the term: each commitment's begin (moved back by its jail days) + its term.

    A consecutive commitment begins on the day its predecessor ends; predecessors come first.
    """
    ends: dict[str, int] = {}
    for c in commitments:
        if c.cons_to is not None:
            begin = ends[c.cons_to]
        else:
            begin = c.sent_bgn - jail_days.get(c.cmt_id, 0)
        ends[c.cmt_id] = add_term(begin, c.years, c.months, c.days)
    return max(ends.values())


def gc_rate_for(commitments: Iterable[Commitment]) -> int:
    """5 a month for a violent or drug-distribution term, or one begun wholly before 1992-10-01."""
    items = list(commitments)
    if any(c.ofns_cls in ("V", "D") for c in items):
        return 5
    if all(c.sent_bgn < GC_HALF_RATE_BEFORE for c in items):
        return 5
    return 10


def _gc_parts(rate: int, cmt_dt: int, max_exp: int) -> tuple[int, int, int, int, int]:
    """(first month, last month, first month's rounded share, full months between, total)."""
    first = month_of(cmt_dt)
    last = month_of(max_exp - 1)
    if first == last:
        amount = round_half_up(rate * (max_exp - cmt_dt), days_in_month(first))
        return first, last, amount, 0, amount
    d1, n1 = month_start(first + 1) - cmt_dt, days_in_month(first)
    d2, n2 = max_exp - month_start(last), days_in_month(last)
    full = last - first - 1
    r1 = round_half_up(rate * d1, n1)
    total = round_half_up(rate * d1 * n2 + full * rate * n1 * n2 + rate * d2 * n1, n1 * n2)
    return first, last, r1, full, total


def gc_rows(rate: int, cmt_dt: int, max_exp: int) -> list[tuple[int, int]]:
    """Good conduct posted in advance: ``(month, days)`` per calendar month of [cmt_dt, max_exp).

    A month carries the rounded cumulative share minus the previous month's, so the rows sum to
    the exact total rounded once. Full months add exactly ``rate``, so only the first and last
    month need the fractions.
    """
    if max_exp <= cmt_dt:
        return []
    first, last, r1, full, total = _gc_parts(rate, cmt_dt, max_exp)
    if first == last:
        return [(first, total)]
    rows = [(first, r1)]
    rows.extend([(m, rate) for m in range(first + 1, last)])
    rows.append((last, total - r1 - full * rate))
    return rows


def gc_total(rate: int, cmt_dt: int, max_exp: int) -> int:
    """Total good conduct for [cmt_dt, max_exp) at ``rate``, rounded once."""
    if max_exp <= cmt_dt:
        return 0
    return _gc_parts(rate, cmt_dt, max_exp)[4]


def _overlap(lo: int, hi: int, bgn: int, end: int | None) -> int:
    top = hi if end is None else min(hi, end)
    bottom = max(lo, bgn)
    return top - bottom + 1 if top >= bottom else 0


def _eligible_days(
    a: Assignment,
    lo: int,
    hi: int,
    segs: Sequence[Segregation],
    labor: Mapping[int, int] | None,
) -> int:
    """Days in [lo, hi] (already inside the assignment) not in segregation and, for the labor
    pool when ``labor`` is given, in weeks documenting at least three days worked."""
    if a.typ == "L" and labor is not None:
        count = 0
        for day in range(lo, hi + 1):
            if labor.get(monday_of(day), 0) < 3:
                continue
            if any(s.bgn <= day and (s.end is None or day <= s.end) for s in segs):
                continue
            count += 1
        return count
    days = hi - lo + 1
    for s in segs:
        days -= _overlap(lo, hi, s.bgn, s.end)
    return days


def earned_by_month(
    assignments: Sequence[Assignment],
    segs: Sequence[Segregation],
    labor: Mapping[int, int],
    cmt_dt: int,
    calc_dt: int,
    *,
    seg_rule: bool = True,
    labor_rule: bool = True,
    months: Iterable[int] | None = None,
) -> dict[int, MonthCredit]:
    """Earned-credit numerators per month for days in [cmt_dt, calc_dt).

    ``seg_rule=False`` counts segregation days as eligible and ``labor_rule=False`` ignores the
    labor-pool documentation: the two ways the legacy system over-credited. ``months`` limits the
    work to those months.
    """
    wanted = None if months is None else set(months)
    out: dict[int, MonthCredit] = {}
    use_segs: Sequence[Segregation] = segs if seg_rule else ()
    use_labor = labor if labor_rule else None
    last_day = calc_dt - 1
    for a in assignments:
        if not a.known:
            continue
        lo = max(a.bgn, cmt_dt)
        hi = last_day if a.end is None else min(a.end, last_day)
        if hi < lo:
            continue
        t = credit_type_index(a.typ)
        detailed = bool(use_segs) or (a.typ == "L" and use_labor is not None)
        m = month_of(lo)
        start = month_start(m)
        while start <= hi:
            following = month_start(m + 1)
            if wanted is None or m in wanted:
                m_lo = lo if lo > start else start
                m_hi = hi if hi < following else following - 1
                if detailed:
                    days = _eligible_days(a, m_lo, m_hi, use_segs, use_labor)
                else:
                    days = m_hi - m_lo + 1
                if days > 0:
                    value = a.rate * days
                    mc = out.get(m)
                    if mc is None:
                        mc = out[m] = MonthCredit()
                    mc.nums[t] += value
                    if value > mc.top_value[t]:
                        mc.top_value[t] = value
                        mc.top[t] = a
            m += 1
            start = following
    return out


def month_amounts(month: int, credit: MonthCredit) -> tuple[int, int, int]:
    """Per-type amounts of a month before the cap: numerator / days in month, rounded half up."""
    n = days_in_month(month)
    return (
        round_half_up(credit.nums[0], n),
        round_half_up(credit.nums[1], n),
        round_half_up(credit.nums[2], n),
    )


def apply_cap(amounts: tuple[int, int, int], cap: int = MONTHLY_CAP) -> tuple[int, int, int]:
    """The monthly cap, applied in the order WT, ED, SP."""
    wt = min(amounts[0], cap)
    ed = min(amounts[1], cap - wt)
    sp = min(amounts[2], cap - wt - ed)
    return wt, ed, sp
