"""Reconciliation: prove, per table and batch, that the target holds what the transform staged.

Two views, both computed at the end of every load:

- **tables**: for each target table and batch, the rows staged in ``xf_<table>`` and the rows in
  the target, and an order-independent checksum (BLAKE2b-128, summed) of each row's key columns
  and ``_row_hash`` on both sides (:mod:`load.checksum`); when both are PostgreSQL, the server
  digests and sums the rows itself; when both are SQLite files, the staging file is attached to
  the target and the rows are matched by key, batch and row hash inside the engine instead (no
  digest to compute);
- **sources**: for each legacy table and batch, the transform's accounting (``xf__accounting``):
  source rows = loaded + merged + quarantined; the quarantined count equals the source keys in
  ``xf__quarantine``; the distinct legacy keys the target's lineage points to lie between
  ``loaded`` and ``loaded + merged`` (a merged record is seen in the target only where a merge
  table records it).

Any difference fails: :meth:`ReconciliationReport.raise_for_differences`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from rich.console import Group
from rich.table import Table as RichTable
from sqlalchemy import Engine, MetaData, Table, distinct, func, inspect, select
from sqlalchemy.engine import URL, make_url

from cutover.errors import ReconciliationError
from cutover.logs import get_logger
from cutover.processes import shareable, url_of, usable_cores, worker_pool
from load.checksum import (
    BatchChecksum,
    BatchMatch,
    Checksums,
    StagedSide,
    batch_checksums,
    batch_matches,
    digest_in_engine,
)
from load.engine import attachable, create_target_engine
from load.tables import key_columns, load_order, xf_table
from load.transfer import STAGING_SCHEMA

__all__ = [
    "ACCOUNTING_TABLE",
    "PARALLEL_ROWS",
    "QUARANTINE_TABLE",
    "ReconciliationMismatchError",
    "ReconciliationReport",
    "SourceLine",
    "TableLine",
    "reconcile",
    "staged_matches",
]

ACCOUNTING_TABLE = "xf__accounting"
QUARANTINE_TABLE = "xf__quarantine"

_T = TypeVar("_T")

#: Staged rows from which a load reconciles with a second process or thread
#: (``reconcile(side_by_side=True)``): below it, starting either costs more than it saves.
PARALLEL_ROWS = 500_000


@dataclass(frozen=True)
class TableLine:
    table: str
    batch: str
    staged: int
    target: int
    staged_checksum: str = ""
    target_checksum: str = ""
    #: Compared in the engine: staged rows with an identical target row (``None``: checksums).
    matched: int | None = None
    #: Compared in the engine: keys staged more than once.
    duplicates: int = 0

    @property
    def same_rows(self) -> bool:
        """The two sides hold the same keys with the same row hashes."""
        if self.matched is not None:
            return self.matched == self.staged == self.target and not self.duplicates
        return self.staged_checksum == self.target_checksum

    @property
    def ok(self) -> bool:
        return self.staged == self.target and self.same_rows


@dataclass(frozen=True)
class SourceLine:
    target_table: str
    source_table: str
    batch: str
    source_rows: int
    loaded: int
    merged: int
    quarantined: int
    quarantine_keys: int
    target_keys: int
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ReconciliationReport:
    tables: tuple[TableLine, ...]
    sources: tuple[SourceLine, ...]
    missing: tuple[str, ...] = ()

    @property
    def problems(self) -> list[str]:
        found = list(self.missing)
        for t in self.tables:
            if t.staged != t.target:
                found.append(
                    f"{t.table} [{t.batch}]: {t.staged} row(s) staged, {t.target} in the target"
                )
            elif t.duplicates:
                found.append(f"{t.table} [{t.batch}]: {t.duplicates} key(s) staged more than once")
            elif t.matched is not None and not t.same_rows:
                found.append(
                    f"{t.table} [{t.batch}]: {t.staged - t.matched} staged row(s) differ from "
                    "the target's (key, batch or row hash; same row count)"
                )
            elif not t.same_rows:
                found.append(f"{t.table} [{t.batch}]: key checksums differ (same row count)")
        found.extend(
            f"{s.source_table} -> {s.target_table} [{s.batch}]: {p}"
            for s in self.sources
            for p in s.problems
        )
        return found

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": self.problems,
            "tables": [
                {
                    "table": t.table,
                    "batch": t.batch,
                    "staged": t.staged,
                    "target": t.target,
                    "compared": "checksums" if t.matched is None else "rows in the engine",
                    "staged_checksum": t.staged_checksum or None,
                    "target_checksum": t.target_checksum or None,
                    "matched": t.matched,
                    "duplicates": t.duplicates,
                    "ok": t.ok,
                }
                for t in self.tables
            ],
            "sources": [
                {
                    "target_table": s.target_table,
                    "source_table": s.source_table,
                    "batch": s.batch,
                    "source_rows": s.source_rows,
                    "loaded": s.loaded,
                    "merged": s.merged,
                    "quarantined": s.quarantined,
                    "quarantine_keys": s.quarantine_keys,
                    "target_keys": s.target_keys,
                    "ok": s.ok,
                    "problems": list(s.problems),
                }
                for s in self.sources
            ],
        }

    def render(self, *, only_problems: bool = False) -> Group:
        """Readable tables for the terminal (``rich``)."""
        tables = RichTable(title="Target tables: staged vs loaded")
        for name in ("table", "batch", "staged", "target", "rows", "status"):
            tables.add_column(name, justify="right" if name in {"staged", "target"} else "left")
        for t in self.tables:
            if only_problems and t.ok:
                continue
            tables.add_row(
                t.table,
                t.batch,
                str(t.staged),
                str(t.target),
                "same" if t.same_rows else "DIFFERENT",
                "[green]ok[/green]" if t.ok else "[red]FAIL[/red]",
            )
        sources = RichTable(title="Legacy tables: accounting")
        left = {"source table", "target table", "batch"}
        for name in (
            "source table",
            "target table",
            "batch",
            "source",
            "loaded",
            "merged",
            "quarantined",
        ):
            sources.add_column(name, justify="left" if name in left else "right")
        sources.add_column("in target", justify="right")
        sources.add_column("status")
        for s in self.sources:
            if only_problems and s.ok:
                continue
            sources.add_row(
                s.source_table,
                s.target_table,
                s.batch,
                str(s.source_rows),
                str(s.loaded),
                str(s.merged),
                str(s.quarantined),
                str(s.target_keys),
                "[green]ok[/green]" if s.ok else "[red]" + "; ".join(s.problems) + "[/red]",
            )
        verdict = "[green]reconciled[/green]" if self.ok else "[red]NOT reconciled[/red]"
        return Group(tables, sources, verdict)

    def raise_for_differences(self) -> None:
        if self.ok:
            return
        problems = self.problems
        shown = "; ".join(problems[:5]) + (
            f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        )
        raise ReconciliationMismatchError(
            f"the load does not reconcile: {shown}",
            report=self,
            hint="the target was changed outside the load, or the transform's accounting is "
            "wrong; see the reconciliation report, fix the cause, then rerun the load",
        )


class ReconciliationMismatchError(ReconciliationError):
    """A reconciliation found differences; ``report`` holds every line."""

    def __init__(self, message: str, *, report: ReconciliationReport, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.report = report


def reconcile(
    staging: Engine | str | URL,
    target: Engine | str | URL,
    *,
    batches: Sequence[str] | None = None,
    tables: Iterable[Table] | None = None,
    known: Checksums | None = None,
    compare: Literal["auto", "checksums"] = "auto",
    side_by_side: bool = False,
) -> ReconciliationReport:
    """Compare the transform's output in ``staging`` with the ``target``, per table and batch.

    ``known`` holds checksums or comparisons already read for these ``batches`` (by the load,
    before it wrote anything), to spare reading a side again; a table it lacks is read. With
    ``compare="auto"``, two SQLite files are compared row by row inside the engine (the staging
    file attached to the target); otherwise, and on other engines, by checksums.

    Comparing by checksums, each row is hashed in Python on both sides, unless both are
    PostgreSQL (the servers digest them, see :mod:`load.checksum`). With ``side_by_side``
    (on a machine with two cores or more, and a staging database another process can open), a
    second process reads the staging side while this one reads the target side and the lineage
    counts: at 10,000 offenders, both
    on PostgreSQL, the reconciliation took 13.4-13.6 s in one process and 9.3 s with the worker,
    its start included. When two SQLite files are compared in the engine, ``side_by_side`` shares
    each table's comparison of the rows and its count of the target's legacy keys out to two
    threads (:func:`_in_two_threads`): the driver lets go of the interpreter while SQLite works,
    so both run at once (a dry run's first load at 10,000 offenders, two cores: 7.45 s in one
    thread, 5.04-5.14 s in two, the counts then all in one thread and the comparisons in the
    other).
    A PostgreSQL pair keeps one thread: its servers already read a large table with parallel
    workers, and at 100,000 offenders two threads took 47.4 s against 43.6 s (at 10,000, 4.19-4.36
    s against 5.56-5.61 s).
    """
    created: list[Engine] = []

    def engine_for(bind: Engine | str | URL) -> Engine:
        if isinstance(bind, Engine):
            return bind
        created.append(create_target_engine(bind))
        return created[-1]

    s_engine, t_engine = engine_for(staging), engine_for(target)
    try:
        path = attachable(s_engine.url, t_engine.url) if compare == "auto" else None
        joined = None
        if path is not None and make_url(t_engine.url).database not in (None, "", ":memory:"):
            # A second connection to the target: an in-memory one would be another database.
            joined = create_target_engine(t_engine.url, attach={STAGING_SCHEMA: path})
            created.append(joined)
        present = set(inspect(s_engine).get_table_names())
        candidates = tables if tables is not None else load_order()
        chosen = [t for t in candidates if f"xf_{t.name}" in present]
        wanted = set(batches) if batches is not None else None
        in_engine = digest_in_engine(s_engine, t_engine)
        read = Checksums(in_engine=in_engine)
        if known is not None and known.in_engine == in_engine:
            read = Checksums(
                dict(known.staged),
                dict(known.target),
                dict(known.matches),
                in_engine=in_engine,
                sides=dict(known.sides),
                in_staged_order=set(known.in_staged_order),
            )
        missing = (
            []
            if ACCOUNTING_TABLE in present
            else [f"staging has no {ACCOUNTING_TABLE}: the transform's row accounting is missing"]
        )

        def sources_now() -> list[SourceLine]:
            if missing:
                return []
            return _source_lines(s_engine, t_engine, chosen, wanted, QUARANTINE_TABLE in present)

        def lines_now() -> list[TableLine]:
            return [
                line
                for table in chosen
                for line in _table_lines(s_engine, t_engine, joined, table, wanted, read)
            ]

        if side_by_side and joined is not None and usable_cores() >= 2:
            # SQLite compares the rows: one thread's statements run while the other's do (the
            # driver lets go of the interpreter while the engine works).
            lines, sources = _in_two_threads(
                s_engine,
                t_engine,
                joined,
                chosen,
                wanted,
                read,
                missing,
                QUARANTINE_TABLE in present,
            )
        elif side_by_side and joined is None and not in_engine:
            sources = _read_side_by_side(s_engine, t_engine, chosen, wanted, read, sources_now)
            lines = lines_now()
        else:
            sources, lines = sources_now(), lines_now()
        return ReconciliationReport(tuple(lines), tuple(sources), tuple(missing))
    finally:
        for engine in created:
            engine.dispose()


def _in_two_threads(
    staging: Engine,
    target: Engine,
    joined: Engine,
    tables: list[Table],
    wanted: set[str] | None,
    read: Checksums,
    missing: list[str],
    has_quarantine: bool,
) -> tuple[list[TableLine], list[SourceLine]]:
    """The table lines (rows matched in the engine) and the source lines of ``tables``, their
    pieces shared out to two threads: each table's match and its count of the target's legacy
    keys are one task each, the largest tables' first, so that the two longest (the ledger's)
    run side by side. At 100,000 offenders the ledger's match took 6.5 s and its count 7.7 s;
    with the matches in one thread and every count in the other, the counts took 16.7 s, the
    matches 8.2 s."""
    accounted, quarantined = ({}, {}) if missing else _accounting(staging, has_quarantine)
    counted = {key[0] for key in accounted}

    def size(table: Table) -> int:
        side = read.sides.get(table.name)
        return sum(side.rows.values()) if side is not None else 0

    with ThreadPoolExecutor(2, thread_name_prefix="reconcile") as pool:
        lines: dict[str, Future[list[TableLine]]] = {}
        keys: list[Future[dict[tuple[str, str, str], int]]] = []
        for table in sorted(tables, key=size, reverse=True):
            if table.name in counted:
                keys.append(pool.submit(_target_source_keys, target, [table]))
            lines[table.name] = pool.submit(
                _table_lines, staging, target, joined, table, wanted, read
            )
        found: dict[tuple[str, str, str], int] = {}
        for future in keys:
            found.update(future.result())
        table_lines = [line for table in tables for line in lines[table.name].result()]
    if missing:
        return table_lines, []
    return table_lines, _checked_sources(accounted, quarantined, found, wanted, has_quarantine)


def _read_side_by_side(
    staging: Engine,
    target: Engine,
    tables: list[Table],
    wanted: set[str] | None,
    read: Checksums,
    meanwhile: Callable[[], _T],
) -> _T:
    """Have a worker process read the staging side's checksums of ``tables`` into ``read``,
    while this one reads the target side's into it and then runs ``meanwhile``; return what
    ``meanwhile`` returns. When staging is a database no other process can open, a table is not
    a target model's, or this process may run on one core only, only ``meanwhile`` is run (the
    caller reads both sides).
    """
    pending = [t.name for t in tables if t.name not in read.staged]
    models = {t.name for t in load_order()}
    if not pending or not shareable(staging) or not set(pending) <= models or usable_cores() < 2:
        return meanwhile()
    log = get_logger("load")
    with worker_pool(1) as pool:
        future: Future[tuple[int, dict[str, dict[str, BatchChecksum]]]] = pool.submit(
            _staged_checksums, url_of(staging), pending, None if wanted is None else sorted(wanted)
        )
        for table in tables:
            if table.name not in read.target:
                read.target[table.name] = batch_checksums(target, table, key_columns(table), wanted)
        result = meanwhile()
        try:
            pid, staged = future.result()
        except BrokenProcessPool:
            log.warning("reconcile_worker_lost", hint="the staging side is read in this process")
            return result
    read.staged.update(staged)
    log.info("reconcile_worker_read_staging", tables=len(staged), pid=pid)
    return result


def _staged_checksums(
    url: str, names: list[str], wanted: list[str] | None
) -> tuple[int, dict[str, dict[str, BatchChecksum]]]:
    """In a worker process: the staging side's checksums of the target tables ``names``."""
    models = {t.name: t for t in load_order()}
    engine = create_target_engine(url)
    try:
        chosen = None if wanted is None else set(wanted)
        found = {
            name: batch_checksums(
                engine, xf_table(models[name], MetaData()), key_columns(models[name]), chosen
            )
            for name in names
        }
    finally:
        engine.dispose()
    return os.getpid(), found


