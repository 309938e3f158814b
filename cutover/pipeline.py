"""The dry run: every stage, in order, into a scratch target, recorded as one run.

``STEPS`` is the pipeline a user can read: extract the legacy sources into staging, check the
mappings against what was staged, run them, load the result into the scratch target (never the
real one), and validate: recompute every release date from the migrated facts and explain every
difference from the legacy date. Each step is timed and counted in the run ledger; the
first step that fails ends the run as ``failed`` with the error recorded, and nothing after it
runs.
"""

from __future__ import annotations

import hashlib
import importlib
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from cutover.disposable import disposable
from cutover.errors import ReconciliationError
from cutover.logs import get_logger
from cutover.processes import start_worker_server
from cutover.runs import Run, start_run
from cutover.settings import Settings

__all__ = ["STEPS", "DryRunResult", "dry_run", "keep_evidence", "target_metadata"]

#: The steps of a dry run, in order.
STEPS: tuple[str, ...] = ("extract", "verify", "check", "transform", "load", "evidence", "validate")

#: Rows copied per statement when the run's evidence moves from staging to the control store.
_EVIDENCE_CHUNK = 5_000

#: Called with (step, message) as the run progresses, for a terminal or a log.
Progress = Callable[[str, str], None]


def target_metadata() -> sa.MetaData:
    """The target schema's MetaData (``load.models``)."""
    models = importlib.import_module("load.models")
    metadata: sa.MetaData = models.Base.metadata
    return metadata


@dataclass
class DryRunResult:
    """What a dry run did, step by step; ``outcome`` is ``succeeded`` or ``failed``."""

    run_id: str
    outcome: str = "running"
    extracted: list[Any] = field(default_factory=list)
    coverage_gaps: int = 0
    check: Any = None
    transform: Any = None
    load: Any = None
    validation: Any = None
    error: str | None = None
    #: Wall seconds per step, in the order the steps ran.
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def staged_rows(self) -> int:
        return sum(int(t.rows) for t in self.extracted)


def _scratch_apart(settings: Settings) -> bool:
    """Whether the scratch target is a database of its own: only then is it loaded as one the
    next dry run rebuilds (``load_run``'s ``rebuilt``: on SQLite, commits that do not wait for
    the disk). Settings that point it at the real target keep the target's durability."""
    scratch = sa.make_url(settings.scratch.url.get_secret_value())
    return scratch != sa.make_url(settings.target.url.get_secret_value())


def _require_verified(failed: list[str]) -> None:
    if failed:
        raise ReconciliationError(
            f"staging does not match the source for {', '.join(failed)}",
            hint="run 'cutover extract --verify' for the differing key ranges",
        )


