"""Fixture builders for the transform tests: staged tables per the staging contract, a small
target MetaData, and the example mapping folder's data."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

EXAMPLE = Path(__file__).parent / "fixtures" / "example"

LINEAGE = ("_run_id", "_source_system", "_source_table", "_source_key", "_mapping_version")


def stage(
    engine: sa.Engine,
    source: str,
    table: str,
    columns: Mapping[str, int | str],
    rows: Sequence[Sequence[Any]],
    key: Sequence[str] = (),
) -> None:
    """Write ``stg_<source>_<table>`` as the extract does: legacy CHAR(n) values padded to n
    (``int`` = width) in TEXT columns, INTEGER columns (``"int"``), plus ``_run_id``,
    ``_src_pos``, ``_src_key`` and ``_row_hash``."""
    meta = sa.MetaData()
    cols: list[sa.Column[Any]] = []
    for name, kind in columns.items():
        cols.append(sa.Column(name, sa.Integer if kind == "int" else sa.Text))
    cols += [
        sa.Column("_run_id", sa.Text),
        sa.Column("_src_pos", sa.BigInteger),
        sa.Column("_src_key", sa.Text),
        sa.Column("_row_hash", sa.Text),
    ]
    t = sa.Table(f"stg_{source}_{table}".lower(), meta, *cols)
    names = list(columns)
    out = []
    for pos, values in enumerate(rows):
        row: dict[str, Any] = {}
        for name, value in zip(names, values, strict=True):
            kind = columns[name]
            row[name] = value if kind == "int" or value is None else str(value).ljust(int(kind))
        raw_key = "|".join(str(row[k]) for k in key) if key else str(pos)
        digest = hashlib.blake2b(json.dumps(list(row.values())).encode(), digest_size=16)
        out.append(
            row
            | {
                "_run_id": "r0",
                "_src_pos": pos,
                "_src_key": raw_key,
                "_row_hash": digest.hexdigest(),
            }
        )
    with engine.begin() as conn:
        t.drop(conn, checkfirst=True)
        t.create(conn)
        if out:
            conn.execute(t.insert(), out)


def lineage_columns() -> list[sa.Column[Any]]:
    return [sa.Column(n, sa.Text) for n in LINEAGE] + [
        sa.Column("_batch", sa.Text, nullable=False),
        sa.Column("_row_hash", sa.Text, nullable=False),
    ]


def example_target() -> sa.MetaData:
    """The target schema the example mapping folder fills."""
    meta = sa.MetaData()
    sa.Table(
        "site",
        meta,
        sa.Column("site_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text),
        sa.Column("region", sa.Text),
        *lineage_columns(),
    )
    sa.Table(
        "person",
        meta,
        sa.Column("person_id", sa.Text, primary_key=True),
        sa.Column("state_id", sa.Text),
        sa.Column("last_name", sa.Text, nullable=False),
        sa.Column("first_name", sa.Text),
        sa.Column("birth_date", sa.Date),
        sa.Column("site_id", sa.Text, sa.ForeignKey("site.site_id")),
        sa.Column("veteran", sa.Boolean),
        sa.Column("display_name", sa.Text),
        sa.Column("name_title", sa.Text),
        *lineage_columns(),
    )
    sa.Table(
        "person_merge",
        meta,
        sa.Column("survivor_person_id", sa.Text, nullable=False),
        sa.Column("merged_person_id", sa.Text, primary_key=True),
        sa.Column("match_rule", sa.Text, nullable=False),
        *lineage_columns(),
    )
    sa.Table(
        "credit",
        meta,
        sa.Column("txn_id", sa.Text, primary_key=True),
        sa.Column("person_id", sa.Text, sa.ForeignKey("person.person_id"), nullable=False),
        sa.Column("credit_month", sa.Date),
        sa.Column("days", sa.Integer),
        sa.Column("kind", sa.Text),
        *lineage_columns(),
    )
    sa.Table(
        "jail_credit",
        meta,
        sa.Column("jail_credit_id", sa.Text, primary_key=True),
        sa.Column("person_id", sa.Text, sa.ForeignKey("person.person_id")),
        sa.Column("days", sa.Integer),
        sa.Column("certificate", sa.Text),
        *lineage_columns(),
    )
    sa.Table(
        "job",
        meta,
        sa.Column("job_id", sa.Text, primary_key=True),
        sa.Column("person_id", sa.Text, sa.ForeignKey("person.person_id")),
        sa.Column("site_id", sa.Text),
        sa.Column("task", sa.Text, nullable=False),
        sa.Column("credit_rate", sa.Integer),
        sa.Column("begin_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date),
        sa.Column("hours", sa.Integer),
        *lineage_columns(),
    )
    sa.Table(
        "user_account",
        meta,
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("employee_no", sa.Text),
        sa.Column("user_name", sa.Text),
        *lineage_columns(),
    )
    sa.Table(
        "user_merge",
        meta,
        sa.Column("survivor_user_id", sa.Text, nullable=False),
        sa.Column("merged_user_id", sa.Text, primary_key=True),
        sa.Column("match_rule", sa.Text, nullable=False),
        *lineage_columns(),
    )
    return meta


#: The example's metadata, for ``--target-models transform_helpers:TARGET``.
TARGET = example_target()


def stage_example(engine: sa.Engine) -> None:
    """The example legacy data: every quirk the engine must handle, a few rows each."""
    stage(
        engine,
        "old",
        "SITE",
        {"SITE_CD": 4, "SITE_NM": 20, "RGN_CD": 2},
        [("S1", "North", "NO"), ("S2", "South", "so"), ("S3", "East", "EA")],
        key=["SITE_CD"],
    )
    stage(
        engine,
        "old",
        "PERSON",
        {
            "PER_ID": 6,
            "STATE_ID": 8,
            "LAST_NM": 12,
            "FRST_NM": 10,
            "BIRTH_DT": 8,
            "SITE_CD": 4,
            "UPD_DT": 8,
            "VET_FLG": 1,
        },
        [
            ("P00001", "A1234567", "SMITH", "JOHN", "19800115", "S1", "20200101", "Y"),
            ("P00002", "A1234567", "SMITH", "JON", "19800115", "S1", "20210101", "N"),
            ("P00003", "B7654321", "O'NEIL", "MARY", "19750230", "S2", "20200101", " "),
            ("P00004", "        ", "DOE", "JANE", "00000000", "S2", "20200101", "N"),
            ("P00005", "C1111111", "DOE-SMITH", "ANN", "19900101", "S2", "20200101", "N"),
            ("P00006", "D2222222", "DOE SMITH", "ANN", "19900101", "s2", "20200101", "N"),
            ("P00007", "E3333333", "ROE", "RAY", "20000229", "S9", "20200101", "N"),
        ],
        key=["PER_ID"],
    )
    stage(
        engine,
        "old",
        "CREDIT",
        {"TXN_ID": 4, "PER_ID": 6, "CR_MO": 6, "CR_DAYS": 3},
        [
            ("T1", "P00001", "202001", "005"),
            ("T2", "P00009", "202001", "005"),
            ("T3", "P00003", "202001", "012"),
            ("T4", "P00006", "202013", "005"),
            ("T5", "P00002", "000000", "   "),
        ],
        key=["TXN_ID"],
    )
    stage(
        engine,
        "old",
        "JAIL",
        {"JCR_ID": 4, "PER_ID": 6, "CR_DAYS": 3, "CERT_NO": 6},
        [
            ("JC1", "P00001", "030", "CERT1"),
            ("JC2", "P00004", "010", "CERT2"),
            ("JC3", "P00005", "007", "CERT3"),
        ],
        key=["JCR_ID"],
    )
    stage(
        engine,
        "docs",
        "DOC_IDX",
        {"DOC_ID": 4, "PER_ID": 6, "DOC_TYP": 10, "JAIL_DAYS": 4, "CERT_NO": 6},
        [
            ("D1", "P00001", "JAIL_CERT", "35", "CERT1"),
            ("D2", "P00004", "JAIL_CERT", "10", "CERT2"),
            ("D3", "P00001", "CMT_ORDER", "", "CERT1"),  # not a jail certificate
        ],
        key=["DOC_ID"],
    )
    stage(
        engine,
        "old",
        "JOB",
        {"JOB_ID": 4, "PER_ID": 6, "SITE_CD": 4, "TASK_CD": 6, "BGN_DT": 8, "END_DT": 8, "HRS": 3},
        [
            ("J1", "P00001", "S1", "PNT1", "20200101", "99999999", "008"),
            ("J2", "P00002", "S1", " pnt1", "20200201", "20200301", "010"),
            ("J3", "P00004", "S2", "PAINT", "20200301", "00000000", "010"),
            ("J4", "P00005", "S2", "UNK9", "20200301", "        ", "010"),
            ("J5", "P00005", "S2", "PAINT", "20100101", "20100301", "0A5"),
            ("J6", "P00004", "S3", "COOK1", "20200101", "20200229", "004"),
        ],
        key=["JOB_ID"],
    )
    stage(
        engine,
        "old",
        "USR",
        {"USR_ID": 4, "EMP_NO": 4, "USR_NM": 10, "UPD_DT": 8},
        [
            ("U1", "E001", "jsmith", "20190101"),
            ("U2", "E001", "jsmith2", "20220101"),
            ("U3", "E002", "mdoe", "20200101"),
        ],
        key=["USR_ID"],
    )


def copy_example(dest: Path) -> Path:
    """A writable copy of the example mapping folder."""
    shutil.copytree(EXAMPLE, dest)
    return dest


def rows(engine: sa.Engine, table: str, order: str | None = None) -> list[dict[str, Any]]:
    meta = sa.MetaData()
    t = sa.Table(table, meta, autoload_with=engine)
    query = sa.select(t)
    if order:
        query = query.order_by(t.c[order])
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def run_one_mapping(
    staging: sa.Engine,
    folder: Path,
    project_yaml: str,
    mapping_yaml: str,
    columns: Sequence[sa.Column[Any]],
    run_id: str,
) -> None:
    """Write a mapping folder of one table ``out`` (``columns`` plus the lineage columns) and
    run the transform of it."""
    from transform import load_project, run_transform  # noqa: PLC0415 - the code under test

    folder.mkdir()
    (folder / "project.yaml").write_text(project_yaml, encoding="utf-8")
    (folder / "out.yaml").write_text(mapping_yaml, encoding="utf-8")
    target = sa.MetaData()
    sa.Table("out", target, *columns, *lineage_columns())
    run_transform(load_project(folder), staging, target, run_id)


def node_mappings(folder: Path, *, born: bool = False) -> sa.MetaData:
    """Mappings in ``folder`` for ``node`` (a foreign key to its own table) from staged
    ``NODE``, with a required date ``born`` when asked (``00000000`` is no date); the target."""
    folder.mkdir()
    sentinels = (
        "  sentinels: {no_date: {'00000000': null}}, defaults: {date: no_date}" if born else ""
    )
    (folder / "project.yaml").write_text(
        f"project: {{source_system: t, default_source: t, version: '1',\n{sentinels}}}\n",
        encoding="utf-8",
    )
    (folder / "nodes.yaml").write_text(
        "tables:\n  node:\n    from: NODE\n    columns:\n      id: {text: ID}\n"
        "      parent_id: {text: PARENT}\n" + ("      born: {date: BORN}\n" if born else ""),
        encoding="utf-8",
    )
    target = sa.MetaData()
    sa.Table(
        "node",
        target,
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("parent_id", sa.Text, sa.ForeignKey("node.id")),
        *([sa.Column("born", sa.Date, nullable=False)] if born else []),
        *lineage_columns(),
    )
    return target
