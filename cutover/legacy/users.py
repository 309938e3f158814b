"""User accounts and screen grants, with the Mississippi report's access defects."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from cutover.legacy.answers import QualityDefect
from cutover.legacy.calendar import ordinal
from cutover.legacy.names import FIRST_NAMES_F, FIRST_NAMES_M, LAST_NAMES, name_variant
from cutover.legacy.rates import DefectRates
from cutover.legacy.reference import INSTITUTIONS

__all__ = ["Staff", "User", "build_staff"]

#: Screens each job needs, and at what level.
JOB_SCREENS: dict[str, tuple[tuple[str, str], ...]] = {
    "CMGR": (("CMT1", "R"), ("DIM1", "U"), ("CSM1", "U")),
    "CMST": (("CMT1", "U"), ("DIM1", "U"), ("CSM1", "R")),
    "WRDN": (("CMT1", "R"), ("DIM1", "R"), ("CSM1", "R")),
    "CO": (("CSM1", "R"),),
    "ADMN": (("CMT1", "U"), ("DIM1", "U"), ("CSM1", "U")),
}


@dataclass(slots=True)
class User:
    usr_id: str
    emp_no: str
    usr_nm: str
    job: str
    inst: str
    active: bool
    last_login: int | None
    screens: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class Staff:
    """Every account, the staff who post per institution and job, and the defects injected."""

    users: list[User]
    by_inst_job: dict[tuple[str, str], list[str]]
    defects: list[QualityDefect]

    def pick(self, rng: random.Random, inst: str, job: str) -> str:
        return rng.choice(self.by_inst_job[(inst, job)])


def _headcount(job: str, offenders: int) -> int:
    return {
        "WRDN": 1,
        "ADMN": 1,
        "CMST": 2 + offenders // 25_000,
        "CMGR": 3 + offenders // 3_000,
        "CO": 8 + offenders // 1_500,
    }[job]


def build_staff(seed: int, offenders: int, rates: DefectRates, today: int) -> Staff:
    """The department's accounts: deterministic for a seed and a number of offenders."""
    rng = random.Random(f"cutover-legacy-users:{seed}")
    users: list[User] = []
    defects: list[QualityDefect] = []
    taken: set[str] = set()

    def new_id(first: str, last: str) -> str:
        letters = (first[0] + last)[:6]
        n = 1
        while True:
            candidate = f"{letters}{n:0{8 - len(letters)}d}"
            if candidate not in taken:
                taken.add(candidate)
                return candidate
            n += 1

    plan = [(i.code, job) for i in INSTITUTIONS for job in JOB_SCREENS]
    total = sum(_headcount(job, offenders) for _, job in plan)
    emp_numbers = rng.sample(range(100_000, 1_000_000), total * 2)
    by_inst_job: dict[tuple[str, str], list[str]] = {}
    k = 0
    for inst, job in plan:
        for _ in range(_headcount(job, offenders)):
            female = rng.random() < 0.35
            first = rng.choice(FIRST_NAMES_F if female else FIRST_NAMES_M)
            last = rng.choice(LAST_NAMES)
            active = rng.random() < 0.9
            if rng.random() < 0.03:
                login: int | None = None
            elif active:
                login = today - rng.randrange(0, 60)
            else:
                login = ordinal(1990, 1, 1) + rng.randrange(0, 15 * 365)
            user = User(
                usr_id=new_id(first, last),
                emp_no=f"{emp_numbers[k]:06d}",
                usr_nm=f"{last}, {first}",
                job=job,
                inst=inst,
                active=active,
                last_login=login,
                screens=list(JOB_SCREENS[job]),
            )
            k += 1
            if job == "CO" and rng.random() < rates.excess_screen_access:
                user.screens = [("CSM1", "U")]
                defects.append(
                    QualityDefect(
                        "EXCESS_SCREEN_ACCESS", "USR_SCRN", (user.usr_id, "CSM1"), "ACC_LVL"
                    )
                )
            users.append(user)
            if active:
                by_inst_job.setdefault((inst, job), []).append(user.usr_id)
            if rng.random() < rates.duplicate_user:
                last2, first2, _ = name_variant(rng, last, first, " ")
                twin = User(
                    usr_id=new_id(first2, last2),
                    emp_no=user.emp_no,
                    usr_nm=f"{last2}, {first2}",
                    job=job,
                    inst=rng.choice(INSTITUTIONS).code if rng.random() < 0.5 else inst,
                    active=True,
                    last_login=today - rng.randrange(0, 400),
                    screens=list(JOB_SCREENS[job]),
                )
                users.append(twin)
                defects.append(
                    QualityDefect(
                        "DUPLICATE_USER", "USR_ACCT", (user.usr_id, twin.usr_id), "EMP_NO"
                    )
                )
    for inst, job in plan:
        # every institution keeps at least one active poster per job
        if (inst, job) not in by_inst_job:
            by_inst_job[(inst, job)] = [u.usr_id for u in users if u.inst == inst and u.job == job]
    return Staff(users=users, by_inst_job=by_inst_job, defects=defects)
