"""Engines for the target database, set up the same way for every caller.

SQLite gets what the other engines have by default: foreign keys enforced, transactions that
include DDL (the driver's own implicit transaction handling is replaced by an explicit ``BEGIN``),
so a failed batch rolls back completely, and a connection that goes back to the pool holds no
transaction, even one whose COMMIT failed, and enforces foreign keys again. A new SQLite file
gets 64 KiB pages (:mod:`cutover.pages`). A first load may set the per-row foreign key checks
aside for its transaction (:func:`foreign_keys_checked_after`), and the load's index builds may
sort with helper threads (:func:`sorting_in_threads`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from cutover.pages import large_pages
from cutover.processes import usable_cores

__all__ = [
    "attachable",
    "create_target_engine",
    "foreign_keys_checked_after",
    "is_sqlite",
    "sort_threads",
    "sorting_in_threads",
]


def is_sqlite(url: str | URL | Engine) -> bool:
    """Whether ``url`` (or an engine) points at SQLite."""
    if isinstance(url, Engine):
        return url.dialect.name == "sqlite"
    return make_url(url).get_backend_name() == "sqlite"


def attachable(staging_url: str | URL, target_url: str | URL) -> str | None:
    """The staging file a target connection can attach: both SQLite, staging a file."""
    if not (is_sqlite(staging_url) and is_sqlite(target_url)):
        return None
    path = make_url(staging_url).database
    return path if path and path != ":memory:" else None


def create_target_engine(url: str | URL, *, attach: dict[str, str] | None = None) -> Engine:
    """An engine for ``url``; on SQLite, ``attach`` maps schema names to database files."""
    engine = create_engine(url)
    if engine.dialect.name != "sqlite":
        return engine
    attached = dict(attach or {})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        large_pages(dbapi_connection)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        for schema, path in attached.items():
            cursor.execute(f"ATTACH DATABASE ? AS {schema}", (path,))
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, _record: Any) -> None:
        # SQLite keeps the transaction open when COMMIT fails on a deferred foreign key, and the
        # pool does not roll back a connection whose transaction SQLAlchemy saw end.
        if dbapi_connection is not None and dbapi_connection.in_transaction:
            dbapi_connection.rollback()
        # Back on for the next user, should a first load have stopped inside
        # foreign_keys_checked_after before it could put them back.
        if dbapi_connection is not None:
            dbapi_connection.execute("PRAGMA foreign_keys = ON")

    return engine


@contextmanager
def foreign_keys_checked_after(conn: Connection) -> Iterator[None]:
    """On SQLite, no per-row foreign key checks for what ``conn`` does inside: the caller checks
    each table once, after its insert (:func:`load.constraints.foreign_keys_checked_per_batch`
    does, on a connection that does not enforce them). SQLite takes the setting only outside a
    transaction, so it is made before the caller begins one and undone after it ends (if it is
    still open, by the checkin above). On other engines, nothing changes."""
    driver = conn.connection.driver_connection
    if not isinstance(driver, sqlite3.Connection) or driver.in_transaction:
        yield
        return
    driver.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys = ON")


def sort_threads() -> int:
    """The helper threads a SQLite statement may start (``PRAGMA threads``): one per usable
    core, at most SQLite's own limit of 8. SQLite starts them only to sort what does not fit
    its page cache, merging the sorted runs in parallel; by default it starts none."""
    return min(usable_cores(), 8)


@contextmanager
def sorting_in_threads(conn: Connection) -> Iterator[None]:
    """On SQLite, the statements ``conn`` runs inside may sort with :func:`sort_threads`
    helper threads; after, the connection has what it had before (the pool hands it on). On
    other engines, nothing changes.

    For what the load builds: the staging's batch indexes and a first load's indexes. At
    100,000 offenders (the bench workspace loaded into a new scratch file on disk, each way in
    turn) the staging's index of the postings took 8.3 to 12.1 s with them against 15.9 to
    19.4 s without; the target's three indexes on the postings 8.0 to 11.3 s against 7.9 to
    12.6 s, no clear change on disk (on a copy in memory, timed alone, 4.9 to 5.2 s against 5.7
    to 6.0 s). Not for every connection: the foreign-key check of the postings took 13.1 and
    14.1 s with them against 9.3 and 9.6 s, and the reconciliation, two threads already, was no
    faster (40 and 37 s against 29 and 37 s).
    """
    driver = conn.connection.driver_connection
    if not isinstance(driver, sqlite3.Connection):
        yield
        return
    before = int(driver.execute("PRAGMA threads").fetchone()[0])
    driver.execute(f"PRAGMA threads = {sort_threads()}")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA threads = {before}")
