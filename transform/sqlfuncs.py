"""Legacy-aware parsing in SQL, portable across SQLite and PostgreSQL.

The few operations the two dialects spell differently are SQLAlchemy constructs compiled per
dialect (``@compiles``): "only digits", "a real calendar day" and "eight digits to a date".
Everything else (sentinels, trimming) is plain portable SQL built here, so a row's validity is
decided inside the database, never in a Python loop over fetched rows.

PostgreSQL decides calendar validity by one lookup: the eight digits read as one number, its
last four (month and day) looked up in the 366 real month-days (a constant list PostgreSQL
hashes), the year at least 1, and February 29 only in a leap year; then casts the text to a
date (eight digits are read as ``YYYYMMDD`` whatever the session's ``DateStyle``). PostgreSQL
has no common subexpressions: each mention of the value in the test evaluates the mapping's
expression for it (``trim()`` of the raw text, say) again, and the arithmetic test (days per
month, leap years), which other engines keep, mentions it about eight times for a usual date,
the lookup four. Measured on the 13.9 million staged postings at 100,000 offenders, the credit
month's whole expression in one process without JIT: see ``_valid_pg``. SQLite has no
strict date parser, and the same arithmetic costs it a dozen string functions per value; so on
SQLite a strict parser is registered as an engine function (``cutover_yyyymmdd``), called
inside the statement like any built-in one. Whole numbers likewise (``cutover_int``): the
portable test (length, digits, an optional sign) evaluates the text seven times over. Both
remember the texts they have seen, since a legacy column spells few distinct values.
:func:`register_sqlite_functions` registers them, and the row hash of :mod:`transform.hashing`,
on every SQLite connection SQLAlchemy opens once this module is imported.
"""

from __future__ import annotations

import functools
import sqlite3
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from transform.hashing import SQLITE_ROW_HASH, sqlite_row_hash

#: The strict YYYYMMDD parser registered on SQLite connections.
SQLITE_YYYYMMDD = "cutover_yyyymmdd"
#: The whole-number parser registered on SQLite connections.
SQLITE_INT = "cutover_int"
#: The longest text a whole number may have (a sign and digits): 9 keeps it within 32 bits.
INT_MAX_LENGTH = 9
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


#: Distinct date texts remembered by the SQLite parser. A legacy database spells a few tens of
#: thousands of distinct dates across millions of cells, so almost every call is a lookup; the
#: bound keeps memory flat however varied the values are.
YYYYMMDD_CACHE = 1 << 16


@functools.lru_cache(maxsize=YYYYMMDD_CACHE)
def _yyyymmdd(text: object) -> str | None:
    """``'20030228'`` -> ``'2003-02-28'``; anything but eight ASCII digits naming a real day
    (year 1 or later) -> None. The ISO text is how SQLite stores a date."""
    if not isinstance(text, str) or len(text) != 8 or not text.isascii() or not text.isdigit():
        return None
    year, month, day = int(text[:4]), int(text[4:6]), int(text[6:])
    if year < 1 or not 1 <= month <= 12 or day < 1:
        return None
    if day > _DAYS_IN_MONTH[month]:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        if not (month == 2 and day == 29 and leap):
            return None
    return f"{text[:4]}-{text[4:6]}-{text[6:]}"


@functools.lru_cache(maxsize=YYYYMMDD_CACHE)
def _int_text(text: object) -> int | None:
    """``'0042'`` -> 42, ``'-3'`` -> -3; anything but ASCII digits after an optional ``-``, or
    longer than :data:`INT_MAX_LENGTH`, -> None (the text is already trimmed)."""
    if not isinstance(text, str) or len(text) > INT_MAX_LENGTH:
        return None
    digits = text[1:] if text.startswith("-") else text
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    return int(text)


def register_sqlite_functions(dbapi_conn: sqlite3.Connection) -> None:
    """Register the engine functions the compiled mappings call on SQLite."""
    dbapi_conn.create_function(SQLITE_YYYYMMDD, 1, _yyyymmdd, deterministic=True)
    dbapi_conn.create_function(SQLITE_INT, 1, _int_text, deterministic=True)
    dbapi_conn.create_function(SQLITE_ROW_HASH, -1, sqlite_row_hash, deterministic=True)


def ensure_functions(conn: sa.Connection) -> None:
    """Register the engine functions on ``conn`` if it is SQLite (for a connection opened
    before this module was imported; registering again is harmless)."""
    driver = conn.connection.driver_connection
    if isinstance(driver, sqlite3.Connection):
        register_sqlite_functions(driver)


