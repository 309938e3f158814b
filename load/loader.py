"""The idempotent, batched load of the transform's output into the target.

For each batch (``_GLOBAL`` first, then each institution), in one transaction of its own:

1. every ``xf_<table>`` row of the batch is copied into a temporary incoming table in the target
   (the database's fast path, see :mod:`load.transfer`) and checked for duplicate keys;
2. target rows of the batch whose key is no longer staged are deleted, children first;
3. target rows whose ``_row_hash`` or ``_batch`` differ from the staged row are updated in place,
   and keys the target does not hold yet are inserted, parents first.

Unchanged rows are never written, so loading the same output twice changes nothing and a newer
run rewrites only what changed. A batch that fails is rolled back whole and reported as a
:class:`~cutover.errors.LoadError` naming the batch, the table and the step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import psycopg
from sqlalchemy import (
    Connection,
    Engine,
    Index,
    MetaData,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from cutover.errors import LoadError
from cutover.logs import get_logger
from load.engine import create_target_engine, is_sqlite
from load.migrate import current, head
from load.reconcile import ReconciliationReport, reconcile
from load.tables import GLOBAL_BATCH, key_columns, load_order, staged_xf_tables, xf_table
from load.transfer import STAGING_SCHEMA, fill_incoming

__all__ = ["BatchResult", "LoadProgress", "LoadResult", "TableChange", "load_run"]

Phase = Literal["staged", "deleted", "written", "committed"]


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

    @property
    def changed(self) -> int:
        """Rows inserted, updated or deleted in the target, over every batch."""
        return sum(b.changed for b in self.batches)

    def to_json(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "skipped_tables": list(self.skipped_tables),
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


@dataclass(frozen=True)
class LoadProgress:
    """Reported after each step of a batch, for progress bars."""

    batch: str
    table: str | None
    phase: Phase
    rows: int


ProgressCallback = Callable[[LoadProgress], None]


def load_run(
    staging_url: str | URL,
    target_url: str | URL,
    *,
    batches: Sequence[str] | None = None,
    chunk_rows: int = 20_000,
    check: bool = True,
    on_progress: ProgressCallback | None = None,
) -> LoadResult:
    """Load the transform's output from ``staging_url`` into the target at ``target_url``.

    ``batches`` limits the load to those batches; by default every batch staged or present in
    the target is loaded (a batch gone from staging is emptied). With ``check`` (the default)
    the load ends with :func:`load.reconcile.reconcile` and raises
    :class:`load.reconcile.ReconciliationMismatchError` on any difference.
    """
    staging_attach = _attachable(staging_url, target_url)
    staging = create_target_engine(staging_url)
    target = create_target_engine(
        target_url, attach={STAGING_SCHEMA: staging_attach} if staging_attach else None
    )
    try:
        _require_head(target_url)
        xf_tables, skipped = _plan(staging, schema=STAGING_SCHEMA if staging_attach else None)
        todo = _batches(staging, target, xf_tables, batches)
        results = [
            _load_batch(
                target,
                None if staging_attach else staging,
                xf_tables,
                batch,
                chunk_rows=chunk_rows,
                on_progress=on_progress,
            )
            for batch in todo
        ]
        report = None
        if check:
            report = reconcile(staging, target, batches=todo, tables=list(xf_tables))
            report.raise_for_differences()
        return LoadResult(tuple(results), tuple(skipped), report)
    finally:
        target.dispose()
        staging.dispose()


def _attachable(staging_url: str | URL, target_url: str | URL) -> str | None:
    """The staging file to attach when both databases are SQLite files, else ``None``."""
    if not (is_sqlite(staging_url) and is_sqlite(target_url)):
        return None
    path = make_url(staging_url).database
    return path if path and path != ":memory:" else None


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


def _batches(
    staging: Engine, target: Engine, xf_tables: dict[Table, Table], wanted: Sequence[str] | None
) -> list[str]:
    if wanted is not None:
        found = set(wanted)
    else:
        plain = MetaData()
        found = _distinct_batches(staging, [xf_table(t, plain) for t in xf_tables])
        found |= _distinct_batches(target, list(xf_tables))
    rest = sorted(found - {GLOBAL_BATCH})
    return [GLOBAL_BATCH, *rest] if GLOBAL_BATCH in found else rest


def _distinct_batches(engine: Engine, tables: list[Table]) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(union(*(select(t.c._batch) for t in tables))).scalars())


@contextmanager
def _step(batch: str, table: str | None, step: str) -> Iterator[None]:
    """Translate a driver error into a LoadError that names the batch, table and step."""
    try:
        yield
    except (SQLAlchemyError, psycopg.Error) as exc:
        raise LoadError(
            f"batch {batch!r} failed while {step}"
            + (f" table {table!r}" if table else "")
            + f": {_describe(exc)}; the batch was rolled back",
            hint="a staged row breaks a rule of the target (key, foreign key or check): fix the "
            "mapping or quarantine the row, rerun the transform, then rerun the load; batches "
            "loaded before this one stay loaded",
            batch=batch,
            table=table,
            step=step,
        ) from exc


def _describe(exc: BaseException) -> str:
    """The driver's message without row contents (a check failure can echo a whole row)."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    diag = getattr(orig, "diag", None)
    if diag is not None and diag.message_primary:
        text = str(diag.message_primary)
        detail = diag.message_detail or ""
        return f"{text} ({detail})" if detail.startswith("Key ") else text
    return str(orig).splitlines()[0] if str(orig) else orig.__class__.__name__


