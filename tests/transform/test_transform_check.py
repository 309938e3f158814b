"""``mappings check``: every problem of every file at once, each with file and line."""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs
from transform_helpers import EXAMPLE, TARGET, copy_example, example_target, stage, stage_example

from cutover.errors import MappingError
from transform import check_project, checker, compile_project, load_project, splitting


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")


def _problems(exc: pytest.ExceptionInfo[MappingError]) -> list[str]:
    return exc.value.problems


def _line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


@pytest.fixture
def staged(sqlite_staging: sa.Engine) -> sa.Engine:
    stage_example(sqlite_staging)
    return sqlite_staging


def test_the_example_mappings_check_clean_with_coverage(staged: sa.Engine) -> None:
    report = check_project(load_project(EXAMPLE), staged, TARGET)
    gaps = {(g.table, g.column, g.institution, g.code, g.rows) for g in report.coverage}
    assert ("job", "task", "S2", "UNK9", 1) in gaps
    assert ("job", "task", "S2", "PAINT", 1) in gaps  # J5 predates the entry's eff_from
    assert {g.code for g in report.coverage} == {"UNK9", "PAINT"}
    assert report.unmapped_tables == []


def test_the_coverage_query_runs_on_both_engines(staging: sa.Engine) -> None:
    """Global crosswalks group by the code alone (PostgreSQL refuses ORDER BY NULL)."""
    stage_example(staging)
    report = check_project(load_project(EXAMPLE), staging, TARGET)
    assert {(g.institution, g.code) for g in report.coverage} == {("S2", "UNK9"), ("S2", "PAINT")}


def test_the_check_names_the_target_tables_no_mapping_fills(staged: sa.Engine) -> None:
    target = example_target()
    sa.Table("visit", target, sa.Column("visit_id", sa.Text, primary_key=True))
    report = check_project(load_project(EXAMPLE), staged, target)
    assert report.unmapped_tables == ["visit"]


