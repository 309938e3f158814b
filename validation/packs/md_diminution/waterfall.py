"""The pack's waterfall: the legacy state and one correction per cause, registered by code.

The state is what the legacy date was computed from: ``MAX_EXP_DT``, posted good conduct (and
the rate it was keyed at), posted earned credits per month and type, posted revocations. Each
correction finds its cause in the current state and, if present, returns the state with that
cause corrected, plus the keys of the rows and facts that show it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from fractions import Fraction
from functools import cache, cached_property

from validation.computation import Computation
from validation.dates import month_index, month_of_index
from validation.explain import WaterfallStart
from validation.facts import OffenderFacts
from validation.packs.md_diminution.credits import (
    CUT_LABOR_POOL,
    CUT_SEGREGATION,
    EarnedMonth,
    coverage,
    earned_by_month,
    good_conduct_days,
)
from validation.packs.md_diminution.params import GoodConductRow, MdDiminutionParams
from validation.packs.md_diminution.term import TermError, jail_days, posted_jail_days, term_spans
from validation.registry import register_correction
from validation.waterfall import Correction

__all__ = ["LedgerState", "MdContext", "legacy_state"]

Cell = tuple[int, str]


@dataclass(frozen=True, slots=True)
class LedgerState:
    """The inputs of a release date as the ledger carries them."""

    max_expiration: date
    good_conduct: int
    #: The rate the posted good conduct was keyed at, if it matches one of the pack's rates.
    gc_rate: Fraction | None
    #: Earned credits per (month index, credit type).
    earned: dict[Cell, int]
    #: Revoked days per revocation type (``RG``, ``RS``).
    revoked: dict[str, int]

    def ms_release(self) -> date:
        """``MAX_EXP_DT`` - (GC - RG) - (earned - RS); revocations are netted as posted."""
        net = self.good_conduct + sum(self.earned.values()) - sum(self.revoked.values())
        return self.max_expiration - timedelta(days=net)

    def expiration(self) -> date:
        """``MAX_EXP_DT`` as the state carries it."""
        return self.max_expiration


class MdContext:
    """What the corrections compare the state with; rule variants computed once, on demand."""

    def __init__(
        self, facts: OffenderFacts, params: MdDiminutionParams, comp: Computation, custody: date
    ) -> None:
        self.facts = facts
        self.params = params
        self.comp = comp
        self.custody = custody
        self.cells: dict[Cell, tuple[str, ...]] = {}
        self.expected: dict[Cell, int] = {
            (index, ctype): amount
            for index, amounts in comp.credited_by_month.items()
            for ctype, amount in amounts.items()
        }

    def want(self, cell: Cell) -> int:
        """The recomputed amount (after the cap) of a month and type."""
        return self.expected.get(cell, 0)

    def eligible(self, cell: Cell) -> int:
        """Recomputed eligible days of a month and type."""
        return self.comp.eligible_by_month.get(cell[0], {}).get(cell[1], 0)

    @cached_property
    def without_segregation(self) -> dict[int, EarnedMonth]:
        """Earned credits as if segregation did not stop accrual."""
        return earned_by_month(self.facts, self.params, self.custody, segregation=False)

    @cached_property
    def without_labor_rule(self) -> dict[int, EarnedMonth]:
        """Earned credits as if labor-pool days needed no documentation."""
        return earned_by_month(self.facts, self.params, self.custody, labor_pool=False)

    @cached_property
    def covered(self) -> dict[int, set[str]]:
        """Credit types each month has an assignment for."""
        return coverage(self.facts, self.params, self.custody)

    def still_different(self, state: LedgerState) -> tuple[str, ...]:
        """Keys of the postings and facts that still differ from the recomputation in ``state``."""
        out: list[str] = []
        for cell in sorted({*state.earned, *self.expected}):
            if state.earned.get(cell, 0) != self.want(cell):
                out += self.cells.get(cell, ()) or self.month_evidence(cell[0])
        if state.good_conduct != self.comp.good_conduct:
            out += [r.key for r in self.facts.ledger if r.type == "GC"][:1]
        if state.max_expiration != self.comp.max_expiration:
            out += [s.key for s in self.comp.spans]
        return tuple(dict.fromkeys(out))

    def month_evidence(self, index: int) -> tuple[str, ...]:
        """Assignment keys that earned in a month."""
        return self.comp.evidence_by_month.get(index, ())


def _counted(entered: date | None, month: date, ltype: str, as_of: date) -> bool:
    """Whether a posting counts in the legacy date: entered on or before the as-of date.

    An unknown entry date falls back to the ledger's own convention: good conduct is entered
    at commitment, everything else the month after its credit month.
    """
    if entered is not None:
        return entered <= as_of
    return ltype == "GC" or month < as_of.replace(day=1)


@cache
def _schedule_rates(schedule: tuple[GoodConductRow, ...]) -> tuple[Fraction, ...]:
    """Every good-conduct rate of the schedule, each once (made once per schedule, not per
    person: a ``Fraction`` of a ``Decimal`` is slow to make)."""
    rates = {Fraction(r.rate) for r in schedule} | {Fraction(r.reduced_rate) for r in schedule}
    return tuple(rates)


@register_correction("md.legacy_state")
def legacy_state(
    facts: OffenderFacts, params: MdDiminutionParams, comp: Computation
) -> WaterfallStart[LedgerState] | str:
    """The legacy state (or why there is none): posted ledger, legacy ``MAX_EXP_DT``, keyed rate."""
    legacy_max = facts.legacy.max_expiration
    custody = comp.custody_date
    if legacy_max is None or custody is None:
        return "the legacy computation has no MAX_EXP_DT"
    as_of = facts.as_of
    ctx = MdContext(facts, params, comp, custody)
    gc = 0
    earned: dict[Cell, int] = {}
    keys: dict[Cell, list[str]] = {}
    revoked: dict[str, int] = dict.fromkeys(params.revocation.revokes, 0)
    posted_revocations: dict[date, dict[str, int]] = {}
    as_of_month = as_of.replace(day=1)
    for row in facts.ledger:
        entered, ltype, day = row.entered, row.type, row.month
        if entered is not None:
            if entered > as_of:
                continue
        elif ltype != "GC" and day >= as_of_month:
            continue
        if ltype == "GC":
            gc += row.days
        elif ltype in revoked:
            revoked[ltype] += row.days
            month = posted_revocations.setdefault(day.replace(day=1), {})
            month[ltype] = month.get(ltype, 0) + row.days
        else:
            cell = (day.year * 12 + day.month - 1, ltype)
            earned[cell] = earned.get(cell, 0) + row.days
            posted_keys = keys.get(cell)
            if posted_keys is None:
                keys[cell] = [row.key]
            else:
                posted_keys.append(row.key)
    ctx.cells = {cell: tuple(v) for cell, v in keys.items()}
    rates = sorted(_schedule_rates(params.good_conduct.schedule), key=lambda r: r != comp.gc_rate)
    keyed = next(
        (r for r in rates if good_conduct_days(r, custody, legacy_max, params) == gc), None
    )
    posted: dict[date, dict[str, int]] = {}
    for (index, ctype), days in earned.items():
        posted.setdefault(month_of_index(index), {})[ctype] = days
    revokes = params.revocation.revokes
    state = LedgerState(legacy_max, gc, keyed, earned, revoked)
    return WaterfallStart(
        state,
        LedgerState.ms_release,
        ctx,
        legacy_max,
        gc,
        keyed,
        posted,
        ctx.still_different,
        measure_max_expiration=LedgerState.expiration,
        revoked_gc=sum(d for t, d in revoked.items() if revokes[t] == "GC"),
        revoked_sp=sum(
            d for t, d in revoked.items() if revokes[t] == params.revocation.special_project_type
        ),
        posted_revocations=posted_revocations,
    )


def _fix_cells(
    ctx: MdContext, state: LedgerState, cells: list[Cell], detail: str, extra: tuple[str, ...] = ()
) -> Correction[LedgerState] | None:
    if not cells:
        return None
    earned = dict(state.earned)
    evidence: list[str] = []
    changed: list[tuple[date, str]] = []
    for cell in cells:
        if earned.get(cell, 0) != ctx.want(cell):
            changed.append((month_of_index(cell[0]), cell[1]))
        earned[cell] = ctx.want(cell)
        evidence += ctx.cells.get(cell, ())
        evidence += ctx.month_evidence(cell[0])
    months = tuple(sorted({month_of_index(c[0]) for c in cells}))
    return Correction(
        replace(state, earned=earned),
        tuple(dict.fromkeys((*evidence, *extra))),
        detail,
        months,
        tuple(changed),
    )


def _relaxed_cells(
    ctx: MdContext,
    state: LedgerState,
    relax: Callable[[], dict[int, EarnedMonth]],
    types: set[str],
    rule: str,
) -> list[Cell]:
    """Cells posted above the rules but no higher than the rules without one restriction.

    ``relax`` computes the relaxed credits; it is called only when some cell is a candidate: a
    month and type whose posting is above the rules and from which ``rule`` took days away
    (without it, the relaxed rules give that cell no more eligible days).
    """
    cuts = ctx.comp.cuts_by_month
    candidates = [
        (cell, posted)
        for cell, posted in state.earned.items()
        if cell[1] in types
        and posted > ctx.want(cell)
        and cuts.get(cell[0], {}).get(cell[1], {}).get(rule, 0) > 0
    ]
    if not candidates:
        return []
    relaxed = relax()
    out = []
    for cell, posted in candidates:
        index, ctype = cell
        loose = relaxed.get(index)
        if loose is None or loose.eligible.get(ctype, 0) <= ctx.eligible(cell):
            continue
        if ctx.want(cell) < posted <= loose.amount.get(ctype, 0):
            out.append(cell)
    return sorted(out)


def _whole_months(ctx: MdContext, state: LedgerState, cells: list[Cell]) -> list[Cell]:
    """Every credit type of the months of ``cells``: under the cap, one type's excess can have
    squeezed another type of the same month, so the month is set right as a whole."""
    months = {c[0] for c in cells}
    return sorted(c for c in {*state.earned, *ctx.expected} if c[0] in months)


def _types_of(params: MdDiminutionParams, assignment_types: set[str]) -> set[str]:
    return {c for a, c in params.earned.credit_types.items() if a in assignment_types}


@register_correction("WORK_CREDIT_DURING_SEGREGATION")
def work_credit_during_segregation(
    ctx: MdContext, state: LedgerState
) -> Correction[LedgerState] | None:
    """Work credit posted for a month as if its segregation days were eligible."""
    types = _types_of(ctx.params, {"W", "L"})
    cells = _relaxed_cells(ctx, state, lambda: ctx.without_segregation, types, CUT_SEGREGATION)
    if not cells:
        return None
    months = {c[0] for c in cells}
    stops = ctx.params.earned.segregation_stops_accrual
    segs = tuple(
        s.key
        for s in ctx.facts.segregations
        if s.type in stops
        and any(month_index(s.begin) <= m <= month_index(s.end or ctx.facts.as_of) for m in months)
    )
    whole = _whole_months(ctx, state, cells)
    return _fix_cells(ctx, state, whole, "work credit posted for segregation days", segs)


@register_correction("JAIL_CREDIT_MISPOSTED")
def jail_credit_misposted(ctx: MdContext, state: LedgerState) -> Correction[LedgerState] | None:
    """Posted jail days differ from the certificate; ``MAX_EXP_DT`` and good conduct move."""
    posted = posted_jail_days(ctx.facts)
    correct = jail_days(ctx.facts)
    wrong = [
        k for k, j in correct.items() if j.source == "certificate" and j.days != posted[k].days
    ]
    if not wrong:
        return None
    try:
        before = term_spans(ctx.facts.commitments, {k: j.days for k, j in posted.items()})
        after = term_spans(ctx.facts.commitments, {k: j.days for k, j in correct.items()})
    except TermError:
        return None
    shift = max(e for _, e in after.values()) - max(e for _, e in before.values())
    new_max = state.max_expiration + shift
    gc = state.good_conduct
    if state.gc_rate is not None:
        rate, custody, params = state.gc_rate, ctx.custody, ctx.params
        gc += good_conduct_days(rate, custody, new_max, params) - good_conduct_days(
            rate, custody, state.max_expiration, params
        )
    evidence = [e for k in wrong for e in (k, *posted[k].evidence, *correct[k].evidence)]
    detail = ", ".join(
        f"{k}: posted {posted[k].days}, certificate {correct[k].days}" for k in wrong
    )
    return Correction(
        replace(state, max_expiration=new_max, good_conduct=gc), tuple(evidence), detail
    )


@register_correction("CREDIT_WITHOUT_ASSIGNMENT")
def credit_without_assignment(ctx: MdContext, state: LedgerState) -> Correction[LedgerState] | None:
    """Credit posted for a month no assignment of its type covers."""
    # A month and type with eligible days is covered; only the others need the coverage map.
    maybe = [c for c, posted in state.earned.items() if posted != 0 and ctx.eligible(c) == 0]
    covered = ctx.covered if maybe else {}
    cells = sorted(c for c in maybe if c[1] not in covered.get(c[0], set()))
    return _fix_cells(ctx, state, cells, "credit posted with no assignment of its type")


@register_correction("ASSIGNMENT_WITHOUT_CREDIT")
def assignment_without_credit(ctx: MdContext, state: LedgerState) -> Correction[LedgerState] | None:
    """A month an assignment earned credit in, with nothing posted."""
    cells = sorted(
        cell for cell, want in ctx.expected.items() if want > 0 and state.earned.get(cell, 0) == 0
    )
    return _fix_cells(ctx, state, cells, "assignment with no credit posted")


@register_correction("UNDOCUMENTED_LABOR_POOL")
def undocumented_labor_pool(ctx: MdContext, state: LedgerState) -> Correction[LedgerState] | None:
    """Labor-pool credit posted for weeks without enough documented days."""
    labor = ctx.params.earned.labor_pool.assignment_types
    types = _types_of(ctx.params, set(labor))
    cells = _relaxed_cells(ctx, state, lambda: ctx.without_labor_rule, types, CUT_LABOR_POOL)
    if not cells:
        return None
    months = {c[0] for c in cells}
    weeks = tuple(
        w.key
        for w in ctx.facts.labor_pool
        if month_index(w.week_begin) in months
        or month_index(w.week_begin + timedelta(days=6)) in months
    )
    whole = _whole_months(ctx, state, cells)
    return _fix_cells(ctx, state, whole, "labor-pool credit without documented weeks", weeks)


@register_correction("MONTHLY_CAP_EXCEEDED")
def monthly_cap_exceeded(ctx: MdContext, state: LedgerState) -> Correction[LedgerState] | None:
    """A month's earned credits posted above the cap."""
    classes = frozenset(c.offense_class for c in ctx.facts.commitments)
    totals: dict[int, int] = {}
    for (index, _), days in state.earned.items():
        totals[index] = totals.get(index, 0) + days
    cap = ctx.params.monthly_cap
    lowest = min(r.cap for r in cap.schedule)
    over = [
        i for i, t in totals.items() if t > lowest and t > cap.cap_for(month_of_index(i), classes)
    ]
    cells = sorted(c for c in {*state.earned, *ctx.expected} if c[0] in over)
    return _fix_cells(ctx, state, cells, "monthly cap exceeded")


