"""The target engine on SQLite: a connection goes back to the pool with no transaction open."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from load import engine as target_engine
from load.engine import (
    create_target_engine,
    foreign_keys_checked_after,
    sort_threads,
    sorting_in_threads,
)


def test_a_connection_whose_commit_failed_goes_back_to_the_pool_without_its_transaction(
    tmp_path: Path,
) -> None:
    engine = create_target_engine(f"sqlite:///{tmp_path / 'target.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql(
            "CREATE TABLE child (parent_id INTEGER REFERENCES parent (id) "
            "DEFERRABLE INITIALLY DEFERRED)"
        )
    with engine.connect() as conn:
        transaction = conn.begin()
        conn.exec_driver_sql("INSERT INTO child VALUES (7)")
        with pytest.raises(sa.exc.IntegrityError):
            transaction.commit()  # SQLite keeps its transaction open after this
    # The pool hands the same connection out again: it must be able to begin, and the child
    # row must be gone.
    with engine.begin() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM child").scalar_one() == 0
    engine.dispose()


def _interrupted_load(conn: sa.Connection) -> None:
    with foreign_keys_checked_after(conn):
        conn.begin()
        raise RuntimeError("interrupted mid-load")


def test_foreign_key_checks_set_aside_come_back_even_after_an_interrupted_transaction(
    tmp_path: Path,
) -> None:
    """A first load sets SQLite's per-row foreign key checks aside for its transaction. They
    come back when it ends; if it stops with its transaction open (where SQLite ignores the
    setting), the pool puts them back when the connection is checked in."""
    engine = create_target_engine(f"sqlite:///{tmp_path / 'target.db'}")

    def enforced(conn: sa.Connection) -> int:
        return int(conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one())

    with engine.connect() as conn:
        with foreign_keys_checked_after(conn):
            assert enforced(conn) == 0
            conn.rollback()  # the pragma's read began a transaction: end it, as a load would
        assert enforced(conn) == 1
        conn.rollback()
        with pytest.raises(RuntimeError):
            _interrupted_load(conn)
        driver = conn.connection.driver_connection
    with engine.connect() as conn:
        assert conn.connection.driver_connection is driver  # the same pooled connection
        assert enforced(conn) == 1
    engine.dispose()


def test_sorting_in_threads_holds_for_what_runs_inside_and_ends_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(target_engine, "usable_cores", lambda: 3)
    engine = create_target_engine(f"sqlite:///{tmp_path / 'target.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA threads").scalar() == 0  # SQLite's default
            with sorting_in_threads(conn):
                assert conn.exec_driver_sql("PRAGMA threads").scalar() == 3
            # The pool hands the connection on: it must not keep the helpers.
            assert conn.exec_driver_sql("PRAGMA threads").scalar() == 0
            conn.exec_driver_sql("PRAGMA threads = 1")  # whatever it had, it gets back
            with pytest.raises(RuntimeError), sorting_in_threads(conn):
                raise RuntimeError("a failed load")
            assert conn.exec_driver_sql("PRAGMA threads").scalar() == 1
    finally:
        engine.dispose()


def test_sqlite_may_sort_with_one_helper_thread_per_core_up_to_its_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(target_engine, "usable_cores", lambda: 2)
    assert sort_threads() == 2
    monkeypatch.setattr(target_engine, "usable_cores", lambda: 12)
    assert sort_threads() == 8
