"""Reference data of the period: institutions, their own task codes and rates, offenses, counties.

Institution names are Maryland's of the period; each keeps its own task codes for the same job
(painter is ``PNT1`` at one, ``PAINT`` at another, ``P-01`` at a third) and its own credit rates
(six of the eight institutions with a painter award 10 a month, two award 5).
"""

from __future__ import annotations

from dataclasses import dataclass

from cutover.legacy.calendar import ordinal

__all__ = [
    "COUNTIES",
    "INSTITUTIONS",
    "OFFENSES",
    "RULE_CODES",
    "TASKS",
    "Institution",
    "Offense",
    "Task",
    "institution",
    "tasks_of",
]


@dataclass(frozen=True, slots=True)
class Institution:
    code: str
    name: str
    region: str
    opened: int
    closed: int | None
    women: bool = False
    #: Reception and pre-release centres hold offenders for short stays only.
    short_stay: bool = False

    @property
    def active(self) -> bool:
        return self.closed is None


INSTITUTIONS: tuple[Institution, ...] = (
    Institution(
        "MRDC",
        "MD RECEPTION DIAGNOSTIC AND CLASSIFICATION CENTER",
        "BA",
        ordinal(1981, 5, 1),
        None,
        short_stay=True,
    ),
    Institution("ECI", "EASTERN CORRECTIONAL INSTITUTION", "ES", ordinal(1987, 1, 5), None),
    Institution(
        "PHPR", "POPLAR HILL PRE-RELEASE UNIT", "ES", ordinal(1977, 3, 1), None, short_stay=True
    ),
    Institution(
        "MCIH", "MARYLAND CORRECTIONAL INSTITUTION-HAGERSTOWN", "HG", ordinal(1932, 1, 1), None
    ),
    Institution("MCTC", "MARYLAND CORRECTIONAL TRAINING CENTER", "HG", ordinal(1966, 1, 1), None),
    Institution("RCI", "ROXBURY CORRECTIONAL INSTITUTION", "HG", ordinal(1984, 1, 1), None),
    Institution("WCI", "WESTERN CORRECTIONAL INSTITUTION", "HG", ordinal(1996, 1, 1), None),
    Institution("NBCI", "NORTH BRANCH CORRECTIONAL INSTITUTION", "HG", ordinal(2003, 6, 1), None),
    Institution(
        "MCIJ", "MARYLAND CORRECTIONAL INSTITUTION-JESSUP", "JS", ordinal(1981, 1, 1), None
    ),
    Institution(
        "MCIW",
        "MARYLAND CORRECTIONAL INSTITUTION FOR WOMEN",
        "JS",
        ordinal(1940, 1, 1),
        None,
        women=True,
    ),
    Institution(
        "MHC", "MARYLAND HOUSE OF CORRECTION", "JS", ordinal(1879, 1, 1), ordinal(2007, 3, 17)
    ),
    Institution("CLF", "CENTRAL LAUNDRY FACILITY", "JS", ordinal(1980, 1, 1), None),
    Institution("MP", "MARYLAND PENITENTIARY", "BA", ordinal(1811, 1, 1), ordinal(1995, 6, 30)),
    Institution("MTC", "METROPOLITAN TRANSITION CENTER", "BA", ordinal(1995, 7, 1), None),
    Institution(
        "BCCC",
        "BALTIMORE CITY CORRECTIONAL CENTER",
        "BA",
        ordinal(1990, 1, 1),
        None,
        short_stay=True,
    ),
)

_BY_CODE = {i.code: i for i in INSTITUTIONS}


def institution(code: str) -> Institution:
    return _BY_CODE[code]


@dataclass(frozen=True, slots=True)
class Task:
    inst: str
    code: str
    desc: str
    typ: str  # W, E, L, S
    rate: int
    job: str  # the canonical job the code stands for
    eff: int


