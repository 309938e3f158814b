"""What a diminution pack computes for one offender, and the running of its steps.

``recompute`` runs a pack's ordered steps over a ``Workpad`` (each step fills in its part) and
freezes the result into a ``Computation`` with a month-by-month trace. A step that finds the
offender cannot be computed (a life sentence, no commitments) halts the pad with a reason; the
result is then out of scope or incomplete, never a crash.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from functools import cached_property
from typing import Literal

from validation.dates import days_in_month, month_of_index
from validation.facts import OffenderFacts
from validation.rulepack import RulePack

__all__ = [
    "CommitmentSpan",
    "Computation",
    "MonthTrace",
    "Workpad",
    "recompute",
    "recompute_many",
]

Scope = Literal["in_scope", "out_of_scope", "incomplete"]


@dataclass(frozen=True, slots=True)
class CommitmentSpan:
    """A commitment's run after jail credit: ``begin`` through its expiration ``end``."""

    key: str
    begin: date
    end: date
    jail_days: int
    #: Where the jail days came from: ``certificate``, ``posted`` or ``none``.
    jail_source: str
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MonthTrace:
    """One calendar month of earned credits: amounts per type before and after the cap."""

    month: date
    days_in_month: int
    #: Eligible days per credit type (after segregation and labor-pool rules).
    eligible_days: dict[str, int]
    earned: dict[str, int]
    capped: dict[str, int]
    cap: int
    evidence: tuple[str, ...] = ()
    #: Per credit type, the rules that cut it this month and the days each removed (eligible
    #: days for the eligibility rules, credit days for the cap).
    cuts: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class Workpad:
    """Mutable working state the steps fill in, in order."""

    facts: OffenderFacts
    halted: Scope | None = None
    reason: str | None = None
    jail_days: dict[str, int] = field(default_factory=dict)
    jail_source: dict[str, str] = field(default_factory=dict)
    jail_evidence: dict[str, tuple[str, ...]] = field(default_factory=dict)
    spans: list[CommitmentSpan] = field(default_factory=list)
    custody_date: date | None = None
    term_start: date | None = None
    max_expiration: date | None = None
    gc_rate: Fraction = Fraction(0)
    good_conduct: int = 0
    #: Per month (``month_index``) and credit type: eligible days, amount before the cap, and
    #: amount after it (``capped`` stays empty when no step caps).
    eligible: dict[int, dict[str, int]] = field(default_factory=dict)
    earned: dict[int, dict[str, int]] = field(default_factory=dict)
    capped: dict[int, dict[str, int]] = field(default_factory=dict)
    caps: dict[int, int] = field(default_factory=dict)
    month_evidence: dict[int, tuple[str, ...]] = field(default_factory=dict)
    #: Per month and type, the rules that cut it and the days each removed (see ``MonthTrace``);
    #: revocations under their ledger type (``RG``, ``RS``).
    cuts: dict[int, dict[str, dict[str, int]]] = field(default_factory=dict)
    #: Revoked days per month (of the infraction) and ledger type, before the floor.
    revoked_by_month: dict[int, dict[str, int]] = field(default_factory=dict)
    revoked_gc: int = 0
    revoked_sp: int = 0
    revocation_evidence: tuple[str, ...] = ()
    ms_release: date | None = None
    #: Facts the steps could not use, said in words (never dropped silently).
    notes: list[str] = field(default_factory=list)

    def credited(self) -> dict[int, dict[str, int]]:
        """Earned credits per month after the cap (before it when no step capped)."""
        return self.capped or self.earned

    def halt(self, scope: Scope, reason: str) -> None:
        """Stop the computation: the offender is out of scope or the facts are incomplete."""
        self.halted = scope
        self.reason = reason

    def cut(self, index: int, kind: str, rule: str, days: int) -> None:
        """Record that ``rule`` removed ``days`` of type ``kind`` in month ``index``."""
        if days:
            per_rule = self.cuts.setdefault(index, {}).setdefault(kind, {})
            per_rule[rule] = per_rule.get(rule, 0) + days


