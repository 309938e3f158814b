"""``make bench``: state-scale measurements, each step as its own measured child process.

Builds (or reuses, see ``tests.benchmarks.legacy``) a legacy system of ``--offenders`` (default
100,000) offenders, then measures side by side, per engine:

- the engine's own limit, copying the legacy tables with no transformation: SQLite
  ``INSERT ... SELECT`` across attached files (``tests.benchmarks.rawcopy``); PostgreSQL
  ``COPY`` from a database holding the legacy tables into a fresh one
  (``tests.benchmarks.postgres``, which says why the PostgreSQL side starts from PostgreSQL);
- the peer: dlt's ``sql_database`` source loading the same tables into DuckDB
  (``tests.benchmarks.dltpeer``, which says why that destination);
- the whole dry run (extract, check, transform, load into the scratch target, evidence,
  validate) into a fresh workspace: SQLite staging, scratch and control files; or fresh
  PostgreSQL databases for them on the test server (``CUTOVER_TEST_PG_URL``), reading the
  PostgreSQL legacy database;

then, after the SQLite dry run, validation's recompute against fact-reading ratio
(``tests.benchmarks.validation_throughput`` on its scratch target), the scaling run
(``--scaling``: the SQLite dry run at each of ``--scaling-sizes``), and the pytest-benchmark
micro-benchmarks of the hot paths (``bench_*.py`` here).

It prints wall time, rows per second and peak memory of each, the ratios of the dry run to the
raw copy and to dlt with the issue's targets met or missed, and writes everything to
``OUT/results.json`` after every step, so that a step that fails leaves the others' figures.
A failed step is reported at once and again at the end, and the run exits 1. Usage::

    python -m tests.benchmarks.run [--offenders N] [--seed S] [--out DIR] [--scaling]
        [--scaling-sizes 10000,30000,100000] [--skip postgres,dlt,...] [--fail-fast]

PostgreSQL databases are named ``bench_<offenders>_<seed>_<role>`` and dropped and created
afresh for each run, except the legacy one, which is kept while it matches the legacy system.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, get_args

import sqlalchemy as sa

from cutover.legacy import SUMMARY_FILE
from tests.benchmarks import postgres as pg
from tests.benchmarks.dltpeer import Backend
from tests.benchmarks.harness import (
    REPO,
    Bench,
    check_printed_rows,
    fresh_workspace,
    measured_dry_run,
    measured_peer,
    module_command,
)
from tests.benchmarks.legacy import LegacySystem, ensure_legacy
from tests.benchmarks.measure import Measurement, run_measured
from tests.benchmarks.report import compare, format_table, linearity, micro_summary

PHASES = ("sqlite", "postgres", "dlt", "dry-run", "validation", "micro")
#: Keys of validation_throughput's output that hold recompute / fact-reading, in preference.
RATIO_KEYS = ("recompute_over_read", "ratio", "explain_over_read")


def _sqlite(bench: Bench, legacy: LegacySystem, skip: set[str], dlt_backend: str) -> None:
    results = bench.results
    out = bench.out
    engine = "sqlite"

    def raw_copy() -> Measurement:
        dest, printed = out / "rawcopy.db", out / "rawcopy.out"
        argv = module_command("rawcopy", str(legacy.db), str(dest))
        m = run_measured(
            "raw copy (INSERT ... SELECT)",
            argv,
            rows=legacy.rows,
            cwd=REPO,
            log=bench.log,
            stdout=printed,
        )
        dest.unlink(missing_ok=True)
        check_printed_rows(printed, legacy.rows, "the SQLite raw copy")
        return bench.record(engine, "raw_copy", m)

    def peer() -> Measurement:
        return measured_peer(bench, engine, f"sqlite:///{legacy.db}", legacy, dlt_backend)

    def dry_run() -> tuple[Measurement, dict[str, float]]:
        ws = fresh_workspace(out / "dryrun-ws", f"sqlite:///{legacy.db}", legacy)
        m, steps = measured_dry_run(bench, engine, "dry run", ws, legacy, {})
        results["dry_run_steps"][engine] = steps
        return bench.record(engine, "dry_run", m), steps

    raw = bench.phase("sqlite: raw copy", raw_copy)
    dlt = None if "dlt" in skip else bench.phase("sqlite: dlt", peer)
    done = None if "dry-run" in skip else bench.phase("sqlite: dry run", dry_run)
    if done is not None and "validation" not in skip:
        bench.phase("validation: recompute / fact-reading", lambda: _validation(bench))
    results["comparison"][engine] = compare(
        done[0] if done else None, raw, dlt, [done[0].peak_rss_mb] if done else []
    )


def _validation(bench: Bench) -> float:
    """validation_throughput on the SQLite dry run's scratch target; its JSON and the ratio."""
    ws = bench.out / "dryrun-ws"
    argv = module_command("validation_throughput", "--workspace", str(ws), "--database", "scratch")
    printed = bench.out / "validation.out"
    entry: dict[str, Any] = {
        "command": ["python", *argv[1:]],
        "output": None,
        "ratio": None,
        "ratio_key": None,
    }
    bench.results["validation"] = entry
    m = run_measured("validation throughput", argv, cwd=REPO, log=bench.log, stdout=printed)
    entry["measurement"] = m.as_dict()
    text = printed.read_text(encoding="utf-8")
    try:
        output = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RuntimeError(f"validation_throughput printed no JSON object: {text[:500]!r}") from exc
    entry["output"] = output
    key = _ratio_key(output)
    ratio = float(output[key])
    entry["ratio_key"], entry["ratio"] = key, ratio
    bench.say(f"  recompute / fact-reading: {ratio:.2f} ({key})")
    return ratio


