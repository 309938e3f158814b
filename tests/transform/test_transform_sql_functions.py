"""Registered functions with a SQL form: compiled in place, anywhere an expression may stand
(inside ``int:``, in a precedence's ``primary``), with no Python pass; ``text_between``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from transform_helpers import lineage_columns, stage

from cutover.errors import MappingError
from transform import load_project, run_transform
from transform.functions import get_function

PROJECT = """\
project:
  source_system: old
  default_source: old
  version: "1"
"""

MAPPINGS = """\
tables:
  job:
    from: {table: JOB, as: j}
    join:
      - {table: DOC, as: d, on: {j.JOB_ID: d.JOB_ID}}
    columns:
      job_id: {text: j.JOB_ID}
      years: {int: j.TERM_YRS}
      months: {int: j.TERM_MOS}
    precedence:
      - fact: term_years
        column: years
        primary: {int: {fn: text_between, args: [d.TERM, null, {const: Y}]}}
      - fact: term_months
        column: months
        primary: {int: {fn: text_between, args: [d.TERM, {const: Y}, {const: M}]}}
"""


def _target() -> sa.MetaData:
    meta = sa.MetaData()
    sa.Table(
        "job",
        meta,
        sa.Column("job_id", sa.Text, primary_key=True),
        sa.Column("years", sa.Integer),
        sa.Column("months", sa.Integer),
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
    stage(
        engine,
        "old",
        "JOB",
        {"JOB_ID": 3, "TERM_YRS": "int", "TERM_MOS": "int"},
        [("J01", 5, 3), ("J02", 5, 3), ("J03", 2, 0), ("J04", 1, 1)],
        key=["JOB_ID"],
    )
    stage(
        engine,
        "old",
        "DOC",
        {"JOB_ID": 3, "TERM": 12},
        [
            ("J01", "5Y 3M 0D"),  # agrees
            ("J02", "7Y 3M 0D"),  # the document says 7 years
            ("J03", "LIFE"),  # no years or months to compare
        ],  # J04 has no document
    )


def _rows(engine: sa.Engine, sql: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(sql)).mappings()]


def test_a_primary_parsed_in_sql_wins_and_the_disagreement_is_recorded(
    staging: sa.Engine, tmp_path: Path
) -> None:
    _stage(staging)
    result = run_transform(load_project(_folder(tmp_path)), staging, _target(), "r1")
    jobs = {
        r["job_id"]: (r["years"], r["months"])
        for r in _rows(staging, "SELECT job_id, years, months FROM xf_job")
    }
    assert jobs == {"J01": (5, 3), "J02": (7, 3), "J03": (2, 0), "J04": (1, 1)}
    found = _rows(
        staging,
        "SELECT fact, column_name, source_key, primary_value, secondary_value "
        "FROM xf__disagreement",
    )
    assert found == [
        {
            "fact": "term_years",
            "column_name": "years",
            "source_key": "J02",
            "primary_value": "7",
            "secondary_value": "5",
        }
    ]
    table = next(t for t in result.tables if t.name == "job")
    assert table.python_seconds == 0.0  # no row went through Python


def test_a_python_function_inside_an_expression_is_reported_with_its_line(
    sqlite_staging: sa.Engine, tmp_path: Path
) -> None:
    mappings = MAPPINGS.replace(
        "primary: {int: {fn: text_between, args: [d.TERM, null, {const: Y}]}}",
        r"primary: {int: {fn: regex_int, args: [d.TERM, {const: '(\d+)Y'}]}}",
    ).replace("args: [d.TERM, {const: Y}, {const: M}]", "args: [d.TERM, {const: Y}]")
    _stage(sqlite_staging)
    folder = _folder(tmp_path, mappings)
    with pytest.raises(MappingError) as caught:
        run_transform(load_project(folder), sqlite_staging, _target(), "r1")
    lines = mappings.splitlines()
    python = 1 + next(i for i, t in enumerate(lines) if "regex_int" in t)
    arity = 1 + next(i for i, t in enumerate(lines) if "args: [d.TERM, {const: Y}]" in t)
    problems = caught.value.problems
    assert any(
        p.startswith(f"{folder / 'all.yaml'}:{python}:")
        and re.search("regex_int runs in Python.*SQL form", p)
        for p in problems
    ), problems
    assert any(
        p.startswith(f"{folder / 'all.yaml'}:{arity}:") and "takes 3 argument(s)" in p
        for p in problems
    ), problems


@pytest.mark.parametrize(
    ("value", "after", "before", "expected"),
    [
        pytest.param("5Y 3M 0D", None, "Y", "5", id="from-the-start"),
        pytest.param("5Y 3M 0D", "Y", "M", " 3", id="between"),
        pytest.param("5Y 3M 12D", "M", "D", " 12", id="to-the-second-marker"),
        pytest.param("5Y 3M 0D", "M", None, " 0D", id="to-the-end"),
        pytest.param("5Y 3M 0D", "", "", "5Y 3M 0D", id="blank-markers"),
        pytest.param("LIFE", None, "Y", None, id="marker-missing"),
        pytest.param("LIFE", "Y", "M", None, id="first-marker-missing"),
        pytest.param("5Y", "Y", "M", None, id="second-marker-missing"),
        pytest.param("5YM", "Y", "M", "", id="nothing-between"),
        pytest.param("AB-CD-EF", "-", "-", "CD", id="same-marker"),
        pytest.param(None, "Y", "M", None, id="null"),
    ],
)
def test_text_between_gives_the_same_in_python_and_in_sql(
    module_staging: sa.Engine,
    value: str | None,
    after: str | None,
    before: str | None,
    expected: str | None,
) -> None:
    func = get_function("text_between")
    assert func.func(value, after, before) == expected
    assert func.sql is not None
    args = [sa.literal(v, sa.Text) if v is not None else sa.null() for v in (value, after, before)]
    # Markers read from a column (not constants) take the general form of the SQL.
    computed = [args[0], *(sa.func.coalesce(a, sa.cast(sa.null(), sa.Text)) for a in args[1:])]
    with module_staging.connect() as conn:
        assert conn.execute(sa.select(func.sql(args))).scalar_one() == expected
        assert conn.execute(sa.select(func.sql(computed))).scalar_one() == expected