@contextmanager
def _timed(result: DryRunResult, step: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        result.seconds[step] = time.perf_counter() - started


def _say(progress: Progress | None, step: str, message: str) -> None:
    if progress is not None:
        progress(step, message)


def dry_run(
    settings: Settings,
    *,
    actor: str | None = None,
    verify: bool = False,
    progress: Progress | None = None,
) -> DryRunResult:
    """Run every step of ``STEPS`` into the scratch target as one recorded run.

    ``verify`` re-reads the legacy sources after staging and proves staging matches them (the
    readiness gate "extract verified"); it costs a second read of every source.
    """
    from extract import extract_sources, verify_sources  # noqa: PLC0415 - loaded on demand
    from load import load_run, upgrade  # noqa: PLC0415
    from transform import check_project, load_project, run_transform  # noqa: PLC0415
    from validation import validate_run  # noqa: PLC0415

    log = get_logger("pipeline")
    # The transform's and the validation's workers are forked from it: it imports their
    # modules while the extract runs.
    start_worker_server()
    run = start_run(settings, kind="dry-run", actor=actor)
    result = DryRunResult(run_id=run.id)
    staging_url = settings.staging.url.get_secret_value()
    scratch_url = settings.scratch.url.get_secret_value()
    staging = disposable(sa.create_engine(staging_url))
    try:
        with run.step("extract") as step, _timed(result, "extract"):
            _say(progress, "extract", "staging the legacy sources")
            result.extracted = extract_sources(settings, run=run)
            step.add(tables=len(result.extracted), rows=result.staged_rows)

        if verify:
            with run.step("verify") as step, _timed(result, "verify"):
                _say(progress, "verify", "re-reading the sources to prove staging matches them")
                checks = verify_sources(settings)
                failed = [f"{c.source}.{c.table}" for c in checks if not c.ok]
                step.add(tables=len(checks), differing=len(failed))
                _require_verified(failed)

        with run.step("check") as step, _timed(result, "check"):
            _say(progress, "check", f"checking the mappings in {settings.mappings_dir}")
            project = load_project(settings.mappings_dir, collect=True)
            # Raises MappingError with every problem of every file at once.
            report = check_project(project, staging, target_metadata())
            result.check = report
            result.coverage_gaps = len(report.coverage)
            step.add(coverage_gaps=result.coverage_gaps)

        with run.step("transform") as step, _timed(result, "transform"):
            _say(progress, "transform", "running the mappings")
            result.transform = run_transform(project, staging, target_metadata(), run.id)
            step.add(tables=len(result.transform.tables))

        with run.step("load") as step, _timed(result, "load"):
            _say(progress, "load", "loading the scratch target")
            upgrade(scratch_url)
            result.load = load_run(staging_url, scratch_url, rebuilt=_scratch_apart(settings))
            step.add(changed=result.load.changed, batches=len(result.load.batches))

        with run.step("evidence") as step, _timed(result, "evidence"):
            _say(progress, "evidence", "keeping the run's quarantine and row accounting")
            step.add(**keep_evidence(staging, settings, run.id))

        with run.step("validate") as step, _timed(result, "validate"):
            _say(progress, "validate", "recomputing every release date from the migrated facts")
            result.validation = validate_run(settings, run.id, database="scratch")
            step.add(**result.validation.counts())
    except Exception as exc:
        result.outcome, result.error = "failed", str(exc)
        run.finish("failed", error=str(exc)[:2000])
        # Not log.exception: a driver's traceback can quote row values, which never reach a log.
        log.error("dry_run_failed", run_id=run.id, error_type=type(exc).__name__)  # noqa: TRY400
        raise
    finally:
        staging.dispose()
    result.outcome = "succeeded"
    _finish(run, result)
    return result


def _finish(run: Run, result: DryRunResult) -> None:
    run.finish(
        "succeeded",
        staged_rows=result.staged_rows,
        changed=result.load.changed if result.load is not None else 0,
    )


def _value_hash(value: object) -> str | None:
    """A quarantined or repaired cell's value, as a hash: the control store never holds the raw
    value."""
    if value is None:
        return None
    return hashlib.blake2b(str(value).encode("utf-8"), digest_size=16).hexdigest()


def _cell_records(run_id: str, part: Sequence[RowMapping]) -> list[dict[str, Any]]:
    """Quarantine or repair records (``xf__quarantine``, ``xf__repair``) as the run keeps them."""
    return [
        {
            "run_id": run_id,
            "batch": r["batch"],
            "target_table": r["target_table"],
            "source_table": r["source_table"],
            "source_key": r["source_key"],
            "rule": r["rule"],
            "column_name": r["column_name"],
            "value_hash": _value_hash(r["value"]),
            "message": r["message"] or "",
        }
        for r in part
    ]


def keep_evidence(staging: sa.Engine, settings: Settings, run_id: str) -> dict[str, int]:
    """Copy the run's quarantine, repairs and row accounting from staging into the control store.

    Staging keeps only the latest transform; batches compare runs, so each run's evidence is
    kept under its run id (``run_quarantine``, ``run_repair``, ``run_accounting``), the cells'
    values only as hashes. Streams in chunks.
    """
    from cutover.batches.tables import (  # noqa: PLC0415 - the control plane loads on demand
        ensure_tables,
        run_accounting,
        run_quarantine,
        run_repair,
    )

    control = sa.create_engine(settings.control.url.get_secret_value())
    meta = sa.MetaData()
    counts = {"quarantined_rows": 0, "repaired_cells": 0, "accounting_lines": 0}
    try:
        ensure_tables(control)
        cells = {
            "quarantined_rows": (
                sa.Table("xf__quarantine", meta, autoload_with=staging),
                run_quarantine,
            ),
            "repaired_cells": (sa.Table("xf__repair", meta, autoload_with=staging), run_repair),
        }
        accounting = sa.Table("xf__accounting", meta, autoload_with=staging)
        with staging.connect() as src, control.begin() as dst:
            for kept in (run_quarantine, run_repair, run_accounting):
                dst.execute(kept.delete().where(kept.c.run_id == run_id))
            for count, (staged, kept) in cells.items():
                rows = src.execution_options(yield_per=_EVIDENCE_CHUNK).execute(sa.select(staged))
                for part in rows.mappings().partitions():
                    dst.execute(kept.insert(), _cell_records(run_id, part))
                    counts[count] += len(part)
            lines = [
                {
                    "run_id": run_id,
                    "target_table": r["target_table"],
                    "source_table": r["source_table"],
                    "batch": r["batch"],
                    "source_rows": int(r["source_rows"] or 0),
                    "loaded": int(r["loaded"] or 0),
                    "merged": int(r["merged"] or 0),
                    "quarantined": int(r["quarantined"] or 0),
                    "filtered": int(r["filtered"] or 0),
                }
                for r in src.execute(sa.select(accounting)).mappings()
            ]
            if lines:
                dst.execute(run_accounting.insert(), lines)
            counts["accounting_lines"] = len(lines)
    finally:
        control.dispose()
    return counts
