"""Invariants over many random offenders: a clean ledger matches; injected defects are each found
under their own code and nothing else, and the explanations add up to the delta, for MS_REL_DT
and for MAX_EXP_DT (which only a misposted jail credit moves)."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from diminution_builders import edit_ledger, post_clean, random_offender, settle

from validation import LedgerEntryFact, RulePack, SegregationFact, explain, recompute
from validation.dates import add_months, month_index, month_of_index

PEOPLE = 60


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed-{s}") for s in (1, 2)])
def test_clean_random_offenders_match_to_the_day(pack: RulePack, seed: int) -> None:
    rng = random.Random(seed)
    statuses = {explain(random_offender(rng, f"P{i}", pack), pack).status for i in range(PEOPLE)}
    assert statuses == {"match"}


def test_injected_defects_are_found_and_sum_to_the_delta(pack: RulePack) -> None:
    rng = random.Random(11)
    seen: set[str] = set()
    for i in range(PEOPLE):
        clean = random_offender(rng, f"P{i}", pack)
        kinds = rng.sample(["jail", "seg", "cwa", "awc", "cap", "rev", "gc"], rng.randrange(1, 4))
        injected: set[str] = set()
        truth = replace(clean, ledger=())
        keyed_rate = None
        if "gc" in kinds and recompute(truth, pack).gc_rate == 10:
            first = replace(truth.commitments[0], offense_class="V")
            truth = replace(truth, commitments=(first, *truth.commitments[1:]))
            keyed_rate = 10
            injected.add("GOOD_CONDUCT_RATE")
        if "jail" in kinds:
            jail = replace(truth.jail_credits[0], days=30 + rng.choice([-20, -7, 5, 30]))
            truth = replace(truth, jail_credits=(jail,))
            injected.add("JAIL_CREDIT_MISPOSTED")
        posted = post_clean(truth, pack, gc_rate=keyed_rate)
        facts = posted
        comp = recompute(facts, pack)
        assert comp.custody_date is not None
        used: set[int] = set()
        if "seg" in kinds:
            free = [
                m
                for m in comp.months
                if m.capped.get("WT", 0) >= 5
                and sum(m.earned.values()) < 15
                and m.eligible_days.get("WT") == m.days_in_month
                and not any(
                    s.begin <= m.month.replace(day=28) and s.end and s.end >= m.month
                    for s in facts.segregations
                )
            ]
            if free:
                month = rng.choice(free).month
                used.add(month_index(month))
                seg = SegregationFact("SX", "DS", month.replace(day=4), month.replace(day=13))
                facts = replace(facts, segregations=(*facts.segregations, seg))
                injected.add("WORK_CREDIT_DURING_SEGREGATION")
        if "cwa" in kinds:
            covered = {
                m
                for a in facts.assignments
                if a.type in "WL"
                for m in range(month_index(a.begin), month_index(a.end or facts.as_of) + 1)
            }
            span = range(month_index(comp.custody_date), month_index(facts.as_of))
            free_months = [m for m in span if m not in covered and m not in used]
            if free_months:
                month = month_of_index(rng.choice(free_months))
                used.add(month_index(month))
                extra = LedgerEntryFact("XCWA", "WT", month, 7, add_months(month, 1))
                facts = edit_ledger(facts, add=(extra,))
                injected.add("CREDIT_WITHOUT_ASSIGNMENT")
        earned_rows = [r for r in facts.ledger if r.type in {"WT", "ED", "SP"} and r.key != "XCWA"]
        if "awc" in kinds:
            rows = [r for r in earned_rows if month_index(r.month) not in used]
            if rows:
                row = rng.choice(rows)
                used.add(month_index(row.month))
                facts = edit_ledger(facts, drop=(row.key,))
                injected.add("ASSIGNMENT_WITHOUT_CREDIT")
        if "cap" in kinds:
            rows = [r for r in earned_rows if month_index(r.month) not in used]
            if rows:
                row = rng.choice(rows)
                facts = edit_ledger(facts, set_days={row.key: row.days + 25})
                injected.add("MONTHLY_CAP_EXCEEDED")
        if "rev" in kinds:
            rows = [r for r in facts.ledger if r.type == "RG"]
            if rows:
                row = rng.choice(rows)
                twice = (replace(row, key=row.key + "-again"),)
                facts = (
                    edit_ledger(facts, drop=(row.key,))
                    if rng.random() < 0.5
                    else (edit_ledger(facts, add=twice))
                )
                injected.add("REVOCATION_MISMATCH")
        result = explain(settle(facts), pack)
        assert {e.code for e in result.explanations} == injected, (i, kinds)
        assert result.delta == sum(e.days for e in result.explanations)
        assert result.max_expiration_delta == sum(
            e.days for e in result.max_expiration_explanations
        )
        assert {e.code for e in result.max_expiration_explanations} <= {"JAIL_CREDIT_MISPOSTED"}
        assert bool(result.max_expiration_explanations) == (
            "JAIL_CREDIT_MISPOSTED" in injected and result.max_expiration_delta != 0
        )
        seen |= injected
    assert len(seen) == 7
