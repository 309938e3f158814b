"""``unpivot:``: one source row, one target row per entry of ``rows``; the source row is the unit
of the accounting (loaded whole, quarantined whole, or filtered when no entry is kept)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from transform_helpers import lineage_columns, stage

from cutover.errors import MappingError
from transform import TableAccount, load_project, run_transform

PROJECT = """\
project:
  source_system: old
  default_source: old
  version: "1"
  sentinels:
    d: {"": null, "00000000": null}
  defaults: {date: d}
"""

MAPPINGS = """\
tables:
  person:
    from: PERSON
    batch: {code: SITE_CD}
    columns:
      person_id: {text: PER_ID}
  infraction:
    from: {table: INFR, as: i}
    join:
      - {table: PERSON, as: p, on: {i.PER_ID: p.PER_ID}}
    batch: {code: p.SITE_CD}
    columns:
      infraction_id: {text: i.INFR_ID}
      person_id: {text: i.PER_ID}
  revocation:
    from: {table: INFR, as: i}
    join:
      - {table: PERSON, as: p, on: {i.PER_ID: p.PER_ID}}
    unpivot:
      as: r
      rows:
        - {kind: {const: RG}, days: i.GC_DAYS}
        - {kind: {const: RS}, days: i.SP_DAYS}
    where: {ne: [{text: r.days}, {const: "000"}]}
    batch: {code: p.SITE_CD}
    columns:
      infraction_id: {text: i.INFR_ID}
      credit_type: r.kind
      days: {int: r.days}
      heard_on: {date: i.HRG_DT, on_invalid: null}
