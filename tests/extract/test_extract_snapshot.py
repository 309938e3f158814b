"""Staging snapshot: raw copies, checkpoints, resume after interruption, change detection."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from extract_helpers import create_sqlite_legacy, staged
from typer.testing import CliRunner

from cutover.cli import app
from cutover.errors import ExtractError, SourceUnavailableError
from cutover.runs import run_steps, start_run
from cutover.settings import Settings
from extract import (
    Checkpoint,
    Column,
    RetryPolicy,
    Row,
    Source,
    Staging,
    TableInfo,
    extract_sources,
    open_source,
    retrying,
    stage_table,
)
from extract.hashing import row_digest, to_hex

FAST = RetryPolicy(attempts=3, base_delay=0.01)


def _extract(settings: Settings, **kw: Any) -> dict[str, Any]:
    with start_run(settings, "extract", actor="tester") as run:
        results = extract_sources(settings, run=run, policy=FAST, **kw)
    return {r.table: r for r in results}


def test_staged_rows_are_the_raw_source_values_with_position_key_and_hash(
    legacy_settings: Settings, legacy_db: Path
) -> None:
    results = _extract(legacy_settings)
    assert {r.status for r in results.values()} == {"new"}
    con = sqlite3.connect(legacy_db)
    source = con.execute("SELECT * FROM OFFNDR ORDER BY OFF_ID").fetchall()
    con.close()
    rows = staged(legacy_settings, "stg_obscis_offndr")
    assert [r[:7] for r in rows] == source  # padding, sentinels, bad dates all kept as they were
    assert any(r[2].endswith(" ") for r in rows)
    assert {r[3] for r in rows} >= {"00000000", "99999999", "20030231", "        "}
    for pos, row in enumerate(rows):
        run_id, src_pos, src_key, row_hash = row[7:]
        assert (src_pos, src_key) == (pos, row[0])
        assert row_hash == to_hex(row_digest(row[:7]))
        assert run_id == rows[0][7]
    assert results["OFFNDR"].rows == len(source)


def test_keyless_table_keeps_every_duplicate_and_keys_rows_by_position(
    legacy_settings: Settings, legacy_db: Path
) -> None:
    _extract(legacy_settings)
    con = sqlite3.connect(legacy_db)
    source = sorted(con.execute("SELECT * FROM LBR_LOG").fetchall())
    duplicates = con.execute(
        "SELECT COUNT(*) FROM (SELECT 1 FROM LBR_LOG"
        " GROUP BY OFF_ID, WK_BGN_DT HAVING COUNT(*) > 1)"
    ).fetchone()[0]
    con.close()
    rows = staged(legacy_settings, "stg_obscis_lbr_log")
    assert duplicates > 0
    assert sorted(r[:4] for r in rows) == source
    assert [r[6] for r in rows] == [str(i) for i in range(len(rows))]
    assert all(isinstance(r[3], int) for r in rows)  # integers stay integers


def test_composite_key_is_joined_with_a_bar(legacy_settings: Settings) -> None:
    _extract(legacy_settings)
    keys = [r[-2] for r in staged(legacy_settings, "stg_obscis_inst_tsk")]
    assert "ECI |KITCH" in keys
    assert keys == sorted(keys)


def test_catalogue_lists_each_table_with_count_checksum_and_status(
    legacy_settings: Settings,
) -> None:
    results = _extract(legacy_settings)
    staging = Staging(legacy_settings.staging.url.get_secret_value())
    catalogue = {row["stg_table"]: row for row in staging.catalogue()}
    staging.dispose()
    assert set(catalogue) == {f"stg_obscis_{t.lower()}" for t in results}
    for result in results.values():
        row = catalogue[result.stg_table]
        assert (row["row_count"], row["checksum"], row["status"]) == (
            result.rows,
            result.checksum,
            "new",
        )
    assert catalogue["stg_obscis_lbr_log"]["key_columns"] == ""
    assert catalogue["stg_obscis_inst_tsk"]["key_columns"] == "INST_CD,TSK_CD"


def test_rerun_on_an_unchanged_source_writes_nothing(legacy_settings: Settings) -> None:
    _extract(legacy_settings)
    before = staged(legacy_settings, "stg_obscis_cr_txn")
    again = _extract(legacy_settings)
    assert {r.status for r in again.values()} == {"unchanged"}
    assert sum(r.written for r in again.values()) == 0
    assert staged(legacy_settings, "stg_obscis_cr_txn") == before  # same run ids: not rewritten


def test_rerun_on_a_changed_source_restages_and_names_only_the_changed_table(
    legacy_settings: Settings, legacy_db: Path
) -> None:
    _extract(legacy_settings)
    con = sqlite3.connect(legacy_db)
    con.execute("UPDATE CR_TXN SET CR_DAYS = '099' WHERE TXN_ID = '0000000007'")
    con.commit()
    con.close()
    again = _extract(legacy_settings)
    assert again["CR_TXN"].status == "changed"
    assert again["CR_TXN"].previous is not None
    assert again["CR_TXN"].previous.checksum != again["CR_TXN"].checksum
    assert {t for t, r in again.items() if r.status != "unchanged"} == {"CR_TXN"}
    row = next(r for r in staged(legacy_settings, "stg_obscis_cr_txn") if r[0] == "0000000007")
    assert row[4] == "099"


class _Interrupting:
    """A source that fails after ``chunks`` chunks of one table, once."""

    def __init__(self, inner: Source, chunks: int, error: Exception) -> None:
        self.inner = inner
        self.name = inner.name
        self.chunks = chunks
        self.error: Exception | None = error

    def tables(self) -> list[str]:
        return self.inner.tables()

    def describe(self, table: str) -> TableInfo:
        return self.inner.describe(table)

    def read(
        self, table: TableInfo, *, chunk_rows: int, after: Checkpoint | None = None
    ) -> Generator[Sequence[Row], None, None]:
        for n, chunk in enumerate(self.inner.read(table, chunk_rows=chunk_rows, after=after)):
            if n == self.chunks and self.error is not None:
                error, self.error = self.error, None
                raise error
            yield chunk

    def close(self) -> None:
        self.inner.close()


def _stage(settings: Settings, source: Source, run_id: str, table: str = "CR_TXN") -> Any:
    staging = Staging(settings.staging.url.get_secret_value())
    try:
        return stage_table(staging, source, source.describe(table), run_id=run_id, chunk_rows=100)
    finally:
        staging.dispose()


def test_a_run_interrupted_mid_table_resumes_from_its_checkpoint(
    legacy_settings: Settings, make_workspace: Callable[..., Settings], legacy_db: Path
) -> None:
    reference = make_workspace({"obscis": {"kind": "sqlalchemy", "url": f"sqlite:///{legacy_db}"}})
    inner = open_source("obscis", legacy_settings.source("obscis"))
    expected = _stage(reference, inner, "ref")
    broken = _Interrupting(inner, 3, ExtractError("connection lost for good"))
    with pytest.raises(ExtractError):
        _stage(legacy_settings, broken, "first")
    partial = staged(legacy_settings, "stg_obscis_cr_txn")
    assert len(partial) == 300  # three chunks of 100, each committed with its checkpoint
    staging = Staging(legacy_settings.staging.url.get_secret_value())
    state, checkpoint = staging.state("stg_obscis_cr_txn"), staging.checkpoint("stg_obscis_cr_txn")
    staging.dispose()
    assert state is not None
    assert state.status == "extracting"  # readers skip a table whose staging is under way
    assert checkpoint is not None
    assert (checkpoint.position, checkpoint.last_key) == (300, (partial[-1][0],))
    resumed = _stage(legacy_settings, inner, "second")
    inner.close()
    assert resumed.status == "resumed"
    assert resumed.written == expected.rows - 300
    assert (resumed.rows, resumed.checksum) == (expected.rows, expected.checksum)
    assert staged(legacy_settings, "stg_obscis_cr_txn", meta=False) == staged(
        reference, "stg_obscis_cr_txn", meta=False
    )


def test_a_source_changed_during_the_interruption_is_restaged_not_resumed(
    legacy_settings: Settings, legacy_db: Path
) -> None:
    inner = open_source("obscis", legacy_settings.source("obscis"))
    with pytest.raises(ExtractError):
        _stage(legacy_settings, _Interrupting(inner, 2, ExtractError("lost")), "first")
    con = sqlite3.connect(legacy_db)
    con.execute("UPDATE CR_TXN SET CR_TYP = 'RS' WHERE TXN_ID = '0000000003'")
    con.commit()
    con.close()
    result = _stage(legacy_settings, inner, "second")
    inner.close()
    assert result.status == "changed"
    assert result.written == result.rows
    rows = staged(legacy_settings, "stg_obscis_cr_txn")
    assert {r[7] for r in rows} == {"second"}
    assert next(r for r in rows if r[0] == "0000000003")[2] == "RS"


def test_a_transient_error_is_retried_from_the_checkpoint_within_the_run(
    legacy_settings: Settings,
) -> None:
    inner = open_source("obscis", legacy_settings.source("obscis"))
    flaky = _Interrupting(inner, 2, SourceUnavailableError("database is locked"))
    staging = Staging(legacy_settings.staging.url.get_secret_value())

    def once() -> Any:
        return stage_table(staging, flaky, flaky.describe("CR_TXN"), run_id="r1", chunk_rows=100)

    result = retrying(once, FAST, what="CR_TXN")
    staging.dispose()
    inner.close()
    rows = staged(legacy_settings, "stg_obscis_cr_txn")
    assert result.status == "new"
    assert [r[8] for r in rows] == list(range(result.rows))  # no row lost, none twice
    assert result.written == result.rows - 200


def test_each_table_is_a_step_of_the_run_in_the_ledger(legacy_settings: Settings) -> None:
    with start_run(legacy_settings, "extract", actor="tester") as run:
        extract_sources(legacy_settings, run=run, policy=FAST)
    steps = run_steps(legacy_settings, run.id)
    assert [s["table_name"] for s in steps] == [
        "obscis.CR_TXN",
        "obscis.INST_TSK",
        "obscis.LBR_LOG",
        "obscis.OFFNDR",
    ]
    assert all(s["outcome"] == "ok" and s["counts"]["rows"] > 0 for s in steps)


def test_unknown_requested_table_is_fatal_and_suggests_the_closest(
    legacy_settings: Settings,
) -> None:
    with pytest.raises(ExtractError) as info:
        _extract(legacy_settings, tables=["OFFNDRS"])
    assert "OFFNDR" in str(info.value.hint)


def test_cli_prints_the_summary_then_says_nothing_to_do(legacy_settings: Settings) -> None:
    runner = CliRunner()
    ws = str(legacy_settings.workspace)
    first = runner.invoke(app, ["extract", "--workspace", ws])
    assert first.exit_code == 0, first.output
    assert "stg_obscis_offndr" in first.output
    assert "new" in first.output
    second = runner.invoke(app, ["extract", "--workspace", ws])
    assert second.exit_code == 0, second.output
    assert "nothing to do" in second.output
    assert "SMITH" not in first.output + second.output  # never a row value


def _checkpoint_position(staging_db: Path) -> int:
    if not staging_db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{staging_db}?mode=ro", uri=True, timeout=0.2)
        try:
            row = con.execute(
                "SELECT position FROM _stg_checkpoints WHERE stg_table = 'stg_obscis_cr_txn'"
            ).fetchone()
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0
    return int(row[0]) if row else 0


#: A small driver: the extract step alone, without the command line's start-up cost. The
#: ``generic-sql`` kind is the ``sqlalchemy`` source behind a wrapper the same-engine copy does
#: not recognize, so the rows go through Python (the generic path).
_DRIVER = """
import sys
from cutover.runs import start_run
from cutover.settings import load_settings
from extract import extract_sources, register_source
from extract.sql import SqlAlchemySource

