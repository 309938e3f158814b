"""The explanation waterfall, independent of any jurisdiction.

Start from the legacy state, apply a pack's corrections one at a time in their fixed order, and
give each the change in the measured date that its own step made. The steps add up, by
construction, to (date after the last step) - (date of the start state); whatever separates
those from the legacy date and the recomputed date is one ``UNEXPLAINED`` residual.

One pass can measure several dates of the same state (the release date and the maximum
expiration date): each correction is applied once, and each date gets its own explanations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from validation.rulepack import Step

__all__ = ["UNEXPLAINED", "Correction", "Explanation", "run_waterfall", "run_waterfall_dates"]

UNEXPLAINED = "UNEXPLAINED"

S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class Explanation:
    """One cause of a date difference: its code, its own signed days and its evidence."""

    code: str
    #: Positive: the legacy date was too early by these days.
    days: int
    #: Keys of the facts and legacy rows behind it.
    evidence: tuple[str, ...]
    detail: str = ""
    #: First days of the months the cause touched, where it is month-based.
    months: tuple[date, ...] = ()
    #: The ``(month, ledger type)`` cells the cause set right, where it is month-based.
    cells: tuple[tuple[date, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Correction(Generic[S]):
    """What a correction step returns when its cause is present: the corrected state and why."""

    state: S
    evidence: tuple[str, ...]
    detail: str
    months: tuple[date, ...] = ()
    cells: tuple[tuple[date, str], ...] = ()


def run_waterfall(
    start: S,
    corrections: Sequence[Step],
    measure: Callable[[S], date],
    *args: Any,
) -> tuple[list[Explanation], S]:
    """Apply ``corrections`` in order; each is called as ``fn(*args, state)``.

    A correction returns ``None`` when its cause is absent, else a ``Correction``. The
    explanation's days are ``measure(after) - measure(before)``.
    """
    (out,), state = run_waterfall_dates(start, corrections, (measure,), *args)
    return out, state


def run_waterfall_dates(
    start: S,
    corrections: Sequence[Step],
    measures: Sequence[Callable[[S], date]],
    *args: Any,
) -> tuple[list[list[Explanation]], S]:
    """``run_waterfall`` measuring several dates: one list of explanations per measure.

    Every cause found is in every list, with the days its step moved that list's date (zero
    for a date the cause does not touch).
    """
    state = start
    out: list[list[Explanation]] = [[] for _ in measures]
    for step in corrections:
        found: Correction[S] | None = step.fn(*args, state)
        if found is None:
            continue
        for measure, explanations in zip(measures, out, strict=True):
            days = (measure(found.state) - measure(state)).days
            explanations.append(
                Explanation(
                    step.name, days, found.evidence, found.detail, found.months, found.cells
                )
            )
        state = found.state
    return out, state
