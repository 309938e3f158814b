"""What worker processes (validation's, the reconciliation's, a split SQLite fill's) need:
engines opened again from URLs, how many of them to start, errors sent home.

A worker is a fresh process, forked from a server process that imported the workers' modules
once (``forkserver``): it shares none of this process's open database connections, as a child
forked from this process would, and it starts without importing the project again, as a
spawned one would (about 1.8 s of importing each, two at a time on two cores, measured in a
profile of a dry run at 10,000 offenders). :func:`start_worker_server` starts the server early,
so that its imports overlap this process's work. The worker opens its own engines from the
parent's URLs (validation's control database through
:func:`cutover.control.store.control_engine`, whose SQLite writers wait their turn); a database
only that process can see (SQLite in memory) keeps the work in the parent. Where the system has
no fork server, workers are spawned.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import pickle
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver
from multiprocessing.context import ForkServerContext, SpawnContext
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Engine

from cutover.errors import CutoverError

__all__ = [
    "WORKER_MODULES",
    "part_files",
    "portable_error",
    "read_only_uri",
    "shareable",
    "start_worker_server",
    "url_of",
    "usable_cores",
    "worker_context",
    "worker_count",
    "worker_pool",
]

#: What workers run, imported once by the server they are forked from; ``__main__`` is the
#: entry point (the command line), which a worker would otherwise import again first.
WORKER_MODULES = (
    "__main__",
    "extract.engine",
    "transform.splitting",
    "validation.run",
    "load.reconcile",
)
#: Numbers the part files of this process's jobs apart.
_jobs = itertools.count()


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def worker_context() -> ForkServerContext | SpawnContext:
    """The multiprocessing context workers are started from (see the module's docstring)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(WORKER_MODULES))
    return context


def start_worker_server() -> None:
    """Start the server workers are forked from, if the system has one and this process may
    use more than one core (with one, work is not split), without waiting for it: its imports
    then run beside this process's work instead of before the first worker's."""
    if usable_cores() > 1 and worker_context().get_start_method() == "forkserver":
        forkserver.ensure_running()


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` fresh processes (see the module's docstring)."""
    return ProcessPoolExecutor(workers, mp_context=worker_context())


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


def read_only_uri(path: str | Path) -> str:
    """The URI that opens the SQLite file ``path`` read-only, for ``sqlite3.connect(uri=True)``
    or ``ATTACH`` (a worker reading staging, the extract reading the legacy file)."""
    return f"file:{quote(str(path))}?mode=ro"


def part_files(database: Path, kind: str, count: int) -> list[Path]:
    """``count`` new paths beside the SQLite file ``database``, for the parts worker processes
    write of one job of ``kind`` (``.staging.db.fill-<pid>-<job>-<k>``). The parts a process
    that is gone left there (killed mid-job) are deleted first: their names carry its pid."""
    prefix = f".{database.name}.{kind}-"
    for stale in database.parent.glob(f"{prefix}*"):
        pid = stale.name.removeprefix(prefix).split("-")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            stale.unlink(missing_ok=True)
    job = next(_jobs)
    return [database.parent / f"{prefix}{os.getpid()}-{job}-{k}" for k in range(count)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
