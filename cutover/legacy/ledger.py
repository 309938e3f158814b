"""The credit ledger as keyed, the legacy system's date computed from it, and the waterfall.

A ``Ledger`` holds the components the legacy computation reads: the jail days posted per
commitment, the good-conduct rate keyed, each month's earned credits per type and how many times
each infraction's good-conduct revocation was posted. ``ms_date`` is the legacy computation:
``MAX_EXP_DT - (GC - RG) - (WT + ED + SP - RS)`` over the rows entered by ``CALC_DT``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from cutover.legacy.answers import RELEASE_CODES, ReleaseDefect
from cutover.legacy.credits import apply_cap, gc_total, max_expiration
from cutover.legacy.facts import Assignment, Offender

__all__ = ["Ledger", "clean_ledger", "correct", "ms_date", "waterfall"]


@dataclass(slots=True)
class Ledger:
    jail: dict[str, int]
    #: Commitments whose JAIL_CR row was never posted.
    jail_missing: set[str]
    gc_rate: int
    #: (month, credit type index) -> days posted; absent = no row.
    earned: dict[tuple[int, int], int]
    #: (month, credit type index) -> the assignment whose institution and task the row carries.
    earned_top: dict[tuple[int, int], Assignment]
    #: infraction id -> times its RG row was posted (infractions dated before CALC_DT).
    rg_posted: dict[str, int] = field(default_factory=dict)

    def copy(self) -> Ledger:
        return replace(
            self,
            jail=dict(self.jail),
            jail_missing=set(self.jail_missing),
            earned=dict(self.earned),
            earned_top=dict(self.earned_top),
            rg_posted=dict(self.rg_posted),
        )

    def max_exp(self, o: Offender) -> int:
        return max_expiration(o.commitments, self.jail)


def clean_ledger(o: Offender) -> Ledger:
    """The ledger a careful clerk would have keyed: every posting equals the entitlement."""
    credits = o.credits
    earned: dict[tuple[int, int], int] = {}
    top: dict[tuple[int, int], Assignment] = {}
    for m in sorted(credits):
        mc = credits[m]
        for t, amount in enumerate(apply_cap(o.amounts[m])):
            winner = mc.top[t]
            if amount > 0 and winner is not None:
                earned[(m, t)] = amount
                top[(m, t)] = winner
    return Ledger(
        jail={c.cmt_id: c.jail.days for c in o.commitments if c.jail is not None},
        jail_missing=set(),
        gc_rate=o.gc_rate,
        earned=earned,
        earned_top=top,
        rg_posted={i.infr_id: 1 for i in o.infractions if i.dt < o.calc_dt and i.gc_days > 0},
    )


def ms_date(o: Offender, ledger: Ledger) -> int:
    """The mandatory supervision release date the legacy system computes from ``ledger``."""
    max_exp = ledger.max_exp(o)
    gc = gc_total(ledger.gc_rate, o.cmt_dt, max_exp)
    revoked_gc = 0
    revoked_sp = 0
    for infr in o.infractions:
        if infr.dt < o.calc_dt:
            revoked_gc += infr.gc_days * ledger.rg_posted.get(infr.infr_id, 0)
            revoked_sp += infr.sp_days
    earned = sum(ledger.earned.values())
    return max_exp - (gc - revoked_gc) - (earned - revoked_sp)


def correct(code: str, state: Ledger, truth: Ledger, defect: ReleaseDefect) -> None:
    """Correct one cause in ``state``: the components ``defect`` touched take their true values."""
    if code == "JAIL_CREDIT_MISPOSTED":
        state.jail = dict(truth.jail)
        state.jail_missing = set()
    elif code == "GOOD_CONDUCT_RATE":
        state.gc_rate = truth.gc_rate
    elif code == "REVOCATION_MISMATCH":
        for infr_id in defect.infractions:
            state.rg_posted[infr_id] = truth.rg_posted.get(infr_id, 0)
    else:
        for key in defect.earned_keys:
            if key in truth.earned:
                state.earned[key] = truth.earned[key]
            else:
                state.earned.pop(key, None)


def waterfall(o: Offender, legacy: Ledger, truth: Ledger, defects: list[ReleaseDefect]) -> int:
    """Set each defect's days to the change its own correction step makes; return the true date.

    Steps run in the contract's order, from the legacy ledger to the true one.
    """
    by_code = {d.code: d for d in defects}
    state = legacy.copy()
    current = ms_date(o, state)
    for code in RELEASE_CODES:
        defect = by_code.get(code)
        if defect is None:
            continue
        correct(code, state, truth, defect)
        after = ms_date(o, state)
        defect.days = after - current
        current = after
    return current
