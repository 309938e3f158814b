"""A run beside the audit: the share of releases on the wrong date, and how early or late.

Of the offenders released on mandatory supervision (``impact_kind`` ``released_early``,
``released_late`` or ``released_on_time``), how many had their release date computed wrong
(the legacy ``MS_REL_DT`` differs from the recomputed date), and a histogram of the days early
(legacy date before the correct one: ``delta_days`` > 0) and late, like the audit's Exhibit 1.
This is the date the legacy system gave, as the audit judged it; when a release was processed
after that date had already passed, what the person lived through is the offender's
``impact`` (in ``val_offender`` and the batch summary), not this report. The audit's figures and
the histogram's bins are a parameter file (``validation/policies/audit_reference.yaml``). The
counts are one grouped query over ``val_offender``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.engine import Engine

from cutover.errors import ConfigError
from validation.store import VAL_OFFENDER, ensure_tables

__all__ = [
    "DEFAULT_AUDIT_REFERENCE",
    "AuditReference",
    "AuditReport",
    "Bin",
    "audit_report",
    "load_audit_reference",
    "render_audit_report",
]

DEFAULT_AUDIT_REFERENCE = Path(__file__).resolve().parent / "policies" / "audit_reference.yaml"

_RELEASED = ("released_early", "released_late", "released_on_time")


class AuditReference(BaseModel):
    """The audit's figures, and the bins the histogram uses."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reference: str
    title: str
    share_wrong: float = Field(ge=0, le=1)
    most_days_early: int = Field(ge=0)
    most_days_late: int = Field(ge=0)
    bins: tuple[int, ...] = Field(min_length=1)

    @field_validator("bins")
    @classmethod
    def _increasing(cls, bins: tuple[int, ...]) -> tuple[int, ...]:
        if list(bins) != sorted(set(bins)) or bins[0] < 1:
            raise ValueError("bins must be increasing lower edges, starting at 1 day or more")
        return bins


def load_audit_reference(path: Path | None = None) -> AuditReference:
    """Read the audit's figures (default: the file shipped with the package)."""
    source = path or DEFAULT_AUDIT_REFERENCE
    try:
        return AuditReference.model_validate(yaml.safe_load(source.read_text(encoding="utf-8")))
    except OSError as exc:
        raise ConfigError(f"cannot read {source}: {exc}", file=str(source)) from exc
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(
            f"the audit reference {source} is invalid: {exc}",
            hint="see validation/policies/audit_reference.yaml for the layout",
            file=str(source),
        ) from exc


@dataclass(frozen=True, slots=True)
class Bin:
    """Releases ``low`` to ``high`` days early (or late); ``high=None`` is open-ended."""

    low: int
    high: int | None
    count: int

    @property
    def label(self) -> str:
        return f"{self.low}+" if self.high is None else f"{self.low}-{self.high}"


@dataclass(frozen=True, slots=True)
class AuditReport:
    """One run's releases beside the audit's."""

    run_id: str
    batches: tuple[str, ...] | None
    releases: int
    on_time: int
    early: int
    late: int
    most_days_early: int
    most_days_late: int
    early_bins: tuple[Bin, ...]
    late_bins: tuple[Bin, ...]
    reference: AuditReference

    @property
    def wrong(self) -> int:
        return self.early + self.late

    @property
    def share_wrong(self) -> float:
        return self.wrong / self.releases if self.releases else 0.0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["reference"] = self.reference.model_dump()
        out["wrong"] = self.wrong
        out["share_wrong"] = self.share_wrong
        for name in ("early_bins", "late_bins"):
            out[name] = [{"label": b.label, **asdict(b)} for b in getattr(self, name)]
        return out


def _bins(edges: tuple[int, ...], days: dict[int, int]) -> tuple[Bin, ...]:
    out = []
    for i, low in enumerate(edges):
        high = edges[i + 1] - 1 if i + 1 < len(edges) else None
        count = sum(n for d, n in days.items() if d >= low and (high is None or d <= high))
        out.append(Bin(low, high, count))
    return tuple(out)


def audit_report(
    control: Engine,
    run_id: str,
    *,
    batches: Sequence[str] | None = None,
    reference: AuditReference | None = None,
) -> AuditReport:
    """Share of the run's MS releases whose date was wrong, and the days early / late, by bin."""
    ref = reference or load_audit_reference()
    ensure_tables(control)
    delta = VAL_OFFENDER.c.delta_days
    query = (
        sa.select(delta, sa.func.count())
        .where(
            VAL_OFFENDER.c.run_id == run_id,
            VAL_OFFENDER.c.impact_kind.in_(_RELEASED),
            delta.is_not(None),
        )
        .group_by(delta)
    )
    if batches is not None:
        query = query.where(VAL_OFFENDER.c.batch.in_(list(batches)))
    early: dict[int, int] = {}
    late: dict[int, int] = {}
    on_time = 0
    with control.connect() as conn:
        for days, n in cast(Any, conn.execute(query)):
            if days > 0:
                early[int(days)] = early.get(int(days), 0) + int(n)
            elif days < 0:
                late[-int(days)] = late.get(-int(days), 0) + int(n)
            else:
                on_time += int(n)
    return AuditReport(
        run_id=run_id,
        batches=tuple(batches) if batches is not None else None,
        releases=on_time + sum(early.values()) + sum(late.values()),
        on_time=on_time,
        early=sum(early.values()),
        late=sum(late.values()),
        most_days_early=max(early, default=0),
        most_days_late=max(late, default=0),
        early_bins=_bins(ref.bins, early),
        late_bins=_bins(ref.bins, late),
        reference=ref,
    )


def render_audit_report(report: AuditReport, *, width: int = 40) -> str:
    """The report as text: the figures beside the audit's, and the histogram as bars."""
    r, ref = report, report.reference
    lines = [
        (
            f"releases on mandatory supervision: {r.releases} (run {r.run_id}); "
            "legacy MS_REL_DT against the recomputed date"
        ),
        f"  {'':32}{'this run':>12}{'audit':>12}",
        f"  {'share on the wrong date':32}{r.share_wrong:>12.1%}{ref.share_wrong:>12.0%}",
        f"  {'released early':32}{r.early:>12}{'':>12}",
        f"  {'released late':32}{r.late:>12}{'':>12}",
        f"  {'most days early':32}{r.most_days_early:>12}{ref.most_days_early:>12}",
        f"  {'most days late':32}{r.most_days_late:>12}{ref.most_days_late:>12}",
        f"  audit: {ref.title}",
        "  days early / late (histogram):",
    ]
    top = max([b.count for b in (*r.early_bins, *r.late_bins)] + [1])
    for label, bins in (("late", reversed(r.late_bins)), ("early", r.early_bins)):
        for b in bins:
            bar = "#" * round(width * b.count / top)
            lines.append(f"  {label:>6} {b.label:>8} {b.count:>6} {bar}")
    return "\n".join(lines)