def staged_matches(
    engine: Engine,
    table: Table,
    wanted: set[str] | None,
    side: StagedSide | None = None,
    *,
    in_staged_order: bool = False,
) -> dict[str, BatchMatch]:
    """:func:`load.checksum.batch_matches` of ``table``, on a target engine with the staging
    file attached as :data:`load.transfer.STAGING_SCHEMA`; ``side``, its staged side if read."""
    xf = xf_table(table, MetaData(), schema=STAGING_SCHEMA)
    with engine.connect() as conn:
        return batch_matches(
            conn, table, xf, key_columns(table), wanted, side, in_staged_order=in_staged_order
        )


def _table_lines(
    staging: Engine,
    target: Engine,
    joined: Engine | None,
    table: Table,
    wanted: set[str] | None,
    known: Checksums,
) -> list[TableLine]:
    keys = key_columns(table)
    if joined is not None:
        matches = known.matches.get(table.name) or staged_matches(
            joined,
            table,
            wanted,
            known.sides.get(table.name),
            in_staged_order=table.name in known.in_staged_order,
        )
        return [
            TableLine(table.name, b, m.staged, m.target, matched=m.matched, duplicates=m.duplicates)
            for b, m in matches.items()
        ]
    in_engine = known.in_engine
    staged = known.staged.get(table.name)
    if staged is None:
        xf = xf_table(table, MetaData())
        staged = batch_checksums(staging, xf, keys, wanted, in_engine=in_engine)
    loaded = known.target.get(table.name)
    if loaded is None:
        loaded = batch_checksums(target, table, keys, wanted, in_engine=in_engine)
    empty = BatchChecksum(0, 0)
    lines = []
    for batch in sorted(set(staged) | set(loaded)):
        s, t = staged.get(batch, empty), loaded.get(batch, empty)
        lines.append(TableLine(table.name, batch, s.rows, t.rows, s.hex, t.hex))
    return lines


