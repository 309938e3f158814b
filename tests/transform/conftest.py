"""Fixtures of the transform tests: a staging engine on SQLite and, marked, on PostgreSQL."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import structlog

from tests.pg_databases import fresh_pg_database

# pytest puts tests/ on sys.path (it holds the root conftest), where this folder would pass for
# the ``transform`` package as a namespace package; with the repository root on sys.path the
# real package wins, since a regular package always takes precedence over a namespace portion.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """A command run through CliRunner configures logging onto a stream it then closes."""
    yield
    structlog.reset_defaults()


@pytest.fixture
def sqlite_staging(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'staging.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def pg_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """One PostgreSQL database per test module (a test gets its own schema in it)."""
    server = request.getfixturevalue("pg_server_url")
    with fresh_pg_database(server, "t_xf") as url:
        yield url


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def staging(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """A fresh, empty staging database: SQLite, and PostgreSQL (a new schema, first on the
    search path, in a database shared by the module)."""
    if request.param == "sqlite":
        engine = sqlite_engine(tmp_path / "staging.db")
        yield engine
        engine.dispose()
        return
    engine = pg_engine(request.getfixturevalue("pg_database"))
    yield engine
    engine.dispose()


def sqlite_engine(path: Path) -> sa.Engine:
    """A SQLite staging engine; tests skip the fsync of every commit (nothing to recover)."""
    engine = sa.create_engine(f"sqlite:///{path}")

    @sa.event.listens_for(engine, "connect")
    def _no_sync(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA synchronous=OFF")

    return engine


def pg_engine(url: str) -> sa.Engine:
    """An engine on a new, empty schema (first on the search path) of the database ``url``."""
    schema = f"s_{uuid.uuid4().hex[:10]}"
    maker = sa.create_engine(url)
    with maker.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    maker.dispose()
    return sa.create_engine(url, connect_args={"options": f"-csearch_path={schema}"})


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ],
)
def module_staging(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sa.Engine]:
    """Like ``staging``, shared by the tests of a module that only read what it holds."""
    if request.param == "sqlite":
        engine = sqlite_engine(tmp_path_factory.mktemp("staging") / "staging.db")
    else:
        engine = pg_engine(request.getfixturevalue("pg_database"))
    yield engine
    engine.dispose()
