"""Golden files: each expression kind and each crosswalk kind, inputs -> xf rows.

Every case stages a small table, maps one column with the expression under test, runs the
transform and compares the xf rows, quarantine and accounting with ``goldens/<case>.json``. The
same golden must come out of SQLite and PostgreSQL. Refresh on purpose with
``make goldens`` (``CUTOVER_REFRESH_GOLDENS=1``), then review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from transform_helpers import lineage_columns, rows, stage

from transform import load_project, run_transform

GOLDENS = Path(__file__).parent / "goldens"
REFRESH = os.environ.get("CUTOVER_REFRESH_GOLDENS") == "1"

PROJECT = """\
project:
  source_system: g
  default_source: g
  version: "1"
  sentinels:
    legacy_date: {"00000000": null, "": null, "99999999": 9999-12-31}
    legacy_month: {"000000": null, "": null}
  flags:
    yes_no: {"Y": true, "N": false, "": null}
  defaults: {date: legacy_date, month: legacy_month, flag: yes_no}
"""

COLUMNS = {"ID": 3, "A": 12, "B": 8, "INST": 4, "DT": 8, "N": "int"}

XW_ENTRIES = """\
crosswalks:
  task:
    per_institution: {per_inst}
    rate_policy: {policy}
    canonical: {{PAINTER: {{rate: 10}}, COOK: {{rate: 8}}}}
{body}
"""


_DEFAULTS = ("", "", "S1", "", 1)


def _rows(*values: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Rows (ID, A, B, INST, DT, N) numbered from 001; missing trailing values are defaults."""
    return [(f"{i:03d}", *v, *_DEFAULTS[len(v) :]) for i, v in enumerate(values, start=1)]


CASES: list[Any] = [
    pytest.param(
        "int", "N", _rows(("", "", "S1", "", 7), ("", "", "S1", "", None)), id="column_integer"
    ),
    pytest.param("text", "{const: FIXED}", _rows(("a", "", "S1", "", 1)), id="const_text"),
    pytest.param("int", "42", _rows(("a", "", "S1", "", 1)), id="const_number"),
    pytest.param("date", "2020-01-31", _rows(("a", "", "S1", "", 1)), id="const_date"),
    pytest.param("text", "{text: A}", _rows(("  x  ",), ("",), ("abc",)), id="text_trimmed"),
    pytest.param("text", "{code: A}", _rows((" pnt1",), ("PNT1",), ("",)), id="code_upper"),
    pytest.param(
        "text", "{name_key: A}", _rows(("O'NEIL",), ("DOE-SMITH",), ("de la Cruz",)), id="name_key"
    ),
    pytest.param(
        "date",
        "{date: A}",
        _rows(
            ("20030231",),
            ("20000229",),
            ("19000229",),
            ("20040229",),
            ("21000229",),
            ("00000000",),
            ("",),
            ("99999999",),
            ("2003AB01",),
            ("20031301",),
            ("20030431",),
            ("20031231",),
            ("2003121",),
        ),
        id="date_calendar_and_sentinels",
    ),
    pytest.param(
        "date",
        "{month: A}",
        _rows(("202001",), ("202013",), ("000000",), ("",), ("199912",), ("20200",)),
        id="month",
    ),
    pytest.param("bool", "{flag: A}", _rows(("Y",), ("n",), (" ",), ("X",)), id="flag"),
    pytest.param(
        "int",
        "{int: A}",
        _rows(("005",), ("000",), ("",), ("-12",), ("0A5",), ("12345678901",)),
        id="int_zero_padded",
    ),
    pytest.param(
        "text",
        '{concat: [{text: A}, {code: B}], sep: "-"}',
        _rows(("x", "y"), ("x", ""), ("", "y"), ("", "")),
        id="concat",
    ),
    pytest.param(
        "text",
        "{coalesce: [{text: A}, {text: B}, {const: NONE}]}",
        _rows(("x", "y"), ("", "y"), ("", "")),
        id="coalesce",
    ),
    pytest.param(
        "text",
        """
        case:
          - when: {and: [{eq: [{code: A}, {const: GC}]}, {not: {is_null: B}}]}
            then: {const: good-conduct}
          - when: {in: [{code: A}, [WT, ED]]}
            then: {concat: [{const: earned-}, {code: A}]}
          - when: {or: [{gt: [N, 5]}, {not_null: {date: B}}]}
            then: {const: other}
        else: {const: none}""",
        [
            ("001", "GC", "x", "S1", "", 1),
            ("002", "gc", "", "S1", "", 1),
            ("003", "wt", "", "S1", "", 1),
            ("004", "", "", "S1", "", 9),
            ("005", "", "20200101", "S1", "", 1),
            ("006", "", "20200231", "S1", "", 1),
        ],
        id="case",
    ),
    pytest.param(
        "text", "{fn: title_name, args: [A]}", _rows(("O'NEIL  JR",), ("",), ("mc",)), id="function"
    ),
    pytest.param(
        "text", "{fn: ascii_fold, args: [A]}", _rows(("José",), ("日本",)), id="function_error"
    ),
    pytest.param(
        "text",
        "{crosswalk: task, code: {code: A}}",
        _rows(("PNT1",), ("cook",), ("XX",), ("",)),
        id="crosswalk_global",
    ),
    pytest.param(
        "text",
        "{crosswalk: task, code: {code: A}, institution: {code: INST}}",
        [
            ("001", "PNT1", "", "S1", "", 1),
            ("002", "PAINT", "", "S2", "", 1),
            ("003", "PNT1", "", "S2", "", 1),
            ("004", "COOK", "", "S3", "", 1),
        ],
        id="crosswalk_per_institution",
    ),
    pytest.param(
        "text",
        "{crosswalk: task, code: {code: A}, institution: {code: INST}, as_of: {date: DT}}",
        [
            ("001", "PAINT", "", "S2", "20100101", 1),
            ("002", "PAINT", "", "S2", "20150101", 1),
            ("003", "PAINT", "", "S2", "20200101", 1),
            ("004", "PAINT", "", "S2", "00000000", 1),
        ],
        id="crosswalk_effective_dated",
    ),
    pytest.param(
        "int",
        "{crosswalk: task, code: {code: A}, institution: {code: INST}, value: rate}",
        [("001", "PNT1", "", "S1", "", 1), ("002", "PAINT", "", "S2", "", 1)],
        id="crosswalk_rate_keep",
    ),
    pytest.param(
        "int",
        "{crosswalk: task, code: {code: A}, institution: {code: INST}, value: rate}",
        [("001", "PNT1", "", "S1", "", 1), ("002", "PAINT", "", "S2", "", 1)],
        id="crosswalk_rate_harmonize",
    ),
    pytest.param(
        "text",
        "{crosswalk: task, code: {code: A}, institution: {code: INST}}",
        [
            ("001", "P-01", "", "S3", "", 1),
            ("002", "PNT1", "", "S1", "", 1),
            ("003", "P-01", "", "S1", "", 1),
        ],
        id="crosswalk_csv",
    ),
]

