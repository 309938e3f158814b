"""Compare a recomputed release date with the legacy one and explain the difference.

``explain`` recomputes, builds the legacy state with the pack's waterfall start, runs the pack's
corrections in order and closes the books: the explanations' days add up to
``delta = recomputed - legacy MS_REL_DT`` exactly, the remainder being one ``UNEXPLAINED``.
It also says what the difference means for the person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any, Generic, Literal, TypeVar

from validation.computation import Computation, recompute
from validation.facts import OffenderFacts
from validation.rulepack import RulePack
from validation.waterfall import UNEXPLAINED, Explanation, run_waterfall

__all__ = [
    "Comparison",
    "Impact",
    "SideBySideRow",
    "WaterfallStart",
    "explain",
    "explain_many",
]

S = TypeVar("S")
Status = Literal["match", "explained", "unexplained", "out_of_scope", "incomplete"]
ImpactKind = Literal[
    "released_early",
    "released_late",
    "released_on_time",
    "released_other",
    "overdue",
    "not_yet_due",
    "out_of_scope",
    "unknown",
]


@dataclass(frozen=True, slots=True)
class WaterfallStart(Generic[S]):
    """The legacy state a pack's waterfall starts from, how to date it, and what it posted."""

    state: S
    measure: Callable[[S], date]
    #: Passed to every correction before the state (the pack's own context object).
    context: Any
    max_expiration: date
    good_conduct: int
    #: The good-conduct rate the legacy keyed, when the posted total matches one.
    gc_rate: Fraction | None
    #: Posted earned credits counted by the legacy date, per month and credit type.
    posted: dict[date, dict[str, int]] = field(default_factory=dict)
    #: Keys of what still differs in a state after every correction (evidence of a residual).
    residual_evidence: Callable[[S], tuple[str, ...]] | None = None


@dataclass(frozen=True, slots=True)
class Impact:
    """What the difference means for the person."""

    kind: ImpactKind
    days: int
    description: str


@dataclass(frozen=True, slots=True)
class SideBySideRow:
    """One month and credit type: posted by the legacy system and recomputed (after the cap)."""

    month: date
    credit_type: str
    legacy: int
    recomputed: int
    eligible_days: int


@dataclass(frozen=True, slots=True)
class Comparison:
    """The recomputed and legacy dates of one offender, the delta and its explanations."""

    person_id: str
    status: Status
    reason: str | None
    legacy_ms_release: date | None
    recomputed_ms_release: date | None
    #: ``recomputed - legacy`` in days; positive = the legacy date was too early.
    delta: int | None
    explanations: tuple[Explanation, ...]
    impact: Impact
    computation: Computation
    legacy_start: WaterfallStart[Any] | None = None

    @property
    def unexplained_days(self) -> int:
        """Days no cause accounts for (0 when everything is explained)."""
        return sum(e.days for e in self.explanations if e.code == UNEXPLAINED)

    def side_by_side(self) -> list[SideBySideRow]:
        """Month-by-month, type-by-type legacy postings beside the recomputed amounts."""
        recomputed = {m.month: m for m in self.computation.months}
        posted = self.legacy_start.posted if self.legacy_start is not None else {}
        rows = []
        for month in sorted(set(recomputed) | set(posted)):
            trace = recomputed.get(month)
            mine = trace.capped if trace is not None else {}
            theirs = posted.get(month, {})
            for ctype in sorted(set(mine) | set(theirs)):
                eligible = trace.eligible_days.get(ctype, 0) if trace is not None else 0
                rows.append(
                    SideBySideRow(month, ctype, theirs.get(ctype, 0), mine.get(ctype, 0), eligible)
                )
        return rows


