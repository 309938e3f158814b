"""PostgreSQL for the benchmark: fresh databases, the legacy tables loaded once, and the engine's
own limit, ``COPY`` of every legacy table from one database into another.

What is fair: the SQLite side copies the legacy tables from one database file into another with
``INSERT ... SELECT`` across attached files, and its dry run reads that same file. So the
PostgreSQL side starts from PostgreSQL too: the legacy tables are loaded once into a database of
their own (setup, not a figure; reused while it was loaded from the same generated system), the
raw copy streams every table from that database into a fresh one with ``COPY ... TO STDOUT`` /
``COPY ... FROM STDIN`` (binary format, the tables created first with their primary keys, as the
SQLite copy does), and the PostgreSQL dry run extracts from that legacy database.

Usage (each as its own process, so that a measurement is the work alone)::

    python -m tests.benchmarks.postgres load SOURCE.db LEGACY_URL FINGERPRINT
    python -m tests.benchmarks.postgres copy LEGACY_URL DEST_URL
"""

from __future__ import annotations

import re
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.schema import CreateTable

from load.transfer import relay

__all__ = [
    "copy_tables",
    "database_url",
    "drop_database",
    "fresh_database",
    "legacy_fingerprint",
    "load_legacy",
]

#: Rows read from SQLite per fetch while loading the legacy tables.
_FETCH = 10_000
_CHAR = re.compile(r"CHAR\s*\((\d+)\)", re.IGNORECASE)


def _libpq(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://...``) as psycopg's connection string."""
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_url(server_url: str, name: str) -> str:
    """The URL of database ``name`` on the server of ``server_url``."""
    return sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)


@contextmanager
def _admin(server_url: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    with psycopg.connect(_libpq(server_url), autocommit=True) as conn:
        yield conn


def fresh_database(server_url: str, name: str) -> str:
    """Drop database ``name`` if it exists, create it empty, and return its URL."""
    drop_database(server_url, name)
    with _admin(server_url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    """Drop database ``name`` if it exists."""
    with _admin(server_url) as conn:
        ident = sql.Identifier(name)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))


def legacy_fingerprint(server_url: str, name: str) -> str | None:
    """The fingerprint ``load_legacy`` left on database ``name``; None when there is none."""
    with _admin(server_url) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def _pg_type(declared: str) -> str:
    """The PostgreSQL type for a legacy column's declared SQLite type.

    ``CHAR(n)`` becomes ``VARCHAR(n)``: PostgreSQL's ``CHAR`` drops trailing blanks in casts and
    comparisons, which SQLite's never does; ``VARCHAR`` keeps the stored, space-padded value, so
    both legacy databases hold the same values and both dry runs stage the same text.
    """
    found = _CHAR.fullmatch(declared.strip())
    if found:
        return f"VARCHAR({found.group(1)})"
    if declared.strip().upper() == "INTEGER":
        return "INTEGER"
    raise ValueError(f"no PostgreSQL type for the legacy column type {declared!r}")


def load_legacy(source: Path, url: str, fingerprint: str) -> int:
    """Create every table of the SQLite ``source`` in the empty database at ``url`` (same names,
    columns and primary keys), copy their rows in with ``COPY``, and mark the database with
    ``fingerprint``. Returns the rows loaded."""
    lite = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    total = 0
    try:
        tables = [
            r[0]
            for r in lite.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        with psycopg.connect(_libpq(url)) as conn:
            for table in tables:
                info = lite.execute(f'PRAGMA table_info("{table}")').fetchall()
                columns = [sql.Identifier(c[1]) for c in info]
                defs = [
                    sql.SQL("{} {}{}").format(
                        sql.Identifier(c[1]),
                        sql.SQL(_pg_type(c[2])),
                        sql.SQL(" NOT NULL" if c[3] else ""),
                    )
                    for c in info
                ]
                keys = [sql.Identifier(c[1]) for c in sorted(info, key=lambda c: c[5]) if c[5]]
                if keys:
                    defs.append(sql.SQL("PRIMARY KEY ({})").format(sql.SQL(", ").join(keys)))
                ident = sql.Identifier(table)
                conn.execute(
                    sql.SQL("CREATE TABLE {} ({})").format(ident, sql.SQL(", ").join(defs))
                )
                copy = sql.SQL("COPY {} ({}) FROM STDIN").format(ident, sql.SQL(", ").join(columns))
                cursor = lite.execute(f'SELECT * FROM "{table}"')
                with conn.cursor().copy(copy) as pipe:
                    while batch := cursor.fetchmany(_FETCH):
                        for row in batch:
                            pipe.write_row(row)
                        total += len(batch)
            conn.execute(sql.SQL("ANALYZE"))
            conn.commit()
            name = sa.make_url(url).database
            conn.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(str(name)), sql.Literal(fingerprint)
                )
            )
            conn.commit()
    finally:
        lite.close()
    return total


def copy_tables(source_url: str, dest_url: str) -> int:
    """Copy every table of ``source_url`` into the empty database ``dest_url`` with ``COPY``.

    The tables are created first with their columns and primary keys (as the SQLite raw copy
    runs each table's own DDL), then each is streamed in binary ``COPY`` format, all in one
    transaction. Returns the rows copied.
    """
    meta = sa.MetaData()
    engine = sa.create_engine(source_url)
    try:
        meta.reflect(engine)
    finally:
        engine.dispose()
    total = 0
    dialect = engine.dialect
    with psycopg.connect(_libpq(source_url)) as src, psycopg.connect(_libpq(dest_url)) as dst:
        for table in meta.sorted_tables:
            dst.execute(str(CreateTable(table).compile(dialect=dialect)))
            ident = sql.Identifier(table.name)
            read = sql.SQL("COPY {} TO STDOUT (FORMAT binary)").format(ident)
            write = sql.SQL("COPY {} FROM STDIN (FORMAT binary)").format(ident)
            into = dst.cursor()
            with src.cursor().copy(read) as out, into.copy(write) as pipe:
                relay(out, pipe.write)
            total += into.rowcount
        dst.commit()
    return total


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[0] == "load":
        rows = load_legacy(Path(argv[1]), argv[2], argv[3])
    elif len(argv) == 3 and argv[0] == "copy":
        rows = copy_tables(argv[1], argv[2])
    else:
        sys.stderr.write(__doc__ or "")
        return 2
    sys.stdout.write(f"{rows}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
