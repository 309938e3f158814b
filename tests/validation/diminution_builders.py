"""Facts for the tests, and a clean legacy ledger posted per the ledger semantics of the contract.

``baseline()`` is one hand-computed offender (see its docstring); ``post_clean`` posts the ledger
a defect-free legacy system would hold for any facts, and ``settle`` computes the legacy dates
from whatever ledger the test then holds, as the legacy system did from what was keyed.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction

from validation import LedgerEntryFact, OffenderFacts, RulePack, recompute
from validation.dates import add_months, round_half_up
from validation.facts import (
    AssignmentFact,
    CommitmentFact,
    InfractionFact,
    JailCertificateFact,
    JailCreditFact,
    LaborPoolWeekFact,
    LegacyCalcFact,
    SegregationFact,
)
from validation.packs.md_diminution.credits import month_share
from validation.packs.md_diminution.term import posted_jail_days, term_spans

AS_OF = date(2021, 1, 1)


def baseline(offense_class: str = "N", posted_jail: int = 31) -> OffenderFacts:
    """One commitment, 2 years from 2020-01-01, 31 jail days: term 2019-12-01 to 2021-12-01.

    Good conduct at 10 over [2020-01-01, 2021-12-01) = 23 whole months = 230. Earned to the as-of
    date 2021-01-01: W rate 10 Jan-Jun 2020 = 60, E rate 5 Mar-Dec 2020 = 50. One infraction
    revokes 5 good-conduct days. MS = 2021-12-01 - (230 - 5) - 110 = 2020-12-31.
    """
    return OffenderFacts(
        person_id="P1",
        status="IN",
        commitments=(
            CommitmentFact(
                key="C1",
                offense_class=offense_class,
                sentence_begin=date(2020, 1, 1),
                term_years=2,
                term_months=0,
                term_days=0,
                custody_date=date(2020, 1, 1),
            ),
        ),
        legacy=LegacyCalcFact("RC1", None, None, AS_OF),
        jail_credits=(JailCreditFact("J1", "C1", posted_jail, "CERT1"),),
        jail_certificates=(JailCertificateFact("D1", date(2020, 1, 1), 31, "CERT1"),),
        assignments=(
            AssignmentFact(
                "A1", "MCIH", "W", "PNT1", "painter", 10, date(2020, 1, 1), date(2020, 6, 30)
            ),
            AssignmentFact("A2", "MCIH", "E", "GED", "education", 5, date(2020, 3, 1), None),
        ),
        infractions=(InfractionFact("I1", date(2020, 5, 10), gc_revoked=5),),
    )


def post_clean(facts: OffenderFacts, pack: RulePack, gc_rate: int | None = None) -> OffenderFacts:
    """``facts`` with the ledger a defect-free legacy system posts, and its dates."""
    comp = recompute(facts, pack)
    assert comp.custody_date is not None
    legacy_max = _legacy_max(facts)
    rate = comp.gc_rate if gc_rate is None else Fraction(gc_rate)
    rows: list[LedgerEntryFact] = []
    custody = comp.custody_date
    month = custody.replace(day=1)
    previous = 0
    while month < legacy_max:
        cum = round_half_up(rate * month_share(custody, min(add_months(month, 1), legacy_max)))
        rows.append(LedgerEntryFact(f"GC{month:%Y%m}", "GC", month, cum - previous, custody))
        previous = cum
        month = add_months(month, 1)
    for trace in comp.months:
        for ctype, days in trace.capped.items():
            if days:
                key = f"{ctype}{trace.month:%Y%m}"
                entered = add_months(trace.month, 1)
                rows.append(LedgerEntryFact(key, ctype, trace.month, days, entered))  # type: ignore[arg-type]
    for infr in facts.infractions:
        for ltype, days in (("RG", infr.gc_revoked), ("RS", infr.sp_revoked)):
            if days and infr.date < facts.as_of:
                month = infr.date.replace(day=1)
                rows.append(LedgerEntryFact(f"{ltype}-{infr.key}", ltype, month, days, infr.date))  # type: ignore[arg-type]
    return settle(replace(facts, ledger=tuple(rows)))


def settle(facts: OffenderFacts) -> OffenderFacts:
    """The legacy dates computed from the posted jail days and the ledger as it stands."""
    legacy_max = _legacy_max(facts)
    net = 0
    for row in facts.ledger:
        if row.entered is not None and row.entered <= facts.as_of:
            net += -row.days if row.type in {"RG", "RS"} else row.days
    legacy = replace(
        facts.legacy, max_expiration=legacy_max, ms_release=legacy_max - timedelta(days=net)
    )
    return replace(facts, legacy=legacy)


def _legacy_max(facts: OffenderFacts) -> date:
    posted = {k: j.days for k, j in posted_jail_days(facts).items()}
    return max(end for _, end in term_spans(facts.commitments, posted).values())


def edit_ledger(
    facts: OffenderFacts,
    *,
    drop: tuple[str, ...] = (),
    set_days: dict[str, int] | None = None,
    add: tuple[LedgerEntryFact, ...] = (),
) -> OffenderFacts:
    """Change the posted ledger (drop rows, change their days, add rows) and settle again."""
    rows = [
        replace(r, days=(set_days or {}).get(r.key, r.days))
        for r in facts.ledger
        if r.key not in drop
    ]
    return settle(replace(facts, ledger=(*rows, *add)))


def random_offender(rng: random.Random, person_id: str, pack: RulePack) -> OffenderFacts:
    """A clean, posted offender with long terms, consecutive sentences, all assignment types,
    segregation, labor-pool weeks and infractions, for invariant tests."""
    begin = date(1995, 1, 1) + timedelta(days=rng.randrange(0, 9000))
    cls = rng.choice("NNNVDS")
    c1 = CommitmentFact(
        "C1", cls, begin, rng.randrange(3, 25), rng.randrange(0, 12), 0, custody_date=begin
    )
    commitments = [c1]
    if rng.random() < 0.3:
        cons = "C1" if rng.random() < 0.5 else None
        later = begin + timedelta(days=40)
        commitments.append(
            CommitmentFact("C2", "N", later, rng.randrange(1, 5), 0, 0, None, cons, begin)
        )
    calc = date(2024, 1, 1)
    assignments: list[AssignmentFact] = []
    day = begin
    while day < calc and len(assignments) < 12:
        length = rng.randrange(60, 900)
        typ = rng.choice("WWWELS")
        end = min(day + timedelta(days=length), calc)
        rate = rng.choice([5, 10])
        key = f"A{len(assignments)}"
        assignments.append(AssignmentFact(key, "I", typ, "T", None, rate, day, end))  # type: ignore[arg-type]
        day = end + timedelta(days=rng.randrange(1, 60))
    segs = tuple(
        SegregationFact(
            f"S{j}",
            rng.choice(["DS", "AS"]),
            begin + timedelta(days=d),
            begin + timedelta(days=d + rng.randrange(3, 40)),
        )
        for j, d in enumerate(rng.sample(range(3000), 3))
    )
    weeks = []
    for a in assignments:
        if a.type == "L" and a.end is not None:
            monday = a.begin - timedelta(days=a.begin.weekday())
            while monday <= a.end:
                weeks.append(LaborPoolWeekFact(f"LW{monday:%Y%m%d}", monday, rng.randrange(0, 6)))
                monday += timedelta(days=7)
    infractions = tuple(
        InfractionFact(
            f"I{j}", begin + timedelta(days=rng.randrange(10, 3000)), rng.randrange(0, 20), 0
        )
        for j in range(2)
    )
    facts = OffenderFacts(
        person_id,
        "IN",
        tuple(commitments),
        LegacyCalcFact("R", None, None, calc),
        (JailCreditFact("J1", "C1", 30, "X"),),
        (JailCertificateFact("D1", begin, 30, "X"),),
        tuple(assignments),
        segs,
        tuple(weeks),
        infractions,
    )
    return post_clean(facts, pack)