def explain(
    facts: OffenderFacts,
    pack: RulePack,
    *,
    as_of: date | None = None,
    computation: Computation | None = None,
) -> Comparison:
    """Recompute, compare with the legacy date and attribute the difference as a waterfall.

    ``as_of`` (default: the legacy ``CALC_DT``) is the day against which a person still inside
    is judged: has the correct date already passed?
    """
    comp = computation if computation is not None else recompute(facts, pack)
    legacy_ms = facts.legacy.ms_release
    if comp.scope != "in_scope" or comp.ms_release is None:
        return _without_delta(facts, comp, comp.scope, comp.reason)
    if legacy_ms is None:
        return _without_delta(facts, comp, "incomplete", "the legacy computation has no MS_REL_DT")
    start = pack.waterfall_start.fn(facts, pack.params, comp)
    if isinstance(start, str):
        return _without_delta(facts, comp, "incomplete", start)
    steps, end = run_waterfall(start.state, pack.corrections, start.measure, start.context)
    delta = (comp.ms_release - legacy_ms).days
    residual = delta - sum(e.days for e in steps)
    if residual:
        before = (start.measure(start.state) - legacy_ms).days
        after = (comp.ms_release - start.measure(end)).days
        steps.append(
            Explanation(
                UNEXPLAINED,
                residual,
                (
                    facts.legacy.key,
                    *(start.residual_evidence(end) if start.residual_evidence else ()),
                ),
                f"legacy ledger gives a date {before:+d} days from the legacy MS_REL_DT; after "
                f"every correction {after:+d} days remain to the recomputed date",
            )
        )
    if not steps:
        status: Status = "match"
    elif any(e.code == UNEXPLAINED for e in steps):
        status = "unexplained"
    else:
        status = "explained"
    return Comparison(
        person_id=facts.person_id,
        status=status,
        reason=None,
        legacy_ms_release=legacy_ms,
        recomputed_ms_release=comp.ms_release,
        delta=delta,
        explanations=tuple(steps),
        impact=_impact(facts, pack, comp.ms_release, as_of or facts.as_of),
        computation=comp,
        legacy_start=start,
    )


def explain_many(
    facts: Iterable[OffenderFacts], pack: RulePack, *, as_of: date | None = None
) -> Iterator[Comparison]:
    """``explain`` over a stream of offenders, one at a time (memory stays flat)."""
    for one in facts:
        yield explain(one, pack, as_of=as_of)


def _without_delta(
    facts: OffenderFacts, comp: Computation, scope: str, reason: str | None
) -> Comparison:
    status: Status = "out_of_scope" if scope == "out_of_scope" else "incomplete"
    if status == "out_of_scope":
        impact = Impact("out_of_scope", 0, reason or "out of scope")
    else:
        impact = Impact("unknown", 0, f"cannot be computed: {reason}")
    return Comparison(
        person_id=facts.person_id,
        status=status,
        reason=reason,
        legacy_ms_release=facts.legacy.ms_release,
        recomputed_ms_release=None,
        delta=None,
        explanations=(),
        impact=impact,
        computation=comp,
    )


def _impact(facts: OffenderFacts, pack: RulePack, correct: date, as_of: date) -> Impact:
    legacy = facts.legacy
    if legacy.actual_release is not None:
        release_types = getattr(
            getattr(pack.params, "release", None), "mandatory_supervision_types", None
        )
        if release_types is not None and legacy.release_type not in release_types:
            return Impact(
                "released_other",
                0,
                f"released on {legacy.actual_release} ({legacy.release_type or 'no type'}), "
                "not a mandatory supervision release",
            )
        days = (correct - legacy.actual_release).days
        if days > 0:
            return Impact("released_early", days, f"released {days} days early")
        if days < 0:
            return Impact("released_late", -days, f"released {-days} days late")
        return Impact("released_on_time", 0, "released on the correct date")
    days = (as_of - correct).days
    if days > 0:
        return Impact("overdue", days, f"correct date {correct} passed {days} days before {as_of}")
    return Impact("not_yet_due", -days, f"correct date {correct} is {-days} days after {as_of}")
