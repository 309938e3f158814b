"""The target engine on SQLite: a connection goes back to the pool with no transaction open."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from load.engine import create_target_engine


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


def test_a_connection_goes_back_to_the_pool_enforcing_foreign_keys(tmp_path: Path) -> None:
    """A first load turns SQLite's per-row foreign key checks off for its transaction; if it is
    interrupted before it turns them back on, the pool does."""
    engine = create_target_engine(f"sqlite:///{tmp_path / 'target.db'}")
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.execute("PRAGMA foreign_keys = OFF")
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 0
    with engine.connect() as conn:
        assert conn.connection.driver_connection is driver  # the same pooled connection
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    engine.dispose()
