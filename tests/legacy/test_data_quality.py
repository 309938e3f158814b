"""Every data-quality defect in the answer key is really in the files, and none goes unrecorded."""

from __future__ import annotations

import csv
import sqlite3
from collections import Counter
from datetime import date
from typing import Any

import pytest

from cutover.legacy import QUALITY_CODES

from .conftest import Generated

_KEYS = {
    "OFFNDR": ("OFF_ID",),
    "CMT": ("CMT_ID",),
    "JAIL_CR": ("JCR_ID",),
    "CR_TXN": ("TXN_ID",),
    "ASGN": ("ASGN_ID",),
    "SEG": ("SEG_ID",),
    "INFR": ("INFR_ID",),
    "REL_CALC": ("OFF_ID",),
    "USR_ACCT": ("USR_ID",),
    "USR_SCRN": ("USR_ID", "SCRN_CD"),
    "LBR_LOG": ("OFF_ID", "WK_BGN_DT"),
}


def _is_date(text: str) -> bool:
    try:
        date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return False
    return True


def _value(db: sqlite3.Connection, table: str, keys: list[str], column: str) -> Any:
    where = " AND ".join(f"{k} = ?" for k in _KEYS[table])
    rows = db.execute(f"SELECT {column} FROM {table} WHERE {where}", keys).fetchall()
    assert len(rows) == 1, (table, keys)
    return rows[0][0]


def _documents(g: Generated) -> dict[str, dict[str, str]]:
    with (g.out / "documents.csv").open(encoding="utf-8") as fh:
        return {row["DOC_ID"]: row for row in csv.DictReader(fh)}


def _quality(g: Generated) -> list[dict[str, Any]]:
    return [a for a in g.answers() if a["kind"] == "data_quality"]


def test_every_quality_code_is_injected(generated: Generated) -> None:
    assert {a["code"] for a in _quality(generated)} == set(QUALITY_CODES)


def test_impossible_dates_are_impossible_and_only_on_non_critical_columns(
    generated: Generated, db: sqlite3.Connection
) -> None:
    docs = _documents(generated)
    lines = [a for a in _quality(generated) if a["code"] == "IMPOSSIBLE_DATE"]
    assert lines
    for a in lines:
        assert a["column"] in {
            "ENT_DT",
            "POST_DT",
            "LST_UPD_DT",
            "LST_LOGIN_DT",
            "IDX_DT",
            "HRG_DT",
        }
        if a["table"] == "DOC_IDX":
            value = docs[a["keys"][0]]["IDX_DT"]
        else:
            value = _value(db, a["table"], a["keys"], a["column"])
        assert value.isdigit()
        assert value not in ("00000000", "99999999")
        assert not _is_date(value), a


def test_no_impossible_date_goes_unrecorded(generated: Generated, db: sqlite3.Connection) -> None:
    recorded = {
        tuple(a["keys"])
        for a in _quality(generated)
        if a["code"] == "IMPOSSIBLE_DATE" and a["table"] == "CR_TXN"
    }
    found = {
        (txn,) for txn, ent in db.execute("SELECT TXN_ID, ENT_DT FROM CR_TXN") if not _is_date(ent)
    }
    assert found == recorded


def test_orphan_rows_belong_to_no_offender(generated: Generated, db: sqlite3.Connection) -> None:
    offenders = {r[0] for r in db.execute("SELECT OFF_ID FROM OFFNDR")}
    lines = [a for a in _quality(generated) if a["code"] == "ORPHAN_ROW"]
    assert lines
    for a in lines:
        assert _value(db, a["table"], a["keys"], "OFF_ID") not in offenders
    orphans = {
        ("CR_TXN", txn)
        for txn, off in db.execute("SELECT TXN_ID, OFF_ID FROM CR_TXN")
        if off not in offenders
    }
    assert orphans == {(a["table"], a["keys"][0]) for a in lines if a["table"] == "CR_TXN"}


def test_duplicate_offenders_share_sid_and_birth_date_under_a_name_variant(
    generated: Generated, db: sqlite3.Connection
) -> None:
    lines = [a for a in _quality(generated) if a["code"] == "DUPLICATE_OFFENDER"]
    assert lines
    for a in lines:
        first, second = (
            db.execute(
                "SELECT SID_NO, DOB, LAST_NM, FRST_NM, MID_INIT FROM OFFNDR WHERE OFF_ID = ?", (k,)
            ).fetchone()
            for k in a["keys"]
        )
        assert first[:2] == second[:2]
        assert first[2:] != second[2:]
        assert db.execute(
            "SELECT COUNT(*) FROM REL_CALC WHERE OFF_ID = ?", (a["keys"][1],)
        ).fetchone() == (0,)
    sids = Counter(r[0] for r in db.execute("SELECT SID_NO FROM OFFNDR"))
    assert sum(1 for n in sids.values() if n > 1) == len(lines)


