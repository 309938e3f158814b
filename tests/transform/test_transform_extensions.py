"""Repairs (``on_invalid: null``), reference tables, crosswalk ``value: code``, ``regex_int``
and the batch of merge records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from transform_helpers import lineage_columns, stage

from cutover.errors import MappingError
from transform import load_project, run_transform
from transform.functions import get_function


def _target() -> sa.MetaData:
    meta = sa.MetaData()
    sa.Table(
        "site",
        meta,
        sa.Column("site_id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        *lineage_columns(),
    )
    sa.Table(
        "person",
        meta,
        sa.Column("person_id", sa.Text, primary_key=True),
        sa.Column("site_id", sa.Text),
        sa.Column("updated_on", sa.Date),
        sa.Column("born_on", sa.Date),
        *lineage_columns(),
    )
    sa.Table(
        "person_merge",
        meta,
        sa.Column("merged_key", sa.Text, primary_key=True),
        sa.Column("survivor_person_id", sa.Text, sa.ForeignKey("person.person_id")),
        sa.Column("rule", sa.Text),
        *lineage_columns(),
    )
    sa.Table(
        "job",
        meta,
        sa.Column("job_id", sa.Text, primary_key=True),
        sa.Column("task_code", sa.Text),
        sa.Column("years", sa.Integer),
        *lineage_columns(),
    )
    return meta


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
  site:
    from: ref.SITE_KIND
    columns:
      site_id: {code: SITE_CD}
      kind: {text: KIND}
  person:
    from: PERSON
    dedupe: person
    batch: {code: SITE_CD}
    columns:
      person_id: {text: PER_ID}
      site_id: {code: SITE_CD}
      updated_on: {date: UPD_DT, on_invalid: null}
      born_on: {date: BIRTH_DT}
  job:
    from: JOB
    columns:
      job_id: {text: JOB_ID}
      task_code: {crosswalk: task, code: {code: TASK_CD}, value: code}
      years: {fn: regex_int, args: [TERM, {const: '(\\d+)Y'}]}
references:
  SITE_KIND:
    file: sites.csv
    key: [SITE_CD]
crosswalks:
  task:
    entries:
      - {code: PNT1, canonical: PAINTER}
duplicates:
  person:
    table: PERSON
    key: PER_ID
    match:
      - name: same_state_id
        columns: [{text: STATE_ID}]
    survivor: {rule: lowest_key}
    batch: {code: SITE_CD}
    record:
      table: person_merge
      columns: {merged_key: merged, survivor_person_id: survivor, rule: rule}
"""


def _folder(
    tmp_path: Path, mappings: str = MAPPINGS, sites: str = "SITE_CD,KIND\nS1,N\nS2,S\n"
) -> Path:
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "project.yaml").write_text(PROJECT)
    (folder / "all.yaml").write_text(mappings)
    (folder / "sites.csv").write_text(sites)
    return folder


def _stage(engine: sa.Engine) -> None:
    stage(
        engine,
        "old",
        "PERSON",
        {"PER_ID": 6, "STATE_ID": 4, "SITE_CD": 4, "UPD_DT": 8, "BIRTH_DT": 8},
        [
            ("P00001", "A1", "S1", "20070631", "19800101"),  # impossible housekeeping date
            ("P00002", "B2", "S2", "20070101", "19750230"),  # impossible critical date
            ("P00003", "C3", "S2", "20070101", "19800101"),
            ("P00009", "C3", "S1", "20070101", "19800101"),  # duplicate of P00003
        ],
        key=["PER_ID"],
    )
    stage(
        engine,
        "old",
        "JOB",
        {"JOB_ID": 3, "TASK_CD": 6, "TERM": 12},
        [("J01", "pnt1", "5Y 3M 0D"), ("J02", "WK99", "LIFE"), ("J03", "PNT1", "")],
        key=["JOB_ID"],
    )


def _rows(engine: sa.Engine, sql: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(sql)).mappings()]


def test_an_impossible_date_set_to_null_keeps_the_row_and_is_recorded(
    staging: sa.Engine, tmp_path: Path
) -> None:
    _stage(staging)
    result = run_transform(load_project(_folder(tmp_path)), staging, _target(), "r1")
    people = {r["person_id"]: r for r in _rows(staging, "SELECT * FROM xf_person")}
    assert set(people) == {"P00001", "P00003"}
    assert people["P00001"]["updated_on"] is None
    assert str(people["P00003"]["updated_on"]) == "2007-01-01"
    repairs = _rows(staging, "SELECT * FROM xf__repair")
    assert [{k: v for k, v in r.items() if k != "message"} for r in repairs] == [
        {
            "run_id": "r1",
            "target_table": "person",
            "source_table": "PERSON",
            "source_key": "P00001",
            "batch": "S1",
            "rule": "invalid_date",
            "column_name": "updated_on",
            "value": "20070631",
        }
    ]
    quarantined = _rows(staging, "SELECT source_key, rule, column_name FROM xf__quarantine")
    assert {(q["source_key"], q["rule"], q["column_name"]) for q in quarantined} >= {
        ("P00002", "invalid_date", "born_on")
    }
    account = next(t.account for t in result.tables if t.name == "person")
    assert (account.loaded, account.merged, account.quarantined) == (2, 1, 1)


def test_on_invalid_takes_quarantine_or_null_only(tmp_path: Path) -> None:
    bad = MAPPINGS.replace("on_invalid: null", "on_invalid: skip")
    with pytest.raises(MappingError, match=r"all\.yaml:\d+.*on_invalid: is quarantine or null"):
        load_project(_folder(tmp_path, bad))


