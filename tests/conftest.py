"""Shared fixtures: real services, never mocks.

Tests that need PostgreSQL, the ODBC drivers or Chromium are marked ``postgres``, ``odbc`` or
``browser`` and ask for the fixtures below. Outside CI a missing service skips them with the
command that provides it; under ``CI=true`` a missing service is a failure, and so is any skip
at all (see ``pytest_sessionfinish``): CI must prove the real parts work.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg_databases import fresh_pg_database

IN_CI = os.environ.get("CI", "").lower() == "true"
HOW_TO_START = "run 'scripts/test-services start' and source .services/env (make test does both)"


def _need(what: str) -> None:
    message = f"{what} is not available; {HOW_TO_START}"
    if IN_CI:
        pytest.fail(f"CI=true: {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """The URL of the test server's maintenance database (``cutover_test``)."""
    url = os.environ.get("CUTOVER_TEST_PG_URL")
    if not url:
        _need("PostgreSQL (CUTOVER_TEST_PG_URL)")
        raise AssertionError("unreachable")
    return url


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with fresh_pg_database(pg_server_url, "t") as url:
        yield url


@pytest.fixture(scope="session")
def pg_odbc_connection_string() -> str:
    """ODBC connection string for the test PostgreSQL server through the psqlODBC driver."""
    value = os.environ.get("CUTOVER_TEST_PG_ODBC")
    if not value:
        _need("the PostgreSQL ODBC driver (CUTOVER_TEST_PG_ODBC)")
    return str(value)


@pytest.fixture(scope="session")
def sqlite_odbc_driver() -> str:
    """The unixODBC driver name of the SQLite ODBC driver (Debian libsqliteodbc)."""
    name = os.environ.get("CUTOVER_TEST_SQLITE_ODBC_DRIVER")
    if not name:
        _need("the SQLite ODBC driver (CUTOVER_TEST_SQLITE_ODBC_DRIVER)")
    return str(name)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium. Playwright drives it; it never downloads a browser of its own."""
    path = os.environ.get("CUTOVER_TEST_CHROMIUM", "/usr/bin/chromium")
    if not Path(path).exists() and not shutil.which(path):
        _need(f"Chromium at {path}")
    return path


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI=true a skipped test fails the run: every real-service test must run."""
    if not IN_CI:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped:
        names = ", ".join(getattr(r, "nodeid", "?") for r in skipped[:10])
        if reporter is not None:
            reporter.write_line(
                f"CI=true: {len(skipped)} skipped test(s), forbidden in CI: {names}"
            )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
