"""Good conduct in advance: 10 or 5 a month, prorated by calendar-month shares, rounded once."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from fractions import Fraction

import pytest
from diminution_builders import baseline

from validation import CommitmentFact, RulePack, recompute
from validation.packs.md_diminution import MdDiminutionParams
from validation.packs.md_diminution.credits import good_conduct_days, month_share


@pytest.fixture(scope="module")
def params(pack: RulePack) -> MdDiminutionParams:
    assert isinstance(pack.params, MdDiminutionParams)
    return pack.params


def cmt(key: str, begin: date, cls: str) -> CommitmentFact:
    return CommitmentFact(key, cls, begin, 2, 0, 0, custody_date=begin)


@pytest.mark.parametrize(
    ("classes", "begins", "rate"),
    [
        pytest.param(("N",), (date(2020, 1, 1),), 10, id="other-offense-10"),
        pytest.param(("V",), (date(2020, 1, 1),), 5, id="violent-5"),
        pytest.param(("D",), (date(2020, 1, 1),), 5, id="drug-distribution-5"),
        pytest.param(("N", "V"), (date(2020, 1, 1), date(2020, 2, 1)), 5, id="any-violent-5"),
        pytest.param(("S",), (date(2020, 1, 1),), 10, id="sex-offense-10"),
        pytest.param(("N",), (date(1992, 9, 30),), 5, id="began-before-1992-10-01"),
        pytest.param(("N",), (date(1992, 10, 1),), 10, id="began-on-1992-10-01"),
        pytest.param(
            ("N", "N"), (date(1990, 1, 1), date(1993, 1, 1)), 10, id="not-all-began-before-1992"
        ),
    ],
)
def test_good_conduct_rate_by_offense_class_and_sentence_dates(
    pack: RulePack, classes: tuple[str, ...], begins: tuple[date, ...], rate: int
) -> None:
    commitments = tuple(
        cmt(f"C{i}", b, c) for i, (c, b) in enumerate(zip(classes, begins, strict=True))
    )
    facts = replace(baseline(), commitments=commitments, jail_credits=(), jail_certificates=())
    assert recompute(facts, pack).gc_rate == rate


def test_month_share_counts_part_months_by_their_own_length() -> None:
    # Jan 16-31 of 31 days, all of February, Mar 1-10 of 31 days.
    assert month_share(date(2021, 1, 16), date(2021, 3, 11)) == Fraction(16, 31) + 1 + Fraction(
        10, 31
    )
    assert month_share(date(2020, 2, 1), date(2020, 3, 1)) == 1
    assert month_share(date(2021, 3, 1), date(2021, 3, 1)) == 0


def test_part_months_are_summed_exactly_then_rounded_half_up_once(
    params: MdDiminutionParams,
) -> None:
    # 10 x (16/31 + 1 + 10/31) = 10 + 260/31 = 18.39 -> 18
    assert good_conduct_days(Fraction(10), date(2021, 1, 16), date(2021, 3, 11), params) == 18
    # 5 x 3/30 = 0.5 -> 1 (half up)
    assert good_conduct_days(Fraction(5), date(2021, 4, 1), date(2021, 4, 4), params) == 1
    # 10 x (1/31 + 1/28) = 0.68 -> 1 once on the total (month by month it would be 0 + 0)
    assert good_conduct_days(Fraction(10), date(2021, 1, 31), date(2021, 2, 2), params) == 1


def test_good_conduct_runs_from_custody_to_max_expiration(pack: RulePack) -> None:
    comp = recompute(baseline(), pack)
    assert comp.custody_date == date(2020, 1, 1)
    assert comp.max_expiration == date(2021, 12, 1)
    assert comp.good_conduct == 230
