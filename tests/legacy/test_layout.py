"""The physical conventions of the spec: CHAR padding, sentinels, zero-padded numbers, keys."""

from __future__ import annotations

import csv
import re
import sqlite3
from datetime import date

from cutover.legacy.schema import DOCUMENT_COLUMNS, TABLES

from .conftest import Generated

_DATE_COLUMNS = {
    (t.name, c) for t in TABLES for c, typ in t.columns if typ == "CHAR(8)" and c.endswith("_DT")
} | {("OFFNDR", "DOB")}


def test_tables_and_columns_are_the_specs(db: sqlite3.Connection) -> None:
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert names == {t.name for t in TABLES}
    cmt = [r[1] for r in db.execute("PRAGMA table_info(CMT)")]
    assert cmt[:4] == ["CMT_ID", "OFF_ID", "DKT_NO", "CNTY_CD"]
    keys = {r[1] for r in db.execute("PRAGMA table_info(INST_TSK)") if r[5]}
    assert keys == {"INST_CD", "TSK_CD"}
    assert not [r for r in db.execute("PRAGMA table_info(LBR_LOG)") if r[5]]
    assert not db.execute("PRAGMA foreign_key_list(CR_TXN)").fetchall()


def test_char_columns_are_space_padded_to_their_width(db: sqlite3.Connection) -> None:
    for table in TABLES:
        for column, typ in table.columns:
            m = re.fullmatch(r"CHAR\((\d+)\)", typ)
            if not m:
                continue
            width = int(m.group(1))
            bad = db.execute(
                f"SELECT COUNT(*) FROM {table.name} WHERE LENGTH({column}) <> ?", (width,)
            ).fetchone()[0]
            assert bad == 0, (table.name, column)
    assert db.execute("SELECT COUNT(*) FROM INST WHERE INST_CD = 'ECI '").fetchone() == (1,)


def test_identifiers_and_day_counts_are_zero_padded(db: sqlite3.Connection) -> None:
    assert all(re.fullmatch(r"\d{9}", r[0]) for r in db.execute("SELECT OFF_ID FROM OFFNDR"))
    days = [r[0] for r in db.execute("SELECT CR_DAYS FROM CR_TXN")]
    assert all(re.fullmatch(r"\d{3}", d) for d in days)
    assert "005" in days
    assert "010" in days
    assert all(re.fullmatch(r"\d{3}", r[0]) for r in db.execute("SELECT CR_DAYS FROM JAIL_CR"))
    assert db.execute("SELECT typeof(TERM_YRS) FROM CMT LIMIT 1").fetchone() == ("integer",)


def test_sentinel_dates_are_present(db: sqlite3.Connection) -> None:
    assert db.execute("SELECT COUNT(*) FROM ASGN WHERE END_DT = '99999999'").fetchone()[0] > 0
    act = {r[0] for r in db.execute("SELECT ACT_REL_DT FROM REL_CALC WHERE REL_TYP = '  '")}
    assert {"00000000", " " * 8} <= act
    lifers = db.execute(
        "SELECT r.MAX_EXP_DT, r.MS_REL_DT FROM REL_CALC r JOIN CMT c ON c.OFF_ID = r.OFF_ID"
        " WHERE c.LIFE_FLG = 'Y'"
    ).fetchall()
    assert lifers
    assert set(lifers) == {("99999999", "00000000")}


def test_about_one_in_a_thousand_dates_is_impossible(generated: Generated) -> None:
    conn = generated.connect()
    total = impossible = 0
    for table, column in _DATE_COLUMNS:
        for (value,) in conn.execute(f"SELECT {column} FROM {table}"):
            if value.strip() in ("", "00000000", "99999999"):
                continue
            total += 1
            try:
                date(int(value[:4]), int(value[4:6]), int(value[6:]))
            except ValueError:
                impossible += 1
    conn.close()
    assert 0.0003 <= impossible / total <= 0.003


def test_calculations_are_as_of_the_first_of_a_month(db: sqlite3.Connection) -> None:
    days = {r[0] for r in db.execute("SELECT DISTINCT SUBSTR(CALC_DT, 7, 2) FROM REL_CALC")}
    assert days == {"01"}


def test_document_index_has_the_contract_header_and_types(generated: Generated) -> None:
    with (generated.out / "documents.csv").open(encoding="utf-8") as fh:
        reader = csv.reader(fh)
        assert tuple(next(reader)) == DOCUMENT_COLUMNS
        rows = list(reader)
    assert {r[2] for r in rows} == {"COMMITMENT_ORDER", "JAIL_CERT", "WORK_LOG"}
    terms = {r[5] for r in rows if r[2] == "COMMITMENT_ORDER"}
    assert "LIFE" in terms
    assert all(t == "LIFE" or re.fullmatch(r"\d+Y \d+M \d+D", t) for t in terms)