class Generic:
    def __init__(self, name, settings):
        self.inner = SqlAlchemySource(name, settings)
        self.name = name
    def tables(self):
        return self.inner.tables()
    def describe(self, table):
        return self.inner.describe(table)
    def read(self, table, *, chunk_rows, after=None):
        yield from self.inner.read(table, chunk_rows=chunk_rows, after=after)
    def close(self):
        self.inner.close()

register_source("generic-sql", Generic)
settings = load_settings(sys.argv[1])
with start_run(settings, "extract", actor="driver") as run:
    for result in extract_sources(settings, run=run):
        print(result.table, result.status, result.rows, result.method)
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "method"),
    [
        pytest.param("sqlalchemy", "engine", id="same-engine-copy"),
        pytest.param("generic-sql", "python", id="generic-path"),
    ],
)
def test_killed_with_sigkill_and_rerun_ends_identical_to_an_uninterrupted_run(
    tmp_path: Path, make_workspace: Callable[..., Settings], kind: str, method: str
) -> None:
    db = create_sqlite_legacy(tmp_path / "big" / "obscis.db", offenders=10_000, seed=5)
    source = {
        "obscis": {
            "kind": kind,
            "url": f"sqlite:///{db}",
            "chunk_rows": 500,
            "engine_chunk_rows": 500,
        }
    }
    killed = make_workspace(source)
    reference = make_workspace(
        {"obscis": {"kind": "sqlalchemy", "url": f"sqlite:///{db}", "chunk_rows": 20_000}}
    )
    driver = [sys.executable, "-c", _DRIVER, str(killed.workspace)]
    proc = subprocess.Popen(driver, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    staging_db = killed.workspace / ".cutover" / "staging.db"
    deadline = time.monotonic() + 60
    while _checkpoint_position(staging_db) < 3000 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    position = _checkpoint_position(staging_db)
    assert position >= 3000, "the run was not killed mid-table"

    rerun = subprocess.run(driver, capture_output=True, text=True, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert re.search(rf"^CR_TXN resumed \d+ {method}$", rerun.stdout, re.MULTILINE), rerun.stdout
    _extract(reference)  # the uninterrupted run
    for table in ("stg_obscis_cr_txn", "stg_obscis_offndr", "stg_obscis_lbr_log"):
        got = staged(killed, table, meta=False)
        want = staged(reference, table, meta=False)
        assert len(got) == len(want)
        assert got == want, table
    engine = sa.create_engine(killed.staging.url.get_secret_value())
    with engine.connect() as conn:
        runs = conn.exec_driver_sql(
            "SELECT COUNT(DISTINCT _run_id) FROM stg_obscis_cr_txn"
        ).scalar_one()
        left = conn.exec_driver_sql("SELECT COUNT(*) FROM _stg_checkpoints").scalar_one()
    engine.dispose()
    assert runs == 2  # rows before the kill kept their run, the rest came from the rerun
    assert left == 0


class _Listed:
    """A source of one table, ``T``, from a list of rows, keyed by ``key``."""

    name = "mem"

    def __init__(self, rows: list[tuple[Any, ...]], key: tuple[str, ...]) -> None:
        self.rows = rows
        self.key = key

    def tables(self) -> list[str]:
        return ["T"]

    def describe(self, table: str) -> TableInfo:
        return TableInfo(table, (Column("A"), Column("B"), Column("V")), self.key)

    def read(
        self, _table: TableInfo, *, chunk_rows: int, after: Checkpoint | None = None
    ) -> Generator[Sequence[Row], None, None]:
        start = after.position if after is not None else 0
        for i in range(start, len(self.rows), chunk_rows):
            yield self.rows[i : i + chunk_rows]

    def close(self) -> None:
        pass


@pytest.mark.parametrize("key", [("A",), ("A", "B")])
@pytest.mark.parametrize(
    ("position", "fault", "message"),
    [
        (100, "repeat", "not unique at position 100"),  # the first row of a chunk
        (57, "repeat", "not unique at position 57"),
        (130, "null", "column 'A' is NULL at position 130"),
        (0, "null", "column 'A' is NULL at position 0"),
    ],
)
def test_a_key_repeated_or_null_stops_the_copy_at_its_position(
    legacy_settings: Settings, key: tuple[str, ...], position: int, fault: str, message: str
) -> None:
    """Keyed rows come in key order, so a repeated key is the one before it, across a chunk
    boundary too; a NULL key identifies nothing. Either stops the copy, naming the position,
    with the chunks before it staged."""
    rows: list[tuple[Any, ...]] = [(f"K{i:04d}", i, "v") for i in range(300)]
    if fault == "repeat":
        rows[position] = rows[position - 1]
    else:
        rows[position] = (None, position, "v")
    staging = Staging(legacy_settings.staging.url.get_secret_value())
    try:
        source = _Listed(rows, key)
        with pytest.raises(ExtractError, match=re.escape(message)):
            stage_table(staging, source, source.describe("T"), run_id="r", chunk_rows=50)
        checkpoint = staging.checkpoint("stg_mem_t")
    finally:
        staging.dispose()
    assert checkpoint is not None
    assert checkpoint.position == position // 50 * 50


def test_a_single_key_is_staged_as_its_text(legacy_settings: Settings) -> None:
    """One key column: text as it is, a number as ``str`` writes it."""
    numbers: list[tuple[Any, ...]] = [(i * 7, f"b{i}", "v") for i in range(120)]
    texts: list[tuple[Any, ...]] = [(f"K {i}|", f"b{i}", "v") for i in range(120)]
    keys = []
    for rows in (numbers, texts):
        source = _Listed(rows, ("A",))
        staging = Staging(legacy_settings.staging.url.get_secret_value())
        try:
            stage_table(staging, source, source.describe("T"), run_id="r", chunk_rows=50)
        finally:
            staging.dispose()
        keys.append([r[-2] for r in staged(legacy_settings, "stg_mem_t")])
    assert keys == [[str(i * 7) for i in range(120)], [f"K {i}|" for i in range(120)]]


def test_progress_is_reported_for_each_chunk_once_it_is_committed(
    legacy_settings: Settings,
) -> None:
    """Chunks are written behind the hashing; progress names a position only once the chunk
    ending there is committed with its checkpoint, in order, the last one included."""
    rows: list[tuple[Any, ...]] = [(f"K{i:04d}", i, "v") for i in range(260)]
    source = _Listed(rows, ("A",))
    staging = Staging(legacy_settings.staging.url.get_secret_value())
    seen: list[tuple[int, int, int]] = []

    def progress(stg_table: str, position: int) -> None:
        checkpoint = staging.checkpoint(stg_table)
        assert checkpoint is not None
        seen.append((position, checkpoint.position, len(staged(legacy_settings, stg_table))))

    try:
        stage_table(
            staging, source, source.describe("T"), run_id="r", chunk_rows=50, on_progress=progress
        )
    finally:
        staging.dispose()
    assert seen == [(n, n, n) for n in (50, 100, 150, 200, 250, 260)]
