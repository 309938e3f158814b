"""Term of confinement: concurrent and consecutive commitments, jail credit, lifers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from diminution_builders import baseline

from validation import (
    CommitmentFact,
    JailCertificateFact,
    JailCreditFact,
    RulePack,
    recompute,
)


def cmt(
    key: str, begin: date, years: int, cons: str | None = None, cls: str = "N"
) -> CommitmentFact:
    return CommitmentFact(key, cls, begin, years, 0, 0, consecutive_to=cons, custody_date=begin)


def test_concurrent_term_runs_from_first_begin_to_last_end(pack: RulePack) -> None:
    facts = replace(
        baseline(),
        commitments=(cmt("C1", date(2020, 1, 1), 2), cmt("C2", date(2020, 6, 15), 1)),
        jail_credits=(),
        jail_certificates=(),
    )
    comp = recompute(facts, pack)
    assert comp.term_start == date(2020, 1, 1)
    assert comp.max_expiration == date(2022, 1, 1)


def test_consecutive_commitment_begins_when_its_predecessor_ends(pack: RulePack) -> None:
    facts = replace(
        baseline(),
        commitments=(cmt("C1", date(2020, 1, 1), 2), cmt("C2", date(2020, 6, 15), 1, cons="C1")),
        jail_credits=(),
        jail_certificates=(),
    )
    comp = recompute(facts, pack)
    spans = {s.key: (s.begin, s.end) for s in comp.spans}
    assert spans["C2"] == (date(2022, 1, 1), date(2023, 1, 1))
    assert comp.max_expiration == date(2023, 1, 1)


def test_jail_certificate_wins_over_the_posted_row(pack: RulePack) -> None:
    comp = recompute(baseline(posted_jail=21), pack)
    span = comp.spans[0]
    assert (span.jail_days, span.jail_source) == (31, "certificate")
    assert span.begin == date(2019, 12, 1)
    assert comp.max_expiration == date(2021, 12, 1)


def test_posted_jail_credit_counts_only_where_no_certificate(pack: RulePack) -> None:
    facts = replace(baseline(posted_jail=10), jail_certificates=())
    comp = recompute(facts, pack)
    assert (comp.spans[0].jail_days, comp.spans[0].jail_source) == (10, "posted")
    assert comp.max_expiration == date(2021, 12, 22)


def test_certificate_applies_to_the_commitment_with_its_sentence_begin(pack: RulePack) -> None:
    facts = replace(
        baseline(),
        commitments=(cmt("C1", date(2020, 1, 1), 2), cmt("C2", date(2020, 6, 15), 3)),
        jail_credits=(JailCreditFact("J2", "C2", 4),),
        jail_certificates=(JailCertificateFact("D2", date(2020, 6, 15), 14, "X"),),
    )
    spans = {s.key: s for s in recompute(facts, pack).spans}
    assert spans["C1"].jail_days == 0
    assert (spans["C2"].jail_days, spans["C2"].begin) == (14, date(2020, 6, 1))


def test_life_sentence_is_out_of_scope_not_a_mismatch(pack: RulePack) -> None:
    facts = replace(baseline(), commitments=(replace(cmt("C1", date(2020, 1, 1), 0), life=True),))
    comp = recompute(facts, pack)
    assert comp.scope == "out_of_scope"
    assert comp.ms_release is None


def test_consecutive_to_a_missing_commitment_is_incomplete_not_a_crash(pack: RulePack) -> None:
    facts = replace(baseline(), commitments=(cmt("C1", date(2020, 1, 1), 2, cons="C9"),))
    comp = recompute(facts, pack)
    assert comp.scope == "incomplete"
    assert comp.reason is not None
    assert "C9" in comp.reason


def test_same_day_sentences_take_the_certificate_their_posted_row_names(pack: RulePack) -> None:
    facts = replace(
        baseline(),
        commitments=(cmt("C1", date(2020, 1, 1), 2), cmt("C2", date(2020, 1, 1), 3)),
        jail_credits=(JailCreditFact("J2", "C2", 31, "CERT1"),),
    )
    spans = {s.key: s for s in recompute(facts, pack).spans}
    assert (spans["C1"].jail_days, spans["C1"].jail_source) == (0, "none")
    assert (spans["C2"].jail_days, spans["C2"].jail_source) == (31, "certificate")


def test_certificate_naming_no_sentence_is_noted_not_dropped(pack: RulePack) -> None:
    stray = JailCertificateFact("D9", date(2019, 5, 5), 12, "C-9")
    facts = replace(baseline(), jail_certificates=(*baseline().jail_certificates, stray))
    comp = recompute(facts, pack)
    assert comp.notes == ("jail certificate D9 names no commitment's SENT_BGN_DT",)
    assert comp.spans[0].jail_days == 31
