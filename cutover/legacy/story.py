"""One offender's life story, clean: sentence, custody, transfers, work, segregation, release.

Everything here is what really happened. The legacy system's own date is computed later from the
ledger as keyed (``ledger``), where defects may be injected (``defects``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from cutover.legacy.calendar import (
    CURRENT_CALC,
    TODAY,
    add_term,
    fmt_date,
    monday_of,
    month_of,
    month_start,
    ordinal,
)
from cutover.legacy.credits import (
    GC_HALF_RATE_BEFORE,
    gc_rate_for,
    max_expiration,
)
from cutover.legacy.facts import (
    Assignment,
    Commitment,
    Infraction,
    Jail,
    LaborWeek,
    Offender,
    Segregation,
    Stay,
    ident,
)
from cutover.legacy.names import FIRST_NAMES_F, FIRST_NAMES_M, LAST_NAMES
from cutover.legacy.reference import (
    COUNTIES,
    INSTITUTIONS,
    OFFENSES,
    RULE_CODES,
    Institution,
    Offense,
    institution,
    tasks_of,
)
from cutover.legacy.release import settle_release
from cutover.legacy.users import Staff

__all__ = ["StoryContext", "build_story"]

_EARLIEST = ordinal(1975, 1, 1)
_YEAR = 365


@dataclass(frozen=True, slots=True)
class StoryContext:
    seed: int
    staff: Staff


_OFFENSE_LIST = [o for o, _ in OFFENSES]
_OFFENSE_WEIGHTS = [w for _, w in OFFENSES]


def _pick_offense(rng: random.Random) -> Offense:
    return rng.choices(_OFFENSE_LIST, _OFFENSE_WEIGHTS)[0]


def _term(rng: random.Random, offense: Offense) -> tuple[int, int, int]:
    if offense.max_years == 0:
        return 0, rng.randint(3, 11), 0
    years = rng.randint(offense.min_years, offense.max_years)
    months = 0 if rng.random() < 0.6 else rng.randint(1, 11)
    days = 0 if rng.random() < 0.9 else rng.randint(1, 29)
    if years == 0 and months < 3:
        months = rng.randint(3, 11)
    return years, months, days


def _open_at(inst: Institution, day: int) -> bool:
    return inst.opened <= day and (inst.closed is None or day < inst.closed)


def _stays(rng: random.Random, female: bool, start: int, horizon: int) -> list[Stay]:
    """Institutions from the first day in custody to the day before ``horizon``, with transfers."""
    if female:
        return [Stay("MCIW", start, horizon - 1)]
    stays: list[Stay] = []
    t = start
    mrdc = institution("MRDC")
    if _open_at(mrdc, t):
        end = min(t + rng.randint(21, 75), horizon - 1)
        stays.append(Stay("MRDC", t, end))
        t = end + 1
    previous = "MRDC"
    while t < horizon:
        choices = [
            i
            for i in INSTITUTIONS
            if not i.women and i.code != previous and _open_at(i, t) and i.code != "MRDC"
        ]
        long_stays = [i for i in choices if not i.short_stay]
        pool = long_stays if long_stays and rng.random() < 0.88 else choices
        inst = rng.choice(pool)
        length = rng.randint(60, 365) if inst.short_stay else rng.randint(180, 2900)
        end = min(t + length - 1, horizon - 1)
        if inst.closed is not None:
            end = min(end, inst.closed - 1)
        stays.append(Stay(inst.code, t, end))
        previous = inst.code
        t = end + 1
    return stays


def _assignments(
    rng: random.Random, idx: int, off_id: str, stays: list[Stay], horizon: int
) -> list[Assignment]:
    out: list[Assignment] = []
    k = 0

    def add(inst: str, typ: str, bgn: int, end: int, natural_end: int) -> None:
        nonlocal k
        tasks = tasks_of(inst, typ)
        if not tasks:
            return
        task = rng.choice(tasks)
        open_end = end >= horizon - 1 and natural_end > end
        out.append(
            Assignment(
                asgn_id=ident(idx, k, 3),
                inst=inst,
                typ=typ,
                tsk=task.code,
                rate=task.rate,
                bgn=bgn,
                end=None if open_end else end,
                owner=off_id,
            )
        )
        k += 1

    for stay in stays:
        t = stay.bgn + rng.randint(5, 60)
        while t <= stay.end:
            labor = rng.random() < 0.25
            length = rng.randint(14, 100) if labor else rng.randint(60, 900)
            natural = t + length - 1
            end = min(natural, stay.end)
            add(stay.inst, "L" if labor else "W", t, end, natural)
            t = end + 1 + rng.randint(0, 75)
        span = stay.end - stay.bgn
        if span >= 120 and rng.random() < 0.5:
            bgn = stay.bgn + rng.randint(0, span - 60)
            natural = bgn + rng.randint(90, 365)
            add(stay.inst, "E", bgn, min(natural, stay.end), natural)
        if span >= 60 and rng.random() < 0.3:
            bgn = stay.bgn + rng.randint(0, span - 30)
            natural = bgn + rng.randint(30, 180)
            add(stay.inst, "S", bgn, min(natural, stay.end), natural)
    out.sort(key=lambda a: (a.bgn, a.asgn_id))
    for i, a in enumerate(out):
        a.asgn_id = ident(idx, i, 3)
    return out


def _inst_on(stays: list[Stay], day: int) -> str:
    for s in stays:
        if s.bgn <= day <= s.end:
            return s.inst
    return stays[-1].inst


def _discipline(
    rng: random.Random, o: Offender, horizon: int, staff: Staff
) -> tuple[list[Infraction], list[Segregation]]:
    years = max(horizon - o.cmt_dt, 0) / _YEAR
    propensity = rng.choice((0.0, 0.0, 0.15, 0.3, 0.6, 1.2))
    count = min(int(years * propensity + rng.random()), 40)
    dates = (
        sorted(rng.randint(o.cmt_dt + 10, horizon - 1) for _ in range(count))
        if (horizon - 1 > o.cmt_dt + 10)
        else []
    )
    infractions: list[Infraction] = []
    candidates: list[tuple[int, int, str, str]] = []
    for i, dt in enumerate(dates):
        inst = _inst_on(o.stays, dt)
        infractions.append(
            Infraction(
                infr_id=ident(o.idx, i, 3),
                dt=dt,
                rule=rng.choice(RULE_CODES),
                gc_days=0,
                sp_days=0,
                hrg_dt=dt + rng.randint(3, 20),
                inst=inst,
                usr=staff.pick(rng, inst, "CMGR"),
            )
        )
        if rng.random() < 0.6:
            bgn = dt + rng.randint(0, 3)
            candidates.append((bgn, bgn + rng.randint(10, 90), "DS", inst))
    for stay in o.stays:
        if stay.end - stay.bgn > 40 and rng.random() < 0.1:
            bgn = rng.randint(stay.bgn, stay.end - 30)
            candidates.append((bgn, bgn + rng.randint(5, 60), "AS", stay.inst))
    candidates.sort()
    segs: list[Segregation] = []
    last_end = -1
    for bgn, end, typ, inst in candidates:
        if bgn <= last_end or bgn >= horizon:
            continue
        segs.append(
            Segregation(
                seg_id=ident(o.idx, len(segs), 3),
                inst=inst,
                typ=typ,
                bgn=bgn,
                end=None if end >= horizon - 1 else end,
                owner=o.off_id,
            )
        )
        last_end = end
    return infractions, segs


def _labor_weeks(rng: random.Random, o: Offender, horizon: int) -> list[LaborWeek]:
    weeks: dict[int, LaborWeek] = {}
    for a in o.assignments:
        if a.typ != "L":
            continue
        last = horizon - 1 if a.end is None else a.end
        monday = monday_of(a.bgn)
        while monday <= last:
            if monday not in weeks:
                worked = rng.randint(3, 5) if rng.random() < 0.82 else rng.randint(0, 2)
                weeks[monday] = LaborWeek(monday, a.inst, worked, o.off_id)
            monday += 7
    return [weeks[m] for m in sorted(weeks)]


def _commitments(
    rng: random.Random, o: Offender, staff: Staff, first_offense: Offense
) -> list[Commitment]:
    idx = o.idx
    county = rng.choice(COUNTIES)
    sent_dt = o.cmt_dt - rng.randint(0, 45)
    life = rng.random() < first_offense.life_share
    years, months, days = (0, 0, 0) if life else _term(rng, first_offense)
    first = Commitment(
        cmt_id=ident(idx, 0, 3),
        dkt_no=f"{county}K{fmt_date(sent_dt)[2:4]}{rng.randint(0, 99999):05d}",
        cnty=county,
        ofns_cd=first_offense.code,
        ofns_cls=first_offense.cls,
        sent_dt=sent_dt,
        sent_bgn=sent_dt,
        years=years,
        months=months,
        days=days,
        cons_to=None,
        life=life,
        cmt_dt=o.cmt_dt,
        doc_id=ident(idx, 0, 3),
    )
    out = [first]
    o.lifer = life
    if not life and rng.random() < 0.65:
        term_days = years * 365 + months * 30 + days
        jail = rng.randint(1, max(1, min(540, int(term_days * 0.4))))
        if sent_dt >= GC_HALF_RATE_BEFORE > sent_dt - jail:
            jail = sent_dt - GC_HALF_RATE_BEFORE
        if jail > 0:
            first.jail = Jail(
                jcr_id=ident(idx, 0, 3),
                from_dt=sent_dt - jail,
                to_dt=sent_dt - 1,
                cert_no=f"{rng.randint(1, 9_999_999):07d}",
                doc_id=ident(idx, 1, 3),
                post_usr="",
                post_dt=o.cmt_dt + rng.randint(1, 30),
                certified=rng.random() < 0.95,
            )
            inst = "MCIW" if o.sex == "F" else "MRDC"
            first.jail.post_usr = staff.pick(rng, inst, "CMST")
    if life:
        return out
    extra = rng.choices((0, 1, 2), (0.72, 0.20, 0.08))[0]
    for k in range(1, extra + 1):
        offense = _pick_offense(rng)
        while offense.life_share > 0:
            offense = _pick_offense(rng)
        years, months, days = _term(rng, offense)
        consecutive = rng.random() < 0.45
        sent = o.cmt_dt + rng.randint(20, 240)
        jail_days = {c.cmt_id: c.jail.days for c in out if c.jail is not None}
        if consecutive:
            predecessor = out[-1]
            bgn = _end_of(out, predecessor.cmt_id, jail_days)
            # imposed while the predecessor still runs, never after it expired
            room = min(240, bgn - 30 - o.cmt_dt)
            sent = o.cmt_dt + (rng.randint(0, room) if room > 0 else 0)
        else:
            bgn = sent
        if any(c.sent_bgn == bgn for c in out):
            continue
        out.append(
            Commitment(
                cmt_id=ident(idx, k, 3),
                dkt_no=f"{county}K{fmt_date(sent)[2:4]}{rng.randint(0, 99999):05d}",
                cnty=rng.choice(COUNTIES) if rng.random() < 0.3 else county,
                ofns_cd=offense.code,
                ofns_cls=offense.cls,
                sent_dt=sent,
                sent_bgn=bgn,
                years=years,
                months=months,
                days=days,
                cons_to=out[-1].cmt_id if consecutive else None,
                life=False,
                cmt_dt=o.cmt_dt,
                doc_id=ident(idx, 10 + k, 3),
            )
        )
    return out


def _end_of(commitments: list[Commitment], cmt_id: str, jail_days: dict[str, int]) -> int:
    ends: dict[str, int] = {}
    for c in commitments:
        begin = ends[c.cons_to] if c.cons_to else c.sent_bgn - jail_days.get(c.cmt_id, 0)
        ends[c.cmt_id] = add_term(begin, c.years, c.months, c.days)
    return ends[cmt_id]


def _true_jail(commitments: list[Commitment]) -> dict[str, int]:
    return {c.cmt_id: c.jail.days for c in commitments if c.jail is not None}


def build_story(idx: int, rng: random.Random, ctx: StoryContext) -> Offender:
    """The clean facts of offender ``idx``: who, what sentences, where, what work, when released."""
    staff = ctx.staff
    female = rng.random() < 0.07
    span = rng.choices(
        ((60, 5 * _YEAR), (5 * _YEAR, 15 * _YEAR), (15 * _YEAR, 32 * _YEAR)), (0.45, 0.35, 0.2)
    )[0]
    cmt_dt = max(TODAY - rng.randint(*span), _EARLIEST + rng.randint(0, 400))
    age = rng.randint(18 * _YEAR, 60 * _YEAR)
    o = Offender(
        idx=idx,
        off_id=f"{100_000 + idx:09d}",
        sid_no=f"{(idx * 48_271 + ctx.seed * 7_919 + 1_234_567) % 100_000_000:08d}",
        last_nm=rng.choice(LAST_NAMES),
        frst_nm=rng.choice(FIRST_NAMES_F if female else FIRST_NAMES_M),
        mid_init=rng.choice("ABCDEFGHJKLMNPRSTW") if rng.random() < 0.8 else " ",
        dob=cmt_dt - age if rng.random() > 0.003 else None,
        sex="F" if female else "M",
        race=rng.choices("BWHAO", (0.70, 0.26, 0.02, 0.01, 0.01))[0],
        cmt_dt=cmt_dt,
        lifer=False,
    )
    o.commitments = _commitments(rng, o, staff, _pick_offense(rng))
    if not o.lifer:
        while True:
            o.max_exp = max_expiration(o.commitments, _true_jail(o.commitments))
            if o.max_exp - cmt_dt >= 120:
                break
            first = o.commitments[0]
            first.years, first.months = divmod(first.years * 12 + first.months + 6, 12)
            jail = _true_jail(o.commitments)
            for c in o.commitments:
                if c.cons_to is not None:
                    c.sent_bgn = _end_of(o.commitments, c.cons_to, jail)
        o.gc_rate = gc_rate_for(o.commitments)
        horizon = min(CURRENT_CALC, month_start(month_of(o.max_exp) + 1))
    else:
        o.gc_rate = 0
        horizon = CURRENT_CALC
    o.stays = _stays(rng, female, cmt_dt, horizon)
    o.assignments = _assignments(rng, idx, o.off_id, o.stays, horizon)
    o.labor = _labor_weeks(rng, o, horizon)
    o.infractions, o.segs = _discipline(rng, o, horizon, staff)
    o.upd_usr = staff.pick(rng, o.stays[-1].inst, "CMGR")
    settle_release(rng, o, horizon)
    o.upd_dt = min(TODAY, (o.act_rel or o.calc_dt) + rng.randint(0, 400))
    return o
