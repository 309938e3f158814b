"""Which tables of a transform run when: in order, or two at a time on PostgreSQL.

A table's mapping reads the ``xf_`` tables of its parents (the tables its orphan checks probe,
``TablePlan.parents``) and nothing another table's mapping writes, but for the rows each adds to
the shared output tables (quarantine, repairs, disagreements, accounting), which name their
table. So a table may run as soon as its parents are done, beside another.

On PostgreSQL each connection's statements run in a server process of their own, and most of a
table's statements use one core: two tables run at once, each in a transaction of its own on a
connection of its own. Of the tables whose parents are done, the one with the most work waiting
on it goes first: the size of its staged table plus the largest such figure among the tables
whose parents include it. The postings, the largest table, wait on persons and commitments; those
two then run first, and the postings start as soon as they are done, while the other tables run
beside them.

SQLite has one writer per database file, so its tables run one after the other in the run order
(a large table's fill is shared out among processes instead: :mod:`transform.splitting`), as
does a machine with one core.

Should a table fail, no other table starts; the one running beside it finishes (committing its
own transaction), and the first failure is raised.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

import sqlalchemy as sa

from cutover.processes import worker_count
from transform.plan import TablePlan

__all__ = ["LANES", "lanes_for", "run_plans", "staged_sizes"]

R = TypeVar("R")

#: At most this many tables at once: on two cores, the server's parallel workers take the rest.
LANES = 2


def lanes_for(engine: sa.Engine) -> int:
    """How many tables run at once on ``engine`` (see the module's docstring)."""
    return worker_count(LANES) if engine.dialect.name == "postgresql" else 1


def staged_sizes(engine: sa.Engine, plans: Sequence[TablePlan]) -> dict[str, int]:
    """Each plan's staged table's size in bytes, as PostgreSQL holds it (no rows are read)."""
    preparer = engine.dialect.identifier_preparer
    query = sa.text("SELECT pg_relation_size(CAST(:name AS regclass))")
    with engine.connect() as conn:
        return {
            p.name: int(conn.execute(query, {"name": preparer.format_table(p.staged)}).scalar_one())
            for p in plans
        }


def _priorities(plans: Sequence[TablePlan], sizes: Mapping[str, int]) -> dict[str, int]:
    """Each plan's size plus the largest priority among the plans whose parents include it."""
    children: dict[str, list[str]] = {p.name: [] for p in plans}
    for p in plans:
        for parent in p.parents:
            if parent in children and parent != p.name:
                children[parent].append(p.name)
    found: dict[str, int] = {}
    # The run order puts every parent before its children: walk it backwards.
    for p in reversed(plans):
        found[p.name] = sizes.get(p.name, 0) + max((found[c] for c in children[p.name]), default=0)
    return found


def run_plans(
    plans: Sequence[TablePlan],
    run: Callable[[TablePlan], R],
    *,
    lanes: int,
    sizes: Mapping[str, int] | None = None,
    done: Callable[[R], None] | None = None,
) -> list[R]:
    """``run`` each plan, ``lanes`` at a time, each after its parents; ``done`` is called in
    this thread with each result as it comes. Returns the results in the plans' order."""
    notify = done or (lambda _r: None)
    if lanes <= 1 or len(plans) <= 1:
        results = []
        for plan in plans:
            results.append(run(plan))
            notify(results[-1])
        return results
    names = {p.name for p in plans}
    waits_on = {p.name: {q for q in p.parents if q in names and q != p.name} for p in plans}
    priority = _priorities(plans, sizes or {})
    pending = list(plans)
    finished: dict[str, R] = {}
    running: dict[Future[R], TablePlan] = {}
    failure: BaseException | None = None
    with ThreadPoolExecutor(lanes, thread_name_prefix="transform") as pool:
        while running or (pending and failure is None):
            ready = [p for p in pending if waits_on[p.name] <= finished.keys()]
            # Highest priority first; the run order breaks ties (sorted() is stable).
            for plan in sorted(ready, key=lambda p: -priority[p.name]):
                if failure is not None or len(running) >= lanes:
                    break
                pending.remove(plan)
                running[pool.submit(run, plan)] = plan
            if not running:  # nothing can start: a parent is missing from the plans
                break
            complete, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in complete:
                plan = running.pop(future)
                try:
                    finished[plan.name] = future.result()
                except BaseException as exc:  # noqa: BLE001 - raised below, once the rest ends
                    failure = failure or exc
                    continue
                notify(finished[plan.name])
    if failure is not None:
        raise failure
    if pending:
        stuck = ", ".join(p.name for p in pending)
        raise RuntimeError(f"tables left waiting on parents that never ran: {stuck}")
    return [finished[p.name] for p in plans]
