"""Foreign keys during a bulk insert into PostgreSQL: checked once per batch, not once per row.

PostgreSQL checks a foreign key with a trigger that runs one lookup per inserted row: on the
ledger that is three lookups per posting, and most of a bulk load's time (at 10,000 offenders,
1.37 million postings took 63 s with the checks and 18 s without). What ``pg_restore`` does is
the remedy: while a batch's rows go in, the table's foreign keys are set aside, and then put
back ``NOT VALID`` (PostgreSQL checks the rows written from then on, not the existing ones) and
the batch's own rows are checked against their parents by one set-based query each. All of it
happens inside the batch's transaction: a failure undoes the insert and the constraints with it.
After the last batch, :func:`validate_foreign_keys` has PostgreSQL prove every constraint over
the whole table (``VALIDATE CONSTRAINT``, one scan each), so the target ends with every foreign
key valid, as its migrations made it.

SQLite checks each row's foreign keys as it goes in, in process: cheaper, and still a third of a
first load's insert of the ledger (at 10,000 offenders, 7.9 s with the checks and 5.3 s without;
checking the whole table after, with ``PRAGMA foreign_key_check``, takes 1.1 s). SQLite can turn
the checks off only outside a transaction, so only the first load, which controls its connection
from the start, does (``load.engine.foreign_keys_checked_after``); on a SQLite connection that
does not enforce foreign keys, this module checks the batch's rows after the insert, inside the
same transaction, by one query per key over the distinct values the rows name (read through
the table's index on them, which the first load builds before the check), where ``PRAGMA
foreign_key_check`` looks every row's parents up, one by one. For the ledger at 100,000
offenders (13.9 million rows, three keys), indexes built: 3.3-3.9 s against 5.7-7.1 s.
A table whose constraints the loading role may not alter keeps the per-row checks.

A first load on PostgreSQL builds a table's unique keys after its rows are in, as
``pg_restore`` does (:func:`unique_keys_built_after`): filling a primary key's index row by row
costs a search of the index per row, in the order the rows come, where building it sorts them
once. For the ledger at 100,000 offenders (13.9 million postings copied from staging), the
copy took 63.7 s with the key in place, against 28.4 s without it and 9.8 s to build it after.
A key staged twice then fails the build instead of the copy, inside the same savepoint: the
caller rolls both back and loads batch by batch, which names the key. A key that a foreign key
names (a parent's primary key) stays: PostgreSQL would drop the foreign keys with it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from cutover.logs import get_logger

__all__ = [
    "UnmatchedForeignKeyError",
    "foreign_keys_checked_per_batch",
    "unique_keys_built_after",
    "validate_foreign_keys",
]


class UnmatchedForeignKeyError(Exception):
    """A row of the batch names a parent row the target does not have."""


@dataclass(frozen=True)
class _ForeignKey:
    name: str
    definition: str
    parent: str
    columns: tuple[str, ...]
    parent_columns: tuple[str, ...]


_FOREIGN_KEYS = text(
    """
    SELECT c.conname, pg_get_constraintdef(c.oid), c.confrelid::regclass::text,
           ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(n, i)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
           ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(n, i)
                 JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)
    FROM pg_constraint c
    WHERE c.contype = 'f' AND c.conrelid = to_regclass(:table)
    ORDER BY c.conname
    """
)


_NOT_VALID = text(
    "SELECT conname FROM pg_constraint WHERE contype = 'f' AND NOT convalidated "
    "AND conrelid = to_regclass(:table) ORDER BY conname"
)


def _foreign_keys(conn: Connection, table: str) -> list[_ForeignKey]:
    rows = conn.execute(_FOREIGN_KEYS, {"table": _quote(conn, table)}).all()
    return [
        _ForeignKey(
            name=row[0],
            definition=row[1].removesuffix(" NOT VALID"),
            parent=row[2],
            columns=tuple(row[3]),
            parent_columns=tuple(row[4]),
        )
        for row in rows
    ]


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


@contextmanager
def foreign_keys_checked_per_batch(
    conn: Connection, table: str, batch: str | None
) -> Iterator[None]:
    """Around a bulk insert of ``batch`` into ``table``: on PostgreSQL, the table's foreign keys
    are checked once for the batch's rows instead of once per row (see the module's docstring).
    With ``batch`` None (a first load of every batch at once), once for all the table's rows.

    Raises :class:`UnmatchedForeignKeyError` when a row of the batch has no parent; the caller
    rolls the batch's insert back (the constraints are restored by the same rollback).
    """
    keys = _foreign_keys(conn, table) if conn.dialect.name == "postgresql" else []
    q = _quote(conn, table)
    dropped = [f"ALTER TABLE {q} DROP CONSTRAINT {_quote(conn, fk.name)}" for fk in keys]
    if keys and not _drop(conn, table, dropped, kept="foreign_keys_kept_per_row"):
        keys = []
    yield
    rows = "a row" if batch is None else f"a row of batch {batch!r}"
    if conn.dialect.name == "sqlite" and not conn.exec_driver_sql("PRAGMA foreign_keys").scalar():
        for fk in _sqlite_foreign_keys(conn, table):
            if _unmatched(conn, table, fk, batch, distinct=True):
                raise UnmatchedForeignKeyError(f"{table}: {rows} has no {fk.parent} row")
    for fk in keys:
        conn.exec_driver_sql(
            f"ALTER TABLE {q} ADD CONSTRAINT {_quote(conn, fk.name)} {fk.definition} NOT VALID"
        )
    for fk in keys:
        if _unmatched(conn, table, fk, batch):
            raise UnmatchedForeignKeyError(f"{table}: {rows} has no {fk.parent} row ({fk.name})")


def _drop(conn: Connection, table: str, statements: Sequence[str], *, kept: str) -> bool:
    """Run ``statements``, which drop constraints for the insert; False (nothing changed, the
    event ``kept`` logged) if the role may not."""
    savepoint = conn.begin_nested()
    try:
        for statement in statements:
            conn.exec_driver_sql(statement)
    except DBAPIError:
        savepoint.rollback()
        get_logger("load").info(kept, table=table)
        return False
    savepoint.commit()
    return True


@dataclass(frozen=True)
class _UniqueKey:
    #: The index, as PostgreSQL names it (quoted and qualified where it must be).
    index: str
    #: The primary key or unique constraint the index carries; None for a plain unique index.
    constraint: str | None
    #: The constraint's definition, or the index's ``CREATE UNIQUE INDEX`` statement.
    definition: str


# The unique indexes of the table that no foreign key names (``conindid`` is the index a
# foreign key checks its parent's rows through) and that are not its replica identity.
_UNIQUE_KEYS = text(
    """
    SELECT i.indexrelid::regclass::text, c.conname,
           coalesce(pg_get_constraintdef(c.oid), pg_get_indexdef(i.indexrelid))
    FROM pg_index i
    LEFT JOIN pg_constraint c
           ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u')
    WHERE i.indrelid = to_regclass(:table) AND i.indisunique AND NOT i.indisreplident
      AND NOT EXISTS (SELECT 1 FROM pg_constraint f
                      WHERE f.contype = 'f' AND f.conindid = i.indexrelid)
    ORDER BY 1
    """
)


@contextmanager
def unique_keys_built_after(conn: Connection, table: str) -> Iterator[None]:
    """Around a first load's bulk insert of every batch into ``table``: on PostgreSQL, its
    unique keys that no foreign key names are dropped, and built again after the insert by
    the same definitions, in one sort each (see the module's docstring). A key staged twice
    raises the database's error from the build; the caller rolls the insert back, and the
    keys with it. On other engines, or when the role may not alter the table, nothing
    changes."""
    keys: list[_UniqueKey] = []
    if conn.dialect.name == "postgresql":
        found = conn.execute(_UNIQUE_KEYS, {"table": _quote(conn, table)}).all()
        keys = [_UniqueKey(str(row[0]), row[1], str(row[2])) for row in found]
    q = _quote(conn, table)
    dropped = [
        f"DROP INDEX {key.index}"
        if key.constraint is None
        else f"ALTER TABLE {q} DROP CONSTRAINT {_quote(conn, key.constraint)}"
        for key in keys
    ]
    if keys and not _drop(conn, table, dropped, kept="unique_keys_kept_per_row"):
        keys = []
    yield
    for key in keys:
        conn.exec_driver_sql(
            key.definition
            if key.constraint is None
            else f"ALTER TABLE {q} ADD CONSTRAINT {_quote(conn, key.constraint)} {key.definition}"
        )


def _sqlite_foreign_keys(conn: Connection, table: str) -> list[_ForeignKey]:
    """The foreign keys SQLite declares for ``table``, each with its columns in key order."""
    found: dict[int, list[Any]] = {}
    for row in conn.exec_driver_sql(f"PRAGMA foreign_key_list({_quote(conn, table)})"):
        # id, seq, parent table, child column, parent column, ...
        found.setdefault(int(row[0]), []).append(row)
    keys = []
    for number, parts in sorted(found.items()):
        parts.sort(key=lambda row: int(row[1]))
        parent = str(parts[0][2])
        named = [row[4] for row in parts]
        if None in named:  # REFERENCES parent, without columns: the parent's primary key
            info = conn.exec_driver_sql(f"PRAGMA table_info({_quote(conn, parent)})").all()
            named = [row[1] for row in sorted((r for r in info if r[5]), key=lambda r: r[5])]
        keys.append(
            _ForeignKey(
                name=f"{table} foreign key {number}",
                definition="",
                parent=_quote(conn, parent),
                columns=tuple(str(row[3]) for row in parts),
                parent_columns=tuple(str(c) for c in named),
            )
        )
    return keys


def _unmatched(
    conn: Connection, table: str, fk: _ForeignKey, batch: str | None, *, distinct: bool = False
) -> bool:
    """Whether a row of ``batch`` (any row when None) names a parent that is not there (MATCH
    SIMPLE: a row with a NULL in any of the key's columns names none). ``distinct`` looks up
    each value the rows name once, not once per row."""
    child, parent = _quote(conn, table), fk.parent
    present = " AND ".join(f"c.{_quote(conn, col)} IS NOT NULL" for col in fk.columns)
    join = " AND ".join(
        f"p.{_quote(conn, pc)} = c.{_quote(conn, col)}"
        for col, pc in zip(fk.columns, fk.parent_columns, strict=True)
    )
    of_batch = "" if batch is None else "c._batch = :batch AND "
    if distinct:
        named = ", ".join(f"c.{_quote(conn, col)}" for col in fk.columns)
        rows = f"(SELECT DISTINCT {named} FROM {child} AS c WHERE {of_batch}{present}) AS c"
        where = ""
    else:
        rows, where = f"{child} AS c", f"{of_batch}{present} AND "
    query = (
        f"SELECT 1 FROM {rows} WHERE {where}"
        f"NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE {join}) LIMIT 1"
    )
    params = {} if batch is None else {"batch": batch}
    return conn.execute(text(query), params).first() is not None


def validate_foreign_keys(target: Engine, tables: Sequence[str]) -> int:
    """Have PostgreSQL validate every foreign key of ``tables`` left ``NOT VALID``; return how
    many it validated. Each is its own transaction; on other engines, nothing to do."""
    if target.dialect.name != "postgresql":
        return 0
    done = 0
    for table in tables:
        with target.begin() as conn:
            found = conn.execute(_NOT_VALID, {"table": _quote(conn, table)})
            pending = [str(row[0]) for row in found.all()]
            for name in pending:
                conn.exec_driver_sql(
                    f"ALTER TABLE {_quote(conn, table)} VALIDATE CONSTRAINT {_quote(conn, name)}"
                )
                done += 1
    return done
