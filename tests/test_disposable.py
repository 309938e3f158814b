"""Databases a run rebuilds commit without waiting for the disk; the real target does not."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from cutover.disposable import disposable
from load.engine import create_target_engine


def _pragmas(engine: sa.Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        sync = conn.exec_driver_sql("PRAGMA synchronous").scalar_one()
        secure = conn.exec_driver_sql("PRAGMA secure_delete").scalar_one()
    engine.dispose()
    return int(sync), int(secure)


def test_a_disposable_sqlite_database_neither_waits_for_the_disk_nor_overwrites(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'staging.db'}"
    assert _pragmas(disposable(sa.create_engine(url))) == (0, 0)
    # Every connection the pool opens, not only the first.
    engine = disposable(sa.create_engine(url, poolclass=sa.pool.NullPool))
    for _ in range(2):
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 0


def test_the_real_target_keeps_sqlites_defaults(tmp_path: Path) -> None:
    sync, _ = _pragmas(create_target_engine(f"sqlite:///{tmp_path / 'target.db'}"))
    assert sync == 2  # FULL: a commit waits until the disk has it
