"""What ``make bench`` concludes from its measurements: ratios, the issue's targets, linearity,
and the console table.

The targets (issue 7), per engine: the whole dry run within ``RAW_COPY_LIMIT`` times the raw
engine copy of the same legacy tables, faster than the peer's extract-and-load alone, and peak
memory under ``PEAK_LIMIT_MB`` at any size.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from tests.benchmarks.cpu import IDLE_SAMPLE
from tests.benchmarks.measure import Measurement

__all__ = [
    "PEAK_LIMIT_MB",
    "RAW_COPY_LIMIT",
    "compare",
    "cpu_lines",
    "format_table",
    "linearity",
    "micro_summary",
]

RAW_COPY_LIMIT = 3.0
PEAK_LIMIT_MB = 1024.0


def _target(value: float | None, limit: float, *, strict: bool) -> dict[str, Any]:
    met = None if value is None else (value < limit if strict else value <= limit)
    return {"value": value, "limit": limit, "met": met}


def compare(
    dry_run: Measurement | None,
    raw_copy: Measurement | None,
    peer: Measurement | None,
    peaks_mb: Sequence[float],
) -> dict[str, Any]:
    """One engine's ratios and targets; a figure that is missing leaves its target unknown."""
    over_raw = dry_run.seconds / raw_copy.seconds if dry_run and raw_copy else None
    over_peer = dry_run.seconds / peer.seconds if dry_run and peer else None
    peak = max(peaks_mb) if peaks_mb else None
    return {
        "dry_run_over_raw_copy": over_raw,
        "dry_run_over_dlt": over_peer,
        "targets": {
            "within_3x_raw_copy": _target(over_raw, RAW_COPY_LIMIT, strict=False),
            "faster_than_dlt": _target(over_peer, 1.0, strict=True),
            "peak_under_1_gb": _target(peak, PEAK_LIMIT_MB, strict=True),
        },
    }


