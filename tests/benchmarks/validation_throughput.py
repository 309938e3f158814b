"""Validation throughput: reading the migrated facts vs recomputing and explaining them.

Measures a migrated workspace as it is (``--workspace DIR``, after ``cutover dry-run``;
``--database scratch`` is the dry run's target, ``target`` the real one) and changes nothing in
it: the validation results go to a temporary control database. Without ``--workspace``, it
generates ``--offenders`` offenders, makes a workspace for them and runs the dry run first.

It reports, in seconds of wall time:

- ``fetch_seconds``: the reader's queries alone, every row fetched, no facts built;
- ``validate_seconds``: ``validate_run`` end to end, made of ``read_seconds`` (the offenders'
  facts read from the target), ``recompute_explain_seconds`` (the rule pack: recompute, compare,
  waterfall), ``write_seconds`` (results to the control database) and ``findings_seconds``
  (catalogue findings);
- ``recompute_over_read``: ``recompute_explain_seconds / read_seconds``, issue #5's ratio.

It validates in one process (``workers=1``); the dry run's validation spreads the same work over
a worker process per core.

It also gives ``offenders``, ``rows`` (fact rows read), the counts of the run, the process's CPU
seconds during ``validate_run`` and its peak memory. Prints one JSON object.

Usage::

    python -m tests.benchmarks.validation_throughput --workspace DIR [--database scratch|target]
    python -m tests.benchmarks.validation_throughput [--offenders N] [--seed S] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa

from cutover.commands.workspace import write_workspace
from cutover.cursors import open_cursor
from cutover.legacy import generate
from cutover.logs import configure_logging
from cutover.settings import load_settings
from load import create_target_engine
from validation import load_pack, validate_run
from validation.reader import fact_queries
from validation.run import ValidationEngines

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings" / "obscis"


def prepare(workdir: Path, offenders: int, seed: int) -> Path:
    """A workspace of ``offenders`` generated offenders, dry-run into its scratch database."""
    legacy = workdir / "legacy"
    if not (legacy / "obscis.db").exists():
        generate(legacy, offenders, seed, workers=2)
    workspace = workdir / "ws"
    if not (workspace / "cutover.toml").exists():
        write_workspace(
            workspace,
            source_url=f"sqlite:///{legacy / 'obscis.db'}",
            documents=str(legacy / "documents.csv"),
            mappings=str(MAPPINGS),
        )
        cutover = str(Path(sys.executable).with_name("cutover"))
        subprocess.run(
            [cutover, "dry-run", "-w", str(workspace)], check=True, stdout=subprocess.DEVNULL
        )
    return workspace


def fetch(engine: sa.Engine) -> tuple[float, int]:
    """Seconds to run the reader's queries and fetch every row, and the number of rows."""
    started = time.perf_counter()
    rows = 0
    with engine.connect() as conn:
        for name, statement in fact_queries(conn, None, None).items():
            cursor = open_cursor(conn, statement, f"bench_{name}")
            try:
                while chunk := cursor.fetchmany(5_000):
                    rows += len(chunk)
            finally:
                cursor.close()
    return time.perf_counter() - started, rows


def measure(workspace: Path, database: Literal["target", "scratch"]) -> dict[str, Any]:
    settings = load_settings(workspace)
    url = (settings.target if database == "target" else settings.scratch).url.get_secret_value()
    pack = load_pack(settings.rule_pack)
    target = create_target_engine(url)
    out: dict[str, Any] = {"workspace": str(workspace), "database": database}
    with tempfile.TemporaryDirectory(prefix="cutover-validation-bench-") as scratch:
        control = sa.create_engine(f"sqlite:///{Path(scratch) / 'control.db'}")
        try:
            out["fetch_seconds"], out["fetched_rows"] = fetch(target)
            started, cpu = time.perf_counter(), time.process_time()
            # One process: the read and the recompute are then timed without the two sharing
            # the cores, and the process's CPU time is the whole of it.
            result = validate_run(
                ValidationEngines(target, control), "benchmark", pack=pack, workers=1
            )
            out["validate_seconds"] = time.perf_counter() - started
            out["validate_cpu_seconds"] = time.process_time() - cpu
        finally:
            control.dispose()
            target.dispose()
    out["offenders"] = result.offenders
    out["rows"] = sum(result.stats.rows.values())
    out["read_seconds"] = result.read_seconds
    out["recompute_explain_seconds"] = result.compute_seconds
    out["write_seconds"] = result.write_seconds
    out["findings_seconds"] = result.findings_seconds
    out["recompute_over_read"] = (
        result.compute_seconds / result.read_seconds if result.read_seconds > 0 else None
    )
    out["counts"] = result.counts()
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workspace", type=Path, default=None, help="a migrated workspace")
    parser.add_argument("--database", choices=("scratch", "target"), default="scratch")
    parser.add_argument("--offenders", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args(argv)
    configure_logging(level="WARNING")
    out: dict[str, Any] = {}
    workspace = args.workspace
    if workspace is None:
        workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cutover-validation-bench-"))
        started = time.perf_counter()
        workspace = prepare(workdir, args.offenders, args.seed)
        out["prepare_seconds"] = time.perf_counter() - started
    elif not (workspace / "cutover.toml").exists():
        parser.error(f"{workspace} is not a workspace (no cutover.toml)")
    out.update(measure(workspace.resolve(), args.database))
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
