"""Small transform outputs built by hand, and target databases of both kinds.

The staging side is what the transform stage writes (contract "Transform output"): ``xf_``
tables with the target's columns, ``xf__accounting`` and ``xf__quarantine``, beside the staged
legacy tables ``stg_obscis_*`` the lineage points to.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from load import migrate
from load.tables import create_xf_tables, load_order, xf_table
from tests.pg_databases import fresh_pg_database

SYSTEM = "obscis"
#: Merge-record tables and the master table whose accounting counts their rows as merged.
MERGE_TABLES = {"person_merge": "person", "user_merge": "app_user"}


def row_hash(row: dict[str, Any]) -> str:
    content = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()}
    content.pop("_run_id", None)
    content.pop("_row_hash", None)
    text = json.dumps(content, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _lineage(source_table: str, key: str, batch: str) -> dict[str, Any]:
    return {
        "_run_id": "run-1",
        "_source_system": SYSTEM,
        "_source_table": source_table,
        "_source_key": key,
        "_mapping_version": "m1",
        "_batch": batch,
    }


@dataclass
class Dataset:
    """Target rows per table (``xf_`` content), quarantined rows and staged legacy rows."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    quarantine: list[dict[str, Any]] = field(default_factory=list)

    def add(self, table: str, source_table: str, key: str, batch: str, **values: Any) -> None:
        self.tables[table].append({**values, **_lineage(source_table, key, batch)})

    def rows(self, table: str) -> list[dict[str, Any]]:
        return self.tables[table]

    def find(self, table: str, **match: Any) -> dict[str, Any]:
        (row,) = [r for r in self.tables[table] if all(r[k] == v for k, v in match.items())]
        return row

    def new_run(self, run_id: str) -> None:
        for rows in self.tables.values():
            for row in rows:
                row["_run_id"] = run_id

    def staged_legacy(self) -> dict[str, dict[str, dict[str, Any]]]:
        """One staged legacy row per source key any xf row or quarantine entry names."""
        out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for rows in self.tables.values():
            for row in rows:
                out[row["_source_table"]][row["_source_key"]] = {"OFF_ID": row["_source_key"]}
        for q in self.quarantine:
            out[q["source_table"]][q["source_key"]] = {"OFF_ID": q["source_key"]}
        return out


def build_dataset(institutions: tuple[str, ...] = ("ECI", "MCIH"), people: int = 3) -> Dataset:
    ds = Dataset()
    g = "_GLOBAL"
    ds.add(
        "canonical_task",
        "INST_TSK",
        "PAINTER",
        g,
        canonical_task_id="PAINTER",
        description="Painter",
        assignment_type="W",
    )
    for n, inst in enumerate(institutions):
        ds.add(
            "institution",
            "INST",
            inst,
            g,
            institution_id=inst,
            name=f"Institution {inst}",
            region_code="HG",
            active=True,
        )
        ds.add(
            "institution_task",
            "INST_TSK",
            f"{inst}|PNT{n}",
            g,
            institution_id=inst,
            task_code=f"PNT{n}",
            canonical_task_id="PAINTER",
            description="painter",
            assignment_type="W",
        )
        ds.add(
            "task_rate",
            "INST_TSK",
            f"{inst}|PNT{n}",
            g,
            institution_id=inst,
            task_code=f"PNT{n}",
            effective_date=date(1990, 1, 1),
            monthly_rate=10 - 5 * (n % 2),
        )
        for i in range(people):
            pid = f"{n + 1:04d}{i:05d}"
            ds.add(
                "person",
                "OFFNDR",
                pid,
                inst,
                person_id=pid,
                state_id=f"S{pid[-7:]}",
                last_name=f"Doe{i}",
                first_name="Jan",
                middle_initial=None,
                birth_date=date(1970, 1, 1) + timedelta(days=i),
                sex_code="M",
                race_code="W",
                current_institution_id=inst,
                status_code="IN",
                last_updated_on=None,
                last_updated_by=None,
            )
            for c in (1, 2):
                cid = f"C{pid}{c}"
                ds.add(
                    "commitment",
                    "CMT",
                    cid,
                    inst,
                    commitment_id=cid,
                    person_id=pid,
                    docket_no=None,
                    county_code="03",
                    offense_code="X",
                    offense_class="N",
                    sentenced_on=date(2010, 1, 1),
                    sentence_begin_date=date(2010, 1, c),
                    term_years=5,
                    term_months=0,
                    term_days=0,
                    life_sentence=False,
                    consecutive_to_commitment_id=f"C{pid}1" if c == 2 else None,
                    committed_on=date(2010, 2, 1),
                )
            for m in (1, 2, 3):
                tid = f"T{pid}{m}"
                ds.add(
                    "credit_transaction",
                    "CR_TXN",
                    tid,
                    inst,
                    txn_id=tid,
                    person_id=pid,
                    commitment_id=f"C{pid}1",
                    credit_type="GC",
                    credit_month=date(2011, m, 1),
                    days=10,
                    institution_id=inst,
                    task_code=None,
                    entered_by="U1",
                    entered_on=date(2010, 2, 1),
                )
            ds.quarantine.append(
                {
                    "run_id": "run-1",
                    "target_table": "credit_transaction",
                    "source_table": "CR_TXN",
                    "source_key": f"Q{pid}",
                    "batch": inst,
                    "rule": "ORPHAN",
                    "column_name": "OFF_ID",
                    "value": "x",
                    "message": "orphan",
                }
            )
        dup = f"9{n + 1:03d}00000"
        ds.add(
            "person_merge",
            "OFFNDR",
            dup,
            inst,
            merged_key=dup,
            survivor_person_id=f"{n + 1:04d}00000",
            rule="SAME_SID_DOB",
            merge_run_id="run-1",
        )
    return ds


