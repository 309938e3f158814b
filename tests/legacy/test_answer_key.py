"""The answer key explains every legacy date: legacy + sum of causes = recomputed from the facts."""

from __future__ import annotations

import sqlite3
from collections import defaultdict

from cutover.legacy import RELEASE_CODES

from .conftest import Generated
from .recompute import parse, recompute


def _days_by_offender(g: Generated) -> dict[str, int]:
    days: dict[str, int] = defaultdict(int)
    for line in g.answers():
        if line["kind"] == "release_date":
            days[line["off_id"]] += line["days"]
    return days


def test_legacy_date_plus_answer_key_days_equals_the_date_recomputed_from_the_files(
    generated: Generated, db: sqlite3.Connection
) -> None:
    recomputed = recompute(generated.out)
    days = _days_by_offender(generated)
    checked = 0
    for off_id, ms_rel in db.execute("SELECT OFF_ID, MS_REL_DT FROM REL_CALC"):
        expected = recomputed[off_id]
        if expected is None:
            assert ms_rel == "00000000"
            continue
        assert parse(ms_rel) is not None
        assert parse(ms_rel) + days[off_id] == expected, off_id
        checked += 1
    assert checked > 300
    assert any(days.values())


def test_every_release_date_cause_is_injected_and_moves_the_date(generated: Generated) -> None:
    lines = [a for a in generated.answers() if a["kind"] == "release_date"]
    assert {a["code"] for a in lines} == set(RELEASE_CODES)
    assert all(a["days"] != 0 for a in lines)
    assert all(a["rows"] for a in lines)
    # one line per offender and cause: the waterfall's step for that cause
    assert len({(a["off_id"], a["code"]) for a in lines}) == len(lines)


def test_without_defects_every_recomputed_date_equals_the_legacy_date(
    generated_clean: Generated,
) -> None:
    recomputed = recompute(generated_clean.out)
    conn = generated_clean.connect()
    rows = conn.execute("SELECT OFF_ID, MS_REL_DT FROM REL_CALC").fetchall()
    conn.close()
    assert not [a for a in generated_clean.answers() if a["kind"] != "summary"]
    for off_id, ms_rel in rows:
        if recomputed[off_id] is not None:
            assert parse(ms_rel) == recomputed[off_id], off_id


def test_clean_offenders_date_is_max_expiration_minus_net_posted_credits(
    generated: Generated, db: sqlite3.Connection
) -> None:
    defective = {a["off_id"] for a in generated.answers() if a["kind"] == "release_date"}
    net: dict[str, int] = defaultdict(int)
    sign = {"GC": 1, "WT": 1, "ED": 1, "SP": 1, "RG": -1, "RS": -1}
    query = (
        "SELECT t.OFF_ID, t.CR_TYP, t.CR_DAYS FROM CR_TXN t JOIN REL_CALC r ON r.OFF_ID = t.OFF_ID"
        " WHERE t.ENT_DT <= r.CALC_DT"
    )
    for off_id, typ, days in db.execute(query):
        net[off_id] += sign[typ.strip().upper()] * int(days)
    checked = 0
    for off_id, max_exp, ms_rel in db.execute(
        "SELECT OFF_ID, MAX_EXP_DT, MS_REL_DT FROM REL_CALC WHERE MAX_EXP_DT <> '99999999'"
    ):
        if off_id in defective:
            continue
        assert parse(ms_rel) == (parse(max_exp) or 0) - net[off_id], off_id
        checked += 1
    assert checked > 200


def test_default_rates_leave_about_one_in_three_ms_releases_wrong(generated: Generated) -> None:
    s = generated.summary
    assert s.released_on_ms > 100
    assert 0.2 <= s.released_on_ms_wrong / s.released_on_ms <= 0.5
    assert -30 <= s.days_min < 0
    assert 60 <= s.days_max <= 130
