"""Workers are forked from a server that imported their modules, never from this process."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from cutover import processes
from cutover.processes import (
    WORKER_MODULES,
    sorts_in_threads,
    start_worker_server,
    worker_context,
    worker_pool,
)
from load.engine import create_target_engine


def _state(names: tuple[str, ...]) -> tuple[int, dict[str, bool]]:
    """In a worker: its parent's pid, and which of ``names`` were imported before this ran."""
    return os.getppid(), {name: name in sys.modules for name in names}


def test_a_worker_starts_with_the_workers_modules_imported_and_is_not_our_child() -> None:
    assert worker_context().get_start_method() == "forkserver"
    start_worker_server()
    wanted = tuple(m for m in WORKER_MODULES if m != "__main__")
    # This module imports none of them: a worker spawned afresh, importing it, would lack them.
    with worker_pool(2) as pool:
        results = [pool.submit(_state, wanted).result() for _ in range(2)]
    for parent, loaded in results:
        # Forked from the server, which is this process's child: not from this process.
        assert parent != os.getpid()
        assert loaded == dict.fromkeys(wanted, True)


def test_sqlite_statements_may_sort_with_one_thread_per_core_up_to_sqlites_limit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(processes, "usable_cores", lambda: 2)
    assert processes.sort_threads() == 2
    monkeypatch.setattr(processes, "usable_cores", lambda: 12)
    assert processes.sort_threads() == 8
    # Every connection of the target's engines and of the pipeline's staging engine gets it.
    url = f"sqlite:///{tmp_path / 'target.db'}"
    for engine in (create_target_engine(url), sorts_in_threads(sa.create_engine(url))):
        with engine.connect() as first, engine.connect() as second:
            for conn in (first, second):
                assert conn.exec_driver_sql("PRAGMA threads").scalar() == 8
        engine.dispose()
    # SQLite's own default, which the engine would keep without the setting.
    with sa.create_engine(url).connect() as plain:
        assert plain.exec_driver_sql("PRAGMA threads").scalar() == 0


def test_other_engines_are_left_as_they_are() -> None:
    engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    before = len(engine.pool.dispatch.connect)
    assert sorts_in_threads(engine) is engine
    # No listener: a PostgreSQL connection has no such setting to take.
    assert len(engine.pool.dispatch.connect) == before
