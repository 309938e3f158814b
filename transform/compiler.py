"""Expressions compiled once to SQLAlchemy Core, with their types and their failure checks.

An :class:`ExprCompiler` works inside one FROM clause (a :class:`Scope`: the driving staged
table and its lookups). Compiling an expression gives its SQL and type; each parser that can
fail (a date, a number, a flag, a crosswalk lookup) also records a :class:`Check`: the SQL
condition under which the row must go to quarantine, the rule, and the offending raw value.
Problems (unknown columns, type clashes) are collected with file and line, never raised here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from transform import expressions as ex
from transform import sqlfuncs as sf
from transform.problems import Problems, suggest
from transform.project import CrosswalkDef, MappingProject
from transform.schema import OutputTables, StagedSchema, staged_name

__all__ = [
    "Check",
    "CrosswalkUse",
    "EType",
    "ExprCompiler",
    "Repair",
    "Scope",
    "Typed",
    "lit",
    "sa_type",
    "unify",
]


class EType(StrEnum):
    RAW = "raw legacy text"
    TEXT = "text"
    INT = "integer"
    NUMBER = "number"
    DATE = "date"
    BOOL = "boolean"
    NULL = "null"


def sa_type(t: EType) -> sa.types.TypeEngine[Any]:
    types: dict[EType, sa.types.TypeEngine[Any]] = {
        EType.INT: sa.Integer(),
        EType.NUMBER: sa.Numeric(18, 4),
        EType.DATE: sa.Date(),
        EType.BOOL: sa.Boolean(),
    }
    return types.get(t, sa.Text())


def unify(a: EType, b: EType) -> EType | None:
    """The common type of two branches, or None when they clash."""
    if a in (EType.NULL, b):
        return b
    if b == EType.NULL:
        return a
    if {a, b} == {EType.RAW, EType.TEXT}:
        return EType.TEXT
    if {a, b} == {EType.INT, EType.NUMBER}:
        return EType.NUMBER
    return None


def lit(value: Any, t: EType, dialect: str) -> ColumnElement[Any]:
    """A typed constant; PostgreSQL gets an explicit cast so CASE branches agree."""
    if value is None:
        return sa.null()
    typ = sa_type(t)
    out: ColumnElement[Any] = sa.literal(value, typ)
    return sa.cast(out, typ) if dialect == "postgresql" else out


def _const_type(value: Any) -> EType:
    if value is None:
        return EType.NULL
    if isinstance(value, bool):
        return EType.BOOL
    if isinstance(value, int):
        return EType.INT
    if isinstance(value, float):
        return EType.NUMBER
    if isinstance(value, dt.date):
        return EType.DATE
    return EType.TEXT


#: A global crosswalk with no effective dates and at most this many entries is looked up by a
#: ``CASE`` over its codes, written into the statement: a handful of comparisons per row instead
#: of a correlated subquery (at 10,000 offenders, 3.1 s of the ledger's 1.37 million lookups).
INLINE_CROSSWALK_ENTRIES = 32


def _inline_lookup(
    xw_def: CrosswalkDef, column: str, code: ColumnElement[Any]
) -> ColumnElement[Any]:
    """The crosswalk's ``column`` (canonical, rate or canonical_rate) for ``code``, as a CASE
    over its entries; NULL for a code it does not have, as the subquery would give."""
    whens: list[tuple[Any, Any]] = []
    for entry in xw_def.entries:
        if column == "canonical":
            value: Any = entry.canonical
        elif column == "rate":
            value = entry.rate
        else:
            value = xw_def.spec.canonical.get(entry.canonical, {}).get("rate")
        whens.append((entry.code, sa.null() if value is None else sa.literal(value)))
    if not whens:
        return sa.null()
    return sa.case(*whens, value=code, else_=sa.null())


@dataclass(frozen=True)
class Typed:
    sql: ColumnElement[Any]
    type: EType


#: Given the stored raw value of a check, the condition under which a NULL parse result means
#: the check failed (see ``Check.failed_if_null``).
NullMeansFailed = Callable[[ColumnElement[Any]], ColumnElement[bool]]


@dataclass(frozen=True)
class Check:
    """Rows where ``failed`` holds go to quarantine under ``rule`` for ``column``.

    A parser or a lookup gives NULL exactly when its check fails or its input is empty (or a
    sentinel for "none"). So when the expression that gives ``produced`` is a column's whole
    value, ``failed`` equals "that column is NULL and ``failed_if_null(value)``", which the
    runner evaluates on the stored values instead of parsing every row twice.
    """

    rule: str
    column: str
    failed: ColumnElement[bool]
    value: ColumnElement[Any] | None
    message: str
    produced: ColumnElement[Any] | None = None
    failed_if_null: NullMeansFailed | None = None


@dataclass(frozen=True)
class Repair:
    """Rows where ``repaired`` holds keep the row with NULL in ``column``; recorded per cell in
    ``xf__repair`` under ``rule`` with the raw ``value`` (a parser's ``on_invalid: null``)."""

    rule: str
    column: str
    repaired: ColumnElement[bool]
    value: ColumnElement[Any]
    message: str
    produced: ColumnElement[Any] | None = None
    failed_if_null: NullMeansFailed | None = None


@dataclass(frozen=True)
class CrosswalkUse:
    """Where a crosswalk is looked up: for the coverage report of ``mappings check``."""

    crosswalk: str
    column: str
    code: ColumnElement[Any]
    institution: ColumnElement[Any] | None
    failed: ColumnElement[bool]


@dataclass
class Scope:
    """The staged tables one mapping reads: alias -> (legacy name, aliased staged table)."""

    driving: str
    tables: dict[str, tuple[str, sa.FromClause]] = field(default_factory=dict)


class ExprCompiler:
    """Compiles expressions within one scope; collects checks and problems."""

    def __init__(
        self,
        project: MappingProject,
        staged: StagedSchema,
        outputs: OutputTables,
        dialect: str,
        problems: Problems,
        label: str,
    ) -> None:
        self.project = project
        self.staged = staged
        self.outputs = outputs
        self.dialect = dialect
        self.problems = problems
        self.label = label
        self.scope = Scope(driving="")
        self.checks: list[Check] = []
        self.repairs: list[Repair] = []
        self.crosswalk_uses: list[CrosswalkUse] = []
        #: Repointed staged columns: (legacy table, column) -> duplicates rule name.
        self.repoint: dict[tuple[str, str], str] = {
            (r.table.rpartition(".")[2].upper(), r.column.upper()): name
            for name, d in project.duplicates.items()
            for r in d.spec.repoint
        }
        #: Merge lookups used, per alias: (alias, column) -> aliased xf__merge.
        self.merge_joins: dict[tuple[str, str], tuple[sa.FromClause, ColumnElement[bool]]] = {}

    # -- tables -------------------------------------------------------------------------------
    def add_table(self, ref: str, alias: str | None, at: ex.Where) -> str | None:
        """Resolve a legacy table (``TABLE`` or ``source.TABLE``) and add it to the scope."""
        source, _, table = ref.rpartition(".")
        source = source or self.project.project.default_source
        name = staged_name(source, table)
        staged = self.staged.tables.get(name)
        if staged is None:
            self._problem(
                at,
                f"unknown legacy table {ref!r} (no staged table {name})",
                suggest(table, self.staged.legacy_names(source)),
            )
            return None
        key = alias or table
        if key in self.scope.tables:
            self._problem(at, f"alias {key!r} is used twice; give one of them as: NAME")
            return None
        self.scope.tables[key] = (table.upper(), staged.alias(f"t_{len(self.scope.tables)}"))
        if not self.scope.driving:
            self.scope.driving = key
        return key

    def source_column(self, alias: str, name: str) -> sa.ColumnElement[Any] | None:
        table = self.scope.tables[alias][1]
        real = {c.name.casefold(): c.name for c in table.columns}.get(name.casefold())
        return None if real is None else table.c[real]

    # -- problems -----------------------------------------------------------------------------
    def _problem(
        self, at: ex.Where, message: str, hint: str | None = None, column: str | None = None
    ) -> None:
        where = self.label if column is None else f"{self.label}.{column}"
        self.problems.add(at.file, at.line, where, message, hint)

    # -- expressions --------------------------------------------------------------------------
    def expr(self, e: ex.Expr, column: str, guard: ColumnElement[bool] | None = None) -> Typed:
        """SQL and type of ``e``; checks recorded under ``column``, only where ``guard`` holds."""
        if isinstance(e, ex.Column):
            return self._column(e, column)
        if isinstance(e, ex.Const):
            t = _const_type(e.value)
            return Typed(lit(e.value, t, self.dialect), t)
        if isinstance(e, ex.Parse):
            return self._parse(e, column, guard)
        if isinstance(e, ex.Concat):
            return self._concat(e, column, guard)
        if isinstance(e, ex.Case):
            return self._case(e, column, guard)
        if isinstance(e, ex.Crosswalk):
            return self._crosswalk(e, column, guard)
        self._problem(
            e.at,
            f"fn: {e.name} must be the whole expression of a column "
            "(its arguments are computed in SQL, then the function runs in Python)",
            column=column,
        )
        return Typed(sa.null(), EType.NULL)

    def _column(self, e: ex.Column, column: str) -> Typed:
        aliases = [e.alias] if e.alias else list(self.scope.tables)
        if e.alias and e.alias not in self.scope.tables:
            self._problem(
                e.at,
                f"unknown table alias {e.alias!r}",
                suggest(e.alias, self.scope.tables),
                column,
            )
            return Typed(sa.null(), EType.NULL)
        for alias in aliases:
            col = self.source_column(alias, e.name)
            if col is not None:
                return self._typed_column(alias, col)
        pool = [c.name for a in aliases for c in self.scope.tables[a][1].columns]
        tables = "/".join(self.scope.tables[a][0] for a in aliases)
        self._problem(e.at, f"unknown column {e.name!r} in {tables}", suggest(e.name, pool), column)
        return Typed(sa.null(), EType.NULL)

    def _typed_column(self, alias: str, col: sa.ColumnElement[Any]) -> Typed:
        is_int = isinstance(col.type, sa.Integer)
        legacy = self.scope.tables[alias][0]
        rule = self.repoint.get((legacy, str(col.name).upper()))
        if rule is None:
            return Typed(col, EType.INT if is_int else EType.RAW)
        key = (alias, str(col.name))
        if key not in self.merge_joins:
            m = self.outputs.merge.alias(f"m_{len(self.merge_joins)}")
            on = sa.and_(m.c.duplicates == rule, m.c.merged_key == sa.func.trim(col))
            self.merge_joins[key] = (m, on)
        merge = self.merge_joins[key][0]
        return Typed(sa.func.coalesce(merge.c.survivor_raw, col), EType.RAW)

    def _check(
        self,
        guard: ColumnElement[bool] | None,
        failed: ColumnElement[bool],
        rule: str,
        column: str,
        value: ColumnElement[Any] | None,
        message: str,
        produced: ColumnElement[Any] | None = None,
        failed_if_null: NullMeansFailed | None = None,
    ) -> None:
        if guard is not None:
            # Under a guard a NULL result may be the guard's doing: no shortcut.
            self.checks.append(Check(rule, column, sa.and_(guard, failed), value, message))
            return
        self.checks.append(Check(rule, column, failed, value, message, produced, failed_if_null))

    def _parse(self, e: ex.Parse, column: str, guard: ColumnElement[bool] | None) -> Typed:
        arg = self.expr(e.arg, column, guard)
        raw: ColumnElement[Any] = arg.sql
        if arg.type in (EType.DATE, EType.BOOL, EType.NUMBER):
            self._problem(e.at, f"{e.kind}: expects legacy text, got {arg.type}", column=column)
            return Typed(sa.null(), EType.NULL)
        if arg.type == EType.INT:
            if e.kind == "int":
                return arg
            raw = sa.cast(raw, sa.Text)
        if e.kind == "text":
            return Typed(sf.blank_to_null(raw), EType.TEXT)
        if e.kind == "code":
            return Typed(sa.func.upper(sf.blank_to_null(raw)), EType.TEXT)
        if e.kind == "name_key":
            return Typed(sf.name_key(raw), EType.TEXT)
        if e.kind == "int":
            t = sf.blank_to_null(raw)
            value: ColumnElement[Any] = sf.parse_int(t)
            self._check(
                guard,
                sa.and_(t.is_not(None), value.is_(None)),
                "invalid_number",
                column,
                raw,
                "not a whole number",
                value,
                lambda stored: sf.blank_to_null(stored).is_not(None),
            )
            return Typed(value, EType.INT)
        if e.kind == "flag":
            return self._flag(e, raw, column, guard)
        return self._date(e, raw, column, guard)

    def _vocabulary(self, e: ex.Parse, column: str) -> str | None:
        defaults = {str(k): v for k, v in self.project.project.defaults.items()}
        name = e.vocabulary or defaults.get(e.kind)
        pool = self.project.project.flags if e.kind == "flag" else self.project.project.sentinels
        if name is not None and name not in pool:
            self._problem(e.at, f"unknown vocabulary {name!r}", suggest(name, pool), column)
            return None
        if name is None and e.kind == "flag":
            self._problem(e.at, "flag: needs values: (or a default flag vocabulary)", column=column)
        return name

    def _flag(
        self, e: ex.Parse, raw: ColumnElement[Any], column: str, guard: ColumnElement[bool] | None
    ) -> Typed:
        name = self._vocabulary(e, column)
        vocab = self.project.project.flags.get(name or "", {})
        code = sa.func.upper(sa.func.trim(raw))
        keys = [k.upper() for k in vocab]
        failed = sa.and_(code.is_not(None), code.not_in(keys)) if keys else code.is_not(None)
        self._check(
            guard,
            failed,
            "invalid_flag",
            column,
            raw,
            f"not a flag value of vocabulary {name} ({', '.join(repr(k) for k in keys)})",
        )
        return Typed(sf.flag_value(code, {k.upper(): v for k, v in vocab.items()}), EType.BOOL)

    def _date(
        self, e: ex.Parse, raw: ColumnElement[Any], column: str, guard: ColumnElement[bool] | None
    ) -> Typed:
        name = self._vocabulary(e, column)
        vocab = self.project.project.sentinels.get(name or "", {})
        text = sa.func.trim(raw)
        digits = text if e.kind == "date" else text.concat("01")
        parsed: ColumnElement[Any] = sf.parse_yyyymmdd(digits)
        if e.kind == "month":
            parsed = sa.case((sa.func.length(text) == 6, parsed), else_=sa.null())
        # CASE text WHEN sentinel ...: the trimmed text is computed once for every sentinel.
        sentinels = {k: lit(v, EType.DATE, self.dialect) for k, v in vocab.items()}
        value = sa.case(sentinels, value=text, else_=parsed) if sentinels else parsed
        listed = text.not_in(list(vocab)) if vocab else sa.true()
        rule = "invalid_date" if e.kind == "date" else "invalid_month"
        shape = "YYYYMMDD" if e.kind == "date" else "YYYYMM"
        failed = sa.and_(text.is_not(None), listed, parsed.is_(None))
        message = f"not a calendar {shape} value nor a sentinel of {name or '(none)'}"
        keys = list(vocab)

        def null_means_failed(stored: ColumnElement[Any]) -> ColumnElement[bool]:
            trimmed = sa.func.trim(stored)
            if not keys:
                return trimmed.is_not(None)
            return sa.and_(trimmed.is_not(None), trimmed.not_in(keys))

        if e.on_invalid == "null":
            if guard is None:
                repair = Repair(
                    rule, column, failed, raw, f"{message}: set to NULL", value, null_means_failed
                )
            else:
                repair = Repair(
                    rule, column, sa.and_(guard, failed), raw, f"{message}: set to NULL"
                )
            self.repairs.append(repair)
        else:
            self._check(guard, failed, rule, column, raw, message, value, null_means_failed)
        return Typed(value, EType.DATE)

    def _concat(self, e: ex.Concat, column: str, guard: ColumnElement[bool] | None) -> Typed:
        parts = [self.expr(p, column, guard) for p in e.parts]
        if e.coalesce:
            t: EType | None = EType.NULL
            for p in parts:
                t = unify(t, p.type) if t is not None else None
            if t is None:
                self._problem(
                    e.at,
                    "coalesce: parts have different types: "
                    + ", ".join(str(p.type) for p in parts),
                    column=column,
                )
                return Typed(sa.null(), EType.NULL)
            return Typed(sa.func.coalesce(*[p.sql for p in parts]), t)
        texts = [
            p.sql if p.type in (EType.TEXT, EType.RAW) else sa.cast(p.sql, sa.Text) for p in parts
        ]
        joined: ColumnElement[Any] = sa.literal("")
        for text in texts:
            piece = sa.case((text.is_(None), ""), else_=sa.literal(e.sep).concat(text))
            joined = joined.concat(piece)
        if e.sep:
            joined = sa.func.substr(joined, len(e.sep) + 1)
        return Typed(sa.func.nullif(joined, ""), EType.TEXT)

    def _case(self, e: ex.Case, column: str, guard: ColumnElement[bool] | None) -> Typed:
        whens: list[tuple[ColumnElement[bool], ColumnElement[Any]]] = []
        taken: list[ColumnElement[bool]] = []
        t: EType | None = EType.NULL
        for cond, then in e.branches:
            # A branch's condition is evaluated only when no earlier branch held.
            reached = [g for g in (guard,) if g is not None] + [sa.not_(x) for x in taken]
            c = self.cond(cond, column, sa.and_(*reached) if reached else None)
            held = sf.is_true(c)
            branch_guard = sa.and_(*reached, held)
            value = self.expr(then, column, branch_guard)
            taken.append(held)
            whens.append((c, value.sql))
            t = unify(t, value.type) if t is not None else None
        otherwise = None
        if e.otherwise is not None:
            else_guard = sa.and_(
                *(g for g in (guard,) if g is not None), *[sa.not_(x) for x in taken]
            )
            other = self.expr(e.otherwise, column, else_guard)
            otherwise = other.sql
            t = unify(t, other.type) if t is not None else None
        if t is None:
            self._problem(e.at, "case: branches have different types", column=column)
            return Typed(sa.null(), EType.NULL)
        return Typed(sa.case(*whens, else_=otherwise), t)

    def _crosswalk(self, e: ex.Crosswalk, column: str, guard: ColumnElement[bool] | None) -> Typed:
        xw_def = self.project.crosswalks.get(e.name)
        if xw_def is None:
            self._problem(
                e.at,
                f"unknown crosswalk {e.name!r}",
                suggest(e.name, self.project.crosswalks),
                column,
            )
            return Typed(sa.null(), EType.NULL)
        code = self.expr(e.code, column, guard)
        if code.type != EType.TEXT:
            self._problem(
                e.at,
                f"crosswalk code: must be text (wrap it in code:), got {code.type}",
                column=column,
            )
        xw = self.outputs.crosswalk.alias("xw")
        conds: list[ColumnElement[bool]] = [xw.c.crosswalk == e.name, xw.c.code == code.sql]
        inst_sql: ColumnElement[Any] | None = None
        if xw_def.spec.per_institution:
            if e.institution is None:
                self._problem(
                    e.at, f"crosswalk {e.name} is per institution: add institution:", column=column
                )
            else:
                inst_sql = self.expr(e.institution, column, guard).sql
                conds.append(sa.or_(xw.c.institution == inst_sql, xw.c.institution.is_(None)))
        elif e.institution is not None:
            self._problem(e.at, f"crosswalk {e.name} is global: remove institution:", column=column)
        if e.as_of is not None:
            as_of = self.expr(e.as_of, column, guard)
            if as_of.type not in (EType.DATE, EType.NULL):
                self._problem(e.at, "as_of: must be a date (wrap it in date:)", column=column)
            conds += [
                sa.or_(xw.c.eff_from.is_(None), as_of.sql.is_(None), xw.c.eff_from <= as_of.sql),
                sa.or_(xw.c.eff_to.is_(None), as_of.sql.is_(None), as_of.sql <= xw.c.eff_to),
            ]
        # Entries of one code never overlap in time per institution (the project rejects it),
        # so only an institution's own entry beside the shared one, or dated entries read with
        # no as_of date, can match twice and need ordering. A global undated crosswalk, the
        # common case, matches at most one entry, and ordering it would sort once per row.
        dated = any(x.eff_from is not None or x.eff_to is not None for x in xw_def.entries)
        order = (
            [sa.case((xw.c.institution.is_(None), 1), else_=0), xw.c.eff_from.desc().nulls_last()]
            if xw_def.spec.per_institution or dated
            else []
        )

        inline = (
            not xw_def.spec.per_institution
            and not dated
            and len(xw_def.entries) <= INLINE_CROSSWALK_ENTRIES
        )

        def lookup(col: ColumnElement[Any]) -> ColumnElement[Any]:
            if inline:
                return _inline_lookup(xw_def, str(col.key), code.sql)
            return sa.select(col).where(*conds).order_by(*order).limit(1).scalar_subquery()

        found = lookup(xw.c.canonical)
        # Shown in quarantine; NULL exactly when the code is (text || NULL is NULL).
        shown = (
            code.sql
            if inst_sql is None
            else sa.func.coalesce(inst_sql, "").concat("/").concat(code.sql)
        )
        if e.value == "canonical":
            result = Typed(found, EType.TEXT)
        elif e.value == "code":
            result = Typed(sa.case((found.is_not(None), code.sql), else_=sa.null()), EType.TEXT)
        else:
            rate_col = xw.c.canonical_rate if xw_def.spec.rate_policy == "harmonize" else xw.c.rate
            rate_type = EType.INT if xw_def.integral_rates else EType.NUMBER
            result = Typed(sa.cast(lookup(rate_col), sa_type(rate_type)), rate_type)
        # A canonical code or the code itself is NULL exactly when no entry matched (or there
        # was no code); a rate may be NULL in an entry that matched, so it gets no shortcut.
        shortcut = e.value in ("canonical", "code")
        self._check(
            guard,
            sa.and_(code.sql.is_not(None), found.is_(None)),
            "unmapped_code",
            column,
            shown,
            f"no entry for this code in crosswalk {e.name}",
            result.sql if shortcut else None,
            (lambda stored: stored.is_not(None)) if shortcut else None,
        )
        self.crosswalk_uses.append(
            CrosswalkUse(e.name, column, code.sql, inst_sql, self.checks[-1].failed)
        )
        return result

    # -- conditions ---------------------------------------------------------------------------
    def cond(
        self, c: ex.Cond, column: str, guard: ColumnElement[bool] | None = None
    ) -> ColumnElement[bool]:
        if c.op in ("and", "or", "not"):
            parts = [self.cond(x, column, guard) for x in c.conds]
            if c.op == "not":
                return sa.not_(parts[0])
            return sa.and_(*parts) if c.op == "and" else sa.or_(*parts)
        args = [self.expr(a, column, guard) for a in c.args]
        if c.op == "is_null":
            return args[0].sql.is_(None)
        if c.op == "not_null":
            return args[0].sql.is_not(None)
        if c.op == "in":
            types = {_const_type(v) for v in c.values}
            for vt in types:
                if unify(args[0].type, vt) is None:
                    self._problem(
                        c.at, f"in: compares {args[0].type} with {vt} values", column=column
                    )
            return args[0].sql.in_(list(c.values))
        left, right = args
        if unify(left.type, right.type) is None:
            self._problem(c.at, f"{c.op}: compares {left.type} with {right.type}", column=column)
        ops = {
            "eq": "__eq__",
            "ne": "__ne__",
            "lt": "__lt__",
            "le": "__le__",
            "gt": "__gt__",
            "ge": "__ge__",
        }
        result: ColumnElement[bool] = getattr(left.sql, ops[c.op])(right.sql)
        return result
