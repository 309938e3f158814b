"""``extract --verify``: staging proven against the source, differences narrowed to ranges."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from cutover.cli import app
from cutover.errors import ReconciliationError
from cutover.runs import start_run
from cutover.settings import Settings
from extract import RetryPolicy, extract_sources, verify_sources

FAST = RetryPolicy(attempts=2, base_delay=0.01)


def _stage(settings: Settings) -> None:
    with start_run(settings, "extract", actor="tester") as run:
        extract_sources(settings, run=run, policy=FAST, chunk_rows=100)


def test_verify_proves_a_fresh_staging_matches_every_table(legacy_settings: Settings) -> None:
    _stage(legacy_settings)
    checks = verify_sources(legacy_settings, policy=FAST, chunk_rows=100)
    assert len(checks) == 4
    assert all(v.ok for v in checks)
    assert all(v.source_fp == v.staged_fp for v in checks)


def test_a_value_altered_in_staging_is_found_in_its_range(legacy_settings: Settings) -> None:
    _stage(legacy_settings)
    engine = sa.create_engine(legacy_settings.staging.url.get_secret_value())
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE stg_obscis_cr_txn SET \"CR_DAYS\" = '999' WHERE _src_pos = 250"
        )
    engine.dispose()
    checks = {v.table: v for v in verify_sources(legacy_settings, policy=FAST, chunk_rows=100)}
    bad = checks["CR_TXN"]
    assert not bad.ok
    assert bad.bad_row_hashes == 1  # the stored hash no longer matches the staged values
    assert [(r.first_pos, r.last_pos) for r in bad.ranges] == [(200, 299)]
    assert bad.ranges[0].source_keys == bad.ranges[0].staged_keys
    assert all(v.ok for t, v in checks.items() if t != "CR_TXN")


def test_a_row_deleted_at_the_source_is_reported_from_its_range_on(
    legacy_settings: Settings, legacy_db: Path
) -> None:
    _stage(legacy_settings)
    con = sqlite3.connect(legacy_db)
    con.execute("DELETE FROM OFFNDR WHERE OFF_ID = '000000150'")
    con.commit()
    con.close()
    checks = {v.table: v for v in verify_sources(legacy_settings, policy=FAST, chunk_rows=100)}
    bad = checks["OFFNDR"]
    assert (bad.source_fp.rows, bad.staged_fp.rows) == (299, 300)
    assert bad.ranges[0].first_pos == 100  # position 149 is in the second range
    assert bad.ranges[0].staged_keys == ("000000101", "000000200")
    assert bad.bad_row_hashes == 0


def test_cli_verify_fails_with_the_differing_tables_named(
    legacy_settings: Settings, legacy_db: Path
) -> None:
    runner = CliRunner()
    ws = str(legacy_settings.workspace)
    assert runner.invoke(app, ["extract", "-w", ws]).exit_code == 0
    ok = runner.invoke(app, ["extract", "-w", ws, "--verify"])
    assert ok.exit_code == 0, ok.output
    assert "staging matches the source: 4 tables" in ok.output
    con = sqlite3.connect(legacy_db)
    con.execute("UPDATE INST_TSK SET CR_RATE = 7 WHERE TSK_CD = 'PNT1 '")
    con.commit()
    con.close()
    bad = runner.invoke(app, ["extract", "-w", ws, "--verify"])
    assert bad.exit_code == 1
    assert "DIFFERS" in bad.output
    assert isinstance(bad.exception, ReconciliationError)
    assert "stg_obscis_inst_tsk" in str(bad.exception)


def test_an_unstaged_table_is_reported_not_staged(legacy_settings: Settings) -> None:
    checks = verify_sources(legacy_settings, policy=FAST, tables=["OFFNDR"])
    assert [v.problem for v in checks] == ["not staged: run 'cutover extract'"]
    assert not checks[0].ok