def test_duplicate_users_share_an_employee_number(
    generated: Generated, db: sqlite3.Connection
) -> None:
    lines = [a for a in _quality(generated) if a["code"] == "DUPLICATE_USER"]
    assert lines
    for a in lines:
        emp = {_value(db, "USR_ACCT", [k], "EMP_NO") for k in a["keys"]}
        assert len(emp) == 1
    counts = Counter(r[0] for r in db.execute("SELECT EMP_NO FROM USR_ACCT"))
    assert sum(1 for n in counts.values() if n > 1) == len(lines)


def test_excess_screen_access_is_a_correctional_officer_updating_case_management(
    generated: Generated, db: sqlite3.Connection
) -> None:
    lines = [a for a in _quality(generated) if a["code"] == "EXCESS_SCREEN_ACCESS"]
    assert lines
    for a in lines:
        assert _value(db, "USR_SCRN", a["keys"], "ACC_LVL") == "U"
        assert _value(db, "USR_ACCT", a["keys"][:1], "JOB_CD").strip().upper() == "CO"
    excess = db.execute(
        "SELECT COUNT(*) FROM USR_SCRN s JOIN USR_ACCT u ON u.USR_ID = s.USR_ID"
        " WHERE UPPER(TRIM(u.JOB_CD)) = 'CO' AND s.SCRN_CD = 'CSM1' AND s.ACC_LVL = 'U'"
    ).fetchone()[0]
    assert excess == len(lines)


def test_document_disagreements_differ_on_certificate_number_only(
    generated: Generated, db: sqlite3.Connection
) -> None:
    certs = {
        (d["OFF_ID"], d["SENT_BGN_DT"]): d
        for d in _documents(generated).values()
        if d["DOC_TYP"] == "JAIL_CERT"
    }
    lines = [a for a in _quality(generated) if a["code"] == "DOCUMENT_DISAGREEMENT"]
    assert lines
    for a in lines:
        off, bgn, days, cert = db.execute(
            "SELECT j.OFF_ID, c.SENT_BGN_DT, j.CR_DAYS, j.CERT_NO FROM JAIL_CR j"
            " JOIN CMT c ON c.CMT_ID = j.CMT_ID WHERE j.JCR_ID = ?",
            a["keys"],
        ).fetchone()
        doc = certs[(off, bgn)]
        assert int(doc["JAIL_DAYS"]) == int(days)
        assert doc["CERT_NO"] != cert.strip()


def test_drifted_codes_are_recorded_and_nothing_else_drifts(
    generated: Generated, db: sqlite3.Connection
) -> None:
    lines = [a for a in _quality(generated) if a["code"] == "CODE_CASE_DRIFT"]
    for a in lines:
        value = _value(db, a["table"], a["keys"], a["column"])
        assert value != value.strip().upper() + " " * (len(value) - len(value.strip()))
    recorded = {(a["keys"][0], a["column"]) for a in lines if a["table"] == "CR_TXN"}
    found = set()
    for txn, typ, inst, tsk in db.execute("SELECT TXN_ID, CR_TYP, INST_CD, TSK_CD FROM CR_TXN"):
        for column, value in (("CR_TYP", typ), ("INST_CD", inst), ("TSK_CD", tsk)):
            if value != value.upper() or (value.startswith(" ") and value.strip()):
                found.add((txn, column))
    assert found == recorded


def test_unknown_task_codes_are_unknown_and_earn_nothing(
    generated: Generated, db: sqlite3.Connection
) -> None:
    catalogue = {
        (i.strip().upper(), t.strip().upper())
        for i, t in db.execute("SELECT INST_CD, TSK_CD FROM INST_TSK")
    }
    lines = [a for a in _quality(generated) if a["code"] == "UNKNOWN_TASK_CODE"]
    assert lines
    for a in lines:
        off, inst, tsk, bgn, end = db.execute(
            "SELECT OFF_ID, INST_CD, TSK_CD, BGN_DT, END_DT FROM ASGN WHERE ASGN_ID = ?", a["keys"]
        ).fetchone()
        assert (inst.strip().upper(), tsk.strip().upper()) not in catalogue
        posted = db.execute(
            "SELECT COUNT(*) FROM CR_TXN WHERE OFF_ID = ? AND UPPER(TRIM(CR_TYP)) IN"
            " ('WT', 'ED', 'SP') AND CR_MO BETWEEN ? AND ?",
            (off, bgn[:6], end[:6]),
        ).fetchone()[0]
        assert posted == 0


@pytest.mark.parametrize(
    ("table", "column"),
    [
        pytest.param("CR_TXN", "CR_TYP", id="credit-type"),
        pytest.param("ASGN", "TSK_CD", id="task-code"),
    ],
)
def test_about_one_percent_of_code_values_drift(
    db: sqlite3.Connection, table: str, column: str
) -> None:
    values = [r[0] for r in db.execute(f"SELECT {column} FROM {table}")]
    drifted = sum(
        1 for v in values if (v.strip() and v != v.upper()) or (v.startswith(" ") and v.strip())
    )
    assert 0.002 <= drifted / len(values) <= 0.03
