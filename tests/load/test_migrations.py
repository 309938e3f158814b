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

from cutover.errors import LoadError
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


def _definition(url: str, table: str, constraint: str) -> str:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                query = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"
                return str(conn.execute(sa.text(query), {"t": table}).scalar_one())
            query = (
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conname = :c AND conrelid = to_regclass(:t)"
            )
            return str(conn.execute(sa.text(query), {"c": constraint, "t": table}).scalar_one())
    finally:
        engine.dispose()


def _listed(definition: str) -> bool:
    """Whether a check compares with a list (PostgreSQL shows ``IN (...)`` as ``= ANY (...)``)."""
    return "IN (" in definition or "ANY (" in definition


def test_code_checks_become_equalities_keeping_rows_and_refusing_what_they_refused(
    empty_url: str,
) -> None:
    """0002 rewrites ``credit_type IN (...)`` as equalities joined by OR (SQLite builds an index
    of an IN list for every row it checks); rows already loaded stay, the same codes are
    refused before, after and back down."""
    migrate.upgrade(empty_url, "0001")
    engine = create_target_engine(empty_url)
    tables = Base.metadata.tables
    with engine.begin() as conn:
        conn.execute(tables["institution"].insert(), {**INSTITUTION, **LINEAGE})
        conn.execute(tables["person"].insert(), {**PERSON, **LINEAGE})
    engine.dispose()
    assert _listed(_definition(empty_url, "credit_transaction", "ck_credit_transaction_type"))

    def refuses(status: str) -> bool:
        engine = create_target_engine(empty_url)
        try:
            with engine.begin() as conn:
                row = {**PERSON, **LINEAGE, "person_id": f"P-{status}", "status_code": status}
                conn.execute(tables["person"].insert(), row)
                conn.rollback()
        except sa.exc.IntegrityError:
            return True
        finally:
            engine.dispose()
        return False

    assert refuses("XX")
    assert not refuses("MS")
    migrate.upgrade(empty_url)
    assert migrate.current(empty_url) == migrate.head()
    definition = _definition(empty_url, "credit_transaction", "ck_credit_transaction_type")
    assert not _listed(definition)
    assert "credit_type = 'GC'" in definition or "credit_type = 'GC'::text" in definition
    assert refuses("XX")
    assert refuses("ms")
    assert not refuses("PA")
    engine = sa.create_engine(empty_url)
    with engine.connect() as conn:
        people = conn.execute(sa.select(sa.func.count()).select_from(tables["person"])).scalar()
    engine.dispose()
    assert people == 1
    migrate.downgrade(empty_url, "0001")
    assert _listed(_definition(empty_url, "person", "ck_person_status"))
    assert refuses("XX")
    assert not refuses("EX")


def test_sqlite_target_checks_no_code_against_a_list(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'target.db'}"
    migrate.upgrade(url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        listed = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '% IN (%'"
        ).all()
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    engine.dispose()
    assert listed == []


def test_a_code_check_changed_by_hand_stops_the_sqlite_migration_naming_it(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'target.db'}"
    migrate.upgrade(url, "0001")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE revocation")
        conn.exec_driver_sql(
            "CREATE TABLE revocation (credit_type TEXT, "
            "CONSTRAINT ck_revocation_type CHECK (credit_type IN ('RG')))"
        )
    engine.dispose()
    with pytest.raises(LoadError, match=r"revocation.*ck_revocation_type"):
        migrate.upgrade(url)
    assert migrate.current(url) == "0001"
    assert "IN ('GC', 'WT'" in _definition(url, "credit_transaction", "")


def test_models_and_migrations_declare_the_same_checks(tmp_path: Path) -> None:
    """Alembic's comparison leaves CHECK constraints out: compare their SQLite text here."""
    url = f"sqlite:///{tmp_path / 'target.db'}"
    migrate.upgrade(url)
    engine = sa.create_engine(url)
    inspector = sa.inspect(engine)
    for table in Base.metadata.sorted_tables:
        declared = {
            (str(c.name), str(c.sqltext))
            for c in table.constraints
            if isinstance(c, sa.CheckConstraint)
        }
        migrated = {(c["name"], c["sqltext"]) for c in inspector.get_check_constraints(table.name)}
        assert migrated == declared, table.name
    engine.dispose()