def linearity(points: Sequence[Mapping[str, Any]], tolerance: float) -> dict[str, Any]:
    """Whether dry-run time grows linearly with the legacy rows.

    ``points`` carry ``rows`` and ``seconds``, smallest size first. Time grows linearly (or
    better) when the seconds per row at every size are within ``tolerance`` above the smallest
    size's. The exponent of a least-squares fit of log(seconds) on log(rows) is given beside it
    (1.0 is linear); it needs two sizes or more.
    """
    per_row = [p["seconds"] / p["rows"] for p in points]
    if len(points) < 2:
        return {"linear": None, "tolerance": tolerance, "worst_growth": None, "exponent": None}
    growth = max(r / per_row[0] for r in per_row) - 1.0
    xs = [math.log(p["rows"]) for p in points]
    ys = [math.log(p["seconds"]) for p in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    exponent = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else None
    return {
        "linear": growth <= tolerance,
        "tolerance": tolerance,
        "worst_growth": growth,
        "exponent": exponent,
    }


def micro_summary(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """pytest-benchmark's JSON report, one line per benchmark, with rows (or offenders) per s."""
    out = []
    for b in report.get("benchmarks", []):
        stats, extra = b["stats"], b.get("extra_info", {})
        units = extra.get("rows") or extra.get("offenders")
        unit = "rows" if "rows" in extra else "offenders"
        out.append(
            {
                "name": b["name"],
                "mean_seconds": stats["mean"],
                "min_seconds": stats["min"],
                "stddev_seconds": stats["stddev"],
                "rounds": stats["rounds"],
                "extra_info": extra,
                f"{unit}_per_second": units / stats["mean"] if units and stats["mean"] else None,
            }
        )
    return out


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _verdict(target: Mapping[str, Any]) -> str:
    return {True: "met", False: "MISSED", None: "unknown"}[target["met"]]


def _gist(error: str) -> str:
    """An error in one line: how the step failed and the last error line its command printed."""
    lines = [line.strip() for line in error.splitlines() if line.strip()]
    head = lines[0].partition("; see ")[0]
    said = [line for line in lines[1:] if "Error" in line or "error:" in line]
    return f"{head}: {said[-1]}" if said else head


def cpu_lines(measurements: Sequence[Mapping[str, Any]]) -> list[str]:
    """Where the machine's cores went during each measured step that recorded it."""
    sampled = [m for m in measurements if m.get("cpu")]
    if not sampled:
        return []
    lines = [
        "",
        (
            f"{'machine CPU while it ran':<52} {'user':>6} {'kernel':>7} {'idle':>6} "
            f"{'iowait':>7}  one-second samples {IDLE_SAMPLE:.0%}+ idle"
        ),
    ]
    for m in sampled:
        c = m["cpu"]
        lines.append(
            f"{m['engine'] + ' ' + m['name']:<52} {c['user']:>6.1%} {c['kernel']:>7.1%} "
            f"{c['idle']:>6.1%} {c['iowait']:>7.1%}  {c['idle_samples']} of {c['samples']}"
        )
    return lines


def format_table(results: Mapping[str, Any]) -> str:
    """The console report of a benchmark's ``results.json``."""
    legacy = results.get("legacy") or {}
    lines = [
        (
            f"benchmark: {results['offenders']:,} offenders, seed {results['seed']}, "
            f"{legacy.get('rows', 0):,} legacy rows (+{legacy.get('documents', 0):,} documents "
            f"the dry run also reads); legacy system "
            f"{'reused' if legacy.get('reused') else 'generated'}"
        ),
        (
            "rows/s: legacy database rows / wall seconds; peak MB: the measured process's peak "
            "resident memory (a PostgreSQL server's own memory is not in it)"
        ),
        "",
        f"{'engine':<11} {'step':<40} {'seconds':>9} {'rows/s':>11} {'peak MB':>8}",
    ]
    for m in results.get("measurements", []):
        rps = _num(m["rows_per_second"], ",.0f")
        lines.append(
            f"{m['engine']:<11} {m['name']:<40} {m['seconds']:>9.1f} {rps:>11} "
            f"{m['peak_rss_mb']:>8,.0f}"
        )
    steps = results.get("dry_run_steps", {})
    if steps:
        lines.append("")
        for engine, by_step in steps.items():
            text = ", ".join(f"{k} {v:.1f}" for k, v in by_step.items())
            lines.append(f"dry run steps, {engine} (s): {text}")
    lines += cpu_lines(results.get("measurements", []))
    comparison = results.get("comparison", {})
    if comparison:
        lines += [
            "",
            (
                f"{'engine':<11} {'dry run / raw copy (<= 3)':<28} "
                f"{'dry run / dlt (< 1)':<24} {'peak MB (< 1024)':<20}"
            ),
        ]
        for engine, c in comparison.items():
            t = c["targets"]
            raw = f"{_num(c['dry_run_over_raw_copy'], '.2f')} {_verdict(t['within_3x_raw_copy'])}"
            peer = f"{_num(c['dry_run_over_dlt'], '.2f')} {_verdict(t['faster_than_dlt'])}"
            peak = f"{_num(t['peak_under_1_gb']['value'], ',.0f')} {_verdict(t['peak_under_1_gb'])}"
            lines.append(f"{engine:<11} {raw:<28} {peer:<24} {peak:<20}")
    validation = results.get("validation")
    if validation:
        lines += ["", f"validation, recompute / fact-reading: {_num(validation['ratio'], '.2f')}"]
        key = validation["ratio_key"]
        lines.append(
            f"  ({f'{key} of' if key else 'not measured:'} {' '.join(validation['command'])})"
        )
    scaling = results.get("scaling")
    if scaling:
        lines += ["", f"{'scaling, SQLite dry run':<24} {'rows':>12} {'seconds':>9} {'rows/s':>11}"]
        lines += [
            f"{p['offenders']:>15,} offenders {p['rows']:>12,} {p['seconds']:>9.1f} "
            f"{p['rows'] / p['seconds']:>11,.0f}"
            for p in scaling["points"]
        ]
        lin = scaling["linearity"]
        verdict = {True: "yes", False: "NO", None: "unknown (fewer than two sizes)"}[lin["linear"]]
        lines.append(
            f"time grows linearly: {verdict} (seconds per row at most "
            f"{lin['tolerance']:.0%} above the smallest size's; worst "
            f"{_num(lin['worst_growth'], '+.0%')}; log-log exponent {_num(lin['exponent'], '.2f')})"
        )
    micro = results.get("micro")
    if micro:
        lines += ["", f"{'micro-benchmark':<36} {'per call':>8} {'mean ms':>9} {'per s':>12}"]
        for b in micro:
            extra = b["extra_info"]
            count = extra.get("rows") or extra.get("offenders")
            unit = "rows" if "rows" in extra else "offenders"
            rate = b.get(f"{unit}_per_second")
            lines.append(
                f"{b['name']:<36} {count or 0:>8,} {b['mean_seconds'] * 1000:>9.1f} "
                f"{_num(rate, ',.0f'):>12} {unit}"
            )
    errors = results.get("errors", [])
    if errors:
        lines += ["", f"FAILED: {len(errors)} step(s); their figures are missing above:"]
        lines += [f"  {e['phase']}: {_gist(e['error'])}" for e in errors]
        lines.append("  (each error in full: results.json and the output above)")
    return "\n".join(lines) + "\n"