def _source_lines(
    staging: Engine,
    target: Engine,
    tables: list[Table],
    wanted: set[str] | None,
    has_quarantine: bool,
) -> list[SourceLine]:
    """Accounting per (target table, legacy table, batch), checked against the target's lineage.

    One legacy table may feed several target tables (``OFFNDR`` feeds people, their identifiers
    and aliases), so every check is made per target table. Target tables the transform keeps no
    accounting for (merge records) are covered by the staged-vs-target checksums instead.
    """
    accounted, quarantined = _accounting(staging, has_quarantine)
    counted = {key[0] for key in accounted}
    t_keys = _target_source_keys(target, [t for t in tables if t.name in counted])
    return _checked_sources(accounted, quarantined, t_keys, wanted, has_quarantine)


_Accounted = dict[tuple[str, str, str], tuple[int, int, int, int]]


def _accounting(
    staging: Engine, has_quarantine: bool
) -> tuple[_Accounted, dict[tuple[str, str, str], int]]:
    """The transform's accounting per (target table, legacy table, batch): source rows, loaded,
    merged and quarantined; and the distinct keys quarantined for each."""
    metadata = MetaData()
    accounting = Table(ACCOUNTING_TABLE, metadata, autoload_with=staging)
    acc_target = accounting.c.target_table
    with staging.connect() as conn:
        acc_rows = conn.execute(
            select(
                acc_target,
                accounting.c.source_table,
                accounting.c.batch,
                func.sum(accounting.c.source_rows),
                func.sum(accounting.c.loaded),
                func.sum(accounting.c.merged),
                func.sum(accounting.c.quarantined),
            ).group_by(acc_target, accounting.c.source_table, accounting.c.batch)
        ).all()
        q_keys: dict[tuple[str, str, str], int] = {}
        if has_quarantine:
            quarantine = Table(QUARANTINE_TABLE, metadata, autoload_with=staging)
            inner = (
                select(
                    quarantine.c.target_table,
                    quarantine.c.source_table,
                    quarantine.c.batch,
                    quarantine.c.source_key,
                )
                .distinct()
                .subquery()
            )
            q_keys = {
                (r[0], r[1], r[2]): int(r[3])
                for r in conn.execute(
                    select(
                        inner.c.target_table, inner.c.source_table, inner.c.batch, func.count()
                    ).group_by(inner.c.target_table, inner.c.source_table, inner.c.batch)
                )
            }
    accounted: _Accounted = {
        (r[0], r[1], r[2]): (int(r[3] or 0), int(r[4] or 0), int(r[5] or 0), int(r[6] or 0))
        for r in acc_rows
    }
    return accounted, q_keys


