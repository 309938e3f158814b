"""The load: complete, idempotent, replacing only what changed, all-or-nothing per batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import Dataset, build_dataset, snapshot, write_staging

from cutover.errors import LoadError
from load import loader, migrate
from load.engine import sort_threads
from load.loader import LoadProgress, LoadResult, load_run
from load.tables import target_table
from load.transfer import STAGING_SCHEMA

#: Engine-independent behaviour is proved on SQLite only, to keep the suite fast.
sqlite_only = pytest.mark.parametrize("target_url", ["sqlite"], indirect=True)


def _rows(url: str, table: str, batch: str | None = None) -> list[dict[str, Any]]:
    engine = sa.create_engine(url)
    t = target_table(table)
    query = sa.select(t)
    if batch is not None:
        query = query.where(t.c._batch == batch)
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    engine.dispose()
    return rows


def _xmin(url: str, table: str) -> dict[str, str]:
    """PostgreSQL's row version of each row: it changes whenever the row is written."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        found = dict(conn.exec_driver_sql(f"SELECT txn_id, xmin::text FROM {table}").all())
    engine.dispose()
    return {str(k): str(v) for k, v in found.items()}


def test_load_fills_every_staged_row_and_reconciles(
    staging_url: str, target_url: str, dataset: Dataset
) -> None:
    write_staging(staging_url, dataset)
    result = load_run(staging_url, target_url)
    assert [b.batch for b in result.batches] == ["_GLOBAL", "ECI", "MCIH"]
    staged = sum(len(rows) for rows in dataset.tables.values())
    assert result.changed == staged
    assert result.reconciliation is not None
    assert result.reconciliation.ok
    persons = {r["person_id"]: r for r in _rows(target_url, "person")}
    assert persons["000100000"]["birth_date"].isoformat() == "1970-01-01"
    assert persons["000100000"]["_batch"] == "ECI"
    assert len(_rows(target_url, "credit_transaction")) == 18


def _load_noting(staging_url: str, target_url: str, note: Callable[..., None]) -> LoadResult:
    """``load_run``, with ``note`` told every statement any engine runs meanwhile."""
    sa.event.listen(sa.Engine, "before_cursor_execute", note)
    try:
        return load_run(staging_url, target_url)
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", note)


