"""The explanation waterfall, independent of any jurisdiction.

Start from the legacy state, apply a pack's corrections one at a time in their fixed order, and
give each the change in the measured date that its own step made. The steps add up, by
construction, to (date after the last step) - (date of the start state); whatever separates
those from the legacy date and the recomputed date is one ``UNEXPLAINED`` residual.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from validation.rulepack import Step

__all__ = ["UNEXPLAINED", "Correction", "Explanation", "run_waterfall"]

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


@dataclass(frozen=True, slots=True)
class Correction(Generic[S]):
    """What a correction step returns when its cause is present: the corrected state and why."""

    state: S
    evidence: tuple[str, ...]
    detail: str
    months: tuple[date, ...] = ()


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
    state = start
    out: list[Explanation] = []
    for step in corrections:
        found: Correction[S] | None = step.fn(*args, state)
        if found is None:
            continue
        days = (measure(found.state) - measure(state)).days
        out.append(Explanation(step.name, days, found.evidence, found.detail, found.months))
        state = found.state
    return out, state
