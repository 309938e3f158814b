"""Good conduct (CS §3-704) and earned credits (§§3-705 to 3-707), by exact per-month arithmetic."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction

from validation.dates import days_in_month, month_index, month_length, round_ratio
from validation.facts import OffenderFacts
from validation.packs.md_diminution.params import MdDiminutionParams
from validation.spans import Span, intersect, merge, month_days, subtract

__all__ = [
    "CUT_CAP",
    "CUT_LABOR_POOL",
    "CUT_REVOCATION",
    "CUT_SEGREGATION",
    "EarnedMonth",
    "cap_months",
    "coverage",
    "earned_by_month",
    "good_conduct_days",
    "good_conduct_rate",
    "month_share",
]

#: Names of the rules that cut a month's credits, as the month-by-month trace records them.
CUT_SEGREGATION = "segregation"
CUT_LABOR_POOL = "undocumented_labor_pool"
CUT_CAP = "monthly_cap"
CUT_REVOCATION = "revocation"

#: Eligible days removed per month (``month_index``), credit type and rule.
Removed = dict[int, dict[str, dict[str, int]]]


def month_share(first: date, end: date) -> Fraction:
    """Calendar-month shares of ``[first, end)``: each month's days in it / days in that month.

    Closed form: the first and last months are partial, the months between count 1 each.
    """
    if end <= first:
        return Fraction(0)
    last = end - timedelta(days=1)
    dim_first = days_in_month(first.year, first.month)
    if (first.year, first.month) == (last.year, last.month):
        return Fraction(last.day - first.day + 1, dim_first)
    head = Fraction(dim_first - first.day + 1, dim_first)
    tail = Fraction(last.day, days_in_month(last.year, last.month))
    return head + tail + (month_index(last) - month_index(first) - 1)


def good_conduct_rate(facts: OffenderFacts, params: MdDiminutionParams) -> Fraction:
    """The term's monthly good-conduct rate, by its latest sentence begin and offense classes."""
    latest = max(c.sentence_begin for c in facts.commitments)
    row = params.good_conduct.row_for(latest)
    classes = {c.offense_class for c in facts.commitments}
    return Fraction(row.reduced_rate if classes & row.reduced_classes else row.rate)


def good_conduct_days(
    rate: Fraction, custody: date, max_expiration: date, params: MdDiminutionParams
) -> int:
    """Good conduct for ``[custody, max_expiration)``: shares summed exactly, rounded once."""
    total = rate * month_share(custody, max_expiration)
    return round_ratio(total.numerator, total.denominator, params.rounding)


@dataclass(slots=True)
class EarnedMonth:
    """One month of earned credits before the cap: eligible days and amount per credit type."""

    eligible: dict[str, int] = field(default_factory=dict)
    amount: dict[str, int] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)


def _window(custody: date, as_of: date) -> Span:
    return custody.toordinal(), as_of.toordinal() - 1


def _assignment_spans(
    facts: OffenderFacts, params: MdDiminutionParams, window: Span
) -> list[tuple[str, str, Fraction, str, list[Span]]]:
    """Per assignment: its type, credit type, rate, key and its span clipped to the window."""
    out: list[tuple[str, str, Fraction, str, list[Span]]] = []
    trim = 0 if params.period_end_inclusive else 1
    for a in facts.assignments:
        ctype = params.earned.credit_types.get(a.type)
        if ctype is None:
            continue
        end = window[1] if a.end is None else min(a.end.toordinal() - trim, window[1])
        first = max(a.begin.toordinal(), window[0])
        out.append((a.type, ctype, Fraction(a.rate), a.key, [(first, end)] if first <= end else []))
    return out


