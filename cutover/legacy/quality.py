"""Data-quality defects in an offender's records that never change a date.

Duplicate master records, assignments under task codes the institution does not have, and jail
certificate numbers keyed differently from the scanned certificate. Per-value defects (impossible
dates, code case drift) and orphan rows are keyed while the rows are written (``rows``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from cutover.legacy.answers import QualityDefect
from cutover.legacy.calendar import month_of, month_start
from cutover.legacy.facts import Assignment, Offender, ident
from cutover.legacy.ledger import Ledger
from cutover.legacy.names import name_variant
from cutover.legacy.rates import DefectRates
from cutover.legacy.reference import tasks_of

__all__ = ["Keyed", "key_quality_defects"]

_UNKNOWN_CODES: tuple[str, ...] = ("WK99", "TEMP", "X-99", "9999", "DTL", "OUTSD", "PNT9", "MISC")


@dataclass(slots=True)
class Keyed:
    """How one offender's records were keyed, beyond the ledger."""

    duplicate: tuple[str, str, str, str] | None = None  # (OFF_ID, LAST, FIRST, MID)
    #: JCR_ID -> CERT_NO as keyed in JAIL_CR when it differs from the certificate.
    cert_keyed: dict[str, str] = field(default_factory=dict)
    defects: list[QualityDefect] = field(default_factory=list)


def _inst_on(o: Offender, day: int) -> str:
    for s in o.stays:
        if s.bgn <= day <= s.end:
            return s.inst
    return o.stays[-1].inst


def _unknown_task(
    rng: random.Random, o: Offender, legacy: Ledger, touched: set[int], keyed: Keyed
) -> None:
    posted = {m for m, _ in legacy.earned}
    idle = []
    for m in range(month_of(o.cmt_dt) + 1, month_of(o.calc_dt)):
        lo, hi = month_start(m), month_start(m + 1) - 1
        if m in touched or m in posted:
            continue
        if any(a.bgn <= hi and (a.end is None or a.end >= lo) for a in o.assignments):
            continue
        idle.append(m)
    if not idle:
        return
    m = rng.choice(idle)
    last = m
    while last + 1 in idle and last - m < 2 and rng.random() < 0.5:
        last += 1
    inst = _inst_on(o, month_start(m))
    own = {t.code.upper() for t in tasks_of(inst)}
    code = rng.choice([c for c in _UNKNOWN_CODES if c not in own])
    a = Assignment(
        asgn_id=ident(o.idx, 800 + len(o.assignments), 3),
        inst=inst,
        typ="W",
        tsk=code,
        rate=0,
        bgn=month_start(m),
        end=month_start(last + 1) - 1,
        owner=o.off_id,
        known=False,
    )
    o.assignments.append(a)
    keyed.defects.append(QualityDefect("UNKNOWN_TASK_CODE", "ASGN", (a.asgn_id,), "TSK_CD"))


def _duplicate(rng: random.Random, o: Offender, keyed: Keyed) -> None:
    dup_id = f"{700_000_000 + o.idx:09d}"
    last, first, mid = name_variant(rng, o.last_nm, o.frst_nm, o.mid_init)
    keyed.duplicate = (dup_id, last, first, mid)
    moved = [a for a in o.assignments if a.known and rng.random() < 0.5]
    if not moved and o.assignments:
        moved = [o.assignments[0]]
    for a in moved:
        a.owner = dup_id
        if a.typ == "L":
            last_day = o.calc_dt - 1 if a.end is None else a.end
            for w in o.labor:
                if w.monday + 6 >= a.bgn and w.monday <= last_day:
                    w.owner = dup_id
    for s in o.segs:
        if rng.random() < 0.5:
            s.owner = dup_id
    keyed.defects.append(
        QualityDefect("DUPLICATE_OFFENDER", "OFFNDR", (o.off_id, dup_id), "SID_NO")
    )


def key_quality_defects(
    rng: random.Random, o: Offender, legacy: Ledger, touched: set[int], rates: DefectRates
) -> Keyed:
    """Decide this offender's record-level data-quality defects."""
    keyed = Keyed()
    if rng.random() < rates.unknown_task_code:
        _unknown_task(rng, o, legacy, touched, keyed)
    if rng.random() < rates.duplicate_offender and o.dob is not None:
        _duplicate(rng, o, keyed)
    for c in o.commitments:
        j = c.jail
        if j is None or not j.certified or c.cmt_id in legacy.jail_missing:
            continue
        if legacy.jail.get(c.cmt_id) != j.days:
            continue
        if rng.random() < rates.document_disagreement:
            digits = list(j.cert_no)
            i = rng.randrange(len(digits) - 1)
            digits[i], digits[i + 1] = digits[i + 1], digits[i]
            keyed_no = "".join(digits)
            if keyed_no == j.cert_no:
                keyed_no = j.cert_no[:-1] + str((int(j.cert_no[-1]) + 1) % 10)
            keyed.cert_keyed[j.jcr_id] = keyed_no
            keyed.defects.append(
                QualityDefect("DOCUMENT_DISAGREEMENT", "JAIL_CR", (j.jcr_id,), "CERT_NO")
            )
    return keyed