# Each institution names its jobs in its own style; a job key maps to (W/E/L/S, description).
_JOBS: dict[str, tuple[str, str]] = {
    "PAINTER": ("W", "PAINTER"),
    "KITCHEN": ("W", "DIETARY WORKER"),
    "LAUNDRY": ("W", "LAUNDRY WORKER"),
    "MAINT": ("W", "MAINTENANCE"),
    "SANIT": ("W", "SANITATION / TIER"),
    "LIBRARY": ("W", "LIBRARY CLERK"),
    "MCE": ("W", "MD CORR ENTERPRISES SHOP"),
    "POOL": ("L", "LABOR POOL"),
    "GED": ("E", "GED CLASS"),
    "ABE": ("E", "ADULT BASIC EDUCATION"),
    "VOC": ("E", "VOCATIONAL TRAINING"),
    "SPP": ("S", "SPECIAL PROJECT"),
}

_STYLES: dict[str, dict[str, str]] = {
    "mnemonic": {
        "PAINTER": "PNT1",
        "KITCHEN": "KIT1",
        "LAUNDRY": "LND1",
        "MAINT": "MNT1",
        "SANIT": "SAN1",
        "LIBRARY": "LIB1",
        "MCE": "MCE1",
        "POOL": "LP1",
        "GED": "GED1",
        "ABE": "ABE1",
        "VOC": "VOC1",
        "SPP": "SPJ1",
    },
    "word": {
        "PAINTER": "PAINT",
        "KITCHEN": "KITCH",
        "LAUNDRY": "LAUND",
        "MAINT": "MAINT",
        "SANIT": "SANIT",
        "LIBRARY": "LIBRY",
        "MCE": "MCE",
        "POOL": "POOL",
        "GED": "GED",
        "ABE": "ABE",
        "VOC": "VOCED",
        "SPP": "SPPRJ",
    },
    "dash": {
        "PAINTER": "P-01",
        "KITCHEN": "K-01",
        "LAUNDRY": "L-01",
        "MAINT": "M-01",
        "SANIT": "S-01",
        "LIBRARY": "B-01",
        "MCE": "C-01",
        "POOL": "LP-01",
        "GED": "E-01",
        "ABE": "E-02",
        "VOC": "E-03",
        "SPP": "SP-01",
    },
    "numeric": {
        "PAINTER": "4110",
        "KITCHEN": "4120",
        "LAUNDRY": "4130",
        "MAINT": "4140",
        "SANIT": "4150",
        "LIBRARY": "4160",
        "MCE": "4170",
        "POOL": "4000",
        "GED": "5100",
        "ABE": "5200",
        "VOC": "5300",
        "SPP": "6100",
    },
}

# institution -> (style, painter rate or None when it has no painter, rates override)
_CATALOGUE: dict[str, tuple[str, int | None, dict[str, int]]] = {
    "MRDC": ("numeric", None, {}),
    "ECI": ("mnemonic", 10, {"KITCHEN": 8}),
    "PHPR": ("word", None, {"SPP": 10}),
    "MCIH": ("word", 10, {}),
    "MCTC": ("dash", 10, {"VOC": 10}),
    "RCI": ("dash", 10, {"LAUNDRY": 5}),
    "WCI": ("mnemonic", 5, {"MCE": 10}),
    "NBCI": ("numeric", None, {}),
    "MCIJ": ("numeric", 10, {"SANIT": 8}),
    "MCIW": ("word", None, {"GED": 10}),
    "MHC": ("word", 5, {"MAINT": 8}),
    "CLF": ("dash", None, {"LAUNDRY": 10}),
    "MP": ("mnemonic", None, {}),
    "MTC": ("mnemonic", 10, {"SANIT": 5}),
    "BCCC": ("dash", None, {"SPP": 5}),
}

