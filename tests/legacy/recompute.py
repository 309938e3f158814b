"""Recompute every offender's release date from a generated legacy database, as a reader would.

Reads only the written files: ``obscis.db`` and ``documents.csv``. Values are trimmed and upper
cased, duplicate master records (same SID_NO and DOB) are merged, the jail certificate is primary
for jail days, and task rates come from the institution's own task table. The arithmetic uses the
generator's rule primitives, so this checks what was written, not the primitives themselves.
"""

from __future__ import annotations

import csv
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from cutover.legacy.credits import (
    apply_cap,
    earned_by_month,
    gc_rate_for,
    gc_total,
    max_expiration,
    month_amounts,
)
from cutover.legacy.facts import Assignment, Commitment, Segregation


def parse(text: str) -> int | None:
    text = text.strip()
    if text in ("", "00000000", "99999999"):
        return None
    return date(int(text[:4]), int(text[4:6]), int(text[6:])).toordinal()


def norm(text: str) -> str:
    return text.strip().upper()


@dataclass
class Person:
    off_id: str
    ids: set[str] = field(default_factory=set)
    commitments: list[Commitment] = field(default_factory=list)
    jail_posted: dict[str, int] = field(default_factory=dict)
    assignments: list[Assignment] = field(default_factory=list)
    segs: list[Segregation] = field(default_factory=list)
    labor: dict[int, int] = field(default_factory=dict)
    infractions: list[tuple[int, int, int]] = field(default_factory=list)


def recompute(out: Path) -> dict[str, int | None]:
    """OFF_ID -> recomputed MS date ordinal (None for lifers)."""
    conn = sqlite3.connect(out / "obscis.db")
    q = conn.execute
    owner: dict[str, str] = {}
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for off_id, sid, dob in q("SELECT OFF_ID, SID_NO, DOB FROM OFFNDR ORDER BY OFF_ID"):
        groups[(sid, dob)].append(off_id)
    with_calc = {r[0] for r in q("SELECT OFF_ID FROM REL_CALC")}
    people: dict[str, Person] = {}
    for ids in groups.values():
        primary = next(i for i in ids if i in with_calc)
        people[primary] = Person(primary, set(ids))
        for i in ids:
            owner[i] = primary
    rates = {
        (norm(i), norm(t)): r for i, t, r in q("SELECT INST_CD, TSK_CD, CR_RATE FROM INST_TSK")
    }
    certificates: dict[tuple[str, str], int] = {}
    with (out / "documents.csv").open(encoding="utf-8") as fh:
        for doc in csv.DictReader(fh):
            if doc["DOC_TYP"] == "JAIL_CERT":
                certificates[(doc["OFF_ID"], doc["SENT_BGN_DT"])] = int(doc["JAIL_DAYS"])
    cmt_rows = q(
        "SELECT CMT_ID, OFF_ID, SENT_BGN_DT, TERM_YRS, TERM_MOS, TERM_DYS, CONS_TO_CMT_ID,"
        " LIFE_FLG, CMT_DT, OFNS_CLS, SENT_DT FROM CMT ORDER BY CMT_ID"
    ).fetchall()
    for cmt_id, off, bgn, y, m, d, cons, life, cmt_dt, cls, sent in cmt_rows:
        if off not in owner:
            continue
        p = people[owner[off]]
        c = Commitment(
            cmt_id,
            "",
            "",
            "",
            norm(cls),
            parse(sent) or 0,
            parse(bgn) or 0,
            y,
            m,
            d,
            cons.strip() or None,
            life == "Y",
            parse(cmt_dt) or 0,
            "",
        )
        p.commitments.append(c)
        cert = certificates.get((off, bgn))
        if cert is not None:
            p.jail_posted[cmt_id] = cert
    for cmt_id, off, days in q("SELECT CMT_ID, OFF_ID, CR_DAYS FROM JAIL_CR"):
        if off in owner:
            p = people[owner[off]]
            bgn = next(c.sent_bgn for c in p.commitments if c.cmt_id == cmt_id)
            if (off, date.fromordinal(bgn).strftime("%Y%m%d")) not in certificates:
                p.jail_posted[cmt_id] = int(days)
    for aid, off, inst, typ, tsk, bgn, end in q("SELECT * FROM ASGN ORDER BY ASGN_ID"):
        rate = rates.get((norm(inst), norm(tsk)))
        if off not in owner or rate is None:
            continue
        people[owner[off]].assignments.append(
            Assignment(
                aid, norm(inst), norm(typ), norm(tsk), rate, parse(bgn) or 0, parse(end), owner[off]
            )
        )
    for sid, off, inst, typ, bgn, end in q("SELECT * FROM SEG ORDER BY SEG_ID"):
        if off in owner:
            people[owner[off]].segs.append(
                Segregation(sid, norm(inst), norm(typ), parse(bgn) or 0, parse(end), off)
            )
    for off, _inst, wk, days in q("SELECT * FROM LBR_LOG"):
        if off in owner:
            people[owner[off]].labor[parse(wk) or 0] = days
    for _iid, off, dt, _rule, gc, sp, _hrg in q("SELECT * FROM INFR"):
        if off in owner:
            people[owner[off]].infractions.append((parse(dt) or 0, gc, sp))
    result: dict[str, int | None] = {}
    for off, calc_text in q("SELECT OFF_ID, CALC_DT FROM REL_CALC"):
        p = people[off]
        if any(c.life for c in p.commitments):
            result[off] = None
            continue
        calc = parse(calc_text) or 0
        cmt_dt = min(c.cmt_dt for c in p.commitments)
        max_exp = max_expiration(p.commitments, p.jail_posted)
        gc = gc_total(gc_rate_for(p.commitments), cmt_dt, max_exp)
        credits = earned_by_month(p.assignments, p.segs, p.labor, cmt_dt, calc)
        earned = sum(sum(apply_cap(month_amounts(m, mc))) for m, mc in credits.items())
        rg = sum(gc_days for dt, gc_days, _ in p.infractions if dt < calc)
        rs = sum(sp_days for dt, _, sp_days in p.infractions if dt < calc)
        result[off] = max_exp - (gc - rg) - (earned - rs)
    conn.close()
    return result