"""


def _target() -> sa.MetaData:
    meta = sa.MetaData()
    sa.Table(
        "person",
        meta,
        sa.Column("person_id", sa.Text, primary_key=True),
        *lineage_columns(),
    )
    sa.Table(
        "infraction",
        meta,
        sa.Column("infraction_id", sa.Text, primary_key=True),
        sa.Column("person_id", sa.Text, sa.ForeignKey("person.person_id"), nullable=False),
        *lineage_columns(),
    )
    sa.Table(
        "revocation",
        meta,
        sa.Column(
            "infraction_id", sa.Text, sa.ForeignKey("infraction.infraction_id"), primary_key=True
        ),
        sa.Column("credit_type", sa.Text, primary_key=True),
        sa.Column("days", sa.Integer, nullable=False),
        sa.Column("heard_on", sa.Date),
        *lineage_columns(),
    )
    return meta


def _folder(tmp_path: Path, mappings: str = MAPPINGS) -> Path:
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "project.yaml").write_text(PROJECT)
    (folder / "all.yaml").write_text(mappings)
    return folder


def _stage(engine: sa.Engine) -> None:
    stage(engine, "old", "PERSON", {"PER_ID": 2, "SITE_CD": 2}, [("P1", "S1"), ("P2", "S2")])
    stage(
        engine,
        "old",
        "INFR",
        {"INFR_ID": 2, "PER_ID": 2, "GC_DAYS": 3, "SP_DAYS": 3, "HRG_DT": 8},
        [
            ("I1", "P1", "005", "002", "20070101"),  # both kinds
            ("I2", "P1", "003", "000", "20070101"),  # good conduct only
            ("I3", "P1", "000", "000", "20070101"),  # revokes nothing: filtered
            ("I4", "P2", "004", "0x5", "20070631"),  # RS days unreadable: quarantined whole
            ("I5", "P9", "001", "001", "20070101"),  # orphan: both rows fail the same way
        ],
        key=["INFR_ID"],
    )


def _rows(engine: sa.Engine, sql: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(sql)).mappings()]


def _account(result: Any, table: str) -> TableAccount:
    account: TableAccount = next(t.account for t in result.tables if t.name == table)
    return account


def test_each_source_row_yields_one_target_row_per_kept_entry(
    staging: sa.Engine, tmp_path: Path
) -> None:
    _stage(staging)
    result = run_transform(load_project(_folder(tmp_path)), staging, _target(), "r1")
    rows = _rows(
        staging,
        "SELECT infraction_id, credit_type, days, heard_on, _source_table, _source_key, _batch "
        "FROM xf_revocation ORDER BY infraction_id, credit_type",
    )
    assert [(r["infraction_id"], r["credit_type"], r["days"]) for r in rows] == [
        ("I1", "RG", 5),
        ("I1", "RS", 2),
        ("I2", "RG", 3),
    ]
    # Every target row traces to its legacy row (the staged key), in the source row's batch.
    assert {(r["_source_table"], r["_source_key"], r["_batch"]) for r in rows} == {
        ("INFR", "I1", "S1"),
        ("INFR", "I2", "S1"),
    }
    account = _account(result, "revocation")
    assert (
        account.source_rows,
        account.loaded,
        account.merged,
        account.quarantined,
        account.filtered,
    ) == (4, 2, 0, 2, 1)


def test_a_source_row_with_a_failing_entry_is_quarantined_whole(
    staging: sa.Engine, tmp_path: Path
) -> None:
    _stage(staging)
    run_transform(load_project(_folder(tmp_path)), staging, _target(), "r1")
    loaded = {r["infraction_id"] for r in _rows(staging, "SELECT * FROM xf_revocation")}
    assert "I4" not in loaded  # its RG entry passed every check, but the row is one unit
    quarantined = _rows(
        staging,
        "SELECT source_key, rule, column_name, value FROM xf__quarantine "
        "WHERE target_table = 'revocation' ORDER BY source_key",
    )
    # The orphan's two target rows failed identically: recorded once.
    assert quarantined == [
        {"source_key": "I4", "rule": "invalid_number", "column_name": "days", "value": "0x5"},
        {"source_key": "I5", "rule": "orphan", "column_name": "infraction_id", "value": "I5"},
    ]
    # The impossible hearing date of I4's RG entry was repaired, but nothing of I4 is loaded.
    assert _rows(staging, "SELECT * FROM xf__repair WHERE target_table = 'revocation'") == []


def test_the_accounting_balances_per_batch(staging: sa.Engine, tmp_path: Path) -> None:
    _stage(staging)
    run_transform(load_project(_folder(tmp_path)), staging, _target(), "r1")
    lines = _rows(
        staging,
        "SELECT batch, source_rows, loaded, merged, quarantined, filtered FROM xf__accounting "
        "WHERE target_table = 'revocation' ORDER BY batch",
    )
    assert lines == [
        {
            "batch": "S1",
            "source_rows": 2,
            "loaded": 2,
            "merged": 0,
            "quarantined": 0,
            "filtered": 1,
        },
        {
            "batch": "S2",
            "source_rows": 1,
            "loaded": 0,
            "merged": 0,
            "quarantined": 1,
            "filtered": 0,
        },
        {
            "batch": "_UNASSIGNED",
            "source_rows": 1,
            "loaded": 0,
            "merged": 0,
            "quarantined": 1,
            "filtered": 0,
        },
    ]


def test_fixing_the_source_takes_the_row_out_of_quarantine(
    sqlite_staging: sa.Engine, tmp_path: Path
) -> None:
    _stage(sqlite_staging)
    project = load_project(_folder(tmp_path))
    run_transform(project, sqlite_staging, _target(), "r1")
    with sqlite_staging.begin() as conn:
        conn.execute(sa.text("UPDATE stg_old_infr SET SP_DAYS = '005' WHERE INFR_ID = 'I4'"))
    result = run_transform(project, sqlite_staging, _target(), "r2")
    rows = _rows(sqlite_staging, "SELECT * FROM xf_revocation WHERE infraction_id = 'I4'")
    assert sorted((r["credit_type"], r["days"], r["heard_on"]) for r in rows) == [
        ("RG", 4, None),
        ("RS", 5, None),
    ]
    repairs = _rows(
        sqlite_staging,
        "SELECT source_key, column_name FROM xf__repair WHERE target_table = 'revocation'",
    )
    # One repaired cell per loaded target row that holds it.
    assert repairs == [{"source_key": "I4", "column_name": "heard_on"}] * 2
    account = _account(result, "revocation")
    assert (account.loaded, account.quarantined) == (3, 1)


def test_an_unpivot_reads_any_number_of_entries(sqlite_staging: sa.Engine, tmp_path: Path) -> None:
    one = MAPPINGS.replace("        - {kind: {const: RS}, days: i.SP_DAYS}\n", "").replace(
        'where: {ne: [{text: r.days}, {const: "000"}]}', "where: {not_null: r.days}"
    )
    _stage(sqlite_staging)
    result = run_transform(load_project(_folder(tmp_path, one)), sqlite_staging, _target(), "r1")
    kinds = {r["credit_type"] for r in _rows(sqlite_staging, "SELECT * FROM xf_revocation")}
    assert kinds == {"RG"}
    account = _account(result, "revocation")
    assert (account.source_rows, account.loaded, account.quarantined) == (5, 4, 1)


BROKEN = """\
tables:
  revocation:
    from: {table: INFR, as: i}
    join:
      - {table: PERSON, as: r, on: {i.PER_ID: r.PER_ID}}
    unpivot:
      as: r
      rows:
        - {kind: {const: RG}, days: i.GC_DAYS}
        - {kind: 5, days: i.SP_DAYS}
    where: {ne: [{text: r.dayz}, {const: "000"}]}
    batch: {code: r.kind}
    columns:
      infraction_id: {text: i.INFR_ID}
      credit_type: r.kind
      days: {int: r.days}
      heard_on: {date: i.HRG_DT}
  person:
    from: PERSON
    unpivot:
      as: u
      row:
        - {x: PER_ID}
    columns:
      person_id: {text: PER_ID}
  infraction:
    from: INFR
    unpivot:
      as: u
      rows:
        - {x: PER_ID}
        - {y: PER_ID}
    columns:
      infraction_id: {text: INFR_ID}
      person_id: {text: PER_ID}
