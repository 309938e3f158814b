"""What worker processes (validation's, the reconciliation's, a split SQLite fill's) need:
engines opened again from URLs, how many of them to start, errors sent home.

A worker is a fresh process (spawned), so it opens its own engines from the parent's URLs
(validation's control database through :func:`cutover.control.store.control_engine`, whose
SQLite writers wait their turn); a database only that process can see (SQLite in memory) keeps
the work in the parent.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from concurrent.futures import ProcessPoolExecutor

from sqlalchemy import Engine

from cutover.errors import CutoverError

__all__ = [
    "portable_error",
    "shareable",
    "spawned_pool",
    "url_of",
    "usable_cores",
    "worker_count",
]


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def spawned_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` fresh (spawned) processes: none inherits this one's open database
    connections, as forked ones would."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def worker_count(limit: int) -> int:
    """Worker processes for work split by core: one per usable core, at most ``limit``."""
    return max(1, min(usable_cores(), limit))


def url_of(engine: Engine) -> str:
    """The URL another process opens ``engine``'s database with (password included)."""
    return engine.url.render_as_string(hide_password=False)


def shareable(engine: Engine) -> bool:
    """Whether another process can open the database ``engine`` points at."""
    if engine.dialect.name != "sqlite":
        return True
    database = engine.url.database or ""
    return database not in ("", ":memory:") and "mode=memory" not in str(engine.url)


def portable_error(exc: BaseException) -> BaseException:
    """``exc`` if it survives the trip to the parent process, else a CutoverError that says it.

    The parent raises it as if the work had failed in the parent.
    """
    try:
        pickle.loads(pickle.dumps(exc))  # noqa: S301 - our own bytes, this process
    except Exception:  # noqa: BLE001 - any failure to travel means the substitute
        return CutoverError(f"{type(exc).__name__}: {exc}")
    return exc