def _accounting(ds: Dataset) -> list[dict[str, Any]]:
    """Accounting as the transform writes it: per target table, legacy table and batch."""
    loaded: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    merged: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    quarantined: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for table, rows in ds.tables.items():
        for row in rows:
            if table in MERGE_TABLES:
                key = (MERGE_TABLES[table], row["_source_table"], row["_batch"])
                merged[key].add(row["_source_key"])
            else:
                loaded[(table, row["_source_table"], row["_batch"])].add(row["_source_key"])
    for q in ds.quarantine:
        quarantined[(q["target_table"], q["source_table"], q["batch"])].add(q["source_key"])
    out = []
    for key in sorted(set(loaded) | set(merged) | set(quarantined)):
        lo = len(loaded[key] - merged[key])
        me, qu = len(merged[key]), len(quarantined[key])
        out.append(
            {
                "run_id": "run-1",
                "target_table": key[0],
                "source_table": key[1],
                "batch": key[2],
                "source_rows": lo + me + qu,
                "loaded": lo,
                "merged": me,
                "quarantined": qu,
            }
        )
    return out


def write_staging(url: str, ds: Dataset) -> None:
    """Replace the staging database's transform output and staged legacy tables with ``ds``."""
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    meta.reflect(engine)
    meta.drop_all(engine)
    tables = [t for t in load_order() if ds.tables.get(t.name)]
    create_xf_tables(engine, tables)
    extra = sa.MetaData()
    acc = sa.Table(
        "xf__accounting",
        extra,
        *(sa.Column(c, sa.Text) for c in ("run_id", "target_table", "source_table", "batch")),
        *(sa.Column(c, sa.Integer) for c in ("source_rows", "loaded", "merged", "quarantined")),
    )
    qua = sa.Table(
        "xf__quarantine",
        extra,
        *(
            sa.Column(c, sa.Text)
            for c in (
                "run_id",
                "target_table",
                "source_table",
                "source_key",
                "batch",
                "rule",
                "column_name",
                "value",
                "message",
            )
        ),
    )
    staged = {
        name: sa.Table(
            f"stg_{SYSTEM}_{name.lower()}",
            extra,
            sa.Column("OFF_ID", sa.Text),
            sa.Column("LAST_NM", sa.Text),
            sa.Column("_run_id", sa.Text),
            sa.Column("_src_pos", sa.BigInteger),
            sa.Column("_src_key", sa.Text),
            sa.Column("_row_hash", sa.Text),
        )
        for name in ds.staged_legacy()
    }
    extra.create_all(engine)
    xf_meta = sa.MetaData()
    with engine.begin() as conn:
        for table in tables:
            for r in ds.tables[table.name]:
                r["_row_hash"] = row_hash(r)
            conn.execute(xf_table(table, xf_meta).insert(), ds.tables[table.name])
        conn.execute(acc.insert(), _accounting(ds))
        if ds.quarantine:
            conn.execute(qua.insert(), ds.quarantine)
        for name, rows_by_key in ds.staged_legacy().items():
            conn.execute(
                staged[name].insert(),
                [
                    {
                        **v,
                        "LAST_NM": "Secretname",
                        "_run_id": "run-1",
                        "_src_pos": pos,
                        "_src_key": k,
                        "_row_hash": "h",
                    }
                    for pos, (k, v) in enumerate(sorted(rows_by_key.items()))
                ],
            )
    engine.dispose()


def count_rows(url: str, sql: str) -> int:
    """The single number ``sql`` (a ``SELECT count(*) ...``) gives on the database at ``url``."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.exec_driver_sql(sql).scalar_one())
    finally:
        engine.dispose()


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every target row of every table, in key order."""
    engine = sa.create_engine(url)
    out = {}
    with engine.connect() as conn:
        for table in load_order():
            keys = list(table.primary_key.columns)
            out[table.name] = [tuple(r) for r in conn.execute(sa.select(table).order_by(*keys))]
    engine.dispose()
    return out


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty target database at the newest schema, SQLite or PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'target.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    migrate.upgrade(url)
    return url


@pytest.fixture
def staging_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'staging.db'}"


@pytest.fixture
def dataset() -> Dataset:
    return build_dataset()


@pytest.fixture
def pg_staging_url(pg_server_url: str) -> Iterator[str]:
    """A second fresh PostgreSQL database, for staging beside a PostgreSQL target."""
    with fresh_pg_database(pg_server_url, "s") as url:
        yield url
