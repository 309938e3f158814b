"""Release-date defects: what the clerks keyed wrong, each into its own months or component.

Each injector finds the months (or the component) where its defect can happen, picks one, changes
the legacy ledger and records the defect. Per-month defects claim their month, so no two defects
of one offender touch the same month; jail credit and the good-conduct rate are components of
their own, the only interacting pair, settled by the waterfall's order.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from cutover.legacy.answers import ReleaseDefect
from cutover.legacy.calendar import month_of, month_start
from cutover.legacy.credits import (
    MONTHLY_CAP,
    earned_by_month,
    gc_rows,
    month_amounts,
)
from cutover.legacy.facts import MonthCredit, Offender, credit_type_index
from cutover.legacy.ledger import Ledger
from cutover.legacy.rates import DefectRates

__all__ = ["Injection", "inject_release_defects"]

_MAX_GC_DEFECT_MONTHS = 23


@dataclass(slots=True)
class Injection:
    legacy: Ledger
    defects: list[ReleaseDefect] = field(default_factory=list)
    #: Months a release-date defect claimed.
    touched: set[int] = field(default_factory=set)


@dataclass(slots=True)
class _Month:
    """Clean per-month figures the injectors share."""

    credits: dict[int, MonthCredit]
    uncapped: dict[int, tuple[int, int, int]]

    def total(self, m: int) -> int:
        return sum(self.uncapped.get(m, (0, 0, 0)))


def _covered(o: Offender, m: int, t: int | None) -> bool:
    lo, hi = month_start(m), month_start(m + 1) - 1
    for a in o.assignments:
        if t is not None and credit_type_index(a.typ) != t:
            continue
        end = hi if a.end is None else a.end
        if a.bgn <= hi and end >= lo:
            return True
    return False


def _seg_in(o: Offender, m: int) -> list[str]:
    lo, hi = month_start(m), month_start(m + 1) - 1
    return [s.seg_id for s in o.segs if s.bgn <= hi and (s.end is None or s.end >= lo)]


def inject_release_defects(
    rng: random.Random, o: Offender, truth: Ledger, rates: DefectRates
) -> Injection:
    """Copy the clean ledger and key this offender's release-date defects into it."""
    inj = Injection(legacy=truth.copy())
    if o.lifer:
        return inj
    want = {
        "cap": rng.random() < rates.monthly_cap_exceeded,
        "seg": rng.random() < rates.work_credit_during_segregation,
        "lp": rng.random() < rates.undocumented_labor_pool,
        "cwa": rng.random() < rates.credit_without_assignment,
        "awc": rng.random() < rates.assignment_without_credit,
        "jail": rng.random() < rates.jail_credit_misposted,
        "rev": rng.random() < rates.revocation_mismatch,
        "gc": rng.random() < rates.good_conduct_rate,
    }
    first, end = month_of(o.cmt_dt), month_of(o.calc_dt)
    if any(want[k] for k in ("cap", "seg", "lp", "cwa", "awc")):
        credits = o.credits
        clean = _Month(credits, o.amounts)
        if want["cap"]:
            _cap(rng, o, clean, inj)
        if want["seg"]:
            _segregation(rng, o, clean, inj, first, end)
        if want["lp"]:
            _labor_pool(rng, o, clean, inj)
        if want["cwa"]:
            _credit_without_assignment(rng, o, clean, inj, first, end)
        if want["awc"]:
            _assignment_without_credit(rng, o, clean, inj, truth)
    if want["jail"]:
        _jail(rng, o, inj)
    if want["rev"]:
        _revocation(rng, o, inj)
    if want["gc"]:
        _good_conduct(o, inj)
    return inj


def _claim(inj: Injection, defect: ReleaseDefect, m: int) -> None:
    inj.touched.add(m)
    if defect not in inj.defects:
        inj.defects.append(defect)


