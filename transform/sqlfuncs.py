"""Legacy-aware parsing in SQL, portable across SQLite and PostgreSQL.

The few operations the two dialects spell differently are SQLAlchemy constructs compiled per
dialect (``@compiles``): "only digits" and "eight digits to a date". Everything else (calendar
validity with days per month and leap years, sentinels, trimming) is plain portable SQL built
here, so a row's validity is decided inside the database, never in a Python loop.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

__all__ = [
    "all_digits",
    "blank_to_null",
    "flag_value",
    "is_true",
    "name_key",
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
    return f"to_date({compiler.process(arg, **kw)}, 'YYYYMMDD')"


def is_true(cond: ColumnElement[bool]) -> ColumnElement[bool]:
    """``cond`` with NULL read as false (for guards and filters)."""
    return sa.case((cond, sa.true()), else_=sa.false())


def blank_to_null(raw: ColumnElement[Any]) -> ColumnElement[str]:
    """Padded CHAR trimmed; all blanks -> NULL."""
    return sa.func.nullif(sa.func.trim(raw), "")


def _int(text: ColumnElement[Any]) -> ColumnElement[int]:
    return sa.cast(text, sa.Integer)


def valid_yyyymmdd(text: ColumnElement[Any]) -> ColumnElement[bool]:
    """True when ``text`` is eight digits naming a real calendar day (20030231 is not)."""
    year = _int(sa.func.substr(text, 1, 4))
    month = _int(sa.func.substr(text, 5, 2))
    day = _int(sa.func.substr(text, 7, 2))
    leap = sa.or_(sa.and_(year % 4 == 0, year % 100 != 0), year % 400 == 0)
    days_in_month = sa.case(
        (month == 2, sa.case((leap, 29), else_=28)),
        (month.in_([4, 6, 9, 11]), 30),
        else_=31,
    )
    calendar = sa.case(
        (sa.and_(year >= 1, month >= 1, month <= 12, day >= 1, day <= days_in_month), 1),
        else_=0,
    )
    # The outer CASE keeps the casts away from text that is not eight digits.
    shape = sa.and_(sa.func.length(text) == 8, all_digits(text))
    return sa.case((shape, calendar), else_=0) == 1


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