def _checked_sources(
    accounted: _Accounted,
    q_keys: dict[tuple[str, str, str], int],
    t_keys: dict[tuple[str, str, str], int],
    wanted: set[str] | None,
    has_quarantine: bool,
) -> list[SourceLine]:
    """The source lines of the accounting, its quarantined keys and the target's legacy keys
    (:func:`_source_lines`)."""
    lines = []
    for target_table, source_table, batch in sorted(set(accounted) | set(t_keys)):
        if wanted is not None and batch not in wanted:
            continue
        key = (target_table, source_table, batch)
        rows, loaded, merged, quarantined = accounted.get(key, (0, 0, 0, 0))
        qk = q_keys.get(key, 0)
        tk = t_keys.get(key, 0)
        problems = []
        if key not in accounted:
            problems.append(f"{tk} legacy key(s) in the target but no accounting line")
        if rows != loaded + merged + quarantined:
            problems.append(
                f"source rows {rows} != loaded {loaded} + merged {merged} + "
                f"quarantined {quarantined}"
            )
        if has_quarantine and qk != quarantined:
            problems.append(f"quarantined {quarantined} but {qk} key(s) in {QUARANTINE_TABLE}")
        if not loaded <= tk <= loaded + merged:
            problems.append(
                f"the target traces to {tk} legacy key(s), expected "
                + (f"{loaded}" if not merged else f"{loaded} to {loaded + merged}")
            )
        lines.append(
            SourceLine(
                target_table,
                source_table,
                batch,
                rows,
                loaded,
                merged,
                quarantined,
                qk,
                tk,
                tuple(problems),
            )
        )
    return lines