"""


def _line(text: str, needle: str, start: int = 1) -> int:
    lines = text.splitlines()
    return next(n for n in range(start, len(lines) + 1) if needle in lines[n - 1])


def test_every_unpivot_problem_is_reported_at_once_with_file_and_line(
    sqlite_staging: sa.Engine, tmp_path: Path
) -> None:
    _stage(sqlite_staging)
    folder = _folder(tmp_path, BROKEN)
    with pytest.raises(MappingError) as caught:
        run_transform(load_project(folder, collect=True), sqlite_staging, _target(), "r1")
    problems = caught.value.problems
    at = f"{folder / 'all.yaml'}:"
    expected = [
        (_line(BROKEN, "row:"), r"unknown key 'row'.*did you mean rows"),
        (_line(BROKEN, "- {y: PER_ID}"), r"every row names the same fields \(x\)"),
        (_line(BROKEN, "where:"), r"unknown field 'dayz' of unpivot r.*did you mean days"),
        (_line(BROKEN, "batch:"), "batch must not read the fields of unpivot r"),
        (_line(BROKEN, "unpivot:"), "alias 'r' is also a table's"),
        (_line(BROKEN, "credit_type: r.kind"), "give field 'kind' different types"),
    ]
    for line, message in expected:
        assert any(p.startswith(f"{at}{line}") and re.search(message, p) for p in problems), (
            line,
            message,
            problems,
        )


def test_a_merged_duplicates_target_rows_are_counted_as_one_merged_row(
    sqlite_staging: sa.Engine, tmp_path: Path
) -> None:
    mappings = """\
tables:
  contact:
    from: PERSON
    dedupe: person
    unpivot:
      as: c
      rows:
        - {kind: {const: HOME}, phone: HOME_PH}
        - {kind: {const: WORK}, phone: WORK_PH}
    where: {not_null: {text: c.phone}}
    columns:
      person_id: {text: PER_ID}
      kind: c.kind
      phone: {text: c.phone}
duplicates:
  person:
    table: PERSON
    key: PER_ID
    match:
      - name: same_state_id
        columns: [{text: STATE_ID}]
    survivor: {rule: lowest_key}
    record:
      table: person_merge
      columns: {merged_key: merged, survivor_person_id: survivor}
"""
    meta = sa.MetaData()
    sa.Table(
        "contact",
        meta,
        sa.Column("person_id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, primary_key=True),
        sa.Column("phone", sa.Text),
        *lineage_columns(),
    )
    sa.Table(
        "person_merge",
        meta,
        sa.Column("merged_key", sa.Text, primary_key=True),
        sa.Column("survivor_person_id", sa.Text),
        *lineage_columns(),
    )
    stage(
        sqlite_staging,
        "old",
        "PERSON",
        {"PER_ID": 2, "STATE_ID": 2, "HOME_PH": 4, "WORK_PH": 4},
        [
            ("P1", "A1", "1111", "2222"),
            ("P2", "B2", "3333", ""),  # no work phone: one row
            ("P9", "A1", "4444", "5555"),  # P1 keyed twice: merged
            ("P3", "C3", "", ""),  # no phone at all: filtered
        ],
        key=["PER_ID"],
    )
    result = run_transform(load_project(_folder(tmp_path, mappings)), sqlite_staging, meta, "r1")
    rows = _rows(sqlite_staging, "SELECT person_id, kind, phone FROM xf_contact")
    assert sorted((r["person_id"], r["kind"], r["phone"]) for r in rows) == [
        ("P1", "HOME", "1111"),
        ("P1", "WORK", "2222"),
        ("P2", "HOME", "3333"),
    ]
    account = _account(result, "contact")
    assert (
        account.source_rows,
        account.loaded,
        account.merged,
        account.quarantined,
        account.filtered,
    ) == (3, 2, 1, 0, 1)
