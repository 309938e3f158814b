"""Typed facts about one offender: the seam between the target schema and the rule packs.

A reader from the target database builds these; the rules read nothing else. Every fact carries
the key of the row it came from (``key``), so that an explanation can cite its evidence. Codes are
already normalized (trimmed, upper case) and dates already parsed: an unknown or impossible date
is ``None`` where the column allows it, and a still-open period has ``end=None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

__all__ = [
    "AssignmentFact",
    "AssignmentType",
    "CommitmentFact",
    "InfractionFact",
    "JailCertificateFact",
    "JailCreditFact",
    "LaborPoolWeekFact",
    "LedgerEntryFact",
    "LedgerType",
    "LegacyCalcFact",
    "OffenderFacts",
    "SegregationFact",
]

AssignmentType = Literal["W", "E", "L", "S"]
LedgerType = Literal["GC", "WT", "ED", "SP", "RG", "RS"]


@dataclass(frozen=True, slots=True)
class CommitmentFact:
    """One sentence (``CMT``)."""

    key: str
    offense_class: str
    sentence_begin: date
    term_years: int
    term_months: int
    term_days: int
    life: bool = False
    #: The commitment this one runs consecutive to; ``None`` = concurrent.
    consecutive_to: str | None = None
    #: First day in the department's custody (``CMT_DT``).
    custody_date: date | None = None


@dataclass(frozen=True, slots=True)
class JailCreditFact:
    """Local-jail credit as posted (``JAIL_CR``)."""

    key: str
    commitment_key: str
    days: int
    cert_no: str | None = None


@dataclass(frozen=True, slots=True)
class JailCertificateFact:
    """A jail certificate from the document index: the primary file for jail days."""

    key: str
    sentence_begin: date
    days: int
    cert_no: str | None = None


@dataclass(frozen=True, slots=True)
class AssignmentFact:
    """A work, education, labor-pool or special-project assignment (``ASGN``)."""

    key: str
    institution: str
    type: AssignmentType
    task_code: str
    #: The task's canonical name across institutions (``None`` when the code is unknown).
    canonical_task: str | None
    #: Credits a full month earns, from the institution's task table in effect.
    rate: int | Decimal
    begin: date
    end: date | None = None


@dataclass(frozen=True, slots=True)
class SegregationFact:
    """A period in segregation (``SEG``)."""

    key: str
    type: str
    begin: date
    end: date | None = None


@dataclass(frozen=True, slots=True)
class LaborPoolWeekFact:
    """One week of labor-pool documentation (``LBR_LOG``); ``week_begin`` is a Monday."""

    key: str
    week_begin: date
    days_worked: int


@dataclass(frozen=True, slots=True)
class InfractionFact:
    """An adjudicated rule violation (``INFR``) and the credits it revokes."""

    key: str
    date: date
    gc_revoked: int = 0
    sp_revoked: int = 0


@dataclass(frozen=True, slots=True)
class LedgerEntryFact:
    """One posting in the legacy credit ledger (``CR_TXN``); ``month`` is its first day."""

    key: str
    type: LedgerType
    month: date
    days: int
    #: Entry date; ``None`` when the legacy value was unknown or impossible.
    entered: date | None = None


@dataclass(frozen=True, slots=True)
class LegacyCalcFact:
    """The legacy system's own computation (``REL_CALC``); ``None`` where it computed nothing."""

    key: str
    max_expiration: date | None
    ms_release: date | None
    calc_date: date
    actual_release: date | None = None
    release_type: str | None = None


@dataclass(frozen=True, slots=True)
class OffenderFacts:
    """Everything the rules need about one person."""

    person_id: str
    status: str
    commitments: tuple[CommitmentFact, ...]
    legacy: LegacyCalcFact
    jail_credits: tuple[JailCreditFact, ...] = ()
    jail_certificates: tuple[JailCertificateFact, ...] = ()
    assignments: tuple[AssignmentFact, ...] = ()
    segregations: tuple[SegregationFact, ...] = ()
    labor_pool: tuple[LaborPoolWeekFact, ...] = ()
    infractions: tuple[InfractionFact, ...] = ()
    ledger: tuple[LedgerEntryFact, ...] = field(default=())

    @property
    def as_of(self) -> date:
        """The as-of date: the legacy computation's ``CALC_DT``."""
        return self.legacy.calc_date

    @property
    def is_lifer(self) -> bool:
        """Whether any sentence is a life sentence (no mandatory supervision date)."""
        return any(c.life for c in self.commitments)

    @property
    def custody_date(self) -> date | None:
        """The first day in the department's custody: the earliest ``CMT_DT`` of the commitments."""
        days = [c.custody_date for c in self.commitments if c.custody_date is not None]
        return min(days) if days else None