def _ratio_key(output: dict[str, Any]) -> str:
    """The key of validation_throughput's recompute / fact-reading ratio."""
    numbers = {k for k, v in output.items() if isinstance(v, int | float)}
    key = next((k for k in RATIO_KEYS if k in numbers), None)
    if key is not None:
        return key
    named = sorted(k for k in numbers if "ratio" in k or k.endswith("_over_read"))
    if len(named) != 1:
        raise RuntimeError(
            f"no single recompute / read ratio in its output; keys: {sorted(output)}"
        )
    return named[0]


def _postgres(
    bench: Bench, legacy: LegacySystem, skip: set[str], dlt_backend: str, server: str
) -> None:
    results = bench.results
    engine = "postgresql"
    prefix = f"bench_{legacy.offenders}_{legacy.seed}"
    legacy_db = f"{prefix}_legacy"
    legacy_url = pg.database_url(server, legacy_db)

    def load() -> str:
        summary = (legacy.path / SUMMARY_FILE).read_bytes()
        fingerprint = "cutover-bench-legacy-v1:" + hashlib.sha256(summary).hexdigest()
        if pg.legacy_fingerprint(server, legacy_db) == fingerprint:
            bench.say(f"  reusing database {legacy_db}")
            return legacy_url
        pg.fresh_database(server, legacy_db)
        printed = bench.out / "pg-load.out"
        argv = module_command("postgres", "load", str(legacy.db), legacy_url, fingerprint)
        m = run_measured(
            "legacy tables into PostgreSQL (setup)",
            argv,
            rows=legacy.rows,
            cwd=REPO,
            log=bench.log,
            stdout=printed,
        )
        check_printed_rows(printed, legacy.rows, "the PostgreSQL legacy load")
        results["setup"].append({"engine": engine, **m.as_dict()})
        return legacy_url

    def raw_copy() -> Measurement:
        dest = pg.fresh_database(server, f"{prefix}_rawcopy")
        printed = bench.out / "pg-rawcopy.out"
        argv = module_command("postgres", "copy", legacy_url, dest)
        m = run_measured(
            "raw copy (COPY TO / FROM)",
            argv,
            rows=legacy.rows,
            cwd=REPO,
            log=bench.log,
            stdout=printed,
        )
        pg.drop_database(server, f"{prefix}_rawcopy")
        check_printed_rows(printed, legacy.rows, "the PostgreSQL raw copy")
        return bench.record(engine, "raw_copy", m)

    def dry_run() -> tuple[Measurement, dict[str, float]]:
        env = {
            f"CUTOVER_{role.upper()}_URL": pg.fresh_database(server, f"{prefix}_{role}")
            for role in ("staging", "scratch", "control")
        }
        # The workspace file names the legacy database without its password; the
        # environment gives the full URL, as a real workspace keeps credentials.
        env["CUTOVER_SOURCE_OBSCIS_URL"] = legacy_url
        public = sa.make_url(legacy_url).set(password=None).render_as_string()
        ws = fresh_workspace(bench.out / "dryrun-pg-ws", public, legacy)
        m, steps = measured_dry_run(bench, engine, "dry run", ws, legacy, env)
        results["dry_run_steps"][engine] = steps
        # Figures taken: free the disk (a failed run keeps its databases to look into).
        for role in ("staging", "scratch"):
            pg.drop_database(server, f"{prefix}_{role}")
        return bench.record(engine, "dry_run", m), steps

    if bench.phase("postgresql: legacy tables (setup)", load) is None:
        return
    raw = bench.phase("postgresql: raw copy", raw_copy)
    peer = None
    if "dlt" not in skip:
        peer = bench.phase(
            "postgresql: dlt", lambda: measured_peer(bench, engine, legacy_url, legacy, dlt_backend)
        )
    done = None if "dry-run" in skip else bench.phase("postgresql: dry run", dry_run)
    results["comparison"][engine] = compare(
        done[0] if done else None, raw, peer, [done[0].peak_rss_mb] if done else []
    )