def _cap(rng: random.Random, o: Offender, clean: _Month, inj: Injection) -> None:
    months = [m for m in sorted(clean.uncapped) if clean.total(m) > MONTHLY_CAP]
    if not months:
        return
    m = rng.choice(months)
    d = ReleaseDefect(o.off_id, "MONTHLY_CAP_EXCEEDED")
    for t, amount in enumerate(clean.uncapped[m]):
        top = clean.credits[m].top[t]
        if amount > 0 and top is not None:
            inj.legacy.earned[(m, t)] = amount
            inj.legacy.earned_top[(m, t)] = top
            d.earned_keys.append((m, t))
    _claim(inj, d, m)


def _fits(clean: _Month, m: int, extra: int) -> bool:
    """The month stays under the cap both before and after the defect adds ``extra``."""
    return clean.total(m) + max(extra, 0) <= MONTHLY_CAP


def _segregation(
    rng: random.Random, o: Offender, clean: _Month, inj: Injection, first: int, end: int
) -> None:
    seg_months = sorted(
        {
            m
            for s in o.segs
            for m in range(month_of(s.bgn), month_of(o.calc_dt - 1 if s.end is None else s.end) + 1)
            if first <= m < end and m not in inj.touched
        }
    )
    if not seg_months:
        return
    loose = earned_by_month(
        o.assignments,
        o.segs,
        o.labor_days(),
        o.cmt_dt,
        o.calc_dt,
        seg_rule=False,
        months=seg_months,
    )
    candidates = []
    for m in seg_months:
        if m not in loose or any(
            a.typ == "L" and _overlaps_month(a.bgn, a.end, m) for a in o.assignments
        ):
            continue
        wt = month_amounts(m, loose[m])[0]
        clean_wt = clean.uncapped.get(m, (0, 0, 0))[0]
        if wt > clean_wt and _fits(clean, m, wt - clean_wt):
            candidates.append((m, wt))
    if not candidates:
        return
    d = ReleaseDefect(o.off_id, "WORK_CREDIT_DURING_SEGREGATION")
    for m, wt in rng.sample(candidates, min(len(candidates), rng.choice((1, 1, 2)))):
        top = loose[m].top[0]
        if top is None:
            continue
        inj.legacy.earned[(m, 0)] = wt
        inj.legacy.earned_top[(m, 0)] = top
        d.earned_keys.append((m, 0))
        d.add_rows("SEG", *_seg_in(o, m))
        _claim(inj, d, m)


def _overlaps_month(bgn: int, end: int | None, m: int) -> bool:
    return bgn < month_start(m + 1) and (end is None or end >= month_start(m))


def _labor_pool(rng: random.Random, o: Offender, clean: _Month, inj: Injection) -> None:
    pools = [a for a in o.assignments if a.typ == "L" and a.known]
    months = sorted(
        {
            m
            for a in pools
            for m in range(
                month_of(max(a.bgn, o.cmt_dt)),
                month_of(min(o.calc_dt - 1, o.calc_dt - 1 if a.end is None else a.end)) + 1,
            )
            if m not in inj.touched and m < month_of(o.calc_dt) and not _seg_in(o, m)
        }
    )
    if not months:
        return
    loose = earned_by_month(
        o.assignments,
        o.segs,
        o.labor_days(),
        o.cmt_dt,
        o.calc_dt,
        labor_rule=False,
        months=months,
    )
    candidates = []
    for m in months:
        if m not in loose:
            continue
        wt = month_amounts(m, loose[m])[0]
        clean_wt = clean.uncapped.get(m, (0, 0, 0))[0]
        if wt > clean_wt and _fits(clean, m, wt - clean_wt):
            candidates.append((m, wt))
    if not candidates:
        return
    m, wt = rng.choice(candidates)
    top = loose[m].top[0]
    if top is None:
        return
    d = ReleaseDefect(o.off_id, "UNDOCUMENTED_LABOR_POOL")
    inj.legacy.earned[(m, 0)] = wt
    inj.legacy.earned_top[(m, 0)] = top
    d.earned_keys.append((m, 0))
    d.add_rows("ASGN", *(a.asgn_id for a in pools if _overlaps_month(a.bgn, a.end, m)))
    _claim(inj, d, m)


