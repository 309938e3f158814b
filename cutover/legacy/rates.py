"""Defect rates: every rate is an option of the generator, with the defaults the audits suggest."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from cutover.errors import ConfigError

__all__ = ["DefectRates"]


@dataclass(frozen=True, slots=True)
class DefectRates:
    """Probabilities of each injected defect.

    Release-date rates are per eligible offender (one whose facts allow the defect); the defaults
    leave roughly one in three offenders released on mandatory supervision with a wrong date.
    Data-quality rates are per value, row, offender or account as each field says.
    """

    #: WT posted for a month as if segregation days were eligible (offenders with such a month).
    work_credit_during_segregation: float = 0.30
    #: JAIL_CR days keyed wrong or the row never posted (offenders with a jail certificate).
    jail_credit_misposted: float = 0.09
    #: WT/ED/SP posted for a month no assignment of that type covers.
    credit_without_assignment: float = 0.05
    #: A month an assignment covers with no posting.
    assignment_without_credit: float = 0.04
    #: WT posted for labor-pool weeks without three documented days (offenders with such weeks).
    undocumented_labor_pool: float = 0.35
    #: A month's earned credits posted above the cap (offenders with a month over the cap).
    monthly_cap_exceeded: float = 0.40
    #: An infraction's revocation not posted or posted twice (offenders with a revocation).
    revocation_mismatch: float = 0.12
    #: Good conduct posted at 10 for a V or D term (eligible short terms).
    good_conduct_rate: float = 0.5
    #: Share of values in ENT_DT, POST_DT, LST_UPD_DT, LST_LOGIN_DT, IDX_DT, HRG_DT keyed as
    #: impossible calendar dates.
    impossible_date: float = 0.004
    #: Offenders with an assignment under a task code their institution does not have.
    unknown_task_code: float = 0.01
    #: Offenders whose deleted twin left orphan rows behind.
    orphan_row: float = 0.005
    #: Offenders keyed twice (a second OFFNDR row for the same person).
    duplicate_offender: float = 0.01
    #: Employees with a second user account.
    duplicate_user: float = 0.03
    #: Correctional officers holding case-management update access.
    excess_screen_access: float = 0.10
    #: Jail certificates whose CERT_NO was keyed differently in JAIL_CR.
    document_disagreement: float = 0.02
    #: Share of code values keyed lower case or with a leading space.
    code_case_drift: float = 0.01

    def __post_init__(self) -> None:
        bad = [f.name for f in fields(self) if not 0.0 <= getattr(self, f.name) <= 1.0]
        if bad:
            raise ConfigError(
                f"defect rates must lie between 0 and 1: {', '.join(bad)}",
                hint="pass a probability such as 0.05",
            )

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def none(cls) -> DefectRates:
        """No defect at all: a legacy database whose every date is right."""
        return cls(**{f.name: 0.0 for f in fields(cls)})