def _scaling(bench: Bench, args: argparse.Namespace, main: Measurement | None) -> None:
    """The SQLite dry run at each size, reusing the main run's figure at its own size."""
    points: list[dict[str, Any]] = []
    scaling = {"points": points, "linearity": linearity(points, args.linear_tolerance)}
    bench.results["scaling"] = scaling

    def one(size: int) -> None:
        legacy = ensure_legacy(bench.out, size, args.seed, log=bench.log)
        if legacy.generated is not None:
            bench.results["setup"].append({"engine": "sqlite", **legacy.generated.as_dict()})
        if size == args.offenders and main is not None:
            m, steps = main, bench.results["dry_run_steps"].get("sqlite", {})
        else:
            ws = fresh_workspace(bench.out / f"scaling-{size}-ws", f"sqlite:///{legacy.db}", legacy)
            m, steps = measured_dry_run(
                bench, "sqlite", f"dry run, {size:,} offenders", ws, legacy, {}
            )
            bench.say(f"  {m.seconds:.1f} s, {m.rows_per_second or 0:,.0f} rows/s")
            shutil.rmtree(ws / ".cutover")  # figures taken: free the disk
        points.append(
            {
                "offenders": size,
                "rows": legacy.rows,
                "seconds": m.seconds,
                "rows_per_second": m.rows_per_second,
                "peak_rss_mb": m.peak_rss_mb,
                "steps": steps,
            }
        )

    for size in sorted(args.scaling_sizes):
        bench.phase(f"scaling: {size:,} offenders", functools.partial(one, size))
    points.sort(key=lambda p: p["offenders"])
    scaling["linearity"] = linearity(points, args.linear_tolerance)
    # The peak memory target holds at any size: the scaling runs count too.
    peaks = [p["peak_rss_mb"] for p in points]
    sqlite = bench.results["comparison"].get("sqlite")
    if sqlite is not None and peaks:
        target = sqlite["targets"]["peak_under_1_gb"]
        target["value"] = max([*peaks, *([target["value"]] if target["value"] else [])])
        target["met"] = target["value"] < target["limit"]