_XW_BODIES = {
    "crosswalk_global": (
        "false",
        "keep",
        """    entries:
      - {code: PNT1, canonical: PAINTER}
      - {code: COOK, canonical: COOK}""",
    ),
    "crosswalk_per_institution": (
        "true",
        "keep",
        """    entries:
      - {institution: S1, code: PNT1, canonical: PAINTER}
      - {institution: S2, code: PAINT, canonical: PAINTER}
      - {code: COOK, canonical: COOK}""",
    ),
    "crosswalk_effective_dated": (
        "true",
        "keep",
        """    entries:
      - {institution: S2, code: PAINT, canonical: PAINTER, eff_to: 2014-12-31}
      - {institution: S2, code: PAINT, canonical: COOK, eff_from: 2015-01-01}""",
    ),
    "crosswalk_rate_keep": (
        "true",
        "keep",
        """    entries:
      - {institution: S1, code: PNT1, canonical: PAINTER, rate: 10}
      - {institution: S2, code: PAINT, canonical: PAINTER, rate: 5}""",
    ),
    "crosswalk_rate_harmonize": (
        "true",
        "harmonize",
        """    entries:
      - {institution: S1, code: PNT1, canonical: PAINTER, rate: 10}
      - {institution: S2, code: PAINT, canonical: PAINTER, rate: 5}""",
    ),
    "crosswalk_csv": ("true", "keep", "    file: tasks.csv"),
}
_CSV = (
    "institution,code,canonical,rate,eff_from,eff_to\nS3,P-01,PAINTER,10,,\nS1,PNT1,PAINTER,10,,\n"
)
_SA_TYPES = {"text": sa.Text, "int": sa.Integer, "date": sa.Date, "bool": sa.Boolean}


def _mapping_folder(folder: Path, case: str, value: str) -> None:
    folder.mkdir()
    (folder / "project.yaml").write_text(PROJECT, encoding="utf-8")
    value_yaml = value if "\n" in value else f" {value}"
    text = (
        "tables:\n  out:\n    from: SRC\n    batch: {code: INST}\n    columns:\n"
        "      id: {text: ID}\n      value:" + value_yaml.replace("\n        ", "\n        ") + "\n"
    )
    if case in _XW_BODIES:
        per_inst, policy, body = _XW_BODIES[case]
        text += XW_ENTRIES.format(per_inst=per_inst, policy=policy, body=body)
        (folder / "tasks.csv").write_text(_CSV, encoding="utf-8")
    (folder / "out.yaml").write_text(text, encoding="utf-8")


def _jsonable(records: list[dict[str, Any]], drop: tuple[str, ...]) -> list[dict[str, Any]]:
    out = [
        {
            k: (v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in r.items()
            if k not in drop
        }
        for r in records
    ]
    return sorted(out, key=lambda r: json.dumps(r, sort_keys=True, default=str))


@pytest.mark.parametrize(("value_type", "expression", "input_rows"), CASES)
def test_golden(
    request: pytest.FixtureRequest,
    staging: sa.Engine,
    tmp_path: Path,
    value_type: str,
    expression: str,
    input_rows: list[tuple[Any, ...]],
) -> None:
    case = request.node.callspec.id.rsplit("-", 1)[-1]
    stage(staging, "g", "SRC", COLUMNS, input_rows, key=["ID"])
    folder = tmp_path / "mappings"
    _mapping_folder(folder, case, expression)
    target = sa.MetaData()
    sa.Table(
        "out",
        target,
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("value", _SA_TYPES[value_type]),
        *lineage_columns(),
    )
    run_transform(load_project(folder), staging, target, "golden-run")
    actual = {
        "expression": expression.strip(),
        "input": [dict(zip(COLUMNS, r, strict=True)) for r in input_rows],
        # The row hash is the staging engine's own digest (transform.hashing), not a value the
        # mapping computes: tests/transform/test_transform_run.py checks what it must tell apart.
        "xf_rows": _jsonable(rows(staging, "xf_out"), ("_run_id", "_row_hash")),
        "quarantine": _jsonable(rows(staging, "xf__quarantine"), ("run_id",)),
        "accounting": _jsonable(rows(staging, "xf__accounting"), ("run_id",)),
    }
    path = GOLDENS / f"{case}.json"
    text = json.dumps(actual, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if REFRESH:
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"no golden file {path.name}: run 'make goldens' and review it"
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert json.loads(text) == expected
