"""Validation as a run step: recompute every offender from the target and record the results.

``validate_run`` reads the migrated facts (``validation.reader``), recomputes and explains each
offender with the rule pack, writes ``val_offender`` / ``val_explanation`` chunk by chunk, the
catalogue findings, and one ``val_run_summary`` row per batch, last. Rerunning the same run
replaces what it wrote. Time spent reading and computing is measured separately, so that the
cost of the rules can be set against the cost of the reads.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.engine import Engine

from cutover.control.store import control_engine
from cutover.errors import CutoverError
from cutover.logs import configure_logging, get_logger
from cutover.processes import portable_error, shareable, url_of, worker_context, worker_count
from cutover.settings import Settings
from load.engine import create_target_engine
from validation.explain import MS_REL_DT, Comparison, explain
from validation.explain_report import explain_document
from validation.findings import ScreenPolicy, catalogue_findings, load_screen_policy
from validation.queries import PersonRange, person_ranges
from validation.reader import OffenderRecord, ReadStats, read_offenders, resolve_person
from validation.rulepack import RulePack, load_pack
from validation.store import (
    ExplanationRow,
    OffenderRow,
    SummaryRow,
    clear_run,
    ensure_tables,
    read_explanations,
    read_offenders_of_run,
    write_explanations,
    write_findings,
    write_offenders,
    write_summary,
)

__all__ = [
    "CHUNK_PERSONS",
    "MIN_PERSONS_PER_WORKER",
    "ValidationEngines",
    "ValidationResult",
    "comparison_rows",
    "default_workers",
    "engines_for",
    "explain_offender",
    "validate_run",
]

#: Offenders written per control-database transaction.
CHUNK_PERSONS = 1_000
#: Fewest offenders worth a worker process of their own (starting one takes about a second).
MIN_PERSONS_PER_WORKER = 2_000

_log = get_logger("validation")


@dataclass(frozen=True, slots=True)
class ValidationEngines:
    """Where validation reads the migrated facts (``target``) and writes results (``control``)."""

    target: Engine
    control: Engine


@dataclass(slots=True)
class ValidationResult:
    """What a validation run did: per-batch counts, findings, and where the time went."""

    run_id: str
    summaries: dict[str, SummaryRow]
    findings: int
    #: Reading the offenders' facts from the target (``read_offenders``).
    read_seconds: float
    #: Recomputing, comparing and explaining them with the rule pack.
    compute_seconds: float
    write_seconds: float
    stats: ReadStats = field(default_factory=ReadStats)
    #: Offenders with target rows the reader could not use (``cutover explain`` lists them).
    with_notes: int = 0
    #: Reading the catalogue findings from the target.
    findings_seconds: float = 0.0
    #: Processes that read and recomputed the offenders (read and compute times are summed
    #: over them).
    workers: int = 1

    @property
    def offenders(self) -> int:
        return sum(s.offenders for s in self.summaries.values())

    @property
    def unexplained(self) -> int:
        return sum(s.unexplained for s in self.summaries.values())

    def counts(self) -> dict[str, int]:
        """Totals over the batches, for the run ledger."""
        names = (
            "offenders",
            "matched",
            "explained",
            "unexplained",
            "out_of_scope",
            "incomplete",
            "released_early",
            "released_late",
        )
        totals = {n: sum(int(getattr(s, n)) for s in self.summaries.values()) for n in names}
        totals["findings"] = self.findings
        totals["with_notes"] = self.with_notes
        return totals


def engines_for(
    settings: Settings, database: Literal["target", "scratch"] = "target"
) -> ValidationEngines:
    """Engines of a workspace: the target (or the dry run's scratch database) and the control."""
    url = (settings.target if database == "target" else settings.scratch).url.get_secret_value()
    control = control_engine(settings.control.url.get_secret_value())
    return ValidationEngines(create_target_engine(url), control)


def comparison_rows(
    record: OffenderRecord, comparison: Comparison | None
) -> tuple[OffenderRow, list[ExplanationRow]]:
    """The ``val_offender`` row and ``val_explanation`` rows of one offender."""
    if comparison is None:
        return (
            OffenderRow(
                record.person_id,
                record.batch,
                "incomplete",
                None,
                None,
                None,
                None,
                None,
                "unknown",
                0,
                record.facts_hash,
                record.reason,
            ),
            [],
        )
    row = OffenderRow(
        person_id=record.person_id,
        batch=record.batch,
        status=comparison.status,
        legacy_max_exp=comparison.legacy_max_expiration,
        recomputed_max_exp=comparison.computation.max_expiration,
        legacy_ms_rel=comparison.legacy_ms_release,
        recomputed_ms_rel=comparison.recomputed_ms_release,
        delta_days=comparison.delta,
        impact_kind=comparison.impact.kind,
        impact_days=comparison.impact.days,
        facts_hash=record.facts_hash,
        reason=comparison.reason,
        max_exp_delta_days=comparison.max_expiration_delta,
    )
    # A row must say on its own which date it explains: the batch pages show the detail only.
    explanations = [
        ExplanationRow(
            record.person_id,
            seq,
            e.code,
            e.days,
            e.evidence,
            e.detail if field == MS_REL_DT else f"{field}: {e.detail}",
            field,
        )
        for seq, (field, e) in enumerate(comparison.dated_explanations(), 1)
    ]
    return row, explanations


def _tally(summary: SummaryRow, row: OffenderRow) -> SummaryRow:
    status = {
        "match": "matched",
        "explained": "explained",
        "unexplained": "unexplained",
        "out_of_scope": "out_of_scope",
        "incomplete": "incomplete",
    }[row.status]
    bump = {"offenders": summary.offenders + 1, status: getattr(summary, status) + 1}
    if row.impact_kind in ("released_early", "released_late"):
        bump[row.impact_kind] = getattr(summary, row.impact_kind) + 1
    values = {name: getattr(summary, name) for name in SummaryRow.__slots__ if name != "batch"}
    values.update(bump)
    return SummaryRow(batch=summary.batch, **values)


def default_workers() -> int:
    """Worker processes validation uses by default: one per core it may run on, at most 8."""
    return worker_count(8)


def validate_run(
    source: Settings | ValidationEngines,
    run_id: str,
    *,
    batches: Sequence[str] | None = None,
    pack: RulePack | str | None = None,
    database: Literal["target", "scratch"] = "target",
    screen_policy: Path | None = None,
    chunk_persons: int = CHUNK_PERSONS,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    min_persons_per_worker: int = MIN_PERSONS_PER_WORKER,
) -> ValidationResult:
    """Validate every offender of the target (or of ``batches``) under ``run_id``.

    ``source`` is a workspace's settings (engines made from them; ``database`` picks the target
    or the dry run's scratch database) or ready engines. ``pack`` defaults to the workspace's
    rule pack. ``progress`` is called with the number of offenders done after each chunk.

    The offenders are split into ranges of ``person_id``, one per worker process (``workers``,
    by default :func:`default_workers`), each reading, recomputing and writing its own range;
    no worker gets fewer than ``min_persons_per_worker`` offenders, so a small run stays in
    this process, as does one whose databases another process cannot open (SQLite in memory).
    The results do not depend on the split: every offender is computed from its own facts.
    """
    owned = isinstance(source, Settings)
    engines = engines_for(source, database) if isinstance(source, Settings) else source
    if isinstance(pack, RulePack):
        rules = pack
    else:
        default = source.rule_pack if isinstance(source, Settings) else "md_diminution"
        rules = load_pack(pack or default)
    policy = load_screen_policy(screen_policy)
    plan = _Plan(
        run_id,
        tuple(batches) if batches is not None else None,
        rules,
        chunk_persons,
        default_workers() if workers is None else max(1, workers),
        max(1, min_persons_per_worker),
    )
    try:
        return _validate(engines, plan, policy, progress)
    finally:
        if owned:
            engines.target.dispose()
            engines.control.dispose()


@dataclass(frozen=True, slots=True)
class _Plan:
    """What every part of a validation run shares (sent whole to each worker process)."""

    run_id: str
    batches: tuple[str, ...] | None
    pack: RulePack
    chunk_persons: int
    workers: int
    min_persons_per_worker: int


def _validate(
    engines: ValidationEngines,
    plan: _Plan,
    policy: ScreenPolicy,
    progress: Callable[[int], None] | None,
) -> ValidationResult:
    ensure_tables(engines.control)
    with engines.control.begin() as conn:
        clear_run(conn, plan.run_id, plan.batches)
    ranges = _ranges(engines, plan)
    if ranges:
        parts = run_workers(engines, plan, ranges, progress)
    else:
        done = 0

        def written(n: int) -> None:
            nonlocal done
            done += n
            if progress is not None:
                progress(done)

        parts = [_compute(engines, plan, None, written)]
    result = _merge(plan.run_id, parts)
    result.workers = len(parts)
    started = time.perf_counter()
    with engines.target.connect() as conn:
        findings = catalogue_findings(conn, policy)
    result.findings_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for batch in plan.batches or ():
        result.summaries.setdefault(batch, SummaryRow(batch))
    with engines.control.begin() as conn:
        result.findings = write_findings(conn, plan.run_id, findings)
        write_summary(conn, plan.run_id, result.summaries.values())
    result.write_seconds += time.perf_counter() - started
    unmatched = sum(result.stats.unmatched.values())
    _log.info(
        "validation_finished",
        run_id=plan.run_id,
        offenders=result.offenders,
        unexplained=result.unexplained,
        findings=result.findings,
        with_notes=result.with_notes,
        unmatched_rows=unmatched,
        workers=result.workers,
        read_seconds=round(result.read_seconds, 3),
        compute_seconds=round(result.compute_seconds, 3),
        findings_seconds=round(result.findings_seconds, 3),
    )
    if unmatched:
        _log.warning("validation_rows_without_person", run_id=plan.run_id, **result.stats.unmatched)
    return result


def _ranges(engines: ValidationEngines, plan: _Plan) -> list[PersonRange]:
    """One range of persons per worker process; none when the work stays in this process."""
    if plan.workers < 2 or not (shareable(engines.target) and shareable(engines.control)):
        return []
    with engines.target.connect() as conn:
        ranges = person_ranges(conn, plan.batches, plan.workers, plan.min_persons_per_worker)
    return ranges if len(ranges) > 1 else []


def _compute(
    engines: ValidationEngines,
    plan: _Plan,
    person_range: PersonRange | None,
    written: Callable[[int], None],
) -> ValidationResult:
    """Read, recompute, explain and write the offenders of one range (``None``: all of them).

    ``written`` is told how many offenders each chunk wrote. The result holds this part's
    per-batch counts and times; the findings and the summary rows are the caller's to write.
    """
    stats = ReadStats()
    result = ValidationResult(plan.run_id, {}, 0, 0.0, 0.0, 0.0, stats)
    records = read_offenders(
        engines.target, batches=plan.batches, stats=stats, person_range=person_range
    )
    offenders: list[OffenderRow] = []
    explanations: list[ExplanationRow] = []
    clock = time.perf_counter
    try:
        while True:
            started = clock()
            record = next(records, None)
            read_done = clock()
            result.read_seconds += read_done - started
            if record is None:
                break
            result.with_notes += bool(record.notes)
            comparison = explain(record.facts, plan.pack) if record.facts is not None else None
            row, rows = comparison_rows(record, comparison)
            offenders.append(row)
            explanations += rows
            summary = result.summaries.get(row.batch) or SummaryRow(row.batch)
            result.summaries[row.batch] = _tally(summary, row)
            result.compute_seconds += clock() - read_done
            if len(offenders) >= plan.chunk_persons:
                written(_flush(engines, plan.run_id, offenders, explanations, result))
        if offenders:
            written(_flush(engines, plan.run_id, offenders, explanations, result))
    finally:
        records.close()
    return result


def _merge(run_id: str, parts: Sequence[ValidationResult]) -> ValidationResult:
    """One result from the parts' counts (summed per batch) and times (summed over parts)."""
    merged = ValidationResult(run_id, {}, 0, 0.0, 0.0, 0.0, ReadStats())
    for part in parts:
        for batch, summary in part.summaries.items():
            merged.summaries[batch] = _add(merged.summaries.get(batch), summary)
        merged.read_seconds += part.read_seconds
        merged.compute_seconds += part.compute_seconds
        merged.write_seconds += part.write_seconds
        merged.with_notes += part.with_notes
        merged.stats.persons += part.stats.persons
        for table, n in part.stats.rows.items():
            merged.stats.rows[table] = merged.stats.rows.get(table, 0) + n
        for table, n in part.stats.unmatched.items():
            merged.stats.unmatched[table] = merged.stats.unmatched.get(table, 0) + n
    return merged


def _add(summary: SummaryRow | None, more: SummaryRow) -> SummaryRow:
    if summary is None:
        return more
    names = [n for n in SummaryRow.__slots__ if n != "batch"]
    return SummaryRow(
        batch=summary.batch, **{n: getattr(summary, n) + getattr(more, n) for n in names}
    )


def _flush(
    engines: ValidationEngines,
    run_id: str,
    offenders: list[OffenderRow],
    explanations: list[ExplanationRow],
    result: ValidationResult,
) -> int:
    """Write a chunk of results in one control-database transaction, then empty the lists."""
    started = time.perf_counter()
    with engines.control.begin() as conn:
        written = write_offenders(conn, run_id, offenders)
        write_explanations(conn, run_id, explanations)
    offenders.clear()
    explanations.clear()
    result.write_seconds += time.perf_counter() - started
    return written


def _work(
    index: int, plan: _Plan, urls: tuple[str, str], person_range: PersonRange, messages: Any
) -> None:
    """A worker process: validate one range of persons, telling the parent as it goes."""
    configure_logging(level="WARNING")
    engines = ValidationEngines(create_target_engine(urls[0]), control_engine(urls[1]))
    try:
        result = _compute(engines, plan, person_range, lambda n: messages.put(("written", n)))
        messages.put(("done", index, result))
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
        messages.put(("failed", index, portable_error(exc)))
    finally:
        engines.target.dispose()
        engines.control.dispose()


def run_workers(
    engines: ValidationEngines,
    plan: _Plan,
    ranges: Sequence[PersonRange],
    progress: Callable[[int], None] | None,
) -> list[ValidationResult]:
    """Validate each range in its own worker process; the parts, in the order of ``ranges``.

    Processes are fresh (:func:`cutover.processes.worker_context`), not forked from this one: a
    child forked from it would share its open SQLite files and could release their locks. The
    first failure stops the others and is raised here.
    """
    context = worker_context()
    messages = context.Queue()
    urls = (url_of(engines.target), url_of(engines.control))
    processes = [
        context.Process(
            target=_work,
            args=(i, plan, urls, r, messages),
            name=f"cutover-validate-{i + 1}",
            daemon=True,
        )
        for i, r in enumerate(ranges)
    ]
    parts: dict[int, ValidationResult] = {}
    done = 0
    try:
        for process in processes:
            process.start()
        while len(parts) < len(processes):
            try:
                message = messages.get(timeout=1.0)
            except queue.Empty:
                _check_alive(processes, parts)
                continue
            if message[0] == "written":
                done += message[1]
                if progress is not None:
                    progress(done)
            elif message[0] == "done":
                parts[message[1]] = message[2]
            else:
                raise message[2]
        for process in processes:
            process.join()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join()
        messages.close()
    return [parts[i] for i in sorted(parts)]


def _check_alive(processes: Sequence[BaseProcess], parts: dict[int, ValidationResult]) -> None:
    for i, process in enumerate(processes):
        if i not in parts and process.exitcode is not None:
            raise CutoverError(
                f"validation worker {i + 1} of {len(processes)} ended (exit code "
                f"{process.exitcode}) before finishing its offenders",
                hint="see the worker's error above (a killed worker is often out of memory); "
                "rerun the validation, with --workers 1 to keep it in one process",
            )


def explain_offender(
    engines: ValidationEngines,
    offender_id: str,
    pack: RulePack,
    *,
    run_id: str | None = None,
) -> dict[str, Any]:
    """``cutover explain``: one offender recomputed from the target, side by side, as data.

    ``offender_id`` is a person id, a legacy id or a merged duplicate's id. With ``run_id``,
    the stored result of that run is shown beside it, and whether the facts changed since.
    """
    person = resolve_person(engines.target, offender_id)
    if person is None:
        raise CutoverError(
            f"no person {offender_id!r} in the target database",
            hint="give a person id, a legacy offender id or a merged duplicate's id",
            offender=offender_id,
        )
    found = list(read_offenders(engines.target, person_ids=[person]))
    record = found[0] if found else None
    if record is None or record.facts is None:
        reason = record.reason if record is not None else "not found"
        raise CutoverError(
            f"person {person} cannot be computed: {reason}",
            hint="check the load of that person's legacy release calculation",
            person=person,
        )
    comparison = explain(record.facts, pack)
    stored = None
    if run_id is not None:
        rows = read_offenders_of_run(engines.control, run_id, person_id=person)
        if not rows:
            raise CutoverError(
                f"run {run_id} has no validation result for person {person}",
                hint="run 'cutover validate' first, or leave out --run",
                run_id=run_id,
                person=person,
            )
        stored = (rows[0], read_explanations(engines.control, run_id, person_id=person))
    return explain_document(
        comparison,
        pack,
        batch=record.batch,
        notes=record.notes,
        stored=stored,
        run_id=run_id,
        facts_hash=record.facts_hash,
    )
