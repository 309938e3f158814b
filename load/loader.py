"""The idempotent, batched load of the transform's output into the target.

Batches are loaded one after the other (``_GLOBAL`` first, then each institution), each in one
transaction of its own, by the set-based statements of :mod:`load.batch`. Before the first
batch, every table whose target already holds rows of the batches to load is compared with
staging by its per-batch key checksums (:mod:`load.checksum`): a table whose rows of a batch are
the staged ones exactly is left alone in that batch, so a rerun on unchanged output reads each
side once and writes nothing, and the reconciliation reuses those checksums.

A newer run rewrites only what changed. A batch that fails is rolled back whole and reported
as a :class:`~cutover.errors.LoadError` naming the batch, the table and the step.

A first load (every batch, into a target that holds no row of any of these tables, as a dry
run's fresh scratch target) is made in one transaction instead: each table's ``xf_`` rows go in
by one insert, in the order the transform wrote them, its indexes other than unique ones built
after its rows are in, and on PostgreSQL its statistics gathered before the reconciliation
reads it. Batch by batch, each batch's keys land all over the target's indexes, and each batch
reads its rows through the ``_batch`` index, all over the staged table. At 10,000 offenders the
load took 25.2-25.6 s on SQLite against 31.6 s batch by batch, and 27.0 s on PostgreSQL (both
sides) against 40.3 s. Should the database refuse any row, the whole transaction is rolled back
(dropped indexes included) and the load is made batch by batch, as any other load, which names
the batch, table and cause.

On PostgreSQL, two pieces of work whose locks let others read run in a thread beside the rest: a
first load's batch index of the staged tables (built while the copy reads them) and the
validation of the target's foreign keys (while the reconciliation reads the target). At 10,000
offenders, both sides on PostgreSQL, the load took 22.1-22.4 s against 23.5-24.1 s (four runs
each way). On SQLite, a first load from an attached staging file has that thread read what the
reconciliation reads of staging alone (the keys each table stages more than once, per batch;
its rows per batch are the ones counted before the load) while it inserts, on staging's own
connection: no load writes staging. At 100,000
offenders, the load alone, old and new in turn: the reconciliation and what follows the
insert 17.6-19.4 s against 23.9-26.1 s.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Index, MetaData, Table, inspect
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from cutover.disposable import disposable
from cutover.errors import LoadError
from cutover.logs import get_logger
from cutover.processes import usable_cores
from load.batch import (
    LoadProgress,
    ProgressCallback,
    apply_batch,
    apply_every_batch,
    describe_error,
    step,
)
from load.checksum import (
    Checksums,
    StagedSide,
    batch_checksums,
    digest_in_engine,
    rows_per_batch,
    staged_duplicates,
)
from load.constraints import validate_foreign_keys
from load.engine import (
    attachable,
    create_target_engine,
    foreign_keys_checked_after,
    sorting_in_threads,
)
from load.migrate import current, head
from load.reconcile import PARALLEL_ROWS, ReconciliationReport, reconcile, staged_matches
from load.tables import (
    GLOBAL_BATCH,
    batch_index,
    key_columns,
    load_order,
    staged_xf_tables,
    xf_table,
)
from load.transfer import STAGING_SCHEMA

__all__ = ["BatchResult", "LoadProgress", "LoadResult", "TableChange", "load_run"]


@dataclass(frozen=True)
class TableChange:
    """What one batch did to one target table."""

    table: str
    staged: int
    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.deleted


@dataclass(frozen=True)
class BatchResult:
    batch: str
    tables: tuple[TableChange, ...]
    seconds: float

    @property
    def changed(self) -> int:
        return sum(t.changed for t in self.tables)


@dataclass(frozen=True)
class LoadResult:
    batches: tuple[BatchResult, ...]
    #: Target tables with no ``xf_`` table in staging: left untouched.
    skipped_tables: tuple[str, ...] = ()
    reconciliation: ReconciliationReport | None = field(default=None, compare=False)
    #: A first load of every batch in one transaction: its seconds (each batch's are then 0).
    together_seconds: float | None = field(default=None, compare=False)

    @property
    def changed(self) -> int:
        """Rows inserted, updated or deleted in the target, over every batch."""
        return sum(b.changed for b in self.batches)

    def to_json(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "skipped_tables": list(self.skipped_tables),
            "together_seconds": (
                None if self.together_seconds is None else round(self.together_seconds, 3)
            ),
            "batches": [
                {
                    "batch": b.batch,
                    "seconds": round(b.seconds, 3),
                    "tables": [
                        {
                            "table": t.table,
                            "staged": t.staged,
                            "inserted": t.inserted,
                            "updated": t.updated,
                            "deleted": t.deleted,
                        }
                        for t in b.tables
                    ],
                }
                for b in self.batches
            ],
            "reconciliation": self.reconciliation.to_json() if self.reconciliation else None,
        }


def load_run(
    staging_url: str | URL,
    target_url: str | URL,
    *,
    batches: Sequence[str] | None = None,
    chunk_rows: int = 20_000,
    check: bool = True,
    on_progress: ProgressCallback | None = None,
    rebuilt: bool = False,
) -> LoadResult:
    """Load the transform's output from ``staging_url`` into the target at ``target_url``.

    ``batches`` limits the load to those batches; by default every batch staged or present in
    the target is loaded (a batch gone from staging is emptied). With ``check`` (the default)
    the load ends with :func:`load.reconcile.reconcile` and raises
    :class:`load.reconcile.ReconciliationMismatchError` on any difference. ``rebuilt`` says the
    target is one the next run rebuilds (a dry run's scratch target): on SQLite its commits then
    do not wait for the disk (:mod:`cutover.disposable`).
    """
    staging_attach = attachable(staging_url, target_url)
    staging = disposable(create_target_engine(staging_url))
    target = create_target_engine(
        target_url, attach={STAGING_SCHEMA: staging_attach} if staging_attach else None
    )
    if rebuilt:
        disposable(target)
    beside = ThreadPoolExecutor(1, thread_name_prefix="load-beside")
    try:
        _require_head(target_url)
        xf_tables, skipped = _plan(staging, schema=STAGING_SCHEMA if staging_attach else None)
        names = [t.name for t in xf_tables]
        in_target = _rows_per_batch(target, list(xf_tables))
        held = {table: set(in_target[table.name]) for table in xf_tables}
        first = batches is None and not any(held.values())
        # A first load reads each xf_ table whole, not by batch: on a PostgreSQL staging, their
        # batch index is built meanwhile, by a server session of its own (building it takes a
        # lock that lets the copy read the table), and waited for before anything reads a batch.
        indexing: Future[None] | None = None
        if first and staging.dialect.name == "postgresql" and usable_cores() >= 2:
            indexing = beside.submit(_index_batches, staging, xf_tables)
        else:
            _index_batches(staging, xf_tables)
        plain = MetaData()
        staged = _rows_per_batch(staging, [xf_table(t, plain) for t in xf_tables])
        todo = _batches(staged, held, batches)
        known = Checksums(in_engine=digest_in_engine(staging, target))
        unchanged = _unchanged(staging, target, held, todo, known, attached=bool(staging_attach))
        # A first load from an attached SQLite staging file keeps one core busy while it
        # inserts: the reconciliation's reading of staging alone is done meanwhile, beside it.
        sides: Future[dict[str, StagedSide]] | None = None
        if first and check and staging_attach and usable_cores() >= 2:
            sides = beside.submit(_staged_sides, staging, xf_tables, staged, todo)
        together: tuple[list[BatchResult], float] | None = None
        try:
            if first:
                together = _load_together(
                    target,
                    None if staging_attach else staging,
                    xf_tables,
                    todo,
                    staged,
                    chunk_rows=chunk_rows,
                    on_progress=on_progress,
                )
            if indexing is not None:
                indexing.result()
            results = (
                together[0]
                if together is not None
                else [
                    _load_batch(
                        target,
                        None if staging_attach else staging,
                        xf_tables,
                        batch,
                        unchanged=unchanged.get(batch, {}),
                        chunk_rows=chunk_rows,
                        on_progress=on_progress,
                    )
                    for batch in todo
                ]
            )
        except BaseException:
            # The batches that committed checked their rows' foreign keys; have the engine
            # mark those constraints valid over the whole table again, even after a failure.
            validate_foreign_keys(target, names)
            raise
        # The same after a load that went through. On PostgreSQL, while the reconciliation
        # reads the target: validating a constraint takes a lock that lets others read.
        validating: Future[int] | None = None
        if check and target.dialect.name == "postgresql" and usable_cores() >= 2:
            validating = beside.submit(validate_foreign_keys, target, names)
        else:
            validate_foreign_keys(target, names)
        report = None
        if check:
            if sides is not None:
                known.sides.update(sides.result())
            if together is not None:
                known.in_staged_order.update(t.name for t in xf_tables)
            for name in {t.table for b in results for t in b.tables if t.changed}:
                known.forget(name)
            staged_rows = sum(t.staged for b in results for t in b.tables)
            try:
                report = reconcile(
                    staging,
                    target,
                    batches=todo,
                    tables=list(xf_tables),
                    known=known,
                    side_by_side=staged_rows >= PARALLEL_ROWS,
                )
            finally:
                if validating is not None:
                    validating.result()
            report.raise_for_differences()
        return LoadResult(
            tuple(results), tuple(skipped), report, together[1] if together is not None else None
        )
    finally:
        beside.shutdown(wait=True)
        target.dispose()
        staging.dispose()


def _require_head(target_url: str | URL) -> None:
    at, want = current(target_url), head()
    if at != want:
        raise LoadError(
            f"the target schema is at revision {at or '(none)'}, the load needs {want}",
            hint="run 'cutover db upgrade' first",
        )


def _plan(staging: Engine, *, schema: str | None) -> tuple[dict[Table, Table], list[str]]:
    """Pair each target table with its ``xf_`` table; every column problem is reported at once."""
    present = staged_xf_tables(staging)
    metadata = MetaData()
    pairs: dict[Table, Table] = {}
    skipped: list[str] = []
    problems: list[str] = []
    for table in load_order():
        xf = xf_table(table, metadata, schema=schema)
        columns = present.get(xf.name)
        if columns is None:
            skipped.append(table.name)
            continue
        want = {c.name for c in table.columns}
        if missing := sorted(want - columns):
            problems.append(f"{xf.name}: missing column(s) {', '.join(missing)}")
        if extra := sorted(columns - want):
            problems.append(f"{xf.name}: column(s) the target does not have: {', '.join(extra)}")
        pairs[table] = xf
    if problems or not pairs:
        raise LoadError(
            "the transform output does not match the target schema"
            if problems
            else "the staging database holds no transform output (no xf_ table)",
            hint="rerun the transform with mappings for this target schema version; "
            + "; ".join(problems)
            if problems
            else "run the transform first",
        )
    return pairs, skipped


def _index_batches(staging: Engine, xf_tables: dict[Table, Table]) -> None:
    """Index each ``xf_`` table by ``_batch`` and the target's key, unless it is.

    Every batch is read through the index: without it, reading one batch reads the whole table,
    once per batch. With the key after the batch, a batch's rows come in key order (the
    target's primary key index is then filled in order) and the reconciliation counts the keys
    staged twice by reading the index instead of sorting the table: at 10,000 offenders the
    SQLite load took 31.3 s instead of 33.1 s (the 1.37 million postings' index costs 1.64 s
    to build instead of 1.26 s; the count of keys staged twice 1.24 s instead of 2.37 s).
    """
    plain = MetaData()
    try:
        with staging.begin() as conn, sorting_in_threads(conn):
            for table in xf_tables:
                xf = xf_table(table, plain)
                index = batch_index(table, xf)
                wanted = [c.name for c in index.columns]
                indexes = inspect(conn).get_indexes(xf.name)
                if any(i["column_names"][: len(wanted)] == wanted for i in indexes):
                    continue
                if any(i["name"] == index.name for i in indexes):
                    Index(index.name, xf.c._batch).drop(conn)  # an earlier version's: _batch only
                index.create(conn)
    except SQLAlchemyError as exc:
        raise LoadError(
            f"could not index the transform output by batch: {describe_error(exc)}",
            hint="the load needs write access to the staging database",
        ) from exc


def _staged_sides(
    staging: Engine,
    xf_tables: dict[Table, Table],
    staged: Mapping[str, Mapping[str, int]],
    batches: Sequence[str],
) -> dict[str, StagedSide]:
    """The staged side of the reconciliation's comparison of each table
    (:class:`load.checksum.StagedSide`): its rows per batch, as ``staged`` already counted
    them, and the keys staged more than once, read on staging's own connection. No load
    writes staging, so it may be read while a load runs."""
    plain, wanted = MetaData(), set(batches)
    sides = {}
    with staging.connect() as conn:
        for table in xf_tables:
            xf = xf_table(table, plain)
            rows = {b: n for b, n in staged.get(xf.name, {}).items() if b in wanted}
            twice = staged_duplicates(conn, xf, key_columns(table), wanted)
            sides[table.name] = StagedSide(rows, twice)
    return sides


def _batches(
    staged: Mapping[str, Mapping[str, int]],
    held: Mapping[Table, set[str]],
    wanted: Sequence[str] | None,
) -> list[str]:
    """The batches to load, in order; by default every batch staged or held by the target."""
    found = set(wanted) if wanted is not None else set().union(*staged.values(), *held.values())
    rest = sorted(found - {GLOBAL_BATCH})
    return [GLOBAL_BATCH, *rest] if GLOBAL_BATCH in found else rest


def _rows_per_batch(engine: Engine, tables: list[Table]) -> dict[str, dict[str, int]]:
    """Rows per table name and batch (each table's read through its ``_batch`` index)."""
    with engine.connect() as conn:
        return {t.name: rows_per_batch(conn, t) for t in tables}


def _unchanged(
    staging: Engine,
    target: Engine,
    held: Mapping[Table, set[str]],
    todo: Sequence[str],
    known: Checksums,
    *,
    attached: bool,
) -> dict[str, dict[str, int]]:
    """Per batch, the tables whose target rows are the staged ones, with their row count.

    Only tables whose target holds rows of a batch to load (``held``) are read: on a first load,
    none. With the staging file ``attached`` to the target, the rows are matched in the engine;
    otherwise both sides' checksums are compared. Either is kept in ``known`` for the
    reconciliation.
    """
    wanted = set(todo)
    plain = MetaData()
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for table, batches in held.items():
        if not batches & wanted:
            continue
        keys = key_columns(table)
        if attached:
            known.matches[table.name] = matches = staged_matches(target, table, wanted)
            for batch in batches & wanted:
                if batch in matches and matches[batch].same:
                    found[batch][table.name] = matches[batch].staged
            continue
        xf, in_engine = xf_table(table, plain), known.in_engine
        staged = batch_checksums(staging, xf, keys, wanted, in_engine=in_engine)
        loaded = batch_checksums(target, table, keys, wanted, in_engine=in_engine)
        known.staged[table.name], known.target[table.name] = staged, loaded
        for batch in batches & wanted:
            if batch in staged and staged[batch] == loaded.get(batch):
                found[batch][table.name] = staged[batch].rows
    return found


def _load_batch(
    target: Engine,
    staging: Engine | None,
    xf_tables: dict[Table, Table],
    batch: str,
    *,
    unchanged: Mapping[str, int],
    chunk_rows: int,
    on_progress: ProgressCallback | None,
) -> BatchResult:
    started = time.perf_counter()
    notify = on_progress or (lambda _p: None)
    with target.connect() as conn:
        transaction = conn.begin()
        try:
            counts = apply_batch(
                conn,
                staging,
                xf_tables,
                batch,
                unchanged=unchanged,
                chunk_rows=chunk_rows,
                notify=notify,
            )
        except BaseException:
            transaction.rollback()
            raise
        with step(batch, None, "committing (deferred foreign keys are checked now)"):
            transaction.commit()
    result = BatchResult(
        batch,
        tuple(TableChange(table=name, **c) for name, c in counts.items()),
        time.perf_counter() - started,
    )
    notify(LoadProgress(batch, None, "committed", result.changed))
    get_logger("load").info(
        "batch_loaded",
        batch=batch,
        staged=sum(t.staged for t in result.tables),
        inserted=sum(t.inserted for t in result.tables),
        updated=sum(t.updated for t in result.tables),
        deleted=sum(t.deleted for t in result.tables),
        unchanged_tables=len(unchanged),
        seconds=round(result.seconds, 3),
    )
    return result


def _load_together(
    target: Engine,
    staging: Engine | None,
    xf_tables: dict[Table, Table],
    todo: Sequence[str],
    staged: Mapping[str, Mapping[str, int]],
    *,
    chunk_rows: int,
    on_progress: ProgressCallback | None,
) -> tuple[list[BatchResult], float] | None:
    """A first load: every batch of every table in one transaction (see the module docstring
    and :func:`load.batch.apply_every_batch`); ``staged`` holds each ``xf_`` table's rows per
    batch. Returns each batch's result and the transaction's seconds, or None when the database
    refused a row: everything is then rolled back, for the caller to load batch by batch.
    """
    started = time.perf_counter()
    notify = on_progress or (lambda _p: None)
    log = get_logger("load")
    with target.connect() as conn, foreign_keys_checked_after(conn):
        transaction = conn.begin()
        try:
            inserted = apply_every_batch(
                conn, staging, xf_tables, chunk_rows=chunk_rows, notify=notify
            )
            if inserted is not None:
                transaction.commit()
        except DBAPIError as exc:  # the COMMIT: a deferred foreign key
            log.info("first_load_refused", error=describe_error(exc))
            inserted = None
        if inserted is None:
            if transaction.is_active:
                transaction.rollback()
            log.info("first_load_batch_by_batch", hint="the batch that fails is named")
            return None
    seconds = time.perf_counter() - started
    results = []
    for batch in todo:
        changes = []
        for table, xf in xf_tables.items():
            rows = staged[xf.name].get(batch, 0)
            changes.append(TableChange(table=table.name, staged=rows, inserted=rows))
        results.append(BatchResult(batch, tuple(changes), 0.0))
        notify(LoadProgress(batch, None, "committed", results[-1].changed))
    log.info(
        "first_load_together",
        batches=len(todo),
        inserted=sum(inserted.values()),
        seconds=round(seconds, 3),
    )
    return results, seconds
