"""The population looks like a department's: long and short terms, lifers, transfers, releases."""

from __future__ import annotations

import sqlite3


def test_every_status_and_release_type_occurs(db: sqlite3.Connection) -> None:
    statuses = {r[0].strip().upper() for r in db.execute("SELECT STAT_CD FROM OFFNDR")}
    assert statuses == {"IN", "MS", "PA", "EX"}
    released = db.execute(
        "SELECT COUNT(*) FROM REL_CALC WHERE ACT_REL_DT NOT IN ('00000000', '        ')"
    ).fetchone()[0]
    assert released > 100


def test_terms_run_from_months_to_decades_with_lifers(db: sqlite3.Connection) -> None:
    years = [r[0] for r in db.execute("SELECT TERM_YRS FROM CMT WHERE LIFE_FLG = 'N'")]
    assert min(years) == 0
    assert max(years) >= 25
    assert db.execute("SELECT COUNT(*) FROM CMT WHERE LIFE_FLG = 'Y'").fetchone()[0] >= 1


def test_concurrent_and_consecutive_commitments_occur(db: sqlite3.Connection) -> None:
    multi = db.execute(
        "SELECT COUNT(*) FROM (SELECT OFF_ID FROM CMT GROUP BY OFF_ID HAVING COUNT(*) > 1)"
    ).fetchone()[0]
    consecutive = db.execute(
        "SELECT COUNT(*) FROM CMT WHERE TRIM(CONS_TO_CMT_ID) <> ''"
    ).fetchone()[0]
    assert multi > consecutive > 0


def test_offenders_are_transferred_and_hold_several_assignments(db: sqlite3.Connection) -> None:
    transferred = db.execute(
        "SELECT COUNT(*) FROM (SELECT OFF_ID FROM ASGN GROUP BY OFF_ID"
        " HAVING COUNT(DISTINCT UPPER(TRIM(INST_CD))) > 1)"
    ).fetchone()[0]
    busy = db.execute(
        "SELECT COUNT(*) FROM (SELECT OFF_ID FROM ASGN GROUP BY OFF_ID HAVING COUNT(*) >= 3)"
    ).fetchone()[0]
    assert transferred > 50
    assert busy > 100
    types = {r[0].strip().upper() for r in db.execute("SELECT ASGN_TYP FROM ASGN")}
    assert types == {"W", "E", "L", "S"}


def test_painter_has_its_own_code_and_rate_at_each_institution(db: sqlite3.Connection) -> None:
    rows = db.execute(
        "SELECT INST_CD, TSK_CD, CR_RATE FROM INST_TSK WHERE TSK_DESC LIKE 'PAINTER%'"
    ).fetchall()
    assert len(rows) == 8
    assert sorted(r[2] for r in rows) == [5, 5, 10, 10, 10, 10, 10, 10]
    assert {r[1].strip() for r in rows} >= {"PNT1", "PAINT", "P-01"}


def test_institutions_carry_real_names_and_region_codes(db: sqlite3.Connection) -> None:
    rows = {r[0].strip(): (r[1].strip(), r[2]) for r in db.execute("SELECT * FROM INST")}
    assert rows["ECI"] == ("EASTERN CORRECTIONAL INSTITUTION", "ES")
    assert rows["MCIH"][1] == "HG"
    assert {region for _, region in rows.values()} == {"HG", "ES", "JS", "BA"}
