"""The ``_row_hash`` the staging engine computes for each transformed row, on both engines: it
changes exactly when a content value changes, and never with the run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from transform_helpers import lineage_columns, rows, stage

from transform import load_project, run_transform
from transform.hashing import sql_row_hash, sqlite_row_hash

PROJECT = """\
project:
  source_system: h
  default_source: h
  version: "1"
  sentinels:
    legacy_date: {"00000000": null, "": null}
  defaults: {date: legacy_date}
"""

MAPPING = """\
tables:
  out:
    from: SRC
    batch: {code: INST}
    columns:
      id: {text: ID}
      label: {text: LBL}
      amount: {int: AMT}
      day: {date: DT}
      years: {fn: regex_int, args: [TERM, {const: '(\\d+)Y'}]}
"""

COLUMNS: dict[str, int | str] = {"ID": 3, "INST": 2, "LBL": 4, "AMT": 3, "DT": 8, "TERM": 6}

ROWS: list[tuple[Any, ...]] = [
    ("001", "S1", "A   ", "005", "20030228", "5Y    "),
    ("002", "S1", "A   ", "005", "20030228", "5Y    "),  # same content as 001 but the id
    ("003", "S1", "    ", "005", "20030228", "5Y    "),  # blank label -> NULL
    ("004", "S1", "5   ", "   ", "20030228", "5Y    "),  # label '5', amount NULL
    ("005", "S1", "A   ", "005", "00000000", "5Y    "),  # date NULL through a sentinel
    ("006", "S1", "A   ", "005", "20030228", "      "),  # function gives NULL
]

TARGET = sa.MetaData()
sa.Table(
    "out",
    TARGET,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("label", sa.Text),
    sa.Column("amount", sa.Integer),
    sa.Column("day", sa.Date),
    sa.Column("years", sa.Integer),
    *lineage_columns(),
)


@pytest.fixture
def mappings(tmp_path: Path) -> Path:
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "project.yaml").write_text(PROJECT, encoding="utf-8")
    (folder / "out.yaml").write_text(MAPPING, encoding="utf-8")
    return folder


def _run(
    staging: sa.Engine, mappings: Path, data: list[tuple[Any, ...]], run_id: str
) -> dict[str, str]:
    stage(staging, "h", "SRC", COLUMNS, data, key=["ID"])
    run_transform(load_project(mappings), staging, TARGET, run_id)
    return {r["id"]: r["_row_hash"] for r in rows(staging, "xf_out")}


def test_every_row_has_a_128_bit_hex_hash_and_content_tells_rows_apart(
    staging: sa.Engine, mappings: Path
) -> None:
    hashes = _run(staging, mappings, ROWS, "run-1")
    assert set(hashes) == {r[0] for r in ROWS}
    assert all(len(h) == 32 and int(h, 16) >= 0 for h in hashes.values())
    # Every row differs from every other in at least one content column (the id at least).
    assert len(set(hashes.values())) == len(ROWS)


def test_a_rerun_keeps_every_hash_and_a_change_moves_only_its_row(
    staging: sa.Engine, mappings: Path
) -> None:
    first = _run(staging, mappings, ROWS, "run-1")
    assert _run(staging, mappings, ROWS, "run-2") == first

    changed = [list(r) for r in ROWS]
    changed[0][4] = "20030301"  # a date
    changed[1][5] = "6Y    "  # a function's argument, so its value
    changed[2][2] = "B   "  # NULL -> text
    changed[3][3] = "000"  # NULL -> 0
    after = _run(staging, mappings, [tuple(r) for r in changed], "run-3")
    moved = {k for k in first if first[k] != after[k]}
    assert moved == {"001", "002", "003", "004"}


def test_sqlite_row_hash_tells_stored_types_apart_and_ignores_object_identity() -> None:
    kinds: list[object] = ["5", 5, 5.0, "", b"5", None, "\udc80"]
    assert len({sqlite_row_hash(kind) for kind in kinds}) == len(kinds)
    assert sqlite_row_hash("a", None) != sqlite_row_hash(None, "a")
    text = "".join(["institution-", "MCIJ"])  # built at run time: a new object each call
    same_object = sqlite_row_hash(text, text)
    equal_objects = sqlite_row_hash(text, "".join(["institution-", "MCIJ"]))
    assert same_object == equal_objects


def _pg_hashes(url: str, rows: list[list[Any]], server_version: tuple[int, ...]) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            hashed = [sql_row_hash(row, "postgresql", server_version) for row in rows]
            return [conn.execute(sa.select(h)).scalar_one() for h in hashed]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgresql_row_hash_tells_types_and_nulls_apart_and_hashes_json_by_its_text(
    pg_url: str,
) -> None:
    def typed(value: Any, kind: Any) -> Any:
        return sa.cast(sa.literal(value) if value is not None else sa.null(), kind)

    rows = [
        [typed("5", sa.Text)],
        [typed(5, sa.Integer)],
        [typed("", sa.Text)],
        [typed(None, sa.Text)],
        [typed("2003-02-28", sa.Date)],
        [typed("2003-03-01", sa.Date)],
        [typed('{"a": 1}', sa.JSON)],  # no hash function for json: hashed as its text
        [typed('{"a": 2}', sa.JSON)],
        [typed("a", sa.Text), typed(None, sa.Text)],
        [typed(None, sa.Text), typed("a", sa.Text)],
    ]
    for version in [(15, 0), (13, 0)]:  # 13: md5 of the row's text, before hash_record_extended
        hashes = _pg_hashes(pg_url, rows, version)
        assert all(len(h) == 32 and int(h, 16) >= 0 for h in hashes)
        # The text form of the older hash spells '5' and 5 alike (a column has one type).
        assert len(set(hashes)) == len(rows) - (version < (14,))
        assert _pg_hashes(pg_url, rows, version) == hashes
    assert _pg_hashes(pg_url, rows[:1], (15, 0)) != _pg_hashes(pg_url, rows[:1], (13, 0))
