"""The clean facts of one offender's story: what really happened, before any defect is keyed.

Dates are ordinals (see ``calendar``); ``None`` as an end date means the period is still open.
``owner`` fields name the ``OFF_ID`` a row is written under: the offender's own, or a duplicate
master record's when a data-quality defect moved the row there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "CREDIT_TYPES",
    "Assignment",
    "Commitment",
    "Infraction",
    "Jail",
    "LaborWeek",
    "MonthCredit",
    "Offender",
    "Segregation",
    "Stay",
    "credit_type_index",
    "ident",
]

#: Earned-credit types in the order the monthly cap is applied.
CREDIT_TYPES: tuple[str, str, str] = ("WT", "ED", "SP")

_TYPE_INDEX = {"W": 0, "L": 0, "E": 1, "S": 2}


def ident(idx: int, k: int, width: int) -> str:
    """A zero-padded identifier: the offender's index (7 digits) then a per-offender sequence."""
    return f"{idx:07d}{k:0{width}d}"


def credit_type_index(assignment_type: str) -> int:
    """Index in ``CREDIT_TYPES`` of the credit an assignment type earns (W and L earn WT)."""
    return _TYPE_INDEX[assignment_type]


@dataclass(slots=True)
class MonthCredit:
    """One month's earned-credit numerators (rate x eligible days) per type, and top earners."""

    nums: list[int] = field(default_factory=lambda: [0, 0, 0])
    top: list[Assignment | None] = field(default_factory=lambda: [None, None, None])
    top_value: list[int] = field(default_factory=lambda: [0, 0, 0])


@dataclass(slots=True)
class Jail:
    """Local-jail time credited to one commitment, as the jail certificate states it."""

    jcr_id: str
    from_dt: int
    to_dt: int
    cert_no: str
    doc_id: str
    post_usr: str
    post_dt: int
    #: False when no certificate reached the document index (the posted days then count).
    certified: bool = True

    @property
    def days(self) -> int:
        return self.to_dt - self.from_dt + 1


@dataclass(slots=True)
class Commitment:
    cmt_id: str
    dkt_no: str
    cnty: str
    ofns_cd: str
    ofns_cls: str
    sent_dt: int
    sent_bgn: int
    years: int
    months: int
    days: int
    cons_to: str | None
    life: bool
    cmt_dt: int
    doc_id: str
    jail: Jail | None = None


@dataclass(slots=True)
class Stay:
    inst: str
    bgn: int
    end: int  # inclusive


@dataclass(slots=True)
class Assignment:
    asgn_id: str
    inst: str
    typ: str
    tsk: str
    rate: int
    bgn: int
    end: int | None
    owner: str
    #: False for a task code the institution's catalogue does not hold (earns nothing).
    known: bool = True


@dataclass(slots=True)
class Segregation:
    seg_id: str
    inst: str
    typ: str
    bgn: int
    end: int | None
    owner: str


@dataclass(slots=True)
class LaborWeek:
    monday: int
    inst: str
    days_worked: int
    owner: str


@dataclass(slots=True)
class Infraction:
    infr_id: str
    dt: int
    rule: str
    gc_days: int
    sp_days: int
    hrg_dt: int
    inst: str
    usr: str


@dataclass(slots=True)
class Offender:
    idx: int
    off_id: str
    sid_no: str
    last_nm: str
    frst_nm: str
    mid_init: str
    dob: int | None
    sex: str
    race: str
    cmt_dt: int
    lifer: bool
    commitments: list[Commitment] = field(default_factory=list)
    stays: list[Stay] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    segs: list[Segregation] = field(default_factory=list)
    labor: list[LaborWeek] = field(default_factory=list)
    infractions: list[Infraction] = field(default_factory=list)
    calc_dt: int = 0
    status: str = "IN"
    rel_typ: str = ""
    #: Actual release date, or None while inside.
    act_rel: int | None = None
    gc_rate: int = 10
    max_exp: int = 0
    #: Off-ID of a duplicate master record keyed for the same person, if any.
    duplicate_id: str | None = None
    upd_usr: str = ""
    upd_dt: int = 0
    #: Clean earned-credit numerators per month for the months before ``calc_dt``.
    credits: dict[int, MonthCredit] = field(default_factory=dict)
    #: The same months' amounts per type, rounded, before the cap.
    amounts: dict[int, tuple[int, int, int]] = field(default_factory=dict)

    def labor_days(self) -> dict[int, int]:
        """Documented days worked per labor-pool week (Monday ordinal)."""
        return {w.monday: w.days_worked for w in self.labor}