def _load_batch(
    target: Engine,
    staging: Engine | None,
    xf_tables: dict[Table, Table],
    batch: str,
    *,
    chunk_rows: int,
    on_progress: ProgressCallback | None,
) -> BatchResult:
    started = time.perf_counter()
    notify = on_progress or (lambda _p: None)
    counts: dict[str, dict[str, int]] = {}
    with target.connect() as conn:
        transaction = conn.begin()
        try:
            _apply_batch(conn, staging, xf_tables, batch, counts, chunk_rows, notify)
        except BaseException:
            transaction.rollback()
            raise
        with _step(batch, None, "committing (deferred foreign keys are checked now)"):
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
        seconds=round(result.seconds, 3),
    )
    return result


def _apply_batch(
    conn: Connection,
    staging: Engine | None,
    xf_tables: dict[Table, Table],
    batch: str,
    counts: dict[str, dict[str, int]],
    chunk_rows: int,
    notify: ProgressCallback,
) -> None:
    temp = MetaData()
    incoming: dict[Table, Table] = {}
    for table, xf in xf_tables.items():
        with _step(batch, table.name, "staging"):
            inc = _incoming_table(conn, table, temp)
            n = fill_incoming(conn, inc, xf, batch, staging=staging, chunk_rows=chunk_rows)
            _index_incoming(conn, table, inc, batch)
        incoming[table] = inc
        counts[table.name] = {"staged": n}
        notify(LoadProgress(batch, table.name, "staged", n))
    for table in reversed(list(incoming)):
        with _step(batch, table.name, "deleting rows gone from"):
            counts[table.name]["deleted"] = gone = _delete_gone(conn, table, incoming[table], batch)
        notify(LoadProgress(batch, table.name, "deleted", gone))
    for table, inc in incoming.items():
        with _step(batch, table.name, "writing"):
            counts[table.name]["updated"] = _update_changed(conn, table, inc)
            counts[table.name]["inserted"] = _insert_new(conn, table, inc)
        notify(LoadProgress(batch, table.name, "written", counts[table.name]["inserted"]))
    with _step(batch, None, "dropping incoming tables"):
        temp.drop_all(conn)


def _incoming_table(conn: Connection, table: Table, metadata: MetaData) -> Table:
    inc = xf_table(table, metadata, name=f"_in_{table.name}", temporary=True)
    inc.create(conn)
    return inc


def _index_incoming(conn: Connection, table: Table, inc: Table, batch: str) -> None:
    keys = key_columns(table)
    dupes = conn.execute(
        select(*(inc.c[k] for k in keys), func.count().label("n"))
        .group_by(*(inc.c[k] for k in keys))
        .having(func.count() > 1)
        .limit(5)
    ).all()
    if dupes:
        shown = "; ".join("|".join(str(v) for v in row[:-1]) for row in dupes)
        raise LoadError(
            f"batch {batch!r}: xf_{table.name} holds the same key more than once: {shown}",
            hint="the transform must emit one row per key (merge or quarantine duplicates); "
            "the batch was rolled back",
            batch=batch,
            table=table.name,
        )
    Index(f"ix_{inc.name}_key", *(inc.c[k] for k in keys), unique=True).create(conn)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"ANALYZE {conn.dialect.identifier_preparer.quote(inc.name)}")


def _same_key(table: Table, inc: Table) -> Any:
    return and_(*(table.c[k] == inc.c[k] for k in key_columns(table)))


def _delete_gone(conn: Connection, table: Table, inc: Table, batch: str) -> int:
    statement = delete(table).where(table.c._batch == batch, ~exists().where(_same_key(table, inc)))
    return int(conn.execute(statement).rowcount)


def _update_changed(conn: Connection, table: Table, inc: Table) -> int:
    keys = set(key_columns(table))
    values = {c.name: inc.c[c.name] for c in table.columns if c.name not in keys}
    statement = (
        update(table)
        .where(_same_key(table, inc))
        .where(or_(table.c._row_hash != inc.c._row_hash, table.c._batch != inc.c._batch))
        .values(values)
    )
    return int(conn.execute(statement).rowcount)


def _insert_new(conn: Connection, table: Table, inc: Table) -> int:
    names = [c.name for c in table.columns]
    query = select(*(inc.c[n] for n in names)).where(~exists().where(_same_key(table, inc)))
    statement = insert(table).from_select(names, query)
    return int(conn.execute(statement, execution_options={"preserve_rowcount": True}).rowcount)
