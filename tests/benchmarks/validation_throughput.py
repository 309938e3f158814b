"""Validation throughput: reading facts from the target vs recomputing and explaining them.

Generates N offenders (``cutover legacy generate``), migrates them with the reference mappings
(extract, transform, load into a SQLite target, or ``--target-url``), then measures on the
migrated target:

- ``fetch``: the reader's queries alone, every row fetched, no facts built;
- ``read``: ``read_offenders``, facts built for every offender;
- ``explain``: ``explain`` over the facts already read (recompute, compare, waterfall);
- ``validate``: ``validate_run`` end to end (read, explain, write results and findings).

The issue's target: explain / read is a small multiple. Prints one JSON object.

Usage: python -m tests.benchmarks.validation_throughput [--offenders N] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from cutover.commands.workspace import write_workspace
from cutover.legacy import generate
from cutover.runs import start_run
from cutover.settings import Settings, load_settings
from extract import extract_sources
from load import create_target_engine, load_run, upgrade
from load.models import Base
from transform import load_project, run_transform
from validation import explain, load_pack, read_offenders, validate_run
from validation.reader import fact_queries

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings" / "obscis"


def migrate(workdir: Path, offenders: int, seed: int, target_url: str | None) -> Settings:
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
    settings = load_settings(workspace, overrides={"target_url": target_url})
    staging_url = settings.staging.url.get_secret_value()
    target = settings.target.url.get_secret_value()
    with start_run(settings, "dry-run", actor="benchmark") as run:
        extract_sources(settings, run=run)
        staging = sa.create_engine(staging_url)
        try:
            run_transform(load_project(settings.mappings_dir), staging, Base.metadata, run.id)
        finally:
            staging.dispose()
        upgrade(target)
        load_run(staging_url, target, check=False)
    return settings


def measure(settings: Settings) -> dict[str, Any]:
    pack = load_pack(settings.rule_pack)
    engine = create_target_engine(settings.target.url.get_secret_value())
    out: dict[str, Any] = {}
    try:
        started = time.perf_counter()
        rows = 0
        with engine.connect() as conn:
            streaming = conn.execution_options(stream_results=True, yield_per=5000)
            for stmt in fact_queries(conn, None, None).values():
                rows += sum(1 for _ in streaming.execute(stmt))
        out["fetch_seconds"] = time.perf_counter() - started
        out["rows"] = rows
        started = time.perf_counter()
        records = list(read_offenders(engine))
        out["read_seconds"] = time.perf_counter() - started
        out["offenders"] = len(records)
        started = time.perf_counter()
        statuses: dict[str, int] = {}
        for record in records:
            if record.facts is not None:
                status = explain(record.facts, pack).status
                statuses[status] = statuses.get(status, 0) + 1
        out["explain_seconds"] = time.perf_counter() - started
        out["statuses"] = statuses
        del records
    finally:
        engine.dispose()
    started = time.perf_counter()
    with start_run(settings, "validate", actor="benchmark") as run:
        result = validate_run(settings, run.id)
    out["validate_seconds"] = time.perf_counter() - started
    out["validate_read_seconds"] = result.read_seconds
    out["validate_compute_seconds"] = result.compute_seconds
    out["validate_write_seconds"] = result.write_seconds
    out["explain_over_read"] = out["explain_seconds"] / out["read_seconds"]
    out["explain_over_fetch"] = out["explain_seconds"] / out["fetch_seconds"]
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--offenders", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--target-url", default=None)
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cutover-validation-bench-"))
    started = time.perf_counter()
    settings = migrate(workdir, args.offenders, args.seed, args.target_url)
    result = {"migrate_seconds": time.perf_counter() - started, **measure(settings)}
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
