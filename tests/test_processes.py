"""Workers are forked from a server that imported their modules, never from this process."""

from __future__ import annotations

import os
import sys

from cutover.processes import WORKER_MODULES, start_worker_server, worker_context, worker_pool


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