def _micro(bench: Bench) -> None:
    report = bench.out / "micro.json"
    report.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    argv += ["-o", "python_files=bench_*.py", "--benchmark-enable"]
    argv += [f"--benchmark-json={report}", str(REPO / "tests" / "benchmarks")]
    printed = bench.out / "micro.out"
    try:
        run_measured("micro-benchmarks", argv, cwd=REPO, log=bench.log, stdout=printed)
    except RuntimeError as exc:
        said = printed.read_text(encoding="utf-8").splitlines()
        failed = [line for line in said if line.startswith(("FAILED ", "ERROR "))]
        raise RuntimeError("\n".join([str(exc).partition("; see ")[0], *failed])) from exc
    bench.results["micro"] = micro_summary(json.loads(report.read_text(encoding="utf-8")))


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _phases(text: str) -> set[str]:
    names = {part.strip() for part in text.split(",") if part.strip()}
    unknown = names - set(PHASES)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown: {', '.join(sorted(unknown))}")
    return names


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--offenders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=REPO / "bench-out")
    parser.add_argument("--scaling", action="store_true", help="also run the scaling run")
    parser.add_argument("--scaling-sizes", type=_sizes, default=[10_000, 30_000, 100_000])
    parser.add_argument(
        "--linear-tolerance",
        type=float,
        default=0.25,
        help="seconds per row at any size at most this fraction above the smallest size's",
    )
    parser.add_argument("--skip", type=_phases, default=set(), help=f"any of {','.join(PHASES)}")
    parser.add_argument("--dlt-backend", choices=get_args(Backend), default="pyarrow")
    parser.add_argument("--fail-fast", action="store_true", help="stop at the first failure")
    parser.add_argument("--skip-dry-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.skip_dry_run:
        args.skip.add("dry-run")
    return args


#: Settings a shell may have exported that would point a measured run somewhere else.
_WORKSPACE_ENV = ("CUTOVER_WORKSPACE", "CUTOVER_MAPPINGS_DIR", "CUTOVER_RULE_PACK")


def _isolate_environment() -> None:
    """Drop inherited workspace settings: each measured run gets exactly what it is given."""
    for key in list(os.environ):
        url = key.startswith("CUTOVER_") and key.endswith("_URL")
        if key in _WORKSPACE_ENV or key.startswith("CUTOVER_SOURCE_") or url:
            del os.environ[key]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    server = os.environ.get("CUTOVER_TEST_PG_URL")
    _isolate_environment()
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    bench = Bench(
        out,
        args.fail_fast,
        {
            "offenders": args.offenders,
            "seed": args.seed,
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()},
            "options": {
                k: sorted(v) if isinstance(v, set) else v
                for k, v in vars(args).items()
                if k != "out"
            },
            "legacy": None,
            "setup": [],
            "measurements": [],
            "dry_run_steps": {},
            "comparison": {},
        },
    )
    started = time.perf_counter()
    legacy = bench.phase(
        "legacy system", lambda: ensure_legacy(out, args.offenders, args.seed, log=bench.log)
    )
    if legacy is not None:
        bench.results["legacy"] = legacy.as_dict()
        if legacy.generated is not None:
            bench.results["setup"].append({"engine": "sqlite", **legacy.generated.as_dict()})
        how = "reused" if legacy.generated is None else "generated"
        bench.say(f"  {how} {legacy.path}: {legacy.rows:,} rows, {legacy.documents:,} documents")
        if "sqlite" not in args.skip:
            _sqlite(bench, legacy, args.skip, args.dlt_backend)
        if "postgres" not in args.skip:
            if not server:
                bench.phase("postgresql", _no_server)
            else:
                _postgres(bench, legacy, args.skip, args.dlt_backend, server)
        if args.scaling:
            main_run = next(
                (
                    Measurement(m["name"], m["seconds"], m["peak_rss_mb"], m["rows"])
                    for m in bench.results["measurements"]
                    if m["engine"] == "sqlite" and m["key"] == "dry_run"
                ),
                None,
            )
            _scaling(bench, args, main_run)
    if "micro" not in args.skip:
        bench.phase("micro-benchmarks", lambda: _micro(bench))
    bench.results["seconds"] = time.perf_counter() - started
    bench.results["machine"]["load_average_at_end"] = os.getloadavg()
    bench.save()
    sys.stdout.write("\n" + format_table(bench.results))
    sys.stdout.write(f"\nresults: {out / 'results.json'}; log: {bench.log}\n")
    return 1 if bench.errors else 0


def _no_server() -> None:
    raise RuntimeError(
        "CUTOVER_TEST_PG_URL is not set: run 'make bench', or 'scripts/test-services start' "
        "and 'set -a && . .services/env && set +a' first (or pass --skip postgres)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
