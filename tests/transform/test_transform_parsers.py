"""The legacy-aware parsers in SQL agree with Python's calendar, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from transform import sqlfuncs
from transform.sqlfuncs import (
    all_digits,
    parse_int,
    parse_yyyymmdd,
    portable_int,
    valid_yyyymmdd,
    yyyymmdd_to_date,
)


def _python_valid(text: str) -> bool:
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        return False
    try:
        dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return False
    return True


def _samples() -> list[str]:
    out = [
        "",
        "2003021",
        "200302311",
        "2003-2-1",
        "20O30201",
        " 2003020",
        "00000000",
        "99999999",
        "00010101",
        "20030001",
        "20030100",
        "20031301",
        "20039999",
        # Days 1-28 take a shorter path, which must still check the year and month.
        "20030115",
        "00000115",
        "20030015",
        "20031315",
        "20032815",
        # February 29 in years 0, 4, 100 and 400: only years 4 and 400 are leap years.
        "00000229",
        "00040229",
        "01000229",
        "04000229",
        "99991231",
        "99999901",
    ]
    for year in (1900, 1996, 2000, 2003, 2004, 2100, 2400):
        for month in range(1, 13):
            out += [f"{year:04d}{month:02d}{day:02d}" for day in (28, 29, 30, 31, 32)]
    return out


@pytest.mark.parametrize("test", ["engine", "portable"])
def test_calendar_validity_in_sql_matches_python(staging: sa.Engine, test: str) -> None:
    """The engine's own test (a registered parser on SQLite, a lookup of the month and day on
    PostgreSQL), and the arithmetic one any other engine gets, run on each engine."""
    meta = sa.MetaData()
    t = sa.Table("samples", meta, sa.Column("v", sa.Text))
    samples = _samples()
    is_valid = valid_yyyymmdd if test == "engine" else sqlfuncs._portable_valid_yyyymmdd
    with staging.begin() as conn:
        meta.create_all(conn)
        conn.execute(t.insert(), [{"v": s} for s in samples])
        valid = sa.case((is_valid(t.c.v), 1), else_=0)
        found = {v: bool(ok) for v, ok in conn.execute(sa.select(t.c.v, valid))}
        dates = dict(
            conn.execute(sa.select(t.c.v, yyyymmdd_to_date(t.c.v)).where(is_valid(t.c.v))).all()
        )
    wrong = [s for s in samples if found[s] != _python_valid(s)]
    assert not wrong, f"SQL and Python disagree on {wrong}"
    for text, value in dates.items():
        parsed = value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
        assert parsed == dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("0123", True, id="digits"),
        pytest.param("", False, id="empty"),
        pytest.param("12 3", False, id="inner-space"),
        pytest.param("-12", False, id="sign"),
        pytest.param("1a", False, id="letter"),
    ],
)
def test_all_digits(sqlite_staging: sa.Engine, text: str, expected: bool) -> None:
    with sqlite_staging.connect() as conn:
        value = conn.execute(sa.select(sa.case((all_digits(sa.literal(text)), 1), else_=0)))
        assert bool(value.scalar_one()) is expected


#: Whole-number texts (already trimmed): digits, a leading minus, and what is not a number.
INT_SAMPLES = {
    "0": 0,
    "007": 7,
    "42": 42,
    "-3": -3,
    "-0": 0,
    "123456789": 123456789,
    "-12345678": -12345678,
    "1234567890": None,
    "-123456789": None,
    "-": None,
    "--1": None,
    "+1": None,
    "1-": None,
    "1.5": None,
    "1e3": None,
    "12 3": None,
    "\u0663": None,
    "\u00b2": None,
    "O1": None,
}


def test_whole_numbers_parse_alike_on_every_engine(staging: sa.Engine) -> None:
    meta = sa.MetaData()
    t = sa.Table("int_samples", meta, sa.Column("v", sa.Text))
    with staging.begin() as conn:
        meta.create_all(conn)
        conn.execute(t.insert(), [{"v": s} for s in INT_SAMPLES])
        # Twice over: the second read is answered from SQLite's remembered texts.
        for _ in range(2):
            engine_form = dict(conn.execute(sa.select(t.c.v, parse_int(t.c.v))).all())
            assert engine_form == INT_SAMPLES
        # The portable form is what PostgreSQL runs; on SQLite it must agree with the function.
        portable = dict(conn.execute(sa.select(t.c.v, portable_int(t.c.v))).all())
        assert portable == INT_SAMPLES


def test_a_date_parses_to_the_day_it_names_or_to_null_on_every_engine(staging: sa.Engine) -> None:
    """``parse_yyyymmdd``: the calendar day, or NULL for anything that is not one (NULL too)."""
    meta = sa.MetaData()
    t = sa.Table("parse_samples", meta, sa.Column("v", sa.Text))
    samples = [*_samples(), None]
    with staging.begin() as conn:
        meta.create_all(conn)
        conn.execute(t.insert(), [{"v": s} for s in samples])
        parsed = dict(conn.execute(sa.select(t.c.v, parse_yyyymmdd(t.c.v))).all())
    for text in samples:
        value = parsed[text]
        got = value if value is None or isinstance(value, dt.date) else dt.date.fromisoformat(value)
        if text is None or not _python_valid(text):
            assert got is None, text
        else:
            assert got == dt.date(int(text[:4]), int(text[4:6]), int(text[6:])), text