@register_correction("REVOCATION_MISMATCH")
def revocation_mismatch(ctx: MdContext, state: LedgerState) -> Correction[LedgerState] | None:
    """Revocations posted that differ from the infractions (missing, doubled, above awarded)."""
    revokes = ctx.params.revocation.revokes
    gc_type = next((k for k, v in revokes.items() if v == "GC"), None)
    sp_type = next(
        (k for k, v in revokes.items() if v == ctx.params.revocation.special_project_type), None
    )
    want = {gc_type: ctx.comp.revoked_gc, sp_type: ctx.comp.revoked_sp}
    by_month: dict[tuple[str, int], int] = {}
    key: tuple[str, int]
    for row in ctx.facts.ledger:
        if row.type in revokes and _counted(row.entered, row.month, row.type, ctx.facts.as_of):
            key = (row.type, month_index(row.month))
            by_month[key] = by_month.get(key, 0) + row.days
    expected: dict[tuple[str, int], int] = {}
    for infr in ctx.facts.infractions:
        if infr.date < ctx.facts.as_of:
            for ltype, days in ((gc_type, infr.gc_revoked), (sp_type, infr.sp_revoked)):
                if ltype is not None and days:
                    key = (ltype, month_index(infr.date))
                    expected[key] = expected.get(key, 0) + days
    bad = {k for k in {*by_month, *expected} if by_month.get(k, 0) != expected.get(k, 0)}
    totals_differ = any(state.revoked.get(t, 0) != w for t, w in want.items() if t is not None)
    if not bad and not totals_differ:
        return None
    revoked = dict(state.revoked) | {t: d for t, d in want.items() if t is not None}
    months = {m for _, m in bad}
    evidence = [
        r.key
        for r in ctx.facts.ledger
        if r.type in revokes and (not bad or month_index(r.month) in months)
    ] + [i.key for i in ctx.facts.infractions if not bad or month_index(i.date) in months]
    detail = "revocations posted differ from the infractions" + (
        "" if bad else " (revoked more than was awarded)"
    )
    return Correction(
        replace(state, revoked=revoked),
        tuple(evidence),
        detail,
        tuple(sorted(month_of_index(m) for m in months)),
        tuple(sorted((month_of_index(m), t) for t, m in bad)),
    )


@register_correction("GOOD_CONDUCT_RATE")
def good_conduct_rate_wrong(ctx: MdContext, state: LedgerState) -> Correction[LedgerState] | None:
    """Good conduct keyed at a rate the term does not carry; recomputed at the corrected date."""
    if state.gc_rate is None or state.gc_rate == ctx.comp.gc_rate:
        return None
    gc = good_conduct_days(ctx.comp.gc_rate, ctx.custody, state.max_expiration, ctx.params)
    gc_rows = tuple(r.key for r in ctx.facts.ledger if r.type == "GC")
    classes = tuple(c.key for c in ctx.facts.commitments)
    detail = f"good conduct keyed at {state.gc_rate} a month, the term carries {ctx.comp.gc_rate}"
    return Correction(
        replace(state, good_conduct=gc, gc_rate=ctx.comp.gc_rate), classes + gc_rows, detail
    )