@dataclass(frozen=True)
class Computation:
    """The recomputed dates and credits of one offender, with their trace.

    Per-month figures are kept by ``month_index``; ``months`` builds the readable trace on
    first use, so that a bulk run that only needs the dates never pays for it.
    """

    person_id: str
    scope: Scope
    reason: str | None
    as_of: date
    custody_date: date | None
    term_start: date | None
    max_expiration: date | None
    spans: tuple[CommitmentSpan, ...]
    gc_rate: Fraction
    good_conduct: int
    revoked_gc: int
    revoked_sp: int
    ms_release: date | None
    notes: tuple[str, ...] = ()
    #: Per ``month_index`` and credit type: eligible days, amount before and after the cap.
    eligible_by_month: Mapping[int, Mapping[str, int]] = field(default_factory=dict)
    earned_by_month: Mapping[int, Mapping[str, int]] = field(default_factory=dict)
    credited_by_month: Mapping[int, Mapping[str, int]] = field(default_factory=dict)
    caps_by_month: Mapping[int, int] = field(default_factory=dict)
    evidence_by_month: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    #: Per ``month_index`` and type: the rules that cut it and the days each removed.
    cuts_by_month: Mapping[int, Mapping[str, Mapping[str, int]]] = field(default_factory=dict)
    #: Per ``month_index`` (of the infraction) and ledger type: revoked days, before the floor.
    revoked_by_month: Mapping[int, Mapping[str, int]] = field(default_factory=dict)

    @cached_property
    def months(self) -> tuple[MonthTrace, ...]:
        """The month-by-month trace, in month order."""
        out = []
        for index in sorted(self.earned_by_month):
            first = month_of_index(index)
            earned = self.earned_by_month[index]
            out.append(
                MonthTrace(
                    month=first,
                    days_in_month=days_in_month(first.year, first.month),
                    eligible_days=dict(self.eligible_by_month.get(index, {})),
                    earned=dict(earned),
                    capped=dict(self.credited_by_month.get(index, earned)),
                    cap=self.caps_by_month.get(index, 0),
                    evidence=self.evidence_by_month.get(index, ()),
                    cuts={k: dict(v) for k, v in self.cuts_by_month.get(index, {}).items()},
                )
            )
        return tuple(out)

    @property
    def earned(self) -> int:
        """Earned credits after the monthly cap, all types."""
        return sum(sum(m.values()) for m in self.credited_by_month.values())

    def earned_of(self, credit_type: str) -> int:
        """Earned credits of one type after the monthly cap."""
        return sum(m.get(credit_type, 0) for m in self.credited_by_month.values())

    def month(self, month: date) -> MonthTrace | None:
        """The trace of one month, if any credit type had eligible days in it."""
        for m in self.months:
            if m.month == month:
                return m
        return None


def recompute(facts: OffenderFacts, pack: RulePack) -> Computation:
    """Run ``pack``'s steps, in order, over ``facts``."""
    pad = Workpad(facts=facts)
    for step in pack.steps:
        step.fn(facts, pack.params, pad)
        if pad.halted is not None:
            break
    return Computation(
        person_id=facts.person_id,
        scope=pad.halted or "in_scope",
        reason=pad.reason,
        as_of=facts.as_of,
        custody_date=pad.custody_date,
        term_start=pad.term_start,
        max_expiration=pad.max_expiration,
        spans=tuple(pad.spans),
        gc_rate=pad.gc_rate,
        good_conduct=pad.good_conduct,
        revoked_gc=pad.revoked_gc,
        revoked_sp=pad.revoked_sp,
        ms_release=pad.ms_release if pad.halted is None else None,
        notes=tuple(pad.notes),
        eligible_by_month=pad.eligible,
        earned_by_month=pad.earned,
        credited_by_month=pad.credited(),
        caps_by_month=pad.caps,
        evidence_by_month=pad.month_evidence,
        cuts_by_month=pad.cuts,
        revoked_by_month=pad.revoked_by_month,
    )


def recompute_many(facts: Iterable[OffenderFacts], pack: RulePack) -> Iterator[Computation]:
    """``recompute`` over a stream of offenders, one at a time (memory stays flat)."""
    for one in facts:
        yield recompute(one, pack)
