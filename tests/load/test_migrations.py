"""The target schema is built and removed only by its migrations, on both engines."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from load import migrate
from load.engine import create_target_engine
from load.models import Base
from load.tables import load_order

ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
LOAD_DIR = Path(__file__).resolve().parents[2] / "load"


@pytest.fixture(params=ENGINES)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return str(request.getfixturevalue("pg_url"))


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_head_then_downgrade_base_on_an_empty_database(empty_url: str) -> None:
    assert migrate.current(empty_url) is None
    migrate.upgrade(empty_url)
    assert migrate.current(empty_url) == migrate.head()
    assert {t.name for t in load_order()} <= _tables(empty_url)
    migrate.downgrade(empty_url)
    assert migrate.current(empty_url) is None
    assert _tables(empty_url) <= {"alembic_version"}


def test_models_and_migrations_agree(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    engine = create_target_engine(empty_url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    engine.dispose()
    assert diff == []


def test_alembic_command_line_runs_the_packaged_migrations(empty_url: str) -> None:
    env = {**os.environ, "CUTOVER_TARGET_URL": empty_url}
    alembic = [sys.executable, "-m", "alembic", "-c", str(LOAD_DIR / "alembic.ini")]
    subprocess.run([*alembic, "upgrade", "head"], env=env, check=True, capture_output=True)
    assert "person" in _tables(empty_url)
    subprocess.run([*alembic, "downgrade", "base"], env=env, check=True, capture_output=True)
    assert _tables(empty_url) <= {"alembic_version"}


@pytest.fixture(scope="module", params=ENGINES)
def constrained_target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sa.Engine]:
    """One migrated target per engine holding an institution and a person; every case's
    insert fails and is rolled back, so the cases share it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('constraints') / 'target.db'}"
        admin = None
    else:
        server = str(request.getfixturevalue("pg_server_url"))
        name = f"t_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = f"{server.rpartition('/')[0]}/{name}"
    migrate.upgrade(url)
    engine = create_target_engine(url)
    with engine.begin() as conn:
        conn.execute(Base.metadata.tables["institution"].insert(), {**INSTITUTION, **LINEAGE})
        conn.execute(Base.metadata.tables["person"].insert(), {**PERSON, **LINEAGE})
    yield engine
    engine.dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


LINEAGE = {
    "_run_id": "r",
    "_source_system": "obscis",
    "_source_table": "T",
    "_source_key": "k",
    "_mapping_version": "1",
    "_batch": "ECI",
    "_row_hash": "h",
}
INSTITUTION = {"institution_id": "ECI", "name": "Eastern", "region_code": "ES", "active": True}
PERSON = {"person_id": "P1", "last_name": "Doe", "status_code": "IN"}
COMMITMENT = {
    "commitment_id": "C1",
    "person_id": "P1",
    "offense_class": "V",
    "sentence_begin_date": date(2010, 1, 1),
    "term_years": 5,
    "term_months": 0,
    "term_days": 0,
    "life_sentence": False,
    "committed_on": date(2010, 1, 1),
}


@pytest.mark.parametrize(
    ("table", "row"),
    [
        pytest.param("person", {**PERSON, "status_code": "XX"}, id="unknown-status-code"),
        pytest.param("commitment", {**COMMITMENT, "offense_class": "v"}, id="offense-class-case"),
        pytest.param("commitment", {**COMMITMENT, "person_id": "NOPE"}, id="orphan-commitment"),
        pytest.param("commitment", {**COMMITMENT, "term_days": -1}, id="negative-term"),
        pytest.param(
            "commitment",
            {**COMMITMENT, "consecutive_to_commitment_id": "C1"},
            id="consecutive-to-itself",
        ),
        pytest.param(
            "segregation",
            {
                "segregation_id": "S1",
                "person_id": "P1",
                "segregation_type": "DS",
                "begin_date": date(2010, 2, 1),
                "end_date": date(2010, 1, 1),
            },
            id="segregation-ends-before-it-begins",
        ),
        pytest.param(
            "assignment",
            {
                "assignment_id": "A1",
                "person_id": "P1",
                "institution_id": "ECI",
                "task_code": "UNKNOWN",
                "assignment_type": "W",
                "begin_date": date(2010, 1, 1),
            },
            id="assignment-to-unknown-task",
        ),
        pytest.param("person", {**PERSON, "person_id": "P2", "_batch": None}, id="missing-lineage"),
    ],
)
def test_target_enforces_what_the_legacy_never_did(
    constrained_target: sa.Engine, table: str, row: dict[str, Any]
) -> None:
    with pytest.raises(sa.exc.IntegrityError), constrained_target.begin() as conn:
        conn.execute(Base.metadata.tables[table].insert(), {**LINEAGE, **row})
