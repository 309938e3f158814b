"""Charts as inline SVG, drawn on the server: no script, nothing loaded from elsewhere.

:func:`trend_svg` draws the discrepancies of every dry run (a line per kind);
:func:`days_histogram` counts a batch's offenders by how many days the legacy release date is
off, and :func:`histogram_svg` draws it, early (the legacy date too early) and late apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy.engine import Connection

from cutover.batches.readiness import TrendPoint
from cutover.batches.tables import val_offender

__all__ = ["BUCKETS", "Bucket", "days_histogram", "histogram_svg", "trend_svg"]

#: Day ranges of the histogram: (label, low, high), both ends included, by absolute days.
BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("1-7", 1, 7),
    ("8-30", 8, 30),
    ("31-90", 31, 90),
    ("91-365", 91, 365),
    ("> 365", 366, 10**9),
)

_SERIES = (
    ("unexplained", "Unexplained", "#c0392b"),
    ("explained", "Explained", "#d68910"),
    ("quarantined", "Quarantined", "#6c3fb5"),
)


@dataclass(frozen=True, slots=True)
class Bucket:
    label: str
    early: int
    late: int


def days_histogram(conn: Connection, batch: str, run_id: str) -> list[Bucket]:
    """Offenders of ``batch`` by days off: early = positive delta (legacy too early)."""
    o = val_offender.c
    size = sa.func.abs(o.delta_days)
    bucket = sa.case(
        *((sa.and_(size >= lo, size <= hi), label) for label, lo, hi in BUCKETS), else_=None
    )
    side = sa.case((o.delta_days > 0, "early"), else_="late")
    rows = conn.execute(
        sa.select(bucket.label("bucket"), side.label("side"), sa.func.count())
        .where(o.run_id == run_id, o.batch == batch, o.delta_days != 0)
        .group_by(bucket, side)
    ).all()
    counts = {(r[0], r[1]): int(r[2]) for r in rows}
    return [
        Bucket(label, counts.get((label, "early"), 0), counts.get((label, "late"), 0))
        for label, _, _ in BUCKETS
    ]


def _nice_max(value: int) -> int:
    """The smallest of 1, 2, 4, 5 or 10 times a power of ten that is at least ``value``."""
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(value)) - 1)
    top: int = next(m * magnitude for m in (1, 2, 4, 5, 10) if m * magnitude >= value)
    return top


def trend_svg(points: Sequence[TrendPoint], *, width: int = 720, height: int = 240) -> Markup:
    """Lines of unexplained, explained and quarantined counts across the dry runs."""
    if not points:
        return Markup('<p class="empty">No dry run with evidence yet.</p>')
    left, right, top, bottom = 52, 160, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_max(max(max(getattr(p, k) for k, _, _ in _SERIES) for p in points))
    step = plot_w / max(len(points) - 1, 1)

    def x(i: int) -> float:
        return left + (i * step if len(points) > 1 else plot_w / 2)

    def y(v: int) -> float:
        return top + plot_h - v / peak * plot_h

    parts = [
        (
            f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
            f'aria-label="Discrepancies across {len(points)} dry runs" '
            'xmlns="http://www.w3.org/2000/svg">'
        )
    ]
    for i in range(5):
        v = peak * i // 4
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
            f'stroke="#e3e8ef"/><text x="{left - 8}" y="{y(v) + 4:.1f}" text-anchor="end" '
            f'font-size="11" fill="#5b6778">{v:,}</text>'
        )
    for i, p in enumerate(points):
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - 20}" text-anchor="middle" font-size="11" '
            f'fill="#5b6778">{escape(p.label)}</text>'
        )
    for n, (key, label, color) in enumerate(_SERIES):
        coords = " ".join(f"{x(i):.1f},{y(getattr(p, key)):.1f}" for i, p in enumerate(points))
        parts.append(
            f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2.5" '
            'stroke-linejoin="round"/>'
        )
        for i, p in enumerate(points):
            value = getattr(p, key)
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="3.5" fill="{color}">'
                f"<title>{escape(label)}: {value:,} (run {escape(p.run_id)})</title></circle>"
            )
        ly = top + 10 + n * 22
        last = getattr(points[-1], key)
        parts.append(
            f'<rect x="{width - right + 18}" y="{ly - 8}" width="12" height="12" rx="2" '
            f'fill="{color}"/><text x="{width - right + 36}" y="{ly + 2}" font-size="12" '
            f'fill="#1c2430">{escape(label)} <tspan font-weight="600">{last:,}</tspan></text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - labels escaped, the rest numbers


def histogram_svg(buckets: Sequence[Bucket], *, width: int = 560, height: int = 220) -> Markup:
    """Bars of offenders per day range: late to the left, early to the right of the centre."""
    total = sum(b.early + b.late for b in buckets)
    if not total:
        return Markup('<p class="empty">No offender of this batch has a date difference.</p>')
    left, right, top, bottom = 16, 16, 24, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_max(max(max(b.early, b.late) for b in buckets))
    slots = len(buckets) * 2
    slot = plot_w / slots
    bar = slot * 0.72
    parts = [
        (
            f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
            f'aria-label="Offenders by days the legacy release date is off" '
            'xmlns="http://www.w3.org/2000/svg">'
        ),
        (
            f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" '
            'stroke="#c5cfdb"/>'
        ),
        (
            f'<line x1="{left + plot_w / 2}" x2="{left + plot_w / 2}" y1="{top - 8}" '
            f'y2="{top + plot_h + 6}" stroke="#8896a8" stroke-dasharray="3 3"/>'
        ),
        (
            f'<text x="{left + plot_w / 4}" y="{top - 10}" text-anchor="middle" font-size="12" '
            'fill="#1d4f87" font-weight="600">Legacy date too late</text>'
        ),
        (
            f'<text x="{left + plot_w * 3 / 4}" y="{top - 10}" text-anchor="middle" font-size="12" '
            'fill="#a11d1d" font-weight="600">Legacy date too early</text>'
        ),
    ]
    late = list(reversed(buckets))
    bars = [(b.label, b.late, "#2e6fb5", "late") for b in late]
    bars += [(b.label, b.early, "#c0392b", "early") for b in buckets]
    for i, (label, value, color, side) in enumerate(bars):
        cx = left + slot * i + slot / 2
        h = value / peak * plot_h
        parts.append(
            f'<rect x="{cx - bar / 2:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" '
            f'height="{h:.1f}" rx="2" fill="{color}"><title>{value:,} offender(s) {side} by '
            f"{escape(label)} days</title></rect>"
        )
        if value:
            parts.append(
                f'<text x="{cx:.1f}" y="{top + plot_h - h - 4:.1f}" text-anchor="middle" '
                f'font-size="11" fill="#1c2430">{value:,}</text>'
            )
        parts.append(
            f'<text x="{cx:.1f}" y="{top + plot_h + 16}" text-anchor="middle" font-size="10.5" '
            f'fill="#5b6778">{escape(label)}</text>'
        )
    parts.append(
        f'<text x="{width / 2}" y="{height - 6}" text-anchor="middle" font-size="11" '
        'fill="#5b6778">days off</text></svg>'
    )
    return Markup("".join(parts))  # noqa: S704 - labels escaped, the rest numbers