def _target_source_keys(target: Engine, tables: list[Table]) -> dict[tuple[str, str, str], int]:
    """Distinct legacy keys the target's lineage names, per target table, source table, batch.

    SQLite counts ``count(DISTINCT ...)`` per group. PostgreSQL sorts the rows for that (by
    group, then each group's keys) but hashes a ``DISTINCT``, so there a ``DISTINCT`` subquery
    of the three columns is counted, the key compared byte by byte (``COLLATE "C"``; the
    database's collation, deterministic, compares the same keys equal). The ledger at 100,000
    offenders (13.9 million rows, PostgreSQL 15, database collation C.UTF-8), each query alone
    on the loaded scratch target, twice in turn: ``count(DISTINCT ...)`` 17.5 and 18.2 s, the
    subquery 11.8 and 11.7 s, with ``COLLATE "C"`` 9.3 and 9.5 s.
    """
    found: dict[tuple[str, str, str], int] = {}
    with target.connect() as conn:
        for t in tables:
            if conn.dialect.name == "postgresql":
                key = t.c._source_key.collate("C")
                inner = select(t.c._source_table, t.c._batch, key).distinct().subquery()
                query = select(inner.c._source_table, inner.c._batch, func.count()).group_by(
                    inner.c._source_table, inner.c._batch
                )
            else:
                query = select(
                    t.c._source_table, t.c._batch, func.count(distinct(t.c._source_key))
                ).group_by(t.c._source_table, t.c._batch)
            found.update({(t.name, r[0], r[1]): int(r[2]) for r in conn.execute(query)})
    return found
