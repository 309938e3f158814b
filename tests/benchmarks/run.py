"""``make bench``: state-scale measurements, each step as its own measured child process.

Builds a legacy system of ``--offenders`` (default 100,000) offenders, then measures side by side:

- generation (``cutover legacy generate``): offenders and rows per second;
- extraction into a fresh SQLite staging database (``cutover extract``);
- the engine's own limit: copying the same legacy tables with ``INSERT ... SELECT`` across
  attached SQLite files, no transformation (``tests.benchmarks.rawcopy``);
- the whole dry run (extract, check, transform, load) into a fresh workspace (``cutover dry-run``).

It prints wall time, rows per second and peak memory of each, the ratios against the raw copy,
and writes everything to ``bench-out/results.json``. Usage::

    python -m tests.benchmarks.run [--offenders N] [--seed S] [--out DIR] [--skip-dry-run]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
from pathlib import Path

from cutover.commands.workspace import write_workspace
from tests.benchmarks.measure import Measurement, run_measured

REPO = Path(__file__).resolve().parents[2]


def _legacy_rows(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return sum(int(conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]) for n in names)
    finally:
        conn.close()


def _workspace(out: Path, legacy: Path, name: str) -> Path:
    ws = out / name
    shutil.rmtree(ws, ignore_errors=True)
    write_workspace(
        ws,
        name=name,
        source_url=f"sqlite:///{legacy / 'obscis.db'}",
        documents=str(legacy / "documents.csv"),
        mappings=str(REPO / "mappings" / "obscis"),
    )
    return ws


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--offenders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=REPO / "bench-out")
    parser.add_argument("--skip-dry-run", action="store_true")
    args = parser.parse_args(argv)

    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    log = out / "bench.log"
    cutover = str(Path(sys.executable).with_name("cutover"))
    legacy = out / f"legacy-{args.offenders}-{args.seed}"
    shutil.rmtree(legacy, ignore_errors=True)

    results: list[Measurement] = []
    gen = run_measured(
        "generate",
        [
            cutover,
            "legacy",
            "generate",
            "--offenders",
            str(args.offenders),
            "--seed",
            str(args.seed),
            "--out",
            str(legacy),
        ],
        log=log,
    )
    rows = _legacy_rows(legacy / "obscis.db")
    results.append(Measurement(gen.name, gen.seconds, gen.peak_rss_mb, rows))

    raw = run_measured(
        "raw copy (INSERT ... SELECT)",
        [
            sys.executable,
            "-m",
            "tests.benchmarks.rawcopy",
            str(legacy / "obscis.db"),
            str(out / "rawcopy.db"),
        ],
        rows=rows,
        cwd=REPO,
        log=log,
    )
    results.append(raw)

    ws = _workspace(out, legacy, "extract-ws")
    results.append(run_measured("extract", [cutover, "extract", "-w", str(ws)], rows=rows, log=log))
    if not args.skip_dry_run:
        ws = _workspace(out, legacy, "dryrun-ws")
        results.append(
            run_measured(
                "dry run (SQLite)", [cutover, "dry-run", "-w", str(ws)], rows=rows, log=log
            )
        )

    width = max(len(m.name) for m in results)
    lines = [
        f"benchmark: {args.offenders:,} offenders, seed {args.seed}, {rows:,} legacy rows",
        f"{'step':<{width}}  {'seconds':>9}  {'rows/s':>11}  {'peak MB':>8}  {'x raw copy':>10}",
    ]
    for m in results:
        rps = f"{m.rows_per_second:,.0f}" if m.rows_per_second else "-"
        ratio = m.seconds / raw.seconds
        peak = f"{m.peak_rss_mb:,.0f}"
        lines.append(f"{m.name:<{width}}  {m.seconds:>9.1f}  {rps:>11}  {peak:>8}  {ratio:>10.1f}")
    sys.stdout.write("\n".join(lines) + "\n")
    payload = {
        "offenders": args.offenders,
        "seed": args.seed,
        "legacy_rows": rows,
        "measurements": [m.as_dict() for m in results],
        "ratios_to_raw_copy": {m.name: m.seconds / raw.seconds for m in results},
    }
    (out / "results.json").write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
