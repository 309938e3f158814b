"""Logging: JSON off a terminal, run context on every event, identity fields never written."""

from __future__ import annotations

import json

import pytest
import structlog

from cutover.logs import bind, configure_logging, get_logger


@pytest.fixture(autouse=True)
def _clean_context() -> None:
    structlog.contextvars.clear_contextvars()


def test_events_are_json_with_the_bound_run_id(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="INFO", json=True)
    bind(run_id="r-123", table="CR_TXN")
    get_logger("test").info("table_extracted", rows=42)
    event = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert event["event"] == "table_extracted"
    assert event["run_id"] == "r-123"
    assert event["table"] == "CR_TXN"
    assert event["rows"] == 42


@pytest.mark.parametrize("field", ["last_nm", "FRST_NM", "dob", "ssn", "birth_date", "password"])
def test_identity_fields_never_reach_the_log(
    field: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(level="INFO", json=True)
    get_logger().warning("oops", **{field: "SMITH 1961-02-03 123-45-6789"})
    err = capsys.readouterr().err
    assert "SMITH" not in err
    assert "123-45-6789" not in err
    assert "redacted" in err


def test_level_filters_debug_events(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="WARNING", json=True)
    get_logger().info("chatty")
    assert capsys.readouterr().err == ""