@event.listens_for(sa.engine.Engine, "connect")
def _on_connect(dbapi_conn: Any, _record: Any) -> None:
    if isinstance(dbapi_conn, sqlite3.Connection):
        register_sqlite_functions(dbapi_conn)


__all__ = [
    "INT_MAX_LENGTH",
    "SQLITE_INT",
    "SQLITE_YYYYMMDD",
    "all_digits",
    "blank_to_null",
    "ensure_functions",
    "flag_value",
    "is_true",
    "name_key",
    "parse_int",
    "parse_yyyymmdd",
    "portable_int",
    "register_sqlite_functions",
    "valid_yyyymmdd",
    "yyyymmdd_to_date",
]


class all_digits(FunctionElement[bool]):  # noqa: N801 - SQL function naming
    """True when the text is one or more ASCII digits."""

    type = sa.Boolean()
    inherit_cache = True
    name = "all_digits"


@compiles(all_digits)
def _all_digits_default(element: all_digits, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    text = compiler.process(arg, **kw)
    return f"(length({text}) > 0 AND trim({text}, '0123456789') = '')"


@compiles(all_digits, "postgresql")
def _all_digits_pg(element: all_digits, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return f"({compiler.process(arg, **kw)} ~ '^[0-9]+$')"


class yyyymmdd_to_date(FunctionElement[Any]):  # noqa: N801 - SQL function naming
    """An eight-digit ``YYYYMMDD`` text (already validated) as a date."""

    type = sa.Date()
    inherit_cache = True
    name = "yyyymmdd_to_date"


@compiles(yyyymmdd_to_date)
def _to_date_default(element: yyyymmdd_to_date, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    t = compiler.process(arg, **kw)
    # SQLite keeps dates as ISO text, which is what SQLAlchemy's Date type reads back.
    return f"(substr({t}, 1, 4) || '-' || substr({t}, 5, 2) || '-' || substr({t}, 7, 2))"


@compiles(yyyymmdd_to_date, "postgresql")
def _to_date_pg(element: yyyymmdd_to_date, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    # Eight digits are YYYYMMDD to the date input in every DateStyle; cheaper than to_date.
    return f"CAST({compiler.process(arg, **kw)} AS DATE)"


def is_true(cond: ColumnElement[bool]) -> ColumnElement[bool]:
    """``cond`` with NULL read as false (for guards and filters)."""
    return sa.case((cond, sa.true()), else_=sa.false())


def blank_to_null(raw: ColumnElement[Any]) -> ColumnElement[str]:
    """Padded CHAR trimmed; all blanks -> NULL."""
    return sa.func.nullif(sa.func.trim(raw), "")


def _int(text: ColumnElement[Any]) -> ColumnElement[int]:
    return sa.cast(text, sa.Integer)


def _portable_valid_yyyymmdd(text: ColumnElement[Any]) -> ColumnElement[bool]:
    # The digits read as one number, year, month and day taken from it by arithmetic: casting
    # each part's substring costs PostgreSQL several times more per value.
    number = _int(text)
    year, month, day = number // 10000, number // 100 % 100, number % 100
    leap = sa.or_(sa.and_(year % 4 == 0, year % 100 != 0), year % 400 == 0)
    days_in_month = sa.case(
        (month == 2, sa.case((leap, 29), else_=28)),
        (month.in_([4, 6, 9, 11]), 30),
        else_=31,
    )
    real_month = sa.and_(year >= 1, month >= 1, month <= 12)
    calendar = sa.case(
        # Most days are the 28th or earlier, which every month has: no month length needed.
        (sa.and_(real_month, day >= 1, day <= 28), 1),
        (sa.and_(real_month, day > 28, day <= days_in_month), 1),
        else_=0,
    )
    # The outer CASE keeps the cast away from text that is not eight digits.
    shape = sa.and_(sa.func.length(text) == 8, all_digits(text))
    return sa.case((shape, calendar), else_=0) == 1


class valid_yyyymmdd(FunctionElement[bool]):  # noqa: N801 - SQL function naming
    """True when the text is eight digits naming a real calendar day (20030231 is not)."""

    type = sa.Boolean()
    inherit_cache = True
    name = "valid_yyyymmdd"


@compiles(valid_yyyymmdd)
def _valid_default(element: valid_yyyymmdd, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return compiler.process(_portable_valid_yyyymmdd(arg), **kw)


#: Every month and day a year can have, as ``month * 100 + day`` (February 29 included).
_MONTH_DAYS = ", ".join(
    str(month * 100 + day)
    for month in range(1, 13)
    for day in range(1, (29 if month == 2 else _DAYS_IN_MONTH[month]) + 1)
)


@compiles(valid_yyyymmdd, "postgresql")
def _valid_pg(element: valid_yyyymmdd, compiler: SQLCompiler, **kw: Any) -> str:
    """The month and day looked up among the real ones (see the module's docstring).

    The credit month's expression over the 13.9 million staged postings at 100,000 offenders,
    one process, no JIT: 21.8 s with the arithmetic test and ``to_date``, 18.8 s with this
    lookup and ``to_date`` (both within one run, the same rows); ``to_date`` of the value
    alone 5.2 s against 4.1 s for the cast (:func:`_to_date_pg`). The ledger's working table
    (parallel ``CREATE TABLE ... AS``) in whole transforms, old and new in turn twice: 46.6 and
    47.9 s against 43.7 and 43.7 s; the transforms 132.3 and 132.3 s against 131.8 and 130.5 s."""
    (arg,) = list(element.clauses)
    number = _int(arg)
    year = number // 10000
    month_day = number % 10000
    leap = sa.or_(sa.and_(year % 4 == 0, year % 100 != 0), year % 400 == 0)
    real = sa.and_(
        # Written into the statement, not bound: PostgreSQL hashes a list of constants once.
        month_day.op("IN")(sa.literal_column(f"({_MONTH_DAYS})")),
        number >= 10000,
        sa.or_(month_day != 229, leap),
    )
    # The outer CASE keeps the cast away from text that is not eight digits.
    shape = sa.and_(sa.func.length(arg) == 8, all_digits(arg))
    return compiler.process(sa.case((shape, real), else_=sa.false()), **kw)


@compiles(valid_yyyymmdd, "sqlite")
def _valid_sqlite(element: valid_yyyymmdd, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return f"({SQLITE_YYYYMMDD}({compiler.process(arg, **kw)}) IS NOT NULL)"


class parse_yyyymmdd(FunctionElement[Any]):  # noqa: N801 - SQL function naming
    """An eight-digit ``YYYYMMDD`` text as a date; NULL when it is not a real calendar day."""

    type = sa.Date()
    inherit_cache = True
    name = "parse_yyyymmdd"


@compiles(parse_yyyymmdd)
def _parse_default(element: parse_yyyymmdd, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    parsed = sa.case((valid_yyyymmdd(arg), yyyymmdd_to_date(arg)), else_=sa.null())
    return compiler.process(parsed, **kw)


@compiles(parse_yyyymmdd, "sqlite")
def _parse_sqlite(element: parse_yyyymmdd, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return f"{SQLITE_YYYYMMDD}({compiler.process(arg, **kw)})"


class parse_int(FunctionElement[Any]):  # noqa: N801 - SQL function naming
    """A trimmed text of digits, optionally after ``-``, at most ``INT_MAX_LENGTH`` long, as an
    integer; NULL otherwise."""

    type = sa.Integer()
    inherit_cache = True
    name = "parse_int"


def portable_int(t: ColumnElement[Any]) -> ColumnElement[Any]:
    """:class:`parse_int` in standard SQL (what every engine but SQLite runs)."""
    ok = sa.and_(
        sa.func.length(t) <= INT_MAX_LENGTH,
        sa.or_(
            all_digits(t),
            sa.and_(sa.func.substr(t, 1, 1) == "-", all_digits(sa.func.substr(t, 2))),
        ),
    )
    return sa.case((ok, sa.cast(t, sa.Integer)), else_=sa.null())


@compiles(parse_int)
def _parse_int_default(element: parse_int, compiler: SQLCompiler, **kw: Any) -> str:
    (t,) = list(element.clauses)
    return compiler.process(portable_int(t), **kw)


@compiles(parse_int, "sqlite")
def _parse_int_sqlite(element: parse_int, compiler: SQLCompiler, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return f"{SQLITE_INT}({compiler.process(arg, **kw)})"


def name_key(raw: ColumnElement[Any]) -> ColumnElement[str]:
    """Upper case without spaces, hyphens, apostrophes, periods or commas; blank -> NULL."""
    out: ColumnElement[Any] = sa.func.upper(sa.func.trim(raw))
    for char in (" ", "-", "'", ".", ","):
        out = sa.func.replace(out, char, "")
    return sa.func.nullif(out, "")


def flag_value(code: ColumnElement[Any], vocabulary: dict[str, bool | None]) -> ColumnElement[Any]:
    """The vocabulary's value for a trimmed, upper-cased flag code (NULL when not listed)."""
    whens = [
        (code == key, sa.true() if val else sa.false())
        for key, val in vocabulary.items()
        if val is not None
    ]
    if not whens:
        return sa.null()
    return sa.case(*whens, else_=sa.null())
