"""Control-store fixtures: the same tests run on SQLite and, marked ``postgres``, on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from cutover.control import ensure_schema
from cutover.control.store import metadata
from tests.pg_databases import fresh_pg_database


@pytest.fixture(scope="session")
def shared_pg_url(pg_server_url: str) -> Iterator[str]:
    """One PostgreSQL database for this folder's tests; each test starts from empty tables."""
    with fresh_pg_database(pg_server_url, "t_control") as url:
        yield url


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def control_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The control database's URL, on SQLite and on PostgreSQL, with no table in it."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'control.db'}"
    url: str = request.getfixturevalue("shared_pg_url")
    engine = sa.create_engine(url)
    try:
        metadata.drop_all(engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture
def engine(control_url: str) -> Iterator[Engine]:
    eng = sa.create_engine(control_url)
    ensure_schema(eng)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture(scope="session")
def fast_hasher() -> PasswordHasher:
    """Cheap argon2 parameters for tests that hash many passwords (the defaults have their own)."""
    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
