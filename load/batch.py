"""One batch into the target: set-based statements, inside the batch's transaction.

Table by table, parents first, each table takes one of three paths:

- **unchanged**: the loader found the target's rows of the batch equal to the staged ones (same
  count and key checksum, :mod:`load.checksum`): nothing is read or written;
- **bulk**: the target holds no row of the batch yet (the first load): the batch's ``xf_`` rows
  go straight into the table in one insert (:mod:`load.transfer`), their foreign keys checked
  once for the batch (:mod:`load.constraints`). Should the database refuse a
  row (a key the target holds under another batch, a duplicate key, a broken check or foreign
  key) the insert is undone to a savepoint and the table takes the next path, which moves keys
  between batches and names every other cause;
- **compare**: the batch's rows are copied into a temporary incoming table indexed by key (a
  key staged twice refuses the batch); target rows of the batch whose key is gone are deleted,
  children first; rows whose ``_row_hash`` differs, or that the target holds under another
  batch, are updated in place, and new keys inserted, parents first.

Every comparison starts from the batch's own rows (the incoming table, or the target's rows of
the batch through its ``_batch`` index), so a batch costs what it holds, not what the target
holds. Unchanged rows are never written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
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
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from cutover.errors import LoadError
from load.constraints import (
    UnmatchedForeignKeyError,
    foreign_keys_checked_per_batch,
    unique_keys_built_after,
)
from load.engine import sorting_in_threads
from load.tables import key_columns, xf_table
from load.transfer import copy_batch

__all__ = [
    "EVERY_BATCH",
    "LoadProgress",
    "Phase",
    "ProgressCallback",
    "apply_batch",
    "apply_every_batch",
    "describe_error",
    "step",
]

Phase = Literal["staged", "deleted", "written", "committed"]

#: The batch progress names while a first load writes every batch at once.
EVERY_BATCH = "*"


@dataclass(frozen=True)
class LoadProgress:
    """Reported after each step of a batch, for progress bars."""

    batch: str
    table: str | None
    phase: Phase
    rows: int


ProgressCallback = Callable[[LoadProgress], None]


@contextmanager
def step(batch: str, table: str | None, doing: str) -> Iterator[None]:
    """Translate a driver error into a LoadError that names the batch, table and step."""
    try:
        yield
    except (SQLAlchemyError, psycopg.Error) as exc:
        raise LoadError(
            f"batch {batch!r} failed while {doing}"
            + (f" table {table!r}" if table else "")
            + f": {describe_error(exc)}; the batch was rolled back",
            hint="a staged row breaks a rule of the target (key, foreign key or check): fix the "
            "mapping or quarantine the row, rerun the transform, then rerun the load; batches "
            "loaded before this one stay loaded",
            batch=batch,
            table=table,
            step=doing,
        ) from exc


def describe_error(exc: BaseException) -> str:
    """The driver's message without row contents (a check failure can echo a whole row)."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    diag = getattr(orig, "diag", None)
    if diag is not None and diag.message_primary:
        text = str(diag.message_primary)
        detail = diag.message_detail or ""
        return f"{text} ({detail})" if detail.startswith("Key ") else text
    return str(orig).splitlines()[0] if str(orig) else orig.__class__.__name__


