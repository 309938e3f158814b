"""Tables of a transform run two at a time on PostgreSQL, each after its parents, the one with
the most work waiting on it first; on SQLite, one after the other in the run order."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
import sqlalchemy as sa
from conftest import pg_engine
from structlog.testing import capture_logs
from transform_helpers import EXAMPLE, rows, stage_example
from transform_helpers import TARGET as EXAMPLE_TARGET

from transform import load_project, run_transform, schedule
from transform.plan import TablePlan
from transform.schedule import lanes_for, run_plans


@dataclass
class _Plan:
    """What the schedule reads of a plan."""

    name: str
    parents: set[str] = field(default_factory=set)


def _plans(*specs: tuple[str, set[str]]) -> list[TablePlan]:
    return [cast(TablePlan, _Plan(name, parents)) for name, parents in specs]


class _Recorder:
    """A ``run`` that notes when each plan starts and ends, holding some until told."""

    def __init__(self, hold: set[str] = frozenset(), fail: set[str] = frozenset()) -> None:
        self.events: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.hold, self.fail = hold, fail

    def __call__(self, plan: TablePlan) -> str:
        with self.lock:
            self.events.append(("start", plan.name))
        if plan.name in self.hold:
            assert self.release.wait(10)
        if plan.name in self.fail:
            raise ValueError(f"{plan.name} failed")
        with self.lock:
            self.events.append(("end", plan.name))
        return plan.name.upper()

    def started(self) -> list[str]:
        return [name for kind, name in self.events if kind == "start"]


def test_a_table_starts_only_after_its_parents_and_two_run_at_once() -> None:
    plans = _plans(("a", set()), ("b", set()), ("c", {"a", "b"}), ("d", {"c"}), ("e", set()))
    both = threading.Barrier(2, timeout=10)
    seen: list[tuple[str, str]] = []
    lock = threading.Lock()

    def run(plan: TablePlan) -> str:
        with lock:
            seen.append(("start", plan.name))
        if plan.name in ("a", "b"):
            both.wait()  # each waits for the other: they must run at the same time
        time.sleep(0.01)
        with lock:
            seen.append(("end", plan.name))
        return plan.name.upper()

    done: list[str] = []
    assert run_plans(plans, run, lanes=2, done=done.append) == ["A", "B", "C", "D", "E"]
    assert sorted(done) == ["A", "B", "C", "D", "E"]
    at = {event: i for i, event in enumerate(seen)}
    for child, parents in (("c", "ab"), ("d", "c")):
        for parent in parents:
            assert at[("end", parent)] < at[("start", child)], seen
    # Never more than two at once.
    running = 0
    for kind, _name in seen:
        running += 1 if kind == "start" else -1
        assert running <= 2


def test_the_table_with_the_most_work_waiting_on_it_goes_first() -> None:
    # x is larger than p, but p's child c is larger still: p, then x; y waits for a lane.
    plans = _plans(("y", set()), ("x", set()), ("p", set()), ("c", {"p"}))
    sizes = {"y": 1, "x": 10, "p": 1, "c": 100}
    run = _Recorder()
    run_plans(plans, run, lanes=2, sizes=sizes)
    assert run.started()[:2] == ["p", "x"]
    # One lane, or no sizes: the run order.
    run = _Recorder()
    assert run_plans(plans, run, lanes=1, sizes=sizes) == ["Y", "X", "P", "C"]
    assert run.started() == ["y", "x", "p", "c"]


def test_after_a_failure_nothing_starts_the_running_table_ends_and_the_error_is_raised() -> None:
    plans = _plans(("bad", set()), ("slow", set()), ("later", set()), ("child", {"slow"}))
    run = _Recorder(hold={"slow"}, fail={"bad"})
    done: list[str] = []
    # "slow" is held until well after "bad" has failed, so its lane could have taken another.
    timer = threading.Timer(0.3, run.release.set)
    timer.start()
    with pytest.raises(ValueError, match="bad failed"):
        run_plans(plans, run, lanes=2, done=done.append)
    timer.join()
    # The table beside the failed one finished; none started after the failure.
    assert sorted(run.started()) == ["bad", "slow"]
    assert ("end", "slow") in run.events
    assert done == ["SLOW"]


def test_sqlite_runs_one_table_at_a_time(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'staging.db'}")
    assert lanes_for(engine) == 1
    engine.dispose()


Outputs = dict[str, list[tuple[tuple[str, Any], ...]]]


def _transform(engine: sa.Engine) -> tuple[Outputs, list[dict[str, Any]]]:
    stage_example(engine)
    with capture_logs() as logs:
        run_transform(load_project(EXAMPLE), engine, EXAMPLE_TARGET, "run-1")
    tables = sa.inspect(engine).get_table_names()
    outputs = {
        t: sorted(tuple(sorted(r.items())) for r in rows(engine, t))
        for t in tables
        if t.startswith("xf_") and not t.startswith("xf__work")
    }
    return outputs, [e for e in logs if e["event"] == "table transformed"]


@pytest.mark.postgres
def test_postgresql_two_at_a_time_writes_what_one_at_a_time_writes(
    pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example mappings (parents, orphans, merges, crosswalks) on PostgreSQL: the same xf_
    rows, quarantine, repairs and accounting, whichever way the tables are run."""
    results: dict[int, tuple[Outputs, list[dict[str, Any]]]] = {}
    threads: dict[int, set[str]] = {}
    for lanes in (1, 2):
        monkeypatch.setattr(schedule, "LANES", lanes)
        engine = pg_engine(pg_database)
        assert lanes_for(engine) == lanes
        names: set[str] = set()

        def record(*_args: Any, seen: set[str] = names) -> None:
            seen.add(threading.current_thread().name)

        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            results[lanes] = _transform(engine)
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
            engine.dispose()
        threads[lanes] = {n.split("_")[0] for n in names}
    (serial, serial_log), (paired, paired_log) = results[1], results[2]
    assert paired == serial
    assert len(serial["xf__accounting"]) > 3
    assert {dict(r)["rule"] for r in serial["xf__quarantine"]} >= {"orphan"}
    # Two at a time, the tables ran on the schedule's threads; one at a time, on this one.
    assert "transform" in threads[2]
    assert "transform" not in threads[1]
    assert sorted(e["table"] for e in paired_log) == sorted(e["table"] for e in serial_log)