def earned_by_month(
    facts: OffenderFacts,
    params: MdDiminutionParams,
    custody: date,
    *,
    segregation: bool = True,
    labor_pool: bool = True,
    removed: Removed | None = None,
) -> dict[int, EarnedMonth]:
    """Earned credits per month (by ``month_index``) and type, before the cap.

    A day is eligible when an assignment covers it, it is in ``[CMT_DT, as-of)``, the person is
    not in a segregation that stops accrual (unless ``segregation`` is off) and, for labor pool,
    its Monday-to-Sunday week documents enough days (unless ``labor_pool`` is off). ``removed``,
    when given, is filled with the assignment days each of those two rules took away (a day
    both would remove counts for segregation, which applies first).
    """
    window = _window(custody, facts.as_of)
    if window[0] > window[1]:
        return {}
    earned = params.earned
    trim = 0 if params.period_end_inclusive else 1
    seg: list[Span] = []
    if segregation:
        seg = merge(
            (s.begin.toordinal(), window[1] if s.end is None else s.end.toordinal() - trim)
            for s in facts.segregations
            if s.type in earned.segregation_stops_accrual
        )
    documented: list[Span] | None = None
    if labor_pool:
        worked: dict[date, int] = {}
        for w in facts.labor_pool:
            worked[w.week_begin] = worked.get(w.week_begin, 0) + w.days_worked
        need = earned.labor_pool.min_days_per_week
        documented = merge(
            (monday.toordinal(), monday.toordinal() + 6)
            for monday, days in worked.items()
            if days >= need
        )
    pieces = _assignment_spans(facts, params, window)
    scale = math.lcm(1, *(rate.denominator for _, _, rate, _, _ in pieces))
    numer: dict[tuple[int, str], int] = {}
    months: dict[int, EarnedMonth] = {}
    labor_types = earned.labor_pool.assignment_types
    for atype, ctype, rate, key, spans in pieces:
        cut = subtract(spans, seg)
        if removed is not None and seg:
            _removed(removed, ctype, CUT_SEGREGATION, intersect(spans, seg))
        if documented is not None and atype in labor_types:
            if removed is not None:
                _removed(removed, ctype, CUT_LABOR_POOL, subtract(cut, documented))
            cut = intersect(cut, documented)
        scaled = rate.numerator * (scale // rate.denominator)  # int(rate * scale), in integers
        for index, days in month_days(cut).items():
            month = months.get(index)
            if month is None:  # not setdefault: that would build a month per assignment-month
                month = months[index] = EarnedMonth({}, {}, [])
            month.eligible[ctype] = month.eligible.get(ctype, 0) + days
            month.evidence.append(key)
            numer[index, ctype] = numer.get((index, ctype), 0) + scaled * days
    rounding = params.rounding
    for (index, ctype), n in numer.items():
        months[index].amount[ctype] = round_ratio(n, month_length(index) * scale, rounding)
    return months


def _removed(into: Removed, ctype: str, rule: str, spans: list[Span]) -> None:
    for index, days in month_days(spans).items():
        per_rule = into.setdefault(index, {}).setdefault(ctype, {})
        per_rule[rule] = per_rule.get(rule, 0) + days


def coverage(
    facts: OffenderFacts, params: MdDiminutionParams, custody: date
) -> dict[int, set[str]]:
    """Credit types each month has an assignment covering some day of ``[CMT_DT, as-of)``."""
    window = _window(custody, facts.as_of)
    out: dict[int, set[str]] = {}
    if window[0] > window[1]:
        return out
    for _, ctype, _, _, spans in _assignment_spans(facts, params, window):
        for index in month_days(spans):
            out.setdefault(index, set()).add(ctype)
    return out


def cap_months(
    amounts: dict[str, int], month: date, classes: frozenset[str], params: MdDiminutionParams
) -> tuple[dict[str, int], int]:
    """Amounts after the month's cap, taken in the cap order; and the cap itself."""
    cap = params.monthly_cap.cap_for(month, classes)
    order = params.monthly_cap.order
    if sum(amounts.values()) <= cap:
        return {ctype: amounts.get(ctype, 0) for ctype in order}, cap
    left = cap
    capped: dict[str, int] = {}
    for ctype in order:
        take = min(amounts.get(ctype, 0), left)
        capped[ctype] = take
        left -= take
    return capped, cap