def test_a_reference_table_is_staged_mapped_and_accounted(
    sqlite_staging: sa.Engine, tmp_path: Path
) -> None:
    _stage(sqlite_staging)
    result = run_transform(load_project(_folder(tmp_path)), sqlite_staging, _target(), "r1")
    sites = _rows(sqlite_staging, "SELECT site_id, kind, _source_table, _source_key FROM xf_site")
    assert sites == [
        {"site_id": "S1", "kind": "N", "_source_table": "SITE_KIND", "_source_key": "S1"},
        {"site_id": "S2", "kind": "S", "_source_table": "SITE_KIND", "_source_key": "S2"},
    ]
    account = next(t.account for t in result.tables if t.name == "site")
    assert (account.source_rows, account.loaded) == (2, 2)


@pytest.mark.parametrize(
    ("sites", "message"),
    [
        pytest.param("SITE_CD,KIND\nS1,N\nS1,S\n", "key S1 repeats line 2", id="repeated-key"),
        pytest.param("SITE_CD,KIND\n ,N\n", "blank key", id="blank-key"),
        pytest.param(
            "CODE,KIND\nS1,N\n", r"key column\(s\) SITE_CD not in sites\.csv", id="no-key"
        ),
        pytest.param("SITE_CD,KIND\nS1\n", "1 values for 2 columns", id="short-row"),
    ],
)
def test_a_bad_reference_file_is_reported(tmp_path: Path, sites: str, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        load_project(_folder(tmp_path, sites=sites))


def test_crosswalk_value_code_keeps_known_codes_and_quarantines_the_rest(
    sqlite_staging: sa.Engine, tmp_path: Path
) -> None:
    _stage(sqlite_staging)
    run_transform(load_project(_folder(tmp_path)), sqlite_staging, _target(), "r1")
    jobs = {r["job_id"]: r for r in _rows(sqlite_staging, "SELECT * FROM xf_job")}
    assert {k: v["task_code"] for k, v in jobs.items()} == {"J01": "PNT1", "J03": "PNT1"}
    assert {k: v["years"] for k, v in jobs.items()} == {"J01": 5, "J03": None}
    quarantined = _rows(
        sqlite_staging,
        "SELECT source_key, rule, value FROM xf__quarantine WHERE target_table='job'",
    )
    assert quarantined == [{"source_key": "J02", "rule": "unmapped_code", "value": "WK99"}]


def test_a_merge_record_takes_the_survivors_batch(
    sqlite_staging: sa.Engine, tmp_path: Path
) -> None:
    _stage(sqlite_staging)
    run_transform(load_project(_folder(tmp_path)), sqlite_staging, _target(), "r1")
    merges = _rows(
        sqlite_staging, "SELECT merged_key, survivor_person_id, _batch FROM xf_person_merge"
    )
    assert merges == [{"merged_key": "P00009", "survivor_person_id": "P00003", "_batch": "S2"}]


@pytest.mark.parametrize(
    ("value", "pattern", "expected"),
    [
        pytest.param("5Y 3M 0D", r"^\s*(\d+)Y", 5, id="years"),
        pytest.param("5Y 3M 0D", r"(\d+)M", 3, id="months"),
        pytest.param("5Y 3M 12D", r"(\d+)D\s*$", 12, id="days"),
        pytest.param("LIFE", r"(\d+)Y", None, id="no-match"),
        pytest.param("   ", r"(\d+)Y", None, id="blank"),
        pytest.param(None, r"(\d+)Y", None, id="null"),
    ],
)
def test_regex_int(value: str | None, pattern: str, expected: int | None) -> None:
    assert get_function("regex_int").func(value, pattern) == expected


@pytest.mark.parametrize(
    "pattern", [pytest.param("(", id="bad-pattern"), pytest.param("Y", id="no-group")]
)
def test_regex_int_rejects_a_bad_pattern(pattern: str) -> None:
    with pytest.raises(ValueError, match="pattern"):
        get_function("regex_int").func("5Y", pattern)


def test_precedence_mode_record_keeps_the_value_and_records_the_difference(
    sqlite_staging: sa.Engine, tmp_path: Path
) -> None:
    job = """      years: {int: TERM_YRS}
    join:
      - {table: DOC, as: d, on: {JOB_ID: d.JOB_ID}}
    precedence:
      - {fact: years, column: years, primary: {int: d.YRS}, mode: record}"""
    mappings = "\n".join(job if "regex_int" in line else line for line in MAPPINGS.splitlines())
    _stage(sqlite_staging)
    stage(
        sqlite_staging,
        "old",
        "JOB",
        {"JOB_ID": 3, "TASK_CD": 6, "TERM_YRS": 2},
        [("J01", "PNT1", "05"), ("J03", "PNT1", "02")],
        key=["JOB_ID"],
    )
    stage(sqlite_staging, "old", "DOC", {"JOB_ID": 3, "YRS": 2}, [("J01", "07"), ("J03", "02")])
    run_transform(load_project(_folder(tmp_path, mappings)), sqlite_staging, _target(), "r1")
    years = {r["job_id"]: r["years"] for r in _rows(sqlite_staging, "SELECT * FROM xf_job")}
    assert years == {"J01": 5, "J03": 2}
    found = _rows(
        sqlite_staging,
        "SELECT fact, source_key, primary_value, secondary_value FROM xf__disagreement",
    )
    assert found == [
        {"fact": "years", "source_key": "J01", "primary_value": "7", "secondary_value": "5"}
    ]