_DEFAULT_RATES: dict[str, int] = {
    "KITCHEN": 10,
    "LAUNDRY": 10,
    "MAINT": 10,
    "SANIT": 5,
    "LIBRARY": 5,
    "MCE": 10,
    "POOL": 5,
    "GED": 10,
    "ABE": 5,
    "VOC": 5,
    "SPP": 5,
}
_SHORT_STAY_JOBS = ("KITCHEN", "SANIT", "POOL", "ABE", "SPP")


def _build_tasks() -> tuple[Task, ...]:
    out: list[Task] = []
    for inst in INSTITUTIONS:
        style, painter, overrides = _CATALOGUE[inst.code]
        codes = _STYLES[style]
        jobs = _SHORT_STAY_JOBS if inst.short_stay else tuple(j for j in _JOBS if j != "PAINTER")
        if painter is not None:
            jobs = ("PAINTER", *jobs)
        eff = max(inst.opened, ordinal(1970, 1, 1))
        for job in jobs:
            typ, desc = _JOBS[job]
            rate = painter if job == "PAINTER" and painter is not None else _DEFAULT_RATES[job]
            rate = overrides.get(job, rate)
            out.append(Task(inst.code, codes[job], desc, typ, rate, job, eff))
    return tuple(out)


TASKS: tuple[Task, ...] = _build_tasks()

_TASKS_BY_INST: dict[str, tuple[Task, ...]] = {
    i.code: tuple(t for t in TASKS if t.inst == i.code) for i in INSTITUTIONS
}


def tasks_of(inst: str, typ: str | None = None) -> tuple[Task, ...]:
    """An institution's tasks, optionally of one assignment type."""
    tasks = _TASKS_BY_INST[inst]
    return tasks if typ is None else tuple(t for t in tasks if t.typ == typ)


@dataclass(frozen=True, slots=True)
class Offense:
    code: str
    cls: str  # V violent, D drug distribution, S registrable sex offense, N other
    min_years: int
    max_years: int
    life_share: float = 0.0


OFFENSES: tuple[tuple[Offense, float], ...] = (
    (Offense("MURD1", "V", 30, 50, life_share=0.8), 0.025),
    (Offense("MURD2", "V", 15, 40, life_share=0.15), 0.02),
    (Offense("MANSL", "V", 3, 10), 0.02),
    (Offense("ROBDW", "V", 5, 20), 0.06),
    (Offense("ROBB", "V", 2, 15), 0.07),
    (Offense("ASLT1", "V", 3, 25), 0.06),
    (Offense("CARJK", "V", 8, 30), 0.012),
    (Offense("RAPE1", "V", 15, 50, life_share=0.4), 0.012),
    (Offense("CDSDS", "D", 1, 20), 0.16),
    (Offense("CDSVL", "D", 5, 25), 0.02),
    (Offense("SEXO3", "S", 1, 10), 0.02),
    (Offense("SEXO4", "S", 0, 1), 0.01),
    (Offense("THEFT", "N", 0, 5), 0.13),
    (Offense("BURG4", "N", 0, 3), 0.09),
    (Offense("CDSPO", "N", 0, 4), 0.11),
    (Offense("HGUN", "N", 1, 5), 0.06),
    (Offense("FORGE", "N", 0, 5), 0.04),
    (Offense("DWI", "N", 0, 2), 0.04),
    (Offense("ESCAP", "N", 1, 5), 0.02),
    (Offense("MALDS", "N", 0, 3), 0.04),
)

#: Maryland's 23 counties and Baltimore City, numbered as the old screens did.
COUNTIES: tuple[str, ...] = tuple(f"{n:02d}" for n in range(1, 25))

#: Inmate rule numbers (COMAR 12.03.01 style).
RULE_CODES: tuple[str, ...] = (
    "100",
    "101",
    "102",
    "104",
    "105",
    "116",
    "200",
    "300",
    "312",
    "316",
    "400",
    "401",
    "402",
    "405",
    "406",
    "408",
    "501",
    "800",
)
