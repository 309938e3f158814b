"""The parameters of the Maryland diminution pack: every number and convention of the rules file.

Schedules are effective-dated: the row in effect on a date is the last one whose
``effective_from`` is on or before it. A later amendment is one more row.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from validation.dates import RoundingMode
from validation.registry import register_parameters

__all__ = [
    "CapRow",
    "EarnedParams",
    "GoodConductParams",
    "GoodConductRow",
    "LaborPoolParams",
    "MdDiminutionParams",
    "MonthlyCapParams",
    "ReleaseParams",
    "RevocationParams",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


R = TypeVar("R", "GoodConductRow", "CapRow")


def _in_effect(rows: tuple[R, ...], day: date) -> R:
    chosen = rows[0]
    for row in rows:
        if row.effective_from <= day:
            chosen = row
    return chosen


def _check_sorted(rows: tuple[GoodConductRow, ...] | tuple[CapRow, ...]) -> None:
    dates = [r.effective_from for r in rows]
    if dates != sorted(dates) or len(set(dates)) != len(dates):
        raise ValueError("schedule rows must have increasing, distinct effective_from dates")


class GoodConductRow(_Frozen):
    """Good-conduct rates for terms whose latest sentence began on or after ``effective_from``."""

    effective_from: date
    rate: Decimal = Field(ge=0)
    reduced_rate: Decimal = Field(ge=0)
    #: Offense classes that put the whole term on ``reduced_rate``.
    reduced_classes: frozenset[str] = frozenset()


class GoodConductParams(_Frozen):
    """Good conduct, deducted in advance for ``[CMT_DT, MAX_EXP_DT)``."""

    #: Which sentence begin date selects the schedule row: the term's rate follows the latest one
    #: (a term whose sentences all began before a change stays on the old rate).
    selected_by: Literal["latest_sentence_begin"] = "latest_sentence_begin"
    #: Share of a month = rate x days in the period / days in the month, summed exactly.
    proration: Literal["calendar_month_share"] = "calendar_month_share"
    #: The total is rounded once (not month by month).
    round_at: Literal["total"] = "total"
    schedule: tuple[GoodConductRow, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _sorted(self) -> GoodConductParams:
        _check_sorted(self.schedule)
        return self

    def row_for(self, day: date) -> GoodConductRow:
        """The row in effect for a term whose latest sentence began on ``day``."""
        return _in_effect(self.schedule, day)


class LaborPoolParams(_Frozen):
    """Labor-pool documentation: a day counts only in a well-documented week."""

    assignment_types: frozenset[str] = frozenset({"L"})
    week_starts_on: Literal["monday"] = "monday"
    min_days_per_week: int = Field(ge=0)


class EarnedParams(_Frozen):
    """Work, education and special-project credits, prorated by eligible days."""

    #: Ledger credit type of each assignment type.
    credit_types: dict[str, str]
    #: Segregation types during which no credit accrues.
    segregation_stops_accrual: frozenset[str]
    labor_pool: LaborPoolParams
    #: Amount per month and type = rate x eligible days / days in month, summed over the type's
    #: assignments, then rounded.
    round_at: Literal["month_and_type"] = "month_and_type"


class CapRow(_Frozen):
    """The monthly cap in effect from ``effective_from`` (by the month's first day)."""

    effective_from: date
    cap: int = Field(ge=0)
    #: A higher cap for terms with none of ``higher_cap_excluded_classes`` (a later amendment).
    higher_cap: int | None = Field(default=None, ge=0)
    higher_cap_excluded_classes: frozenset[str] = frozenset()


class MonthlyCapParams(_Frozen):
    """Earned credits together may not exceed the cap in a month; capped in ``order``."""

    order: tuple[str, ...]
    schedule: tuple[CapRow, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _sorted(self) -> MonthlyCapParams:
        _check_sorted(self.schedule)
        return self

    def cap_for(self, month: date, classes: frozenset[str]) -> int:
        """The cap of ``month`` for a term with the given offense classes."""
        if len(self.schedule) == 1 and self.schedule[0].higher_cap is None:
            return self.schedule[0].cap
        row: CapRow = _in_effect(self.schedule, month)
        if row.higher_cap is not None and not (classes & row.higher_cap_excluded_classes):
            return row.higher_cap
        return row.cap


class RevocationParams(_Frozen):
    """Which ledger types revoke which credit; revocation never exceeds what was awarded."""

    #: Revocation ledger type -> the credit type it revokes.
    revokes: dict[str, str]
    #: The credit type ``INFR.SP_REVK_DYS`` revokes (good conduct is the other).
    special_project_type: str = "SP"
    floor_at_awarded: bool = True


class ReleaseParams(_Frozen):
    """How a comparison judges a person's release."""

    #: Release types that are mandatory supervision releases (judged against the MS date).
    mandatory_supervision_types: frozenset[str] = frozenset({"MS"})


@register_parameters("md_diminution")
class MdDiminutionParams(_Frozen):
    """All parameters of the pack."""

    rounding: RoundingMode = "half_up"
    #: Whether a period's end date is one of its days (the rules file's convention: yes).
    period_end_inclusive: bool = True
    good_conduct: GoodConductParams
    earned: EarnedParams
    monthly_cap: MonthlyCapParams
    revocation: RevocationParams
    release: ReleaseParams = ReleaseParams()

    @model_validator(mode="after")
    def _consistent(self) -> MdDiminutionParams:
        types = set(self.earned.credit_types.values())
        if set(self.monthly_cap.order) != types:
            raise ValueError(
                f"monthly_cap.order {list(self.monthly_cap.order)} must list exactly the earned "
                f"credit types {sorted(types)}"
            )
        return self
