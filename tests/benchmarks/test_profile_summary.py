"""The summary ``make profile`` prints from py-spy's collapsed stacks."""

from __future__ import annotations

from tests.benchmarks.profile import read_collapsed, summary

RAW = [
    (
        'process 10:"cutover dry-run -w ws";main (cutover/cli.py:61);run_transform '
        "(transform/runner.py:98);_fill (transform/runner.py:175);execute "
        "(sqlalchemy/engine/base.py:1494);sqlite3VdbeExec (libsqlite3.so.0.8.6) 30\n"
    ),
    (
        'process 10:"cutover dry-run -w ws";main (cutover/cli.py:61);run_transform '
        "(transform/runner.py:98);_insert_xf (transform/runner.py:455);sqlite_row_hash "
        "(transform/hashing.py:82) 10\n"
    ),
    # A child process, under its parent's process frame; a recursive call is on the stack
    # twice, at two lines: counted once.
    (
        'process 10:"cutover dry-run -w ws";process 11:"python -c spawn_main";'
        "_work (validation/run.py:359);_work (validation/run.py:371);"
        "recompute (validation/computation.py:40) 20\n"
    ),
    "\n",
    "not a stack line\n",
]


def test_samples_are_counted_per_process_inclusive_and_self() -> None:
    profile = read_collapsed(RAW)
    assert profile.total == 60
    assert profile.processes == {
        'process 10:"cutover dry-run -w ws"': 40,
        'process 11:"python -c spawn_main"': 20,
    }
    assert profile.inclusive["run_transform (transform/runner.py)"] == 40
    assert profile.inclusive["_work (validation/run.py)"] == 20
    assert profile.own["sqlite3VdbeExec (libsqlite3.so.0.8.6)"] == 30
    assert profile.own["sqlite_row_hash (transform/hashing.py)"] == 10
    assert profile.own["recompute (validation/computation.py)"] == 20


def test_the_summary_lists_only_the_projects_functions_as_inclusive() -> None:
    text = summary(read_collapsed(RAW), top=10)
    inclusive = text.split("the project's functions")[1].split("running frames")[0]
    assert "66.7%  run_transform (transform/runner.py)" in inclusive
    assert "33.3%  _work (validation/run.py)" in inclusive
    assert "sqlalchemy" not in inclusive
    assert "libsqlite3" not in inclusive
    running = text.split("running frames")[1]
    assert "50.0%  sqlite3VdbeExec (libsqlite3.so.0.8.6)" in running
    assert text.startswith("samples: 60\n")
