"""Field expressions: what a mapping may say about a value, parsed with file and line.

Forms (``e`` is any expression, ``c`` a condition):

- ``COL`` or ``alias.COL`` (a bare string): a staged column, raw (padding kept);
  ``{column: alias.COL}`` says the same explicitly.
- a number, true/false, null or a date: a constant; ``{const: text}`` for a text constant.
- ``{text: e}``: trimmed, blank -> null. ``{code: e}``: trimmed and upper-cased, blank -> null.
- ``{name_key: e}``: upper-cased with spaces, hyphens, apostrophes, periods and commas removed.
- ``{date: e, sentinels: NAME}``: ``YYYYMMDD``; ``{month: e, sentinels: NAME}``: ``YYYYMM`` ->
  the month's first day. Values listed in the vocabulary become what it says; impossible dates
  are quarantined (rule ``invalid_date`` / ``invalid_month``). With ``on_invalid: null`` (for
  columns no computation depends on) an impossible value becomes NULL instead and the row is
  kept; each such repair is recorded in ``xf__repair`` under the same rule, never silent.
- ``{flag: e, values: NAME}``: per the flag vocabulary; anything else -> ``invalid_flag``.
- ``{int: e}``: zero-padded number; blank -> null; anything else -> ``invalid_number``.
- ``{concat: [e, ...], sep: TEXT}``: text; null parts are skipped.
- ``{coalesce: [e, ...]}``: the first non-null.
- ``{case: [{when: c, then: e}, ...], else: e}``: the first branch whose condition holds.
- ``{crosswalk: NAME, code: e, institution: e, as_of: e, value: canonical|rate|code}``: the
  crosswalk's canonical code (or rate, per its rate policy; or ``code``: the looked-up code
  itself, to keep a legacy code only once the crosswalk knows it); no entry ->
  ``unmapped_code`` (and the value is null).
- ``{fn: NAME, args: [e, ...]}``: a registered function (:mod:`transform.functions`). One with
  a SQL form (``text_between``) is compiled in place and may stand anywhere an expression may;
  a Python-only one (the slower fallback) only as a column's whole expression.

Conditions: ``{eq|ne|lt|le|gt|ge: [e, e]}``, ``{in: [e, [values]]}``, ``{is_null: e}``,
``{not_null: e}``, ``{and: [c, ...]}``, ``{or: [c, ...]}``, ``{not: c}``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from transform.problems import Problems, suggest
from transform.yamlfile import Path_, YamlDoc

__all__ = [
    "PARSERS",
    "Case",
    "Column",
    "Concat",
    "Cond",
    "Const",
    "Crosswalk",
    "Expr",
    "Fn",
    "Parse",
    "Where",
    "parse_condition",
    "parse_expr",
    "walk",
]

#: Parser kinds: each takes one expression (and maybe a vocabulary).
PARSERS = ("text", "code", "name_key", "date", "month", "flag", "int")
_COMPARE = ("eq", "ne", "lt", "le", "gt", "ge")


@dataclass(frozen=True)
class Where:
    """Where an expression was written."""

    file: str
    line: int
    path: Path_


@dataclass(frozen=True)
class Column:
    at: Where
    alias: str | None
    name: str


@dataclass(frozen=True)
class Const:
    at: Where
    value: str | int | float | bool | dt.date | None


@dataclass(frozen=True)
class Parse:
    at: Where
    kind: Literal["text", "code", "name_key", "date", "month", "flag", "int"]
    arg: Expr
    vocabulary: str | None = None
    #: ``date``/``month`` only: ``quarantine`` (the default) or ``null`` (repair and record).
    on_invalid: Literal["quarantine", "null"] = "quarantine"


@dataclass(frozen=True)
class Concat:
    at: Where
    parts: tuple[Expr, ...]
    sep: str = ""
    coalesce: bool = False


@dataclass(frozen=True)
class Case:
    at: Where
    branches: tuple[tuple[Cond, Expr], ...]
    otherwise: Expr | None


@dataclass(frozen=True)
class Crosswalk:
    at: Where
    name: str
    code: Expr
    institution: Expr | None
    as_of: Expr | None
    value: Literal["canonical", "rate", "code"]


@dataclass(frozen=True)
class Fn:
    at: Where
    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Cond:
    at: Where
    op: str
    args: tuple[Expr, ...] = ()
    conds: tuple[Cond, ...] = ()
    values: tuple[Any, ...] = field(default=())


Expr = Column | Const | Parse | Concat | Case | Crosswalk | Fn


def walk(expr: Expr | Cond) -> Iterator[Expr | Cond]:
    """Every node of ``expr`` (itself first)."""
    yield expr
    children: list[Expr | Cond] = []
    if isinstance(expr, Parse):
        children = [expr.arg]
    elif isinstance(expr, Concat):
        children = list(expr.parts)
    elif isinstance(expr, Case):
        for cond, then in expr.branches:
            children += [cond, then]
        if expr.otherwise is not None:
            children.append(expr.otherwise)
    elif isinstance(expr, Crosswalk):
        children = [e for e in (expr.code, expr.institution, expr.as_of) if e is not None]
    elif isinstance(expr, Fn):
        children = list(expr.args)
    elif isinstance(expr, Cond):
        children = [*expr.args, *expr.conds]
    for child in children:
        yield from walk(child)


class _BadError(Exception):
    """One malformed expression; reported with its line, parsing goes on elsewhere."""

    def __init__(self, path: Path_, message: str) -> None:
        super().__init__(message)
        self.path = path


def parse_expr(doc: YamlDoc, path: Path_, raw: Any, where: str, problems: Problems) -> Expr | None:
    """Parse ``raw`` (found at ``path`` of ``doc``); a problem is recorded and ``None`` returned
    when it is malformed."""
    try:
        return _expr(doc, path, raw)
    except _BadError as bad:
        problems.add(doc.file, doc.line(bad.path), where, str(bad))
        return None


def parse_condition(
    doc: YamlDoc, path: Path_, raw: Any, where: str, problems: Problems
) -> Cond | None:
    try:
        return _cond(doc, path, raw)
    except _BadError as bad:
        problems.add(doc.file, doc.line(bad.path), where, str(bad))
        return None


def _at(doc: YamlDoc, path: Path_) -> Where:
    return Where(str(doc.file), doc.line(path), path)


def _column(doc: YamlDoc, path: Path_, text: str) -> Column:
    if not text or text.count(".") > 1 or any(not part for part in text.split(".")):
        raise _BadError(path, f"{text!r} is not a column (write COL or alias.COL)")
    alias, _, name = text.rpartition(".")
    return Column(_at(doc, path), alias or None, name)


def _one_key(path: Path_, raw: dict[str, Any], allowed: dict[str, set[str]]) -> str:
    kinds = [k for k in raw if k in allowed]
    if "crosswalk" in kinds:  # its code: argument is not a second expression kind
        kinds = ["crosswalk"]
    if len(kinds) != 1:
        known = ", ".join(sorted(allowed))
        unknown = [k for k in raw if k not in allowed]
        hint = suggest(unknown[0], allowed) if unknown else None
        extra = f" (did you mean {hint}?)" if hint else ""
        raise _BadError(
            path, f"an expression needs exactly one of: {known}; got {sorted(raw)}{extra}"
        )
    kind = kinds[0]
    extra_keys = sorted(set(raw) - {kind} - allowed[kind])
    if extra_keys:
        raise _BadError(
            (*path, extra_keys[0]), f"unknown key {extra_keys[0]!r} in a {kind} expression"
        )
    return kind


_EXPR_KEYS: dict[str, set[str]] = {
    "column": set(),
    "const": set(),
    "text": set(),
    "code": set(),
    "name_key": set(),
    "date": {"sentinels", "on_invalid"},
    "month": {"sentinels", "on_invalid"},
    "flag": {"values"},
    "int": set(),
    "concat": {"sep"},
    "coalesce": set(),
    "case": {"else"},
    "crosswalk": {"code", "institution", "as_of", "value"},
    "fn": {"args"},
}


def _expr(doc: YamlDoc, path: Path_, raw: Any) -> Expr:
    if isinstance(raw, str):
        return _column(doc, path, raw)
    if raw is None or isinstance(raw, bool | int | float | dt.date):
        return Const(_at(doc, path), raw)
    if isinstance(raw, list):
        raise _BadError(path, "a list is not an expression (did you mean concat: or coalesce:?)")
    if not isinstance(raw, dict):
        raise _BadError(path, f"cannot read {raw!r} as an expression")
    kind = _one_key(path, raw, _EXPR_KEYS)
    sub = (*path, kind)
    value = raw[kind]
    if kind == "column":
        if not isinstance(value, str):
            raise _BadError(sub, "column: takes a column name")
        return _column(doc, sub, value)
    if kind == "const":
        if isinstance(value, dict | list):
            raise _BadError(sub, "const: takes a plain value")
        return Const(_at(doc, sub), value)
    if kind in PARSERS:
        vocab_key = "values" if kind == "flag" else "sentinels"
        vocab = raw.get(vocab_key)
        if vocab is not None and not isinstance(vocab, str):
            raise _BadError((*path, vocab_key), f"{vocab_key}: names a vocabulary of project.yaml")
        on_invalid = raw.get("on_invalid", "quarantine")
        if on_invalid is None:  # YAML reads the word null as None
            on_invalid = "null"
        if on_invalid not in ("quarantine", "null"):
            raise _BadError(
                (*path, "on_invalid"), f"on_invalid: is quarantine or null, not {on_invalid!r}"
            )
        arg = _expr(doc, sub, value)
        return Parse(_at(doc, sub), kind, arg, vocab, on_invalid)  # type: ignore[arg-type]
    if kind in ("concat", "coalesce"):
        if not isinstance(value, list) or not value:
            raise _BadError(sub, f"{kind}: takes a non-empty list of expressions")
        parts = tuple(_expr(doc, (*sub, i), v) for i, v in enumerate(value))
        sep = raw.get("sep", "")
        if not isinstance(sep, str):
            raise _BadError((*path, "sep"), "sep: takes a text")
        return Concat(_at(doc, sub), parts, sep, coalesce=kind == "coalesce")
    if kind == "case":
        return _case(doc, path, raw)
    if kind == "crosswalk":
        return _crosswalk(doc, path, raw)
    args = raw.get("args", [])
    if not isinstance(value, str) or not isinstance(args, list):
        raise _BadError(sub, "fn: takes a function name, args: a list of expressions")
    parsed = tuple(_expr(doc, (*path, "args", i), a) for i, a in enumerate(args))
    return Fn(_at(doc, sub), value, parsed)


def _case(doc: YamlDoc, path: Path_, raw: dict[str, Any]) -> Case:
    sub = (*path, "case")
    branches_raw = raw["case"]
    if not isinstance(branches_raw, list) or not branches_raw:
        raise _BadError(sub, "case: takes a list of {when: condition, then: expression}")
    branches: list[tuple[Cond, Expr]] = []
    for i, branch in enumerate(branches_raw):
        bpath = (*sub, i)
        if not isinstance(branch, dict) or set(branch) != {"when", "then"}:
            raise _BadError(bpath, "each case branch is {when: condition, then: expression}")
        cond = _cond(doc, (*bpath, "when"), branch["when"])
        branches.append((cond, _expr(doc, (*bpath, "then"), branch["then"])))
    otherwise = _expr(doc, (*path, "else"), raw["else"]) if "else" in raw else None
    return Case(_at(doc, sub), tuple(branches), otherwise)


def _crosswalk(doc: YamlDoc, path: Path_, raw: dict[str, Any]) -> Crosswalk:
    name = raw["crosswalk"]
    if not isinstance(name, str):
        raise _BadError((*path, "crosswalk"), "crosswalk: names a crosswalk")
    if "code" not in raw:
        raise _BadError((*path, "crosswalk"), "a crosswalk expression needs code:")
    value = raw.get("value", "canonical")
    if value not in ("canonical", "rate", "code"):
        raise _BadError((*path, "value"), f"value: is canonical, rate or code, not {value!r}")
    inst = raw.get("institution")
    as_of = raw.get("as_of")
    return Crosswalk(
        _at(doc, (*path, "crosswalk")),
        name,
        _expr(doc, (*path, "code"), raw["code"]),
        None if inst is None else _expr(doc, (*path, "institution"), inst),
        None if as_of is None else _expr(doc, (*path, "as_of"), as_of),
        value,
    )


_COND_KEYS: dict[str, set[str]] = {
    k: set() for k in (*_COMPARE, "in", "is_null", "not_null", "and", "or", "not")
}


def _cond(doc: YamlDoc, path: Path_, raw: Any) -> Cond:
    if not isinstance(raw, dict):
        raise _BadError(path, "a condition is a mapping such as {eq: [CODE, {const: X}]}")
    op = _one_key(path, raw, _COND_KEYS)
    sub = (*path, op)
    value = raw[op]
    at = _at(doc, sub)
    if op in _COMPARE:
        if not isinstance(value, list) or len(value) != 2:
            raise _BadError(sub, f"{op}: takes two expressions")
        return Cond(at, op, (_expr(doc, (*sub, 0), value[0]), _expr(doc, (*sub, 1), value[1])))
    if op == "in":
        if not isinstance(value, list) or len(value) != 2 or not isinstance(value[1], list):
            raise _BadError(sub, "in: takes [expression, [value, ...]]")
        if not value[1] or any(isinstance(v, dict | list) for v in value[1]):
            raise _BadError((*sub, 1), "in: needs a non-empty list of plain values")
        return Cond(at, op, (_expr(doc, (*sub, 0), value[0]),), values=tuple(value[1]))
    if op in ("is_null", "not_null"):
        return Cond(at, op, (_expr(doc, sub, value),))
    if op == "not":
        return Cond(at, op, conds=(_cond(doc, sub, value),))
    if not isinstance(value, list) or not value:
        raise _BadError(sub, f"{op}: takes a non-empty list of conditions")
    return Cond(at, op, conds=tuple(_cond(doc, (*sub, i), c) for i, c in enumerate(value)))
