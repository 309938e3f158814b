"""The target engine on SQLite: a connection goes back to the pool with no transaction open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from load import engine as target_engine
from load.constraints import UnmatchedForeignKeyError, foreign_keys_checked_per_batch
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


_CHECKED = (
    "CREATE TABLE parent (id INTEGER PRIMARY KEY)",
    "CREATE TABLE pair (a TEXT, b TEXT, PRIMARY KEY (a, b))",
    (
        "CREATE TABLE child (id INTEGER PRIMARY KEY, _batch TEXT NOT NULL, "
        "parent_id INTEGER REFERENCES parent (id), a TEXT, b TEXT, "
        "implicit INTEGER REFERENCES parent, FOREIGN KEY (b, a) REFERENCES pair (b, a))"
    ),
    "INSERT INTO parent VALUES (1), (2)",
    "INSERT INTO pair VALUES ('x', 'y')",
)

_CHILDREN = {
    "every parent there": [("A", 1, "x", "y", 2)],
    "no parent row": [("A", 1, "x", "y", 2), ("A", 3, "x", "y", 2)],
    "no pair, columns in the key's order": [("A", 1, "y", "x", None)],
    "a NULL in the pair names none": [("A", 1, "q", None, None)],
    "no parent by its primary key": [("A", None, None, None, 9)],
    "nothing named": [("A", None, None, None, None)],
}
_MATCHED = {"every parent there", "a NULL in the pair names none", "nothing named"}


def _checked(tmp_path: Path, rows: list[tuple[Any, ...]], batches: list[str | None]) -> Any:
    """Whether ``PRAGMA foreign_key_check`` finds a row of ``child`` holding ``rows``, and
    for each of ``batches`` the error the first load's check raised (None if none)."""
    engine = create_target_engine(f"sqlite:///{tmp_path / 'target.db'}")
    refused: list[UnmatchedForeignKeyError | None] = []
    with engine.connect() as conn, foreign_keys_checked_after(conn), conn.begin():
        for statement in _CHECKED:
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql(
            "INSERT INTO child (_batch, parent_id, a, b, implicit) VALUES (?, ?, ?, ?, ?)", rows
        )
        found = bool(conn.exec_driver_sql("PRAGMA foreign_key_check(child)").all())
        for batch in batches:
            try:
                with foreign_keys_checked_per_batch(conn, "child", batch):
                    pass
            except UnmatchedForeignKeyError as exc:
                refused.append(exc)
            else:
                refused.append(None)
    engine.dispose()
    return found, refused


@pytest.mark.parametrize("case", list(_CHILDREN))
def test_the_sqlite_foreign_key_check_finds_what_the_pragma_finds(
    tmp_path: Path, case: str
) -> None:
    """The check of a first load's table, one query per key over the distinct values its rows
    name, refuses exactly where ``PRAGMA foreign_key_check`` finds a row (composite keys in
    their declared order, a key without columns naming the parent's primary key, a NULL in
    a key naming no parent)."""
    found, [refused] = _checked(tmp_path, _CHILDREN[case], [None])
    assert (refused is not None) == found
    assert found == (case not in _MATCHED)


def test_a_batch_is_checked_for_its_own_rows(tmp_path: Path) -> None:
    rows = [("A", 1, None, None, None), ("B", 3, None, None, None)]
    found, refused = _checked(tmp_path, rows, ["A", "B", None])
    assert found
    assert refused[0] is None
    assert "child: a row of batch 'B' has no parent row" in str(refused[1])
    assert "child: a row has no parent row" in str(refused[2])
