"""Monthly cap in the order WT, ED, SP (effective-dated), revocation floor, the MS date."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from diminution_builders import baseline

from validation import AssignmentFact, InfractionFact, OffenderFacts, RulePack, recompute
from validation.packs.md_diminution import MdDiminutionParams
from validation.packs.md_diminution.credits import CUT_CAP, cap_months
from validation.packs.md_diminution.params import CapRow, MonthlyCapParams


def march(typ: str, rate: int, key: str) -> AssignmentFact:
    return AssignmentFact(key, "MCIH", typ, "T", None, rate, date(2020, 3, 1), date(2020, 3, 31))  # type: ignore[arg-type]


def capped_march(pack: RulePack, facts: OffenderFacts) -> dict[str, int]:
    trace = recompute(facts, pack).month(date(2020, 3, 1))
    assert trace is not None
    return trace.capped


def test_cap_takes_work_then_education_then_special_project(pack: RulePack) -> None:
    facts = replace(
        baseline(), assignments=(march("S", 5, "S1"), march("E", 10, "E1"), march("W", 15, "W1"))
    )
    assert capped_march(pack, facts) == {"WT": 15, "ED": 5, "SP": 0}


def test_under_the_cap_nothing_is_cut(pack: RulePack) -> None:
    facts = replace(baseline(), assignments=(march("W", 10, "W1"), march("S", 10, "S1")))
    assert capped_march(pack, facts) == {"WT": 10, "ED": 0, "SP": 10}


def test_a_month_under_the_cap_keeps_its_cap_and_has_no_cap_cut(pack: RulePack) -> None:
    facts = replace(baseline(), assignments=(march("W", 10, "W1"), march("S", 10, "S1")))
    trace = recompute(facts, pack).month(date(2020, 3, 1))
    assert trace is not None
    assert trace.cap == 20
    assert all(CUT_CAP not in rules for rules in trace.cuts.values())


def test_a_credit_type_outside_the_cap_order_is_cut_whole(pack: RulePack) -> None:
    params = pack.params
    assert isinstance(params, MdDiminutionParams)
    schedule = params.monthly_cap.schedule
    work_only = params.model_copy(
        update={"monthly_cap": MonthlyCapParams(order=("WT",), schedule=schedule)}
    )
    facts = replace(baseline(), assignments=(march("W", 5, "W1"), march("S", 5, "S1")))
    trace = recompute(facts, replace(pack, params=work_only)).month(date(2020, 3, 1))
    assert trace is not None
    # Under the cap in total, but the special project's five days are not in the cap order.
    assert trace.capped == {"WT": 5}
    assert trace.cuts["SP"][CUT_CAP] == 5


def test_a_later_cap_row_applies_from_its_effective_month(pack: RulePack) -> None:
    params = pack.params
    assert isinstance(params, MdDiminutionParams)
    amended = params.model_copy(
        update={
            "monthly_cap": MonthlyCapParams(
                order=("WT", "ED", "SP"),
                schedule=(
                    CapRow(effective_from=date(1900, 1, 1), cap=20),
                    CapRow(
                        effective_from=date(2020, 6, 1),
                        cap=20,
                        higher_cap=30,
                        higher_cap_excluded_classes=frozenset({"V", "S", "D"}),
                    ),
                ),
            )
        }
    )
    amounts = {"WT": 15, "ED": 10, "SP": 10}
    none: frozenset[str] = frozenset()
    assert cap_months(amounts, date(2020, 5, 1), frozenset({"N"}), amended)[1] == 20
    assert cap_months(amounts, date(2020, 6, 1), frozenset({"N"}), amended) == (
        {"WT": 15, "ED": 10, "SP": 5},
        30,
    )
    assert cap_months(amounts, date(2020, 6, 1), frozenset({"N", "V"}), amended)[1] == 20
    assert cap_months(amounts, date(2020, 6, 1), none, amended)[1] == 30


def test_revocation_never_takes_more_than_was_awarded(pack: RulePack) -> None:
    facts = replace(
        baseline(),
        assignments=(march("S", 3, "S1"),),
        infractions=(InfractionFact("I1", date(2020, 5, 10), gc_revoked=400, sp_revoked=10),),
    )
    comp = recompute(facts, pack)
    assert comp.earned_of("SP") == 3
    assert (comp.revoked_gc, comp.revoked_sp) == (230, 3)


def test_only_infractions_before_the_as_of_date_revoke(pack: RulePack) -> None:
    facts = replace(
        baseline(),
        infractions=(
            InfractionFact("I1", date(2020, 12, 31), gc_revoked=5),
            InfractionFact("I2", date(2021, 1, 1), gc_revoked=7),
        ),
    )
    assert recompute(facts, pack).revoked_gc == 5


def test_ms_date_is_max_expiration_minus_net_credits(pack: RulePack) -> None:
    comp = recompute(baseline(), pack)
    assert (comp.good_conduct, comp.earned, comp.revoked_gc) == (230, 110, 5)
    assert comp.ms_release == date(2020, 12, 31)


def test_steps_are_visible_and_can_be_overridden(pack: RulePack) -> None:
    names = [s.name for s in pack.steps]
    assert names.index("md.earned_credits") < names.index("md.monthly_cap")
    facts = replace(baseline(), assignments=(march("W", 15, "W1"), march("E", 10, "E1")))
    uncapped = pack.with_steps([n for n in names if n != "md.monthly_cap"])
    assert sum(recompute(facts, uncapped).months[0].capped.values()) == 25
    assert sum(recompute(facts, pack).months[0].capped.values()) == 20
