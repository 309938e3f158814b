"""Batch fixtures: a control store on SQLite and, marked ``postgres``, on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cutover.batches import ensure_tables
from cutover.control import Principal, Role, ensure_schema


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty control store with the security and batch tables."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'control.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    eng = sa.create_engine(url)
    ensure_schema(eng)
    ensure_tables(eng)
    try:
        yield eng
    finally:
        eng.dispose()


VAL_ECI = Principal("val", Role.VALIDATOR, frozenset({"ECI"}))
VAL_RCI = Principal("val2", Role.VALIDATOR, frozenset({"RCI", "WCI"}))
ENGINEER = Principal("eng", Role.ENGINEER)
VIEWER = Principal("vic", Role.VIEWER)