def test_a_first_sqlite_load_builds_its_indexes_with_helper_threads_and_checks_without(
    staging_url: str, tmp_path: Path, dataset: Dataset
) -> None:
    """The staging's batch indexes and the first load's indexes may sort with helper threads;
    the foreign-key checks and the reconciliation, two threads already, may not."""
    target_url = f"sqlite:///{tmp_path / 'target.db'}"
    migrate.upgrade(target_url)
    write_staging(staging_url, dataset)
    staging = sa.create_engine(staging_url)
    with staging.begin() as conn:  # as the transform leaves it: the load indexes it
        conn.exec_driver_sql("DROP INDEX ix_xf_credit_transaction__batch")
    staging.dispose()
    seen: list[tuple[str, int]] = []

    def threads(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        driver = conn.connection.driver_connection
        seen.append((" ".join(statement.split()), driver.execute("PRAGMA threads").fetchone()[0]))

    result = _load_noting(staging_url, target_url, threads)
    assert result.together_seconds is not None

    def helpers(text: str) -> set[int]:
        """The helper threads of each statement holding ``text``."""
        return {n for statement, n in seen if text in statement}

    assert helpers("CREATE INDEX ix_xf_credit_transaction__batch") == {sort_threads()}
    assert helpers("CREATE INDEX ix_credit_transaction_person_id") == {sort_threads()}
    assert helpers("SELECT DISTINCT c.person_id FROM credit_transaction") == {0}
    # The foreign keys are checked after the indexes that the check reads are built.
    order = [statement for statement, _n in seen]
    built = order.index(
        "CREATE INDEX ix_credit_transaction_person_id ON credit_transaction (person_id)"
    )
    checked = next(
        i for i, s in enumerate(order) if "SELECT DISTINCT c.person_id FROM credit_transaction" in s
    )
    assert built < checked
    # The reconciliation's count of the legacy keys each target table traces to.
    assert helpers("count(DISTINCT credit_transaction._source_key)") == {0}


def test_a_first_sqlite_load_reads_staging_for_its_reconciliation_while_it_inserts(
    staging_url: str, tmp_path: Path, dataset: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reconciliation's reading of staging alone (rows and keys staged twice per batch)
    runs beside the first load's insert, on staging's own connection; the comparison on the
    attached file then reads only what needs the target."""
    monkeypatch.setattr(loader, "usable_cores", lambda: 2)
    target_url = f"sqlite:///{tmp_path / 'target.db'}"
    migrate.upgrade(target_url)
    write_staging(staging_url, dataset)
    seen: list[tuple[str, str]] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append((threading.current_thread().name, " ".join(statement.split())))

    result = _load_noting(staging_url, target_url, note)
    assert result.together_seconds is not None
    assert result.reconciliation is not None
    assert result.reconciliation.ok
    twice = [(thread, sql) for thread, sql in seen if "HAVING count(*) >" in sql]
    assert len(twice) == len(dataset.tables)
    for thread, sql in twice:
        assert thread.startswith("load-beside"), (thread, sql)
        assert f"{STAGING_SCHEMA}." not in sql, sql  # staging's own connection, not attached
    # The comparison on the attached file counted the target's rows and matched them only.
    attached = [sql for _t, sql in seen if f"{STAGING_SCHEMA}.xf_credit_transaction" in sql]
    assert attached
    assert not [sql for sql in attached if "HAVING" in sql], attached
    # The first load inserted the rows in staging's order: they were matched by rowid, and no
    # batch needed the join on key.
    assert [sql for sql in attached if "ON t.rowid = s.rowid" in sql], attached
    assert not [sql for sql in attached if "JOIN credit_transaction ON" in sql], attached


def test_rerun_of_the_same_output_changes_nothing(
    staging_url: str, target_url: str, dataset: Dataset
) -> None:
    write_staging(staging_url, dataset)
    load_run(staging_url, target_url)
    before = snapshot(target_url)
    versions = _xmin(target_url, "credit_transaction") if "postgres" in target_url else {}
    again = load_run(staging_url, target_url)
    assert again.changed == 0
    staged = sum(len(rows) for rows in dataset.tables.values())
    assert sum(t.staged for b in again.batches for t in b.tables) == staged
    assert snapshot(target_url) == before
    if versions:
        assert _xmin(target_url, "credit_transaction") == versions


def test_newer_run_replaces_what_changed_and_nothing_else(
    staging_url: str, target_url: str, dataset: Dataset
) -> None:
    write_staging(staging_url, dataset)
    load_run(staging_url, target_url)
    versions = _xmin(target_url, "credit_transaction") if "postgres" in target_url else {}

    dataset.new_run("run-2")
    dataset.find("credit_transaction", txn_id="T0001000011")["days"] = 7
    gone = dataset.find("credit_transaction", txn_id="T0001000012")
    dataset.tables["credit_transaction"].remove(gone)
    new = dict(dataset.find("credit_transaction", txn_id="T0001000013"))
    new.update(txn_id="T0001000014", _source_key="T0001000014")
    dataset.tables["credit_transaction"].append(new)
    write_staging(staging_url, dataset)

    result = load_run(staging_url, target_url)
    changes = {(b.batch, t.table): t for b in result.batches for t in b.tables}
    ledger = changes[("ECI", "credit_transaction")]
    assert (ledger.inserted, ledger.updated, ledger.deleted) == (1, 1, 1)
    assert result.changed == 3

    rows = {r["txn_id"]: r for r in _rows(target_url, "credit_transaction")}
    assert rows["T0001000011"]["days"] == 7
    assert rows["T0001000011"]["_run_id"] == "run-2"
    assert "T0001000012" not in rows
    untouched = {k for k, r in rows.items() if r["_run_id"] == "run-1"}
    assert len(untouched) == len(rows) - 2
    if versions:
        after = _xmin(target_url, "credit_transaction")
        assert {k for k in untouched if after[k] != versions[k]} == set()
        assert after["T0001000011"] != versions["T0001000011"]


@sqlite_only
def test_person_moving_institution_moves_with_their_rows(
    staging_url: str, target_url: str, dataset: Dataset
) -> None:
    write_staging(staging_url, dataset)
    load_run(staging_url, target_url)
    pid = "000100001"
    for rows in dataset.tables.values():
        for row in rows:
            if row.get("person_id") == pid:
                row["_batch"] = "MCIH"
    dataset.find("person", person_id=pid)["current_institution_id"] = "MCIH"
    write_staging(staging_url, _with_accounting_moved(dataset))

    result = load_run(staging_url, target_url)
    assert result.reconciliation is not None
    assert result.reconciliation.ok
    moved = [r for r in _rows(target_url, "credit_transaction") if r["person_id"] == pid]
    assert {r["_batch"] for r in moved} == {"MCIH"}
    assert len(moved) == 3
    by_batch = {b.batch: b for b in result.batches}
    assert sum(t.deleted for t in by_batch["ECI"].tables) == 6
    assert sum(t.inserted for t in by_batch["MCIH"].tables) == 6
    assert result.changed == 12
    assert load_run(staging_url, target_url).changed == 0


def _with_accounting_moved(ds: Dataset) -> Dataset:
    for q in ds.quarantine:
        if q["source_key"] == "Q000100001":
            q["batch"] = "MCIH"
    return ds


def test_failing_batch_is_rolled_back_whole_and_named(
    staging_url: str, target_url: str, dataset: Dataset
) -> None:
    write_staging(staging_url, dataset)
    load_run(staging_url, target_url)
    before = snapshot(target_url)

    dataset.new_run("run-2")
    dataset.find("person", person_id="000200000")["last_name"] = "Changed"
    dataset.find("credit_transaction", txn_id="T0002000001")["credit_type"] = "XX"
    write_staging(staging_url, dataset)

    with pytest.raises(LoadError) as caught:
        load_run(staging_url, target_url)
    message = str(caught.value)
    assert "batch 'MCIH'" in message
    assert "credit_transaction" in message
    assert caught.value.context["batch"] == "MCIH"
    assert "what to do" in message
    assert "Changed" not in message
    assert snapshot(target_url) == before


def test_duplicate_staged_key_is_refused_with_its_batch_and_key(
    staging_url: str, target_url: str, dataset: Dataset
) -> None:
    dataset.tables["person"].append(dict(dataset.find("person", person_id="000100002")))
    write_staging(staging_url, dataset)
    with pytest.raises(LoadError, match=r"batch 'ECI'.*xf_person.*000100002"):
        load_run(staging_url, target_url)
    assert _rows(target_url, "person", "ECI") == []
    assert len(_rows(target_url, "institution")) == 2


def test_a_ledger_key_staged_twice_is_refused_with_its_batch_and_key(
    staging_url: str, target_url: str, dataset: Dataset
) -> None:
    """On PostgreSQL the ledger's key, which no foreign key names, is built after a first
    load's rows are in: a key staged twice fails that build instead of the copy, and the load
    batch by batch still names the batch and the key."""
    dataset.tables["credit_transaction"].append(
        dict(dataset.find("credit_transaction", txn_id="T0001000022"))
    )
    write_staging(staging_url, dataset)
    with pytest.raises(LoadError, match=r"batch 'ECI'.*xf_credit_transaction.*T0001000022"):
        load_run(staging_url, target_url)
    assert _rows(target_url, "credit_transaction", "ECI") == []
    assert len(_rows(target_url, "institution")) == 2


@sqlite_only
def test_transform_output_not_matching_the_schema_is_refused_before_any_row_moves(
    staging_url: str, target_url: str, dataset: Dataset
) -> None:
    write_staging(staging_url, dataset)
    engine = sa.create_engine(staging_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE xf_person DROP COLUMN state_id")
    engine.dispose()
    with pytest.raises(LoadError, match="xf_person: missing column"):
        load_run(staging_url, target_url)
    assert _rows(target_url, "institution") == []


@sqlite_only
def test_load_refuses_a_target_not_at_the_newest_schema(
    staging_url: str, target_url: str, dataset: Dataset
) -> None:
    write_staging(staging_url, dataset)
    migrate.downgrade(target_url)
    with pytest.raises(LoadError, match="cutover db upgrade"):
        load_run(staging_url, target_url)


_KILLED_LOAD = """
import sys, time
from pathlib import Path
from load import load_run
from load.batch import EVERY_BATCH

staging, target, marker = sys.argv[1:4]

together = sys.argv[4] == "together"
pause_in = EVERY_BATCH if together else "MCIH"

def pause_mid_batch(p):
    if p.batch == pause_in and p.phase == "written" and p.table == "commitment":
        Path(marker).write_text("mid-batch")
        time.sleep(120)

# A first load of every batch goes in one transaction; naming the batches, one by one.
load_run(staging, target, on_progress=pause_mid_batch,
         batches=None if together else ["_GLOBAL", "ECI", "MCIH"])
"""


@pytest.mark.parametrize("how", ["batch by batch", "together"])
def test_load_killed_mid_batch_leaves_no_partial_rows(
    staging_url: str, target_url: str, dataset: Dataset, tmp_path: Path, how: str
) -> None:
    write_staging(staging_url, dataset)
    script = tmp_path / "killed_load.py"
    script.write_text(textwrap.dedent(_KILLED_LOAD))
    marker = tmp_path / "marker"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(
        [sys.executable, str(script), staging_url, target_url, str(marker), how],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, "the load ended before reaching the middle of a batch"
            assert time.monotonic() < deadline, "the load never reached the middle of a batch"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    for table in ("person", "commitment", "credit_transaction", "person_merge"):
        assert _rows(target_url, table, "MCIH") == [], table
    together = how == "together"
    assert len(_rows(target_url, "person", "ECI")) == (0 if together else 3)
    assert len(_rows(target_url, "institution")) == (0 if together else 2)

    result = load_run(staging_url, target_url)
    assert result.reconciliation is not None
    assert result.reconciliation.ok
    changed = [b.batch for b in result.batches if b.changed]
    assert changed == (["_GLOBAL", "ECI", "MCIH"] if together else ["MCIH"])


@sqlite_only
def test_progress_is_reported_for_every_table_of_every_batch(
    staging_url: str, target_url: str
) -> None:
    write_staging(staging_url, build_dataset(institutions=("ECI",), people=1))
    seen: list[LoadProgress] = []
    load_run(staging_url, target_url, on_progress=seen.append)
    committed = [p.batch for p in seen if p.phase == "committed"]
    assert committed == ["_GLOBAL", "ECI"]
    assert {p.table for p in seen if p.phase == "staged"} >= {"person", "credit_transaction"}


@pytest.mark.postgres
def test_load_from_postgresql_staging_into_sqlite_target(
    pg_url: str, tmp_path: Path, dataset: Dataset
) -> None:
    target = f"sqlite:///{tmp_path / 'target.db'}"
    migrate.upgrade(target)
    write_staging(pg_url, dataset)
    first = load_run(pg_url, target, chunk_rows=4)
    assert first.reconciliation is not None
    assert first.reconciliation.ok
    assert load_run(pg_url, target).changed == 0


def test_deferred_foreign_key_failing_at_commit_rolls_the_batch_back(
    staging_url: str, target_url: str, dataset: Dataset
) -> None:
    dataset.find("commitment", commitment_id="C0002000002")["consecutive_to_commitment_id"] = (
        "C_NOT_STAGED"
    )
    write_staging(staging_url, dataset)
    with pytest.raises(LoadError, match=r"batch 'MCIH' failed while committing") as caught:
        load_run(staging_url, target_url)
    assert caught.value.context["step"].startswith("committing")
    assert _rows(target_url, "commitment", "MCIH") == []
    assert _rows(target_url, "person", "MCIH") == []
    assert len(_rows(target_url, "commitment", "ECI")) == 6
