"""Creating a table and filling it from one SELECT, by the engine's fastest path.

PostgreSQL runs an ``INSERT ... SELECT`` in one process, but plans ``CREATE TABLE ... AS
SELECT`` like a query: parallel workers scan the source rows and compute the values, the leader
writes the rows. A transform's statements are mostly expressions over each row (trimming,
parsing dates and numbers, hashing), so on PostgreSQL :func:`recreate_filled` makes the table by
``CREATE TABLE ... AS``, every value cast to its column's declared type (the casts PostgreSQL
would apply on insert), then adds what the plain ``CREATE TABLE`` would have had: the NOT NULL
constraints (checked over the rows by the same statement) and the table's indexes. Measured on
the ledger at 10,000 offenders (1.37 million rows, 2 cores): the working table's fill took 21.4
s as ``INSERT ... SELECT`` and 12.5 s as ``CREATE TABLE ... AS``.

PostgreSQL's planner prices every built-in function the same, cheap, so it sees little to gain
from parallel workers for a scan that computes, say, an ``md5`` per row, while the hash of the
ledger's rows takes half the time in parallel (11.3 s -> 5.5 s). For the one statement, the cost
of passing a row from a worker to the leader is set to zero; the planner still needs a table
large enough for a parallel scan (``min_parallel_table_scan_size``) and a gain that pays the
workers' start (``parallel_setup_cost``), so small tables keep one process.

A column type whose cast could change a value (a text of bounded length truncates under an
explicit cast, where an insert fails) keeps the plain path.

A table made and dropped inside one transaction (the transform's working tables, marked by
:func:`transaction_only`) is made ``UNLOGGED`` on PostgreSQL, by ``CREATE TABLE`` and by
``CREATE TABLE ... AS`` alike: its rows are not written to the write-ahead log, which a crash
would replay only to restore a table the rolled-back transaction drops anyway. Parallel workers
still read an unlogged table, which they cannot do with a temporary one. Measured at 100,000
offenders (the ledger's 13.9 million staged rows, a ``CREATE TABLE ... AS`` of their ten
trimmed columns, two runs each): 12.5 and 12.5 s logged against 12.1 and 10.6 s unlogged; an
index on the result 5.0 against 4.4 s. Whole PostgreSQL transforms at that size, after a
warm-up, old and new in turn twice: 135.4 and 137.6 s against 133.2 and 133.5 s (on a server
that neither syncs nor writes full pages to its log; one that does writes more for every
logged row).

SQLite runs every statement in one process: a large fill there is split across worker processes
by :mod:`transform.splitting`, when it applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql.compiler import DDLCompiler, SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from transform.splitting import Parts, fill_in_parts

__all__ = ["recreate_filled", "transaction_only"]

#: ``Table.info`` key of a table dropped by the transaction that makes it.
_TRANSACTION_ONLY = "cutover_transaction_only"


def transaction_only(table: sa.Table) -> sa.Table:
    """Mark ``table`` as made and dropped within one transaction: PostgreSQL makes it
    ``UNLOGGED`` (see the module's docstring)."""
    table.info[_TRANSACTION_ONLY] = True
    return table


def _unlogged(table: sa.Table, dialect: sa.Dialect) -> bool:
    return dialect.name == "postgresql" and bool(table.info.get(_TRANSACTION_ONLY))


@compiles(CreateTable, "postgresql")
def _create_table_pg(element: CreateTable, compiler: DDLCompiler, **kw: Any) -> str:
    """PostgreSQL's own ``CREATE TABLE``, which says ``UNLOGGED`` for a marked table: the
    dialect has no table option for it, and a table prefix would say it on every engine."""
    text: str = compiler.visit_create_table(element, **kw)  # type: ignore[no-untyped-call]
    if not _unlogged(element.element, compiler.dialect):
        return text
    head, found, rest = text.partition("CREATE TABLE ")
    return f"{head}CREATE UNLOGGED TABLE {rest}" if found else text


class _CreateTableAs(sa.sql.expression.Executable, ClauseElement):
    """``CREATE TABLE <table> AS <select>``."""

    inherit_cache = False

    def __init__(self, table: sa.Table, select: sa.Select[Any]) -> None:
        self.table = table
        self.select = select


@compiles(_CreateTableAs)
def _compile_create_table_as(element: _CreateTableAs, compiler: SQLCompiler, **kw: Any) -> str:
    name = compiler.preparer.format_table(element.table)
    kind = "UNLOGGED TABLE" if _unlogged(element.table, compiler.dialect) else "TABLE"
    return f"CREATE {kind} {name} AS {compiler.process(element.select, **kw)}"


def _exact_cast(kind: sa.types.TypeEngine[Any]) -> bool:
    """Whether an explicit cast to ``kind`` gives what an insert into it would store."""
    if isinstance(kind, sa.String):
        return kind.length is None
    if isinstance(kind, sa.Numeric):
        return kind.precision is None and kind.scale is None
    return isinstance(kind, sa.Integer | sa.Date | sa.DateTime | sa.Boolean)


def recreate_filled(
    conn: sa.Connection,
    table: sa.Table,
    names: Sequence[str],
    select: sa.Select[Any],
    *,
    split_on: sa.ColumnElement[int] | None = None,
    derived: Mapping[str, sa.ColumnElement[Any]] | None = None,
    then: tuple[sa.Table, sa.Select[Any]] | None = None,
    keep: sa.ColumnElement[bool] | None = None,
    tallies: Sequence[sa.Select[Any]] = (),
) -> Parts | None:
    """Make ``table`` anew (dropped first if it is there) holding the rows of ``select``.

    ``names`` are the table's columns the select's columns fill, in order (as for
    ``insert().from_select``); the other columns are NULL. ``split_on`` is the integer
    position column of the select's driving table, by whose ranges a large SQLite fill may be
    computed in worker processes (:mod:`transform.splitting`). ``derived`` maps more of the
    table's columns to expressions over its stored columns (``table.c``) that the workers
    compute too, so that the work is shared (a column the select also fills is replaced by its
    derived value). ``then`` is another table and a select over ``table``'s final rows that
    fills it anew, which the workers compute from their parts too; ``keep`` and ``tallies``
    are passed to them (:func:`transform.splitting.fill_in_parts`). Returns what they did, or
    None when they did not: then every row is in ``table``, the ``derived`` columns hold what
    the select gave them (NULL if nothing), the ``then`` table is left as it was, and the
    caller computes those itself.
    """
    table.drop(conn, checkfirst=True)
    if not _parallel(conn, table):
        table.create(conn)
        if split_on is not None:
            parts = fill_in_parts(
                conn, table, names, select, split_on, dict(derived or {}), then, keep, tallies
            )
            if parts is not None:
                return parts
        conn.execute(table.insert().from_select(list(names), select))
        return None
    given = dict(zip(names, select.selected_columns, strict=True))
    columns = [sa.cast(given.get(c.name, sa.null()), c.type).label(c.name) for c in table.columns]
    filled = select.with_only_columns(*columns, maintain_column_froms=True)
    # SET LOCAL ends with the transaction (a failed statement ends it); restored after success.
    before: str = conn.exec_driver_sql("SHOW parallel_tuple_cost").scalar_one()
    conn.exec_driver_sql("SET LOCAL parallel_tuple_cost = 0")
    conn.execute(_CreateTableAs(table, filled))
    conn.execute(sa.select(sa.func.set_config("parallel_tuple_cost", before, True)))
    required = [c.name for c in table.columns if not c.nullable]
    if required:
        preparer = conn.dialect.identifier_preparer
        clauses = ", ".join(f"ALTER COLUMN {preparer.quote(n)} SET NOT NULL" for n in required)
        conn.exec_driver_sql(f"ALTER TABLE {preparer.format_table(table)} {clauses}")
    for index in table.indexes:
        index.create(conn)
    return None


def _parallel(conn: sa.Connection, table: sa.Table) -> bool:
    """Whether ``table`` can be made by ``CREATE TABLE ... AS``: on PostgreSQL, with no
    constraint but NOT NULL, no server default and no column type an explicit cast could
    change a value of."""
    if conn.dialect.name != "postgresql":
        return False
    constrained = any(
        not isinstance(c, sa.PrimaryKeyConstraint) or c.columns for c in table.constraints
    )
    defaults = any(c.server_default is not None for c in table.columns)
    return not (constrained or defaults) and all(_exact_cast(c.type) for c in table.columns)
