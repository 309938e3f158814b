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
