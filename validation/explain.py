"""Compare the recomputed dates with the legacy ones and explain the differences.

``explain`` recomputes, builds the legacy state with the pack's waterfall start, runs the pack's
corrections in order and closes the books for each date the legacy system computed: the
explanations' days add up to ``delta = recomputed - legacy MS_REL_DT`` exactly, and those of
the maximum expiration date to ``recomputed - legacy MAX_EXP_DT``, the remainder of each being
one ``UNEXPLAINED``. It also says what the difference means for the person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any, Final, Generic, Literal, TypeVar

from validation.computation import Computation, MonthTrace, recompute
from validation.dates import month_index, month_of_index
from validation.facts import OffenderFacts
from validation.rulepack import RulePack
from validation.waterfall import UNEXPLAINED, Explanation, run_waterfall_dates

__all__ = [
    "MAX_EXP_DT",
    "MS_REL_DT",
    "Comparison",
    "DateField",
    "Impact",
    "SideBySideRow",
    "WaterfallStart",
    "explain",
    "explain_many",
]

S = TypeVar("S")

#: The legacy dates a comparison explains, by their legacy column names.
DateField = Literal["MS_REL_DT", "MAX_EXP_DT"]
MS_REL_DT: Final = "MS_REL_DT"
MAX_EXP_DT: Final = "MAX_EXP_DT"

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
    #: The maximum expiration date of a state; without it a ``MAX_EXP_DT`` difference is
    #: wholly ``UNEXPLAINED``.
    measure_max_expiration: Callable[[S], date] | None = None
    #: Revocations counted by the legacy date: good conduct and special project, in total, and
    #: per month and ledger revocation type.
    revoked_gc: int | None = None
    revoked_sp: int | None = None
    posted_revocations: dict[date, dict[str, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Impact:
    """What the difference means for the person."""

    kind: ImpactKind
    days: int
    description: str


@dataclass(frozen=True, slots=True)
class SideBySideRow:
    """One month and ledger type: posted by the legacy system and recomputed (after the cap).

    Earned credit types (``kind`` ``earned``) carry the entitlement before the cap, the cap, and
    the eligible days; revocation types (``revoked``) the days the month's infractions revoke.
    """

    month: date
    credit_type: str
    legacy: int
    recomputed: int
    eligible_days: int
    kind: Literal["earned", "revoked"] = "earned"
    #: Recomputed before the monthly cap (the revoked days, for a revocation).
    entitled: int = 0
    #: The month's cap on earned credits (``None`` for a revocation or when nothing capped).
    cap: int | None = None
    #: The rules that cut this month and type, and the days each removed.
    cuts: tuple[tuple[str, int], ...] = ()
    #: Codes of the explanations that set this month and type right.
    codes: tuple[str, ...] = ()

    @property
    def rules(self) -> tuple[str, ...]:
        """Names of the rules that cut this month and type."""
        return tuple(rule for rule, _ in self.cuts)


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
    legacy_max_expiration: date | None = None
    recomputed_max_expiration: date | None = None
    #: ``recomputed - legacy MAX_EXP_DT`` in days, and its explanations (they add up to it).
    max_expiration_delta: int | None = None
    max_expiration_explanations: tuple[Explanation, ...] = ()

    @property
    def unexplained_days(self) -> int:
        """Days of the ``MS_REL_DT`` delta no cause accounts for (0 when all is explained)."""
        return sum(e.days for e in self.explanations if e.code == UNEXPLAINED)

    @property
    def max_expiration_unexplained_days(self) -> int:
        """Days of the ``MAX_EXP_DT`` delta no cause accounts for."""
        return sum(e.days for e in self.max_expiration_explanations if e.code == UNEXPLAINED)

    def dated_explanations(self) -> list[tuple[DateField, Explanation]]:
        """Every explanation with the legacy date it explains, ``MS_REL_DT``'s first."""
        return [
            *((MS_REL_DT, e) for e in self.explanations),
            *((MAX_EXP_DT, e) for e in self.max_expiration_explanations),
        ]

    def side_by_side(self) -> list[SideBySideRow]:
        """Month-by-month, type-by-type legacy postings beside the recomputed amounts.

        Each row says what the rules made of that month (entitlement, cap, the rules that cut
        it) and which month-based explanations set it right.
        """
        comp = self.computation
        recomputed = {m.month: m for m in comp.months}
        start = self.legacy_start
        posted = start.posted if start is not None else {}
        posted_revoked = start.posted_revocations if start is not None else {}
        revoked = {month_of_index(i): r for i, r in comp.revoked_by_month.items()}
        cuts = {month_of_index(i): c for i, c in comp.cuts_by_month.items()}
        codes = self._codes_by_cell()
        rows: list[SideBySideRow] = []
        months = set(recomputed) | set(posted) | set(revoked) | set(posted_revoked) | set(cuts)
        for month in sorted(months):
            trace = recomputed.get(month) or MonthTrace(month, 0, {}, {}, {}, 0)
            theirs, cut = posted.get(month, {}), cuts.get(month, {})
            lost, lost_posted = revoked.get(month, {}), posted_revoked.get(month, {})
            revocation_types = set(lost) | set(lost_posted)
            rows.extend(
                SideBySideRow(
                    month,
                    ctype,
                    theirs.get(ctype, 0),
                    trace.capped.get(ctype, 0),
                    trace.eligible_days.get(ctype, 0),
                    entitled=trace.earned.get(ctype, 0),
                    cap=comp.caps_by_month.get(month_index(month)),
                    cuts=tuple(cut.get(ctype, {}).items()),
                    codes=codes.get((month, ctype), ()),
                )
                for ctype in sorted((set(trace.capped) | set(theirs) | set(cut)) - revocation_types)
            )
            rows.extend(
                SideBySideRow(
                    month,
                    ltype,
                    lost_posted.get(ltype, 0),
                    lost.get(ltype, 0),
                    0,
                    kind="revoked",
                    entitled=lost.get(ltype, 0),
                    cuts=tuple(cut.get(ltype, {}).items()),
                    codes=codes.get((month, ltype), ()),
                )
                for ltype in sorted(revocation_types)
            )
        return rows

    def _codes_by_cell(self) -> dict[tuple[date, str], tuple[str, ...]]:
        """Codes of the month-based explanations per ``(month, ledger type)`` they set right."""
        out: dict[tuple[date, str], tuple[str, ...]] = {}
        for _, e in self.dated_explanations():
            for cell in e.cells:
                if e.code not in out.get(cell, ()):
                    out[cell] = (*out.get(cell, ()), e.code)
        return out


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
    measures = [start.measure]
    if start.measure_max_expiration is not None:
        measures.append(start.measure_max_expiration)
    found, end = run_waterfall_dates(start.state, pack.corrections, measures, start.context)
    steps = found[0]
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
    max_delta, max_steps = _max_expiration(facts, comp, start, found[1:], end)
    everything = [*steps, *max_steps]
    if not everything:
        status: Status = "match"
    elif any(e.code == UNEXPLAINED for e in everything):
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
        legacy_max_expiration=start.max_expiration,
        recomputed_max_expiration=comp.max_expiration,
        max_expiration_delta=max_delta,
        max_expiration_explanations=tuple(max_steps),
    )


def _max_expiration(
    facts: OffenderFacts,
    comp: Computation,
    start: WaterfallStart[Any],
    measured: list[list[Explanation]],
    end: Any,
) -> tuple[int | None, list[Explanation]]:
    """The ``MAX_EXP_DT`` delta and its explanations: the causes whose own step moved it, and
    the rest as ``UNEXPLAINED``."""
    if comp.max_expiration is None:
        return None, []
    delta = (comp.max_expiration - start.max_expiration).days
    steps = [e for e in (measured[0] if measured else []) if e.days]
    residual = delta - sum(e.days for e in steps)
    if residual:
        reached = (
            start.measure_max_expiration(end)
            if start.measure_max_expiration is not None
            else start.max_expiration
        )
        terms = tuple(k for span in comp.spans for k in span.evidence)
        steps.append(
            Explanation(
                UNEXPLAINED,
                residual,
                (facts.legacy.key, *terms),
                f"legacy {start.max_expiration}, recomputed {comp.max_expiration}; after every "
                f"correction {(comp.max_expiration - reached).days:+d} days remain",
            )
        )
    return delta, steps


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
        legacy_max_expiration=facts.legacy.max_expiration,
        recomputed_max_expiration=comp.max_expiration,
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