def apply_batch(
    conn: Connection,
    staging: Engine | None,
    xf_tables: Mapping[Table, Table],
    batch: str,
    *,
    unchanged: Mapping[str, int],
    chunk_rows: int,
    notify: ProgressCallback,
) -> dict[str, dict[str, int]]:
    """Bring every table's rows of ``batch`` in line with staging; return the counts per table.

    ``unchanged`` maps the tables known to hold the batch as staged to their staged row count.
    ``staging`` is ``None`` when the ``xf_`` tables are attached to ``conn``'s database.
    """
    temp = MetaData()
    counts: dict[str, dict[str, int]] = {}
    incoming: dict[Table, Table] = {}

    def stage(table: Table, xf: Table) -> Table:
        with step(batch, table.name, "staging"):
            inc = xf_table(table, temp, name=f"_in_{table.name}", temporary=True)
            inc.create(conn)
            n = copy_batch(conn, inc, xf, batch, staging=staging, chunk_rows=chunk_rows)
            _index_incoming(conn, table, inc, batch)
        counts[table.name]["staged"] = n
        notify(LoadProgress(batch, table.name, "staged", n))
        return inc

    bulk: list[Table] = []
    for table, xf in xf_tables.items():
        counts[table.name] = {"staged": unchanged.get(table.name, 0)}
        if table.name in unchanged:
            notify(LoadProgress(batch, table.name, "staged", unchanged[table.name]))
            continue
        with step(batch, table.name, "reading"):
            held = _holds_batch(conn, table, batch)
        if held:
            incoming[table] = stage(table, xf)
        else:
            bulk.append(table)
    for table in reversed(list(incoming)):
        with step(batch, table.name, "deleting rows gone from"):
            counts[table.name]["deleted"] = gone = _delete_gone(conn, table, incoming[table], batch)
        notify(LoadProgress(batch, table.name, "deleted", gone))
    for table, xf in xf_tables.items():
        change = counts[table.name]
        if table in bulk:
            with step(batch, table.name, "writing"):
                inserted = _bulk_insert(conn, staging, table, xf, batch, chunk_rows)
            if inserted is not None:
                change.update(staged=inserted, inserted=inserted)
                notify(LoadProgress(batch, table.name, "staged", inserted))
                notify(LoadProgress(batch, table.name, "written", inserted))
                continue
            incoming[table] = stage(table, xf)
        if table in incoming:
            with step(batch, table.name, "writing"):
                change["updated"], change["inserted"] = _write_changes(
                    conn, table, incoming[table], batch
                )
        notify(LoadProgress(batch, table.name, "written", change.get("inserted", 0)))
    with step(batch, None, "dropping incoming tables"):
        temp.drop_all(conn)
    return counts


def apply_every_batch(
    conn: Connection,
    staging: Engine | None,
    xf_tables: Mapping[Table, Table],
    *,
    chunk_rows: int,
    notify: ProgressCallback,
) -> dict[str, int] | None:
    """A first load, inside the caller's transaction: every staged row of every table into a
    target that holds none of them, each table by one bulk insert (:func:`_bulk_insert`).

    Indexes other than unique ones are dropped before the insert and built after it, from the
    rows (the transaction covers the drop; SQLite sorts them with helper threads), and on
    PostgreSQL the table is analyzed. Returns the rows inserted per table, or ``None`` when the
    database refused a row: the caller then rolls the transaction back and loads batch by
    batch, which names the batch, table and cause.
    """
    inserted: dict[str, int] = {}
    for table, xf in xf_tables.items():
        built_after = sorted((i for i in table.indexes if not i.unique), key=lambda i: str(i.name))
        for index in built_after:
            index.drop(conn)
        rows = _bulk_insert(conn, staging, table, xf, None, chunk_rows, built_after)
        if rows is None:
            return None
        _analyze(conn, table.name)
        inserted[table.name] = rows
        notify(LoadProgress(EVERY_BATCH, table.name, "staged", rows))
        notify(LoadProgress(EVERY_BATCH, table.name, "written", rows))
    return inserted


