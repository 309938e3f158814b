"""Plain-text rendering of a comparison: the dates, the waterfalls and the side-by-side months."""

from __future__ import annotations

from validation.explain import Comparison
from validation.waterfall import Explanation

__all__ = ["format_comparison"]


def format_comparison(comparison: Comparison, *, months: bool = True) -> str:
    """A readable account of one offender's comparison, for a terminal or a report."""
    c = comparison
    comp = c.computation
    lines = [f"person {c.person_id}: {c.status}" + (f" ({c.reason})" if c.reason else "")]
    lines += [f"  note: {n}" for n in comp.notes]
    if c.delta is None:
        lines.append(f"  {c.impact.description}")
        return "\n".join(lines)
    start = c.legacy_start
    table = [
        ("max expiration", start.max_expiration if start else None, comp.max_expiration),
        ("good conduct", start.good_conduct if start else None, comp.good_conduct),
        ("good conduct rate", start.gc_rate if start else None, comp.gc_rate),
        ("MS release", c.legacy_ms_release, c.recomputed_ms_release),
    ]
    lines.append(f"  {'':24}{'legacy':>12}{'recomputed':>12}")
    lines += [f"  {name:24}{_s(old):>12}{_s(new):>12}" for name, old, new in table]
    lines.append(f"  delta {c.delta:+d} days; {c.impact.description}")
    lines += _explanation_lines(c.explanations)
    if c.max_expiration_delta:
        lines.append(f"  MAX_EXP_DT delta {c.max_expiration_delta:+d} days")
        lines += _explanation_lines(c.max_expiration_explanations)
    if months:
        rows = [r for r in c.side_by_side() if r.legacy != r.recomputed]
        if rows:
            lines.append(f"  {'month':9}{'type':>6}{'legacy':>8}{'recomputed':>12}{'eligible':>10}")
        for r in rows:
            lines.append(
                f"  {r.month:%Y-%m}  {r.credit_type:>6}{r.legacy:>8}{r.recomputed:>12}"
                f"{r.eligible_days:>10}"
            )
    return "\n".join(lines)


def _explanation_lines(explanations: tuple[Explanation, ...]) -> list[str]:
    lines = []
    for e in explanations:
        evidence = ", ".join(e.evidence[:8]) + (" ..." if len(e.evidence) > 8 else "")
        lines.append(f"  {e.days:+6d}  {e.code}: {e.detail} [{evidence}]")
    return lines


def _s(value: object) -> str:
    return "-" if value is None else str(value)
