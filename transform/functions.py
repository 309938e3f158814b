"""Registered functions: what an expression cannot say, by name.

``@register_function("name", returns="text")`` makes a function callable from a mapping as
``{fn: name, args: [...]}``. Two kinds:

- a **Python** function (the fallback for what SQL cannot say): the engine evaluates the
  arguments in SQL, then calls the function row by row in bounded chunks, so it is visibly
  slower than an expression and may only be a column's whole expression. It signals bad input
  by raising :class:`ValueError`; the row is quarantined with rule ``function_error``;
- a function with a **SQL form** (``sql=``, a builder from the arguments' SQL to the result's
  SQL): compiled into the statement like any expression, set-based, usable anywhere an
  expression is (inside ``int:``, a condition, a precedence's ``primary``). Its Python function
  states the same result for one value and is what the tests compare the SQL form with.

Built-ins register through the same decorator.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, Cast, ColumnElement, Null
from sqlalchemy.sql.functions import FunctionElement

from cutover.errors import MappingError
from transform.problems import suggest

__all__ = [
    "RegisteredFunction",
    "ReturnType",
    "SqlForm",
    "get_function",
    "register_function",
    "registered",
]

ReturnType = Literal["text", "int", "number", "date", "bool"]

#: Builds a function's result as SQL from its arguments' SQL (in the order of ``args:``).
SqlForm = Callable[[Sequence[ColumnElement[Any]]], ColumnElement[Any]]


@dataclass(frozen=True)
class RegisteredFunction:
    name: str
    func: Callable[..., Any]
    returns: ReturnType
    arity: int | None
    #: The same function as SQL, compiled into the statement; None: Python only.
    sql: SqlForm | None = None


_REGISTRY: dict[str, RegisteredFunction] = {}


def register_function(
    name: str, *, returns: ReturnType, arity: int | None = None, sql: SqlForm | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``func`` under ``name`` for mappings; ``arity`` None means any number of args.

    With ``sql``, mappings compile the function into SQL instead of calling ``func`` per row.
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        if name in _REGISTRY and _REGISTRY[name].func is not func:
            raise MappingError(
                f"a function named {name!r} is already registered",
                hint="choose another name for the new function",
            )
        _REGISTRY[name] = RegisteredFunction(name, func, returns, arity, sql)
        return func

    return decorate


def registered() -> dict[str, RegisteredFunction]:
    """Every registered function by name."""
    return dict(_REGISTRY)


def get_function(name: str) -> RegisteredFunction:
    try:
        return _REGISTRY[name]
    except KeyError:
        close = suggest(name, _REGISTRY)
        known = ", ".join(sorted(_REGISTRY))
        raise MappingError(
            f"unknown function {name!r}",
            hint=f"did you mean {close}?" if close else f"registered functions: {known}",
        ) from None


_SPACES = re.compile(r"\s+")


@register_function("title_name", returns="text", arity=1)
def title_name(value: str | None) -> str | None:
    """A padded upper-case legacy name as a person would write it: ``O'BRIEN  `` -> ``O'Brien``."""
    if value is None or not value.strip():
        return None
    words = _SPACES.sub(" ", value.strip()).lower()
    return re.sub(r"(^|[\s'\-])([a-z])", lambda m: m.group(1) + m.group(2).upper(), words)


@register_function("ascii_fold", returns="text", arity=1)
def ascii_fold(value: str | None) -> str | None:
    """Accents removed (``José`` -> ``Jose``); text that cannot be folded raises ``ValueError``."""
    if value is None:
        return None
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    if value.strip() and not folded.strip():
        raise ValueError("nothing left after removing accents")
    return folded


@register_function("regex_int", returns="int", arity=2)
def regex_int(value: str | None, pattern: str | None) -> int | None:
    """The whole number in ``pattern``'s first group (``'5Y 3M 0D'``, ``'(\\d+)M'`` -> 3);
    ``None`` when the value is blank or does not match; a bad pattern raises ``ValueError``."""
    if value is None or not value.strip() or pattern is None:
        return None
    try:
        found = re.search(pattern, value)
    except re.error as exc:
        raise ValueError(f"invalid pattern {pattern!r}: {exc}") from None
    if found is None:
        return None
    try:
        return int(found.group(1))
    except (IndexError, ValueError):
        raise ValueError(f"pattern {pattern!r} has no group 1 holding a number") from None


class _position(FunctionElement[int]):  # noqa: N801 - SQL function naming
    """1-based position of the first ``needle`` in ``text``; 0 when absent, NULL on NULL."""

    type = sa.Integer()
    inherit_cache = True
    name = "position"


@compiles(_position)
def _position_default(element: _position, compiler: SQLCompiler, **kw: Any) -> str:
    text, needle = (compiler.process(c, **kw) for c in element.clauses)
    return f"instr({text}, {needle})"


@compiles(_position, "postgresql")
def _position_pg(element: _position, compiler: SQLCompiler, **kw: Any) -> str:
    text, needle = (compiler.process(c, **kw) for c in element.clauses)
    return f"strpos({text}, {needle})"


_NOT_CONSTANT = object()


def _constant(e: ColumnElement[Any]) -> object:
    """The value of a constant argument (``{const: ...}`` or ``null``), else ``_NOT_CONSTANT``."""
    while isinstance(e, Cast):  # PostgreSQL constants are typed with a cast
        e = e.clause
    if isinstance(e, Null):
        return None
    if isinstance(e, BindParameter) and e.callable is None:
        return e.value
    return _NOT_CONSTANT


def _cut(
    text: ColumnElement[Any], marker: ColumnElement[Any], keep: Literal["after", "before"]
) -> ColumnElement[Any]:
    """``text`` after (or before) the first ``marker``; NULL when it does not occur. A blank or
    null marker cuts nothing. Written so that ``text`` occurs twice and needs no CASE when the
    marker is a constant (``nullif`` turns "not found" into NULL, which every step passes on)."""
    value = _constant(marker)
    if value is None or value == "":
        return text
    found = sa.func.nullif(_position(text, marker), 0)
    width = len(value) if isinstance(value, str) else sa.func.length(marker)
    cut = (
        sa.func.substr(text, found + width)
        if keep == "after"
        else sa.func.substr(text, 1, found - 1)
    )
    if value is not _NOT_CONSTANT:
        return cut
    return sa.case((sa.func.coalesce(marker, "") == "", text), else_=cut)


def _text_between_sql(args: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
    value, after, before = args
    text = value if isinstance(value.type, sa.String) else sa.cast(value, sa.Text)
    return _cut(_cut(text, after, "after"), before, "before")


@register_function("text_between", returns="text", arity=3, sql=_text_between_sql)
def text_between(value: str | None, after: str | None, before: str | None) -> str | None:
    """The text after the first ``after`` and before the next ``before``, as is (spaces kept):
    ``'5Y 3M 0D'``, ``'Y'``, ``'M'`` -> ``' 3'``. A blank or null marker means the start (or
    the end) of the value; ``None`` when the value is null or a marker does not occur.

    It has a SQL form, so a mapping may use it anywhere: ``{int: {fn: text_between, args:
    [TERM, {const: Y}, {const: M}]}}`` reads a term's months without leaving the database.
    """
    if value is None:
        return None
    if after:
        at = value.find(after)
        if at < 0:
            return None
        value = value[at + len(after) :]
    if before:
        at = value.find(before)
        if at < 0:
            return None
        value = value[:at]
    return value
