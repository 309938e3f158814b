"""Driver errors translated at the boundary: transient ones retried with backoff, fatal clear."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from extract_helpers import staged

from cutover.errors import ConfigError, ExtractError, SourceUnavailableError
from cutover.runs import start_run
from cutover.settings import Settings
from extract import RetryPolicy, extract_sources, open_source, retrying, translate


def test_a_locked_sqlite_source_is_transient_and_retried_until_it_is_free(
    legacy_db: Path, make_workspace: Callable[..., Settings]
) -> None:
    settings = make_workspace(
        {"obscis": {"kind": "sqlalchemy", "url": f"sqlite:///{legacy_db}?timeout=0.05"}}
    )
    holder = sqlite3.connect(legacy_db, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    released = threading.Timer(0.6, holder.rollback)
    released.start()
    policy = RetryPolicy(attempts=8, base_delay=0.1, max_delay=0.4)
    try:
        with start_run(settings, "extract", actor="tester") as run:
            results = extract_sources(settings, run=run, policy=policy, tables=["OFFNDR"])
    finally:
        released.join()
        holder.close()
    assert [r.status for r in results] == ["new"]
    assert len(staged(settings, "stg_obscis_offndr")) == 300


def test_retrying_backs_off_exponentially_then_gives_up_with_the_transient_error() -> None:
    slept: list[float] = []
    calls = 0

    def always_locked() -> None:
        nonlocal calls
        calls += 1
        raise SourceUnavailableError("database is locked")

    with pytest.raises(SourceUnavailableError):
        retrying(always_locked, RetryPolicy(4, 0.5, 1.5), what="t", sleep=slept.append)
    assert calls == 4
    assert slept == [0.5, 1.0, 1.5]


def test_a_closed_postgresql_port_is_transient(
    make_workspace: Callable[..., Settings],
) -> None:
    settings = make_workspace(
        {"pg": {"kind": "sqlalchemy", "url": "postgresql+psycopg://u:p@127.0.0.1:1/none"}}
    )
    started = time.monotonic()
    with (
        start_run(settings, "extract", actor="tester") as run,
        pytest.raises(SourceUnavailableError) as info,
    ):
        extract_sources(settings, run=run, policy=RetryPolicy(3, 0.05, 0.1))
    assert time.monotonic() - started >= 0.15  # it waited between attempts
    assert info.value.retriable
    assert "rerun later" in str(info.value.hint)
    assert "p@" not in str(info.value)  # no password in the message


def test_a_missing_table_is_fatal_with_a_suggestion(legacy_settings: Settings) -> None:
    source = open_source("obscis", legacy_settings.source("obscis"))
    try:
        with pytest.raises(ExtractError) as info:
            source.describe("OFFNDER")
    finally:
        source.close()
    assert not info.value.retriable
    assert "did you mean 'OFFNDR'" in str(info.value.hint)


@pytest.mark.parametrize(
    ("message", "transient"),
    [
        pytest.param("(sqlite3.OperationalError) database is locked", True, id="sqlite-locked"),
        pytest.param("connection refused", True, id="refused"),
        pytest.param("('08001', '[08001] could not connect to server')", True, id="odbc-08001"),
        pytest.param("('HYT00', '[HYT00] Timeout expired')", True, id="odbc-timeout"),
        pytest.param("no such table: OFFNDR", False, id="missing-table"),
        pytest.param("('28000', 'password authentication failed')", False, id="bad-credentials"),
    ],
)
def test_driver_messages_are_sorted_into_transient_and_fatal(message: str, transient: bool) -> None:
    error = translate(RuntimeError(message), source="s", action="read", table="T")
    assert error.retriable is transient
    assert isinstance(error, ExtractError)
    assert error.context["source"] == "s"
    assert error.hint


def test_a_fatal_error_mid_table_leaves_staging_consistent_with_its_checkpoint(
    legacy_settings: Settings, legacy_db: Path
) -> None:
    with start_run(legacy_settings, "extract", actor="tester") as run:
        extract_sources(legacy_settings, run=run, tables=["LBR_LOG"])
    con = sqlite3.connect(legacy_db)
    con.execute("DROP TABLE LBR_LOG")
    con.commit()
    con.close()
    with pytest.raises(ExtractError), start_run(legacy_settings, "extract", actor="t") as run:
        extract_sources(legacy_settings, run=run, tables=["LBR_LOG"])
    assert len(staged(legacy_settings, "stg_obscis_lbr_log")) == 350  # nothing half-written


def test_unknown_source_kind_suggests_the_closest(make_workspace: Callable[..., Settings]) -> None:
    settings = make_workspace({"s": {"kind": "sqlalchemyy", "url": "sqlite:///x.db"}})
    with pytest.raises(ConfigError) as info:
        open_source("s", settings.source("s"))
    assert "did you mean 'sqlalchemy'" in str(info.value.hint)
    assert "fixed_width" in str(info.value.hint)