def test_broken_mapping_files_report_every_problem_at_once_with_file_and_line(
    staged: sa.Engine, tmp_path: Path
) -> None:
    folder = copy_example(tmp_path / "mappings")
    people, work, sites = folder / "people.yaml", folder / "work.yaml", folder / "sites.yaml"
    users = folder / "users.yaml"
    _write(
        folder,
        "people.yaml",
        people.read_text(encoding="utf-8").replace(
            "birth_date: {date: BIRTH_DT}", "birth_date: {date: BIRTH_DTE}"
        ),
    )
    _write(
        folder,
        "users.yaml",
        users.read_text(encoding="utf-8").replace("    dedupe: user", "    dedup: user"),
    )
    _write(
        folder,
        "work.yaml",
        work.read_text(encoding="utf-8")
        .replace(
            "crosswalk: task\n        code: {code: w.TASK_CD}\n        institution: "
            "{code: w.SITE_CD}\n        as_of: {date: w.BGN_DT}\n      credit_rate",
            "crosswalk: tasks\n        code: {code: w.TASK_CD}\n        institution: "
            "{code: w.SITE_CD}\n        as_of: {date: w.BGN_DT}\n      credit_rate",
        )
        .replace("hours: {int: w.HRS}", "hours: {date: w.HRS}"),
    )
    _write(
        folder,
        "sites.yaml",
        sites.read_text(encoding="utf-8").replace(
            "region: {code: RGN_CD}", "regoin: {code: RGN_CD}"
        ),
    )
    with pytest.raises(MappingError) as info:
        compile_project(load_project(folder, collect=True), staged, TARGET)
    problems = _problems(info)
    expected = [
        (users, "dedup: user", r"unknown key 'dedup' \(did you mean dedupe\?\)"),
        (
            people,
            "BIRTH_DTE",
            (
                r"person\.birth_date: unknown column 'BIRTH_DTE' in PERSON "
                r"\(did you mean BIRTH_DT\?\)"
            ),
        ),
        (work, "crosswalk: tasks", r"job\.task: unknown crosswalk 'tasks' \(did you mean task\?\)"),
        (work, "hours: {date: w.HRS}", r"job\.hours: type mismatch: the expression is date"),
        (
            sites,
            "regoin",
            (
                r"site\.regoin: unknown column 'regoin' of target table site "
                r"\(did you mean region\?\)"
            ),
        ),
        (sites, "columns:", r"site\.region: target column is filled by no mapping"),
    ]
    for path, needle, pattern in expected:
        prefix = re.escape(f"{path}:{_line_of(path, needle)}: ")
        assert any(re.match(prefix + ".*" + pattern, p) for p in problems), (
            f"missing {pattern} at {path.name}:{_line_of(path, needle)} in:\n" + "\n".join(problems)
        )
    assert "cutover mappings check" in (info.value.hint or "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "tables:\n  site:\n    from: SITE\n    colums: {}\n",
            r"unknown key 'colums' \(did you mean columns\?\)",
            id="misspelt-key",
        ),
        pytest.param(
            "tables:\n  site:\n    from: SITE\n    columns:\n      site_id: {cod: SITE_CD}\n",
            r"did you mean code\?",
            id="misspelt-expression",
        ),
        pytest.param(
            "tables:\n  site:\n    from: SITE\n    columns:\n      site_id: [SITE_CD]\n",
            r"a list is not an expression",
            id="list-as-expression",
        ),
        pytest.param(
            "tables:\n  site:\n    from: SITE\n    columns: {a: 1\n",
            r"invalid YAML",
            id="yaml-syntax",
        ),
        pytest.param(
            "tables:\n  site:\n    from: SITE\n    from: SITE\n    columns: {}\n",
            r"duplicate key",
            id="duplicate-key",
        ),
        pytest.param(
            "crosswalks:\n  t:\n    entries:\n      - {code: A, canonical: X, "
            "eff_to: 2020-01-01}\n      - {code: A, canonical: Y, "
            "eff_from: 2019-06-01}\n",
            r"overlap in time",
            id="overlapping-entries",
        ),
        pytest.param(
            "crosswalks:\n  t:\n    rate_policy: harmonize\n    entries:\n"
            "      - {code: A, canonical: X, rate: 5}\n",
            r"canonical code 'X' has no rate",
            id="harmonize-without-rate",
        ),
        pytest.param(
            "crosswalks:\n  t:\n    entries:\n      - {institution: S1, code: A, canonical: X}\n",
            r"the crosswalk is global",
            id="global-with-institution",
        ),
    ],
)
def test_file_problems_name_the_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "project.yaml").write_text(
        (EXAMPLE / "project.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (folder / "bad.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as info:
        load_project(folder)
    assert any(
        re.match(rf"{re.escape(str(folder / 'bad.yaml'))}:\d+: .*{message}", p)
        for p in info.value.problems
    ), info.value.problems


def test_unknown_legacy_table_suggests_the_closest(staged: sa.Engine, tmp_path: Path) -> None:
    folder = copy_example(tmp_path / "mappings")
    sites = folder / "sites.yaml"
    sites.write_text(
        sites.read_text(encoding="utf-8").replace("from: SITE", "from: SITES"), encoding="utf-8"
    )
    with pytest.raises(MappingError) as info:
        compile_project(load_project(folder), staged, TARGET)
    assert any(
        f"{sites}:3: site: unknown legacy table 'SITES'" in p and "did you mean SITE?" in p
        for p in info.value.problems
    ), info.value.problems


def test_where_must_not_use_a_parser_that_can_fail(staged: sa.Engine, tmp_path: Path) -> None:
    folder = copy_example(tmp_path / "mappings")
    sites = folder / "sites.yaml"
    sites.write_text(
        sites.read_text(encoding="utf-8").replace(
            "    # no batch:", "    where: {is_null: {date: SITE_NM}}\n    # no batch:"
        ),
        encoding="utf-8",
    )
    with pytest.raises(MappingError, match="a row must never vanish"):
        compile_project(load_project(folder), staged, TARGET)


def test_an_empty_staging_database_is_reported(sqlite_staging: sa.Engine) -> None:
    with pytest.raises(MappingError, match="run the extract first"):
        compile_project(load_project(EXAMPLE), sqlite_staging, TARGET)


def test_a_coverage_count_split_across_workers_adds_up_to_the_whole_count(
    staged: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite, worker processes count the unmapped codes of a large table in ranges of
    positions; a code seen in every range is reported once, with the rows of all of them."""
    jobs = [
        (f"J{n}", "P00005", "S2", "UNK9" if n % 4 == 0 else "PNT1", "20200301", "", "010")
        for n in range(12)
    ]
    stage(
        staged,
        "old",
        "JOB",
        {"JOB_ID": 4, "PER_ID": 6, "SITE_CD": 4, "TASK_CD": 6, "BGN_DT": 8, "END_DT": 8, "HRS": 3},
        jobs,
        key=["JOB_ID"],
    )
    whole = check_project(load_project(EXAMPLE), staged, TARGET)
    monkeypatch.setattr(splitting, "SPLIT_ROWS", 1)
    monkeypatch.setattr(splitting, "worker_count", lambda _limit: 2)
    split_runs: list[bool] = []

    def recorded(conn: sa.Connection, queries: Any) -> Any:
        found = splitting.select_in_parts(conn, queries)
        split_runs.append(found is not None)
        return found

    monkeypatch.setattr(checker, "select_in_parts", recorded)
    split = check_project(load_project(EXAMPLE), staged, TARGET)
    assert split_runs == [True]
    assert split.coverage == whole.coverage
    # S2's crosswalk maps neither code: 9 rows and 3, across both ranges of positions.
    assert [(g.table, g.institution, g.code, g.rows) for g in split.coverage] == [
        ("job", "S2", "PNT1", 9),
        ("job", "S2", "UNK9", 3),
    ]


def _dying_select(_database: str, _statement: str) -> list[tuple[Any, ...]]:
    os._exit(1)  # a worker killed mid-count: the pool breaks


def test_a_coverage_count_whose_worker_dies_is_counted_in_this_process(
    staged: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = check_project(load_project(EXAMPLE), staged, TARGET)
    monkeypatch.setattr(splitting, "SPLIT_ROWS", 1)
    monkeypatch.setattr(splitting, "worker_count", lambda _limit: 2)
    monkeypatch.setattr(splitting, "_select_part", _dying_select)
    with capture_logs() as logs:
        report = check_project(load_project(EXAMPLE), staged, TARGET)
    assert "select_split_worker_lost" in [e["event"] for e in logs]
    assert report.coverage == whole.coverage
    assert {g.code for g in report.coverage} == {"UNK9", "PAINT"}
