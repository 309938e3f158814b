"""The end of a story: the as-of date of the last computation, the release, the revocations.

The legacy system recomputes at the first of every month; an offender is released in the first
month whose mandatory supervision date falls before the next month begins (or paroled earlier).
The custody record then ends the day before that computation.
"""

from __future__ import annotations

import random

from cutover.legacy.calendar import CURRENT_CALC, TODAY, month_of, month_start
from cutover.legacy.credits import apply_cap, earned_by_month, gc_total, month_amounts
from cutover.legacy.facts import Infraction, Offender, ident
from cutover.legacy.reference import RULE_CODES

__all__ = ["settle_release"]


def _set_revocations(rng: random.Random, o: Offender, sp_by_month: dict[int, int]) -> None:
    """Revocation days that never take good conduct or special-project credit below zero."""
    budget = (gc_total(o.gc_rate, o.cmt_dt, o.max_exp) - 40) // 2 if not o.lifer else 0
    sp_earned = 0
    sp_revoked = 0
    months = sorted(sp_by_month)
    mi = 0
    for infr in o.infractions:
        infr_month = month_of(infr.dt)
        while mi < len(months) and months[mi] < infr_month:
            sp_earned += sp_by_month[months[mi]]
            mi += 1
        if rng.random() < 0.65:
            days = rng.choice((5, 10, 10, 15, 20, 30, 45, 60))
            if days <= budget:
                infr.gc_days = days
                budget -= days
        if sp_earned - sp_revoked >= 10 and rng.random() < 0.5:
            infr.sp_days = 5
            sp_revoked += 5


def settle_release(rng: random.Random, o: Offender, horizon: int) -> None:
    """Choose the as-of date of the last computation and the release, then end the story there."""
    first_calc = month_start(month_of(max([o.cmt_dt, *(c.sent_dt for c in o.commitments)])) + 1)
    credits = earned_by_month(o.assignments, o.segs, o.labor_days(), o.cmt_dt, horizon)
    amounts = {m: month_amounts(m, mc) for m, mc in credits.items()}
    capped = {m: apply_cap(a) for m, a in amounts.items()}
    _set_revocations(rng, o, {m: c[2] for m, c in capped.items()})
    calc = CURRENT_CALC
    released = False
    if not o.lifer:
        gc = gc_total(o.gc_rate, o.cmt_dt, o.max_exp)
        revocations = sorted((i.dt, i.gc_days + i.sp_days) for i in o.infractions)
        earned_before = sum(sum(c) for m, c in capped.items() if month_start(m) < first_calc)
        net_rev = 0
        r = 0
        m = month_of(first_calc)
        while month_start(m) < CURRENT_CALC:
            start = month_start(m)
            while r < len(revocations) and revocations[r][0] < start:
                net_rev += revocations[r][1]
                r += 1
            if o.max_exp - gc + net_rev - earned_before < month_start(m + 1):
                calc, released = start, True
                break
            c = capped.get(m)
            if c is not None:
                earned_before += c[0] + c[1] + c[2]
            m += 1
    if released:
        first_m = month_of(first_calc)
        if rng.random() < 0.2 and month_of(calc) - first_m >= 4:
            lo = first_m + (month_of(calc) - first_m) // 3
            calc = month_start(rng.randint(lo, month_of(calc) - 1))
            o.rel_typ = "PA"
            o.act_rel = calc + rng.randint(0, 20)
        else:
            o.rel_typ = "MS"
        _truncate(o, calc)
    elif rng.random() < 0.02 and not o.lifer:
        dt = calc + rng.randint(0, 10)
        inst = o.stays[-1].inst
        o.infractions.append(
            Infraction(
                infr_id=ident(o.idx, len(o.infractions), 3),
                dt=dt,
                rule=rng.choice(RULE_CODES),
                gc_days=5,
                sp_days=0,
                hrg_dt=min(dt + rng.randint(1, 4), TODAY),
                inst=inst,
                usr=o.upd_usr,
            )
        )
    o.calc_dt = calc
    calc_month = month_of(calc)
    if calc > horizon:
        # custody ran past the generated timeline: count the truncated record up to calc
        credits = earned_by_month(o.assignments, o.segs, o.labor_days(), o.cmt_dt, calc)
        amounts = {m: month_amounts(m, mc) for m, mc in credits.items()}
    o.credits = {m: mc for m, mc in credits.items() if m < calc_month}
    o.amounts = {m: a for m, a in amounts.items() if m < calc_month}
    for infr in o.infractions:
        if infr.dt < calc:
            infr.hrg_dt = min(infr.hrg_dt, calc)


def _truncate(o: Offender, calc: int) -> None:
    """End the custody record the day before the last computation."""
    cut = calc - 1
    o.assignments = [a for a in o.assignments if a.bgn <= cut]
    for a in o.assignments:
        if a.end is None or a.end > cut:
            a.end = cut
    o.segs = [s for s in o.segs if s.bgn <= cut]
    for s in o.segs:
        if s.end is None or s.end > cut:
            s.end = cut
    o.labor = [w for w in o.labor if w.monday <= cut]
    o.infractions = [i for i in o.infractions if i.dt < calc]
    o.stays = [s for s in o.stays if s.bgn <= cut]
    o.stays[-1].end = min(o.stays[-1].end, cut)