def _analyze(conn: Connection, table: str) -> None:
    """On PostgreSQL, statistics for the rows just written: the server gathers none for rows
    written in one go until its autovacuum runs, and plans what reads them next on guesses."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"ANALYZE {conn.dialect.identifier_preparer.quote(table)}")


def _holds_batch(conn: Connection, table: Table, batch: str) -> bool:
    query = select(literal(1)).where(table.c._batch == batch).limit(1)
    return conn.execute(query).first() is not None


def _bulk_insert(
    conn: Connection,
    staging: Engine | None,
    table: Table,
    xf: Table,
    batch: str | None,
    chunk_rows: int,
    indexes: Sequence[Index] = (),
) -> int | None:
    """Insert every staged row of ``batch`` (of every batch when None) into ``table``, which
    holds none of them, then build ``indexes`` (SQLite sorting with helper threads).

    With ``batch`` None, on PostgreSQL, the unique keys no foreign key names are built after
    the rows are in (:func:`load.constraints.unique_keys_built_after`), before ``indexes``.
    Returns the rows inserted, or ``None`` when the database refused a row: the insert is then
    undone to its savepoint and the caller takes the compare path, which finds the cause.
    Foreign keys are checked once for the batch (:mod:`load.constraints`), after the indexes
    are built: on SQLite, the check reads the values the rows name through them.
    """
    savepoint = conn.begin_nested()
    # A batch into a table that may hold other batches' rows keeps its unique keys.
    keys = unique_keys_built_after(conn, table.name) if batch is None else nullcontext()
    try:
        with foreign_keys_checked_per_batch(conn, table.name, batch):
            with keys:
                inserted = copy_batch(
                    conn, table, xf, batch, staging=staging, chunk_rows=chunk_rows
                )
            with sorting_in_threads(conn):
                for index in indexes:
                    index.create(conn)
    except (DBAPIError, psycopg.Error, UnmatchedForeignKeyError):
        savepoint.rollback()
        return None
    savepoint.commit()
    return inserted


def _index_incoming(conn: Connection, table: Table, inc: Table, batch: str) -> None:
    """Index the incoming rows by key; a key staged twice refuses the batch, naming the key."""
    keys = [inc.c[k] for k in key_columns(table)]
    savepoint = conn.begin_nested()
    try:
        Index(f"ix_{inc.name}_key", *keys, unique=True).create(conn)
    except IntegrityError:
        savepoint.rollback()
        dupes = conn.execute(
            select(*keys).group_by(*keys).having(func.count() > 1).order_by(*keys).limit(5)
        ).all()
        shown = "; ".join("|".join(str(v) for v in row) for row in dupes)
        raise LoadError(
            f"batch {batch!r}: xf_{table.name} holds the same key more than once: {shown}",
            hint="the transform must emit one row per key (merge or quarantine duplicates); "
            "the batch was rolled back",
            batch=batch,
            table=table.name,
        ) from None
    savepoint.commit()
    _analyze(conn, inc.name)


def _same_key(table: Table, inc: Table) -> Any:
    return and_(*(table.c[k] == inc.c[k] for k in key_columns(table)))


def _delete_gone(conn: Connection, table: Table, inc: Table, batch: str) -> int:
    statement = delete(table).where(table.c._batch == batch, ~exists().where(_same_key(table, inc)))
    return int(conn.execute(statement).rowcount)


def _write_changes(conn: Connection, table: Table, inc: Table, batch: str) -> tuple[int, int]:
    """Update changed rows and insert new ones; return ``(updated, inserted)``.

    The rest of the target is consulted only when some incoming key is not among the batch's
    rows (a new key, or one held under another batch: its offender moved institution), and
    then by key lookups driven from the incoming table.
    """
    keys = key_columns(table)
    values = {c.name: inc.c[c.name] for c in table.columns if c.name not in keys}
    same_key = _same_key(table, inc)
    changed = (
        update(table)
        .where(same_key, table.c._batch == batch, table.c._row_hash != inc.c._row_hash)
        .values(values)
    )
    updated = int(conn.execute(changed).rowcount)
    outside = conn.execute(
        select(func.count())
        .select_from(inc)
        .where(~exists().where(same_key, table.c._batch == batch))
    ).scalar_one()
    if not outside:
        return updated, 0
    target_key = tuple_(*(table.c[k] for k in keys)) if len(keys) > 1 else table.c[keys[0]]
    moved = (
        update(table)
        .where(same_key, table.c._batch != batch, target_key.in_(select(*(inc.c[k] for k in keys))))
        .values(values)
    )
    updated += int(conn.execute(moved).rowcount)
    names = [c.name for c in table.columns]
    new = select(*(inc.c[n] for n in names)).where(~exists().where(same_key))
    statement = insert(table).from_select(names, new)
    result = conn.execute(statement, execution_options={"preserve_rowcount": True})
    return updated, int(result.rowcount)
