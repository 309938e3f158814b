"""Delimited and fixed-width sources: the real CDCR extract, and a fixed-width layout."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from extract_helpers import staged

from cutover.errors import ConfigError, ExtractError
from cutover.runs import start_run
from cutover.settings import Settings
from extract import RetryPolicy, extract_sources, open_source, verify_sources

FAST = RetryPolicy(attempts=2, base_delay=0.01)
CDCR = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "data"
    / "cdcr"
    / "demographics_head.csv"
)


def _extract(settings: Settings) -> dict[str, object]:
    with start_run(settings, "extract", actor="tester") as run:
        return {r.table: r for r in extract_sources(settings, run=run, policy=FAST)}


@pytest.fixture
def cdcr_settings(make_workspace: Callable[..., Settings]) -> Settings:
    assert CDCR.is_file(), f"the CDCR extract is expected at {CDCR}"
    return make_workspace(
        {
            "cdcr": {
                "kind": "delimited",
                "path": str(CDCR),
                "table": "DEMOGRAPHICS",
                "chunk_rows": 500,
            }
        }
    )


def test_cdcr_extract_is_staged_raw_with_quoted_commas_blanks_and_three_date_formats(
    cdcr_settings: Settings,
) -> None:
    results = _extract(cdcr_settings)
    with CDCR.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        expected = [tuple(r) for r in reader]
    assert len(expected) == 1506
    rows = staged(cdcr_settings, "stg_cdcr_demographics", meta=False)
    width = len(header)
    assert [r[:width] for r in rows] == expected
    cols = {name: i for i, name in enumerate(header)}
    values = {name: [r[i] for r in rows] for name, i in cols.items()}
    assert "California State Prison, Solano" in values["current location"]  # quoted comma
    assert "" in values["controlling case number"]  # blanks stay blank, not NULL
    assert values["offense begin date"][0] == "2012-09-18"
    assert values["offense end date"][0] == "2012-09-18 00:00:00"
    assert values["expected release date"][0] == "09/18/2042"
    assert results["DEMOGRAPHICS"].rows == 1506  # type: ignore[attr-defined]
    assert all(v.ok for v in verify_sources(cdcr_settings, policy=FAST))


def test_cdcr_rerun_is_unchanged(cdcr_settings: Settings) -> None:
    _extract(cdcr_settings)
    again = _extract(cdcr_settings)
    assert again["DEMOGRAPHICS"].status == "unchanged"  # type: ignore[attr-defined]


FIXED = [
    "000000001ECI 20030231005SMITH     ",
    "000000002MCIH00000000012JONES     ",
    "000000003RCI 99999999   BROWN     ",
    "",
    "000000004MCIJ20100115120DAVIS",
]
LAYOUT = """name,start,length,type
OFF_ID,1,9,text
INST_CD,10,4,text
CMT_DT,14,8,text
JAIL_DAYS,22,3,integer
LAST_NM,25,10,text
"""


@pytest.fixture
def fixed_settings(tmp_path: Path, make_workspace: Callable[..., Settings]) -> Settings:
    (tmp_path / "jail.dat").write_text("\n".join(FIXED) + "\n", encoding="utf-8")
    (tmp_path / "jail.layout.csv").write_text(LAYOUT, encoding="utf-8")
    return make_workspace(
        {
            "jail": {
                "kind": "fixed_width",
                "path": str(tmp_path / "jail.dat"),
                "layout": str(tmp_path / "jail.layout.csv"),
                "table": "JAIL",
                "keys": {"JAIL": ["OFF_ID"]},
            }
        }
    )


def test_fixed_width_fields_are_cut_by_the_layout_padding_kept(fixed_settings: Settings) -> None:
    _extract(fixed_settings)
    rows = staged(fixed_settings, "stg_jail_jail", meta=False)
    assert [r[:5] for r in rows] == [
        ("000000001", "ECI ", "20030231", 5, "SMITH     "),
        ("000000002", "MCIH", "00000000", 12, "JONES     "),
        ("000000003", "RCI ", "99999999", None, "BROWN     "),
        ("000000004", "MCIJ", "20100115", 120, "DAVIS"),
    ]
    assert [r[6] for r in rows] == ["000000001", "000000002", "000000003", "000000004"]


def test_fixed_width_value_that_is_not_an_integer_names_file_record_and_field(
    tmp_path: Path, fixed_settings: Settings
) -> None:
    (tmp_path / "jail.dat").write_text("000000001ECI 200302310X5SMITH     \n", encoding="utf-8")
    with pytest.raises(ExtractError) as info:
        _extract(fixed_settings)
    message = str(info.value)
    assert "jail.dat" in message
    assert "record 1" in message
    assert "JAIL_DAYS" in message


def test_an_invalid_layout_lists_every_problem_at_once(
    tmp_path: Path, make_workspace: Callable[..., Settings]
) -> None:
    (tmp_path / "bad.csv").write_text(
        "name,start,length,type\n,1,9,text\nB,x,3,text\nC,5,2,date\nC,7,1,text\n", encoding="utf-8"
    )
    settings = make_workspace(
        {
            "f": {
                "kind": "fixed_width",
                "path": str(tmp_path / "x.dat"),
                "layout": str(tmp_path / "bad.csv"),
            }
        }
    )
    with pytest.raises(ConfigError) as info:
        open_source("f", settings.source("f"))
    text = str(info.value)
    for problem in (
        "line 2: name is empty",
        "line 3: start and length",
        "line 4: type 'date'",
        "'C' is listed twice",
    ):
        assert problem in text


def test_a_ragged_delimited_record_stops_with_its_line(
    tmp_path: Path, make_workspace: Callable[..., Settings]
) -> None:
    (tmp_path / "docs.csv").write_text(
        "DOC_ID,OFF_ID\n1,000000001\n2,000000002,extra\n", encoding="utf-8"
    )
    settings = make_workspace({"docs": {"kind": "delimited", "path": str(tmp_path / "docs.csv")}})
    with pytest.raises(ExtractError) as info:
        _extract(settings)
    assert "line 3" in str(info.value)
    assert "3 fields" in str(info.value)


def test_delimited_layout_types_columns_of_a_headerless_file(
    tmp_path: Path, make_workspace: Callable[..., Settings]
) -> None:
    (tmp_path / "d.txt").write_text("A|007\nB| \n", encoding="utf-8")
    (tmp_path / "d.layout").write_text(
        "name,start,length,type\nCODE,,,text\nDAYS,,,integer\n", encoding="utf-8"
    )
    settings = make_workspace(
        {
            "d": {
                "kind": "delimited",
                "path": str(tmp_path / "d.txt"),
                "layout": str(tmp_path / "d.layout"),
                "delimiter": "|",
                "header": False,
            }
        }
    )
    _extract(settings)
    assert [r[:2] for r in staged(settings, "stg_d_d", meta=False)] == [("A", 7), ("B", None)]


def test_a_file_that_is_not_in_the_declared_encoding_says_which_to_set(
    tmp_path: Path, make_workspace: Callable[..., Settings]
) -> None:
    (tmp_path / "latin.csv").write_bytes("NAME\nJos\xe9\n".encode("latin-1"))
    settings = make_workspace({"l": {"kind": "delimited", "path": str(tmp_path / "latin.csv")}})
    with pytest.raises(ExtractError) as info:
        _extract(settings)
    assert "encoding" in str(info.value.hint)
