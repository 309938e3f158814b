"""Writing one offender as legacy rows: CHAR padding, sentinels, and per-value keying defects.

Code values drift (lower case, or a leading space where the width allows) and non-critical dates
are keyed as impossible calendar dates at the rates given; each such value is recorded in the
answer key. Orphan rows left by a deleted twin are written here too.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from cutover.legacy.answers import QualityDefect, ReleaseDefect
from cutover.legacy.calendar import TODAY, days_in_month, fmt_date, fmt_month, month_of, month_start
from cutover.legacy.credits import gc_rows
from cutover.legacy.facts import CREDIT_TYPES, Offender, ident
from cutover.legacy.ledger import Ledger
from cutover.legacy.quality import Keyed
from cutover.legacy.rates import DefectRates
from cutover.legacy.reference import tasks_of
from cutover.legacy.users import Staff

__all__ = ["BLANK_DATE", "OPEN", "UNKNOWN", "Keyer", "OffenderRows", "Row", "render_offender"]

UNKNOWN = "00000000"
OPEN = "99999999"
BLANK_DATE = " " * 8

Row = tuple[object, ...]
_DAYS = tuple(f"{n:03d}" for n in range(1000))


@dataclass(slots=True)
class OffenderRows:
    tables: dict[str, list[Row]] = field(default_factory=dict)
    documents: list[tuple[str, ...]] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    #: Codes of the data-quality lines among ``answers``.
    quality_codes: list[str] = field(default_factory=list)

    def add(self, table: str, row: Row) -> None:
        self.tables.setdefault(table, []).append(row)


class Keyer:
    """Keys values the way the old screens allowed: drifted codes and impossible dates."""

    def __init__(self, rng: random.Random, rates: DefectRates, out: list[QualityDefect]) -> None:
        self.rng = rng
        self.drift_rate = rates.code_case_drift
        self.date_rate = rates.impossible_date
        self.out = out

    def code(self, value: str, width: int, table: str, keys: tuple[str, ...], column: str) -> str:
        if not value or self.rng.random() >= self.drift_rate:
            return value.ljust(width)
        return self.drifted(value, width, table, keys, column)

    def drifted(
        self, value: str, width: int, table: str, keys: tuple[str, ...], column: str
    ) -> str:
        """``value`` keyed lower case or with a leading space, recorded; as is if neither fits."""
        padded = value.ljust(width)
        lower = value.lower()
        options = []
        if lower != value:
            options.append(lower.ljust(width))
        if len(value) < width:
            options.append((" " + value).ljust(width))
        if not options:
            return padded
        drifted = self.rng.choice(options)
        self.out.append(QualityDefect("CODE_CASE_DRIFT", table, keys, column))
        return drifted

    def loose_date(self, day: int, table: str, keys: tuple[str, ...], column: str) -> str:
        """A non-critical date, keyed as an impossible day of the same month at the given rate."""
        if self.rng.random() >= self.date_rate:
            return fmt_date(day)
        return self.impossible(day, table, keys, column)

    def impossible(self, day: int, table: str, keys: tuple[str, ...], column: str) -> str:
        """The day keyed as day 31 of a 30-day month, or 29/30 of a February; recorded.

        Months of 31 days keep the true date: the old screens accepted at most day 31.
        """
        text = fmt_date(day)
        n = days_in_month(month_of(day))
        if n == 31:
            return text
        self.out.append(QualityDefect("IMPOSSIBLE_DATE", table, keys, column))
        return f"{text[:6]}{n + 1:02d}"


def _d(day: int | None, open_value: str = OPEN) -> str:
    return open_value if day is None else fmt_date(day)


def _term(years: int, months: int, days: int, life: bool) -> str:
    return "LIFE" if life else f"{years}Y {months}M {days}D"


def render_offender(
    rng: random.Random,
    o: Offender,
    legacy: Ledger,
    legacy_ms: int,
    defects: list[ReleaseDefect],
    keyed: Keyed,
    staff: Staff,
    rates: DefectRates,
) -> OffenderRows:
    """Every row of one offender in every table, plus documents and answer-key lines."""
    out = OffenderRows()
    dq: list[QualityDefect] = list(keyed.defects)
    k = Keyer(rng, rates, dq)
    off = o.off_id
    first_cmt = o.commitments[0].cmt_id
    first_inst = o.stays[0].inst

    # master record and its duplicate
    out.add(
        "OFFNDR",
        (
            off,
            o.sid_no,
            o.last_nm.ljust(20),
            o.frst_nm.ljust(15),
            o.mid_init,
            _d(o.dob, UNKNOWN),
            k.code(o.sex, 1, "OFFNDR", (off,), "SEX_CD"),
            k.code(o.race, 1, "OFFNDR", (off,), "RACE_CD"),
            k.code(o.stays[-1].inst, 4, "OFFNDR", (off,), "CUR_INST_CD"),
            k.code(o.status, 2, "OFFNDR", (off,), "STAT_CD"),
            k.loose_date(o.upd_dt, "OFFNDR", (off,), "LST_UPD_DT"),
            o.upd_usr,
        ),
    )
    if keyed.duplicate is not None:
        dup_id, last, first, mid = keyed.duplicate
        out.add(
            "OFFNDR",
            (
                dup_id,
                o.sid_no,
                last.ljust(20),
                first.ljust(15),
                mid,
                _d(o.dob, UNKNOWN),
                o.sex,
                o.race,
                first_inst.ljust(4),
                o.status.ljust(2),
                fmt_date(min(o.cmt_dt + 90, TODAY)),
                o.upd_usr,
            ),
        )

    # commitments, jail credit, documents
    for c in o.commitments:
        cid = c.cmt_id
        out.add(
            "CMT",
            (
                cid,
                off,
                c.dkt_no.ljust(12),
                c.cnty,
                k.code(c.ofns_cd, 6, "CMT", (cid,), "OFNS_CD"),
                k.code(c.ofns_cls, 1, "CMT", (cid,), "OFNS_CLS"),
                fmt_date(c.sent_dt),
                fmt_date(c.sent_bgn),
                c.years,
                c.months,
                c.days,
                (c.cons_to or "").ljust(10),
                "Y" if c.life else "N",
                fmt_date(c.cmt_dt),
            ),
        )
        out.documents.append(
            (
                c.doc_id,
                off,
                "COMMITMENT_ORDER",
                k.loose_date(
                    min(c.sent_dt + rng.randint(20, 900), TODAY),
                    "DOC_IDX",
                    (c.doc_id,),
                    "IDX_DT",
                ),
                fmt_date(c.sent_bgn),
                _term(c.years, c.months, c.days, c.life),
                "",
                "",
            )
        )
        j = c.jail
        if j is None:
            continue
        if cid not in legacy.jail_missing:
            jid = j.jcr_id
            out.add(
                "JAIL_CR",
                (
                    jid,
                    off,
                    cid,
                    fmt_date(j.from_dt),
                    fmt_date(j.to_dt),
                    f"{legacy.jail.get(cid, j.days):03d}",
                    keyed.cert_keyed.get(jid, j.cert_no).ljust(10),
                    j.post_usr,
                    k.loose_date(j.post_dt, "JAIL_CR", (jid,), "POST_DT"),
                ),
            )
        if j.certified:
            out.documents.append(
                (
                    j.doc_id,
                    off,
                    "JAIL_CERT",
                    k.loose_date(
                        min(j.post_dt + rng.randint(5, 600), TODAY),
                        "DOC_IDX",
                        (j.doc_id,),
                        "IDX_DT",
                    ),
                    fmt_date(c.sent_bgn),
                    "",
                    str(j.days),
                    j.cert_no,
                )
            )

    # the credit ledger
    txn_of: dict[tuple[int, int], str] = {}
    rg_txns: dict[str, list[str]] = {}
    ledger_rows = out.tables.setdefault("CR_TXN", [])
    prefix = f"{o.idx:07d}"
    seq = 0
    rand = rng.random
    drift = rates.code_case_drift * 2
    date_rate = rates.impossible_date
    calc_month = month_of(o.calc_dt)

    def txn(cr_typ: str, month: int, days: int, inst: str, tsk: str, usr: str, ent: int) -> str:
        nonlocal seq
        tid = f"{prefix}{seq:05d}"
        seq += 1
        typ, inst_v, tsk_v = cr_typ, inst.ljust(4), tsk.ljust(6)
        if rand() < drift:
            column = rng.choice(("CR_TYP", "INST_CD", "TSK_CD") if tsk else ("CR_TYP", "INST_CD"))
            if column == "CR_TYP":
                typ = k.drifted(cr_typ, 2, "CR_TXN", (tid,), column)
            elif column == "INST_CD":
                inst_v = k.drifted(inst, 4, "CR_TXN", (tid,), column)
            else:
                tsk_v = k.drifted(tsk, 6, "CR_TXN", (tid,), column)
        if rand() < date_rate and month_of(ent) < calc_month:
            ent_v = k.impossible(ent, "CR_TXN", (tid,), "ENT_DT")
        else:
            ent_v = fmt_date(ent)
        ledger_rows.append(
            (tid, off, first_cmt, typ, fmt_month(month), _DAYS[days], inst_v, tsk_v, usr, ent_v)
        )
        return tid

    if not o.lifer:
        # good conduct is most of the ledger: the same row as txn() builds, without the call
        gc_user = staff.pick(rng, first_inst, "CMST")
        gc_inst = first_inst.ljust(4)
        gc_ent = fmt_date(o.cmt_dt)
        blank_task = " " * 6
        append = ledger_rows.append
        for month, days in gc_rows(legacy.gc_rate, o.cmt_dt, legacy.max_exp(o)):
            tid = f"{prefix}{seq:05d}"
            seq += 1
            typ, inst_v, ent_v = "GC", gc_inst, gc_ent
            if rand() < drift:
                if rand() < 0.5:
                    typ = k.drifted("GC", 2, "CR_TXN", (tid,), "CR_TYP")
                else:
                    inst_v = k.drifted(first_inst, 4, "CR_TXN", (tid,), "INST_CD")
            if rand() < date_rate:
                ent_v = k.impossible(o.cmt_dt, "CR_TXN", (tid,), "ENT_DT")
            append(
                (
                    tid,
                    off,
                    first_cmt,
                    typ,
                    fmt_month(month),
                    _DAYS[days],
                    inst_v,
                    blank_task,
                    gc_user,
                    ent_v,
                )
            )
    posters: dict[str, str] = {}
    for (month, t), days in sorted(legacy.earned.items()):
        a = legacy.earned_top[(month, t)]
        usr = posters.get(a.inst)
        if usr is None:
            usr = posters[a.inst] = staff.pick(rng, a.inst, "CMGR")
        txn_of[(month, t)] = txn(
            CREDIT_TYPES[t], month, days, a.inst, a.tsk, usr, month_start(month + 1)
        )
    for infr in o.infractions:
        if infr.gc_days > 0:
            times = legacy.rg_posted.get(infr.infr_id, 0) if infr.dt < o.calc_dt else 1
            for _ in range(times):
                rg_txns.setdefault(infr.infr_id, []).append(
                    txn("RG", month_of(infr.dt), infr.gc_days, infr.inst, "", infr.usr, infr.hrg_dt)
                )
        if infr.sp_days > 0:
            txn("RS", month_of(infr.dt), infr.sp_days, infr.inst, "", infr.usr, infr.hrg_dt)

    # assignments, labor-pool log, segregation, infractions
    for a in o.assignments:
        aid = a.asgn_id
        if a.known:
            inst_v = k.code(a.inst, 4, "ASGN", (aid,), "INST_CD")
            typ_v = k.code(a.typ, 1, "ASGN", (aid,), "ASGN_TYP")
            tsk_v = k.code(a.tsk, 6, "ASGN", (aid,), "TSK_CD")
        else:
            inst_v, typ_v, tsk_v = a.inst.ljust(4), a.typ, a.tsk.ljust(6)
        out.add("ASGN", (aid, a.owner, inst_v, typ_v, tsk_v, fmt_date(a.bgn), _d(a.end)))
        if a.typ == "L" and rng.random() < 0.5:
            doc_id = ident(o.idx, 100 + len(out.documents), 3)
            idx_dt = min((a.end or TODAY) + rng.randint(10, 200), TODAY)
            out.documents.append(
                (
                    doc_id,
                    off,
                    "WORK_LOG",
                    k.loose_date(idx_dt, "DOC_IDX", (doc_id,), "IDX_DT"),
                    "",
                    "",
                    "",
                    "",
                )
            )
    for w in o.labor:
        wk = fmt_date(w.monday)
        out.add(
            "LBR_LOG",
            (
                w.owner,
                k.code(w.inst, 4, "LBR_LOG", (w.owner, wk), "INST_CD"),
                wk,
                w.days_worked,
            ),
        )
    for s in o.segs:
        sid = s.seg_id
        out.add(
            "SEG",
            (
                sid,
                s.owner,
                k.code(s.inst, 4, "SEG", (sid,), "INST_CD"),
                k.code(s.typ, 2, "SEG", (sid,), "SEG_TYP"),
                fmt_date(s.bgn),
                _d(s.end),
            ),
        )
    for infr in o.infractions:
        iid = infr.infr_id
        out.add(
            "INFR",
            (
                iid,
                off,
                fmt_date(infr.dt),
                k.code(infr.rule, 4, "INFR", (iid,), "RULE_CD"),
                infr.gc_days,
                infr.sp_days,
                k.loose_date(infr.hrg_dt, "INFR", (iid,), "HRG_DT"),
            ),
        )

    # the legacy system's own computation
    if o.lifer:
        max_v, ms_v = OPEN, UNKNOWN
    else:
        max_v, ms_v = fmt_date(legacy.max_exp(o)), fmt_date(legacy_ms)
    act_v = _d(o.act_rel, UNKNOWN if rng.random() < 0.7 else BLANK_DATE)
    out.add(
        "REL_CALC",
        (
            off,
            max_v,
            ms_v,
            fmt_date(o.calc_dt),
            act_v,
            k.code(o.rel_typ, 2, "REL_CALC", (off,), "REL_TYP"),
        ),
    )

    # answer key: release-date causes with their rows, then data-quality findings
    for d in defects:
        for key in d.earned_keys:
            if key in txn_of:
                d.add_rows("CR_TXN", txn_of[key])
        for infr_id in d.infractions:
            d.add_rows("CR_TXN", *rg_txns.get(infr_id, []))
        out.answers.append(d.to_json())
    if rng.random() < rates.orphan_row:
        _orphans(rng, o, out, dq)
    out.answers.extend(q.to_json() for q in dq)
    out.quality_codes.extend(q.code for q in dq)
    return out


def _orphans(rng: random.Random, o: Offender, out: OffenderRows, dq: list[QualityDefect]) -> None:
    """Rows a deleted twin record left behind: their OFF_ID is in no OFFNDR row."""
    ghost = f"{800_000_000 + o.idx:09d}"
    cmt = ident(o.idx, 900, 3)
    inst = o.stays[0].inst.ljust(4)
    month = month_of(o.cmt_dt)
    for i in range(rng.randint(1, 4)):
        tid = ident(o.idx, 90_000 + i, 5)
        out.add(
            "CR_TXN",
            (
                tid,
                ghost,
                cmt,
                "GC",
                fmt_month(month + i),
                "010",
                inst,
                " " * 6,
                o.upd_usr,
                fmt_date(o.cmt_dt),
            ),
        )
        dq.append(QualityDefect("ORPHAN_ROW", "CR_TXN", (tid,), "OFF_ID"))
    if rng.random() < 0.5:
        aid = ident(o.idx, 900, 3)
        task = tasks_of(o.stays[0].inst, "W")[0].code.ljust(6)
        out.add("ASGN", (aid, ghost, inst, "W", task, fmt_date(o.cmt_dt), fmt_date(o.cmt_dt + 30)))
        dq.append(QualityDefect("ORPHAN_ROW", "ASGN", (aid,), "OFF_ID"))
    if rng.random() < 0.3:
        iid = ident(o.idx, 900, 3)
        out.add("INFR", (iid, ghost, fmt_date(o.cmt_dt + 5), "100 ", 0, 0, fmt_date(o.cmt_dt + 9)))
        dq.append(QualityDefect("ORPHAN_ROW", "INFR", (iid,), "OFF_ID"))