def _credit_without_assignment(
    rng: random.Random, o: Offender, clean: _Month, inj: Injection, first: int, end: int
) -> None:
    candidates = []
    for a in o.assignments:
        if not a.known or a.end is None:
            continue
        t = credit_type_index(a.typ)
        for m in range(month_of(a.end) + 1, month_of(a.end) + 3):
            if not first <= m < end or m in inj.touched or _covered(o, m, t):
                continue
            if (m, t) in inj.legacy.earned or not _fits(clean, m, a.rate):
                continue
            candidates.append((m, t, a))
    if not candidates:
        return
    m, t, a = rng.choice(candidates)
    d = ReleaseDefect(o.off_id, "CREDIT_WITHOUT_ASSIGNMENT")
    inj.legacy.earned[(m, t)] = a.rate
    inj.legacy.earned_top[(m, t)] = a
    d.earned_keys.append((m, t))
    d.add_rows("ASGN", a.asgn_id)
    _claim(inj, d, m)


def _assignment_without_credit(
    rng: random.Random, o: Offender, clean: _Month, inj: Injection, truth: Ledger
) -> None:
    candidates = [
        key
        for key in sorted(truth.earned)
        if key[0] not in inj.touched and clean.total(key[0]) <= MONTHLY_CAP
    ]
    if not candidates:
        return
    m, t = rng.choice(candidates)
    d = ReleaseDefect(o.off_id, "ASSIGNMENT_WITHOUT_CREDIT")
    del inj.legacy.earned[(m, t)]
    top = inj.legacy.earned_top.pop((m, t))
    d.earned_keys.append((m, t))
    d.add_rows("ASGN", top.asgn_id)
    _claim(inj, d, m)


def _jail(rng: random.Random, o: Offender, inj: Injection) -> None:
    targets = [c.jail for c in o.commitments if c.jail is not None and c.jail.certified]
    if not targets:
        return
    jail = rng.choice(targets)
    c = next(c for c in o.commitments if c.jail is jail)
    true_days = jail.days
    mode = rng.random()
    if mode < 0.2 and true_days <= 30:
        posted, missing = 0, True
    elif mode < 0.45:
        posted, missing = max(0, true_days - rng.randint(1, min(24, true_days))), False
    else:
        text = f"{true_days:03d}"
        swapped = text[0] + text[2] + text[1]
        over = int(swapped) if int(swapped) > true_days else true_days + rng.randint(5, 99)
        posted, missing = min(over, 999), False
    if posted == true_days:
        return
    trial = inj.legacy.copy()
    trial.jail[c.cmt_id] = posted
    if trial.max_exp(o) - o.cmt_dt < 30:
        return
    inj.legacy.jail[c.cmt_id] = posted
    if missing:
        inj.legacy.jail_missing.add(c.cmt_id)
    d = ReleaseDefect(o.off_id, "JAIL_CREDIT_MISPOSTED")
    d.add_rows("JAIL_CR", *(() if missing else (jail.jcr_id,)))
    d.add_rows("DOC_IDX", jail.doc_id)
    inj.defects.append(d)


def _revocation(rng: random.Random, o: Offender, inj: Injection) -> None:
    targets = [i for i in o.infractions if i.dt < o.calc_dt and i.gc_days > 0]
    if not targets:
        return
    infr = rng.choice(targets)
    # a revocation keyed twice is a short one (the audit's late releases were under a month)
    twice = infr.gc_days <= 20 and rng.random() < 0.5
    inj.legacy.rg_posted[infr.infr_id] = 2 if twice else 0
    d = ReleaseDefect(o.off_id, "REVOCATION_MISMATCH")
    d.infractions.append(infr.infr_id)
    d.add_rows("INFR", infr.infr_id)
    inj.defects.append(d)


def _good_conduct(o: Offender, inj: Injection) -> None:
    if o.gc_rate != 5 or not any(c.ofns_cls in ("V", "D") for c in o.commitments):
        return
    if len(gc_rows(5, o.cmt_dt, o.max_exp)) > _MAX_GC_DEFECT_MONTHS:
        return
    inj.legacy.gc_rate = 10
    d = ReleaseDefect(o.off_id, "GOOD_CONDUCT_RATE")
    d.add_rows("CMT", *(c.cmt_id for c in o.commitments if c.ofns_cls in ("V", "D")))
    inj.defects.append(d)
