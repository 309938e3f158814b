"""``cutover inspect``: the profile an engineer reads before writing mappings."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from cutover.cli import app
from cutover.settings import Settings
from extract import TableProfile, code_columns, open_source, profile_table


def _profile(settings: Settings, table: str) -> TableProfile:
    source = open_source("obscis", settings.source("obscis"))
    try:
        return profile_table(source, source.describe(table), chunk_rows=64)
    finally:
        source.close()


def test_profile_counts_blanks_sentinels_and_impossible_dates(
    legacy_settings: Settings, legacy_db: Path
) -> None:
    prof = _profile(legacy_settings, "OFFNDR")
    con = sqlite3.connect(legacy_db)

    def count(where: str) -> int:
        return int(con.execute(f"SELECT COUNT(*) FROM OFFNDR WHERE {where}").fetchone()[0])

    dob = next(c for c in prof.columns if c.name == "DOB")
    assert prof.rows == 300
    assert dob.blanks == count("TRIM(DOB) = ''")
    assert dob.sentinels["00000000"] == count("DOB = '00000000'")
    assert dob.sentinels["99999999"] == count("DOB = '99999999'")
    assert dob.impossible_dates == count("DOB = '20030231'") > 0
    assert dob.codes is None  # a date is never listed value by value
    con.close()


def test_profile_finds_candidate_keys_and_codes_per_institution(legacy_settings: Settings) -> None:
    prof = _profile(legacy_settings, "OFFNDR")
    assert prof.candidate_keys is not None
    assert "OFF_ID" in prof.candidate_keys
    assert "STAT_CD" not in prof.candidate_keys
    codes = {c.name: c for c in code_columns(prof)}
    stat = codes["STAT_CD"].codes
    assert stat is not None
    assert set(stat) == {"ECI", "MCIH", "MCIJ", "RCI"}
    every = {code for per in stat.values() for code in per}
    assert {"IN", "MS"} <= every
    assert any(code.islower() for code in every)  # case drift is shown, not hidden
    assert "LAST_NM" not in codes  # names are never listed


def test_keyless_table_has_no_candidate_key(legacy_settings: Settings) -> None:
    prof = _profile(legacy_settings, "LBR_LOG")
    assert prof.key == ()
    assert prof.candidate_keys == []


def test_cli_inspect_prints_distributions_but_no_names(legacy_settings: Settings) -> None:
    result = CliRunner().invoke(
        app, ["inspect", "-w", str(legacy_settings.workspace), "--table", "OFFNDR"]
    )
    assert result.exit_code == 0, result.output
    assert "OFFNDR" in result.output
    assert "300 rows" in result.output
    assert "STAT_CD per CUR_INST_CD" in result.output
    for surname in ("SMITH", "JOHNSON", "GARCIA"):
        assert surname not in result.output
