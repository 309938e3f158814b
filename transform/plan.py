"""A target table's mapping compiled into one plan: FROM, values, checks, lineage.

``build_plans`` compiles every table mapping of a project against the staged schema and the
target MetaData, checking types, unknown names and unfilled columns on the way, and returns the
plans in dependency order (a table whose rows are checked against another's keys comes after it).
All problems are collected; nothing touches data.

Expressions compile with :class:`MappingCompiler`: the expression compiler plus registered
functions that have a SQL form (compiled in place, anywhere an expression may stand) and the
fields of an ``unpivot:``. An unpivot's driving table is the staged table crossed with its rows
(``_variant`` 0..n-1); each of its target rows gets its own position ``_src_pos * n +
_variant`` and keeps the source row's ``_src_key`` (and ``_src_row``, the staged position).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from transform import expressions as ex
from transform.compiler import Check, CrosswalkUse, EType, ExprCompiler, Repair, Typed, lit, unify
from transform.functions import RegisteredFunction, registered
from transform.problems import Problems, suggest
from transform.project import MappingProject, TableDef, UnpivotDef
from transform.schema import LINEAGE_COLUMNS, OutputTables, StagedSchema

__all__ = [
    "FnColumn",
    "MappingCompiler",
    "PostCheck",
    "PrecedencePlan",
    "TablePlan",
    "build_plans",
    "compatible",
    "order_plans",
]

_ACCEPTS: dict[type, set[EType]] = {  # subclasses first: bool is an int, datetime a date
    bool: {EType.BOOL},
    str: {EType.TEXT},
    int: {EType.INT},
    float: {EType.INT, EType.NUMBER},
    Decimal: {EType.INT, EType.NUMBER},
    dt.datetime: {EType.DATE},
    dt.date: {EType.DATE},
}


def compatible(t: EType, column: sa.Column[Any]) -> str | None:
    """Why an expression of type ``t`` cannot fill ``column`` (None when it can)."""
    if t == EType.NULL:
        return None
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return None
    accepted = next((v for k, v in _ACCEPTS.items() if issubclass(python_type, k)), None)
    if accepted is None or t in accepted:
        return None
    if t == EType.RAW:
        return "raw legacy text (padding kept): wrap it in text: or code:"
    return f"type mismatch: the expression is {t}, the target column is {python_type.__name__}"


_FN_TYPES = {
    "text": EType.TEXT,
    "int": EType.INT,
    "number": EType.NUMBER,
    "date": EType.DATE,
    "bool": EType.BOOL,
}

#: Columns an unpivot adds to its driving table.
_VARIANT, _SRC_ROW = "_variant", "_src_row"


@dataclass(frozen=True)
class _Unpivot:
    """An unpivot in scope: its fields, and which of its rows the current target row is."""

    spec: UnpivotDef
    variant: ColumnElement[Any]


class MappingCompiler(ExprCompiler):
    """The expression compiler of table mappings and duplicate rules.

    On top of :class:`~transform.compiler.ExprCompiler`: ``{fn: NAME, ...}`` of a registered
    function with a SQL form compiles in place (a Python-only function stays a column's whole
    expression, see :func:`build_plans`), and ``ALIAS.FIELD`` of the mapping's unpivot reads the
    field of the current target row's entry of ``rows``.
    """

    unpivot: _Unpivot | None = None

    def expr(self, e: ex.Expr, column: str, guard: ColumnElement[bool] | None = None) -> Typed:
        if isinstance(e, ex.Fn):
            return self._function(e, column, guard)
        unpivot = self.unpivot
        if isinstance(e, ex.Column) and unpivot is not None and e.alias == unpivot.spec.alias:
            return self._field(unpivot, e, column, guard)
        return super().expr(e, column, guard)

    def _function(self, e: ex.Fn, column: str, guard: ColumnElement[bool] | None) -> Typed:
        funcs = registered()
        func = funcs.get(e.name)
        where = f"{self.label}.{column}"
        if func is None:
            self.problems.add(
                e.at.file, e.at.line, where, f"unknown function {e.name!r}", suggest(e.name, funcs)
            )
            return Typed(sa.null(), EType.NULL)
        if func.sql is None:
            self.problems.add(
                e.at.file,
                e.at.line,
                where,
                f"fn: {e.name} runs in Python, so it can only be a column's whole expression "
                "(its arguments are computed in SQL, then it runs row by row); register it "
                "with a SQL form (sql=) to use it here",
            )
            return Typed(sa.null(), EType.NULL)
        if func.arity is not None and func.arity != len(e.args):
            self.problems.add(
                e.at.file, e.at.line, where, f"function {e.name} takes {func.arity} argument(s)"
            )
            return Typed(sa.null(), EType.NULL)
        args = [self.expr(a, column, guard).sql for a in e.args]
        return Typed(func.sql(args), _FN_TYPES[func.returns])

    def _field(
        self, unpivot: _Unpivot, e: ex.Column, column: str, guard: ColumnElement[bool] | None
    ) -> Typed:
        exprs = unpivot.spec.fields.get(e.name)
        if exprs is None:
            self.problems.add(
                e.at.file,
                e.at.line,
                f"{self.label}.{column}",
                f"unknown field {e.name!r} of unpivot {unpivot.spec.alias}",
                suggest(e.name, unpivot.spec.fields),
            )
            return Typed(sa.null(), EType.NULL)
        whens: list[tuple[ColumnElement[bool], ColumnElement[Any]]] = []
        t: EType | None = EType.NULL
        # An entry's expression reads tables, never another field; its checks hold only on the
        # target rows of that entry.
        self.unpivot = None
        try:
            for k, fe in enumerate(exprs):
                mine = unpivot.variant == k
                typed = self.expr(fe, column, mine if guard is None else sa.and_(guard, mine))
                whens.append((mine, typed.sql))
                t = unify(t, typed.type) if t is not None else None
        finally:
            self.unpivot = unpivot
        if t is None:
            self.problems.add(
                e.at.file,
                e.at.line,
                f"{self.label}.{column}",
                f"the rows of unpivot {unpivot.spec.alias} give field {e.name!r} different "
                "types (make them agree, e.g. with text: or int:)",
            )
            return Typed(sa.null(), EType.NULL)
        return Typed(sa.case(*whens, else_=sa.null()), t)


@dataclass(frozen=True)
class PostCheck:
    """A check on computed target values, run on the working table after it is filled:
    ``missing_value`` (a required column is empty and no other check explains why) and
    ``orphan`` (no ``parent`` row has these key values; ``parent`` None: the table's own rows
    that pass their other checks, for a foreign key to the same table)."""

    rule: str
    columns: tuple[str, ...]
    message: str
    parent: sa.Table | None = None
    parent_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class FnColumn:
    column: str
    func: RegisteredFunction
    args: tuple[str, ...]


@dataclass(frozen=True)
class PrecedencePlan:
    fact: str
    column: str
    primary_source: str


@dataclass
class TablePlan:
    """Everything needed to fill ``xf_<name>`` from the staging database."""

    name: str
    tdef: TableDef
    target: sa.Table
    source_table: str
    staged: sa.Table
    from_: sa.FromClause
    driving: sa.FromClause
    where: ColumnElement[bool] | None
    batch: ColumnElement[Any]
    merged: ColumnElement[bool] | None
    values: dict[str, ColumnElement[Any]]
    checks: list[Check]
    fn_columns: list[FnColumn] = field(default_factory=list)
    fn_args: dict[str, ColumnElement[Any]] = field(default_factory=dict)
    precedence: list[tuple[PrecedencePlan, Typed, Typed, ColumnElement[Any]]] = field(
        default_factory=list
    )
    post_checks: list[PostCheck] = field(default_factory=list)
    parents: set[str] = field(default_factory=set)
    required: set[str] = field(default_factory=set)
    #: Parent xf tables and columns this plan's orphan checks probe (to index them).
    probes: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)
    crosswalks: list[CrosswalkUse] = field(default_factory=list)
    #: Cells set to NULL instead of quarantining the row (``on_invalid: null``).
    repairs: list[Repair] = field(default_factory=list)
    #: Target rows one source row can yield: the entries of an ``unpivot:`` (1 without).
    variants: int = 1
    #: The staged position of the source row a row of ``from_`` comes from.
    source_row: ColumnElement[Any] | None = None


def build_plans(
    project: MappingProject,
    staged: StagedSchema,
    target: sa.MetaData,
    outputs: OutputTables,
    xf_tables: dict[str, sa.Table],
    dialect: str,
    run_id: str,
    problems: Problems,
) -> list[TablePlan]:
    """Compile every table mapping; problems are collected, plans returned in run order."""
    plans: list[TablePlan] = []
    for name, tdef in project.tables.items():
        if name not in target.tables:
            problems.add(
                tdef.doc.file,
                tdef.line(),
                f"tables.{name}",
                f"unknown target table {name!r}",
                suggest(name, target.tables),
            )
            continue
        plan = _build(project, staged, target, outputs, xf_tables, dialect, run_id, tdef, problems)
        if plan is not None:
            plans.append(plan)
    return order_plans(plans, problems)


def order_plans(plans: list[TablePlan], problems: Problems) -> list[TablePlan]:
    by_name = {p.name: p for p in plans}
    done: list[TablePlan] = []
    state: dict[str, int] = {}

    def visit(p: TablePlan, chain: tuple[str, ...]) -> None:
        if state.get(p.name) == 2:
            return
        if state.get(p.name) == 1:
            problems.add(
                p.tdef.doc.file,
                p.tdef.line(),
                f"tables.{p.name}",
                "reference cycle: " + " -> ".join((*chain, p.name)),
            )
            return
        state[p.name] = 1
        for parent in sorted(p.parents):
            if parent in by_name:
                visit(by_name[parent], (*chain, p.name))
        state[p.name] = 2
        done.append(p)

    for p in plans:
        visit(p, ())
    return done


def _build(
    project: MappingProject,
    staged: StagedSchema,
    target_meta: sa.MetaData,
    outputs: OutputTables,
    xf_tables: dict[str, sa.Table],
    dialect: str,
    run_id: str,
    tdef: TableDef,
    problems: Problems,
) -> TablePlan | None:
    name = tdef.name
    target = target_meta.tables[name]
    comp = MappingCompiler(project, staged, outputs, dialect, problems, name)
    src = tdef.source
    at = ex.Where(str(tdef.doc.file), tdef.line("from"), (*tdef.path, "from"))
    driving_alias = comp.add_table(src.table, src.alias, at)
    if driving_alias is None:
        return None
    original = comp.scope.tables[driving_alias][1]
    staged_table = staged.tables[original.element.name]  # type: ignore[attr-defined]
    if tdef.unpivot is not None:
        _unpivot(comp, tdef, tdef.unpivot, target, driving_alias)
    joins: list[tuple[str, ColumnElement[bool]]] = []
    for i, join in enumerate(tdef.spec.join):
        jat = ex.Where(str(tdef.doc.file), tdef.line("join", i), (*tdef.path, "join", i))
        before = dict(comp.scope.tables)
        alias = comp.add_table(join.table, join.alias, jat)
        if alias is None:
            continue
        conds = []
        for left, right in join.on.items():
            comp.scope.tables, saved = before, comp.scope.tables
            lhs = comp.expr(_col(left, jat), "join")
            comp.scope.tables = saved
            rcol = comp.source_column(alias, right.rpartition(".")[2])
            if rcol is None:
                pool = [c.name for c in comp.scope.tables[alias][1].columns]
                problems.add(
                    jat.file,
                    jat.line,
                    f"{name}.join",
                    f"unknown column {right!r} in {join.table}",
                    suggest(right, pool),
                )
                continue
            conds.append(lhs.sql == rcol)
        jwhere = tdef.join_where[i] if i < len(tdef.join_where) else None
        if jwhere is not None:
            build = functools.partial(comp.cond, jwhere, "join")
            conds.append(_no_checks(comp, tdef, "join where", build, ("join", i, "where")))
        joins.append((alias, sa.and_(*conds)))
    legacy, driving = comp.scope.tables[driving_alias]
    if comp.unpivot is not None and comp.unpivot.spec.alias in comp.scope.tables:
        problems.add(
            tdef.doc.file,
            tdef.unpivot.line if tdef.unpivot else tdef.line(),
            f"{name}.unpivot",
            f"alias {comp.unpivot.spec.alias!r} is also a table's: give the unpivot another",
        )

    where = None
    if tdef.where is not None:
        where = _no_checks(comp, tdef, "where", lambda: comp.cond(tdef.where, "where"))
    batch: ColumnElement[Any] = lit("_GLOBAL", EType.TEXT, dialect)
    if tdef.batch is not None and comp.unpivot is not None:
        read = {n.alias for n in ex.walk(tdef.batch) if isinstance(n, ex.Column)}
        if comp.unpivot.spec.alias in read:
            problems.add(
                tdef.doc.file,
                tdef.line("batch"),
                f"{name}.batch",
                f"batch must not read the fields of unpivot {comp.unpivot.spec.alias}: the "
                "target rows of one source row share its batch",
            )
    if tdef.batch is not None:
        typed = _no_checks(comp, tdef, "batch", lambda: comp.expr(tdef.batch, "_batch"))
        if typed.type not in (EType.TEXT, EType.NULL):
            problems.add(
                tdef.doc.file,
                tdef.line("batch"),
                f"{name}.batch",
                f"batch must be text (wrap it in code:), got {typed.type}",
            )
        batch = sa.func.coalesce(typed.sql, lit(project.project.unknown_batch, EType.TEXT, dialect))

    merged = _merged(project, tdef, legacy, driving, outputs, problems)
    values: dict[str, ColumnElement[Any]] = {}
    plan = TablePlan(
        name,
        tdef,
        target,
        legacy,
        staged_table,
        driving,
        driving,
        where,
        batch,
        merged,
        values,
        comp.checks,
        repairs=comp.repairs,
        variants=tdef.unpivot.rows if tdef.unpivot is not None else 1,
        source_row=driving.c[_SRC_ROW if tdef.unpivot is not None else "_src_pos"],
    )
    source_system = src.table.rpartition(".")[0] or project.project.default_source
    _lineage(project, target, source_system, legacy, driving, run_id, dialect, values)
    prec = {p.column: (p, e) for p, e in tdef.precedence}
    for col_name in tdef.spec.columns:
        if col_name not in target.columns:
            problems.add(
                tdef.doc.file,
                tdef.line("columns", col_name),
                f"{name}.{col_name}",
                f"unknown column {col_name!r} of target table {name}",
                suggest(col_name, [c.name for c in target.columns]),
            )
    for column in target.columns:
        cname = column.name
        if cname in LINEAGE_COLUMNS or cname in ("_batch", "_row_hash"):
            continue
        if not column.nullable and column.server_default is None:
            plan.required.add(cname)
        expr = tdef.columns.get(cname)
        if expr is None:
            if cname not in tdef.spec.unfilled:
                problems.add(
                    tdef.doc.file,
                    tdef.line("columns"),
                    f"{name}.{cname}",
                    "target column is filled by no mapping (map it, or list it under unfilled:)",
                )
            elif cname in plan.required:
                problems.add(
                    tdef.doc.file,
                    tdef.line("unfilled"),
                    f"{name}.{cname}",
                    "a NOT NULL target column cannot be left unfilled",
                )
            values[cname] = sa.null()
            continue
        if isinstance(expr, ex.Fn) and not _in_sql(expr):
            _fn_column(comp, plan, cname, expr, column)
            continue
        typed = comp.expr(expr, cname)
        if cname in prec:
            typed = _precedence(comp, plan, prec.pop(cname), typed)
        reason = compatible(typed.type, column)
        if reason:
            problems.add(expr.at.file, expr.at.line, f"{name}.{cname}", reason)
        values[cname] = typed.sql
        _required_and_orphans(comp, plan, cname, xf_tables)
    for spec, _expr in prec.values():
        problems.add(
            tdef.doc.file,
            tdef.line("precedence"),
            f"{name}.{spec.column}",
            "precedence names a column with no (SQL) expression under columns:",
        )
    _foreign_keys(comp, plan, xf_tables)
    values["_batch"] = batch
    plan.from_ = _from(comp, driving_alias, joins)
    plan.crosswalks = list(comp.crosswalk_uses)
    return plan


def _in_sql(e: ex.Fn) -> bool:
    """Whether ``e`` calls a registered function with a SQL form (compiled in place)."""
    func = registered().get(e.name)
    return func is not None and func.sql is not None


def _unpivot(
    comp: MappingCompiler, tdef: TableDef, spec: UnpivotDef, target: sa.Table, alias: str
) -> None:
    """Make the driving table the staged table crossed with the unpivot's rows."""
    legacy, table = comp.scope.tables[alias]
    at = (tdef.doc.file, spec.line, f"{tdef.name}.unpivot")
    clash = [c.name for c in table.columns if c.name in (_VARIANT, _SRC_ROW)]
    if clash:
        comp.problems.add(*at, f"the staged table has a column named {clash[0]}")
    if "_source_key" not in target.columns:
        # The accounting settles a source row's target rows by their lineage key.
        comp.problems.add(*at, f"unpivot needs the lineage column _source_key in {target.name}")
    entries = [
        sa.select(sa.literal_column(str(k), sa.Integer).label(_VARIANT)) for k in range(spec.rows)
    ]
    name = table.description  # the staged table's alias in the statement
    rows = sa.union_all(*entries).subquery(f"{name}_rows")
    variant = rows.c[_VARIANT]
    columns = [c for c in table.columns if c.name != "_src_pos"]
    driving = (
        sa.select(
            *columns,
            (table.c._src_pos * spec.rows + variant).label("_src_pos"),
            table.c._src_pos.label(_SRC_ROW),
            variant,
        )
        .select_from(table.join(rows, sa.true()))
        .subquery(name)
    )
    comp.scope.tables[alias] = (legacy, driving)
    comp.unpivot = _Unpivot(spec, driving.c[_VARIANT])


def _col(text: str, at: ex.Where) -> ex.Column:
    alias, _, name = text.rpartition(".")
    return ex.Column(at, alias or None, name)


def _no_checks(
    comp: ExprCompiler, tdef: TableDef, what: str, build: Any, path: tuple[str | int, ...] = ()
) -> Any:
    before = len(comp.checks)
    out = build()
    if len(comp.checks) > before:
        del comp.checks[before:]
        comp.problems.add(
            tdef.doc.file,
            tdef.line(*(path or (what,))),
            f"{tdef.name}.{what}",
            f"{what} must not use date:, month:, int:, flag: or crosswalk: "
            "(a row must never vanish because a value failed to parse)",
        )
    return out


def _merged(
    project: MappingProject,
    tdef: TableDef,
    legacy: str,
    driving: sa.FromClause,
    outputs: OutputTables,
    problems: Problems,
) -> ColumnElement[bool] | None:
    if tdef.spec.dedupe is None:
        return None
    dup = project.duplicates.get(tdef.spec.dedupe)
    if dup is None:
        problems.add(
            tdef.doc.file,
            tdef.line("dedupe"),
            f"{tdef.name}.dedupe",
            f"unknown duplicates rule {tdef.spec.dedupe!r}",
            suggest(tdef.spec.dedupe, project.duplicates),
        )
        return None
    if dup.spec.table.rpartition(".")[2].upper() != legacy:
        problems.add(
            tdef.doc.file,
            tdef.line("dedupe"),
            f"{tdef.name}.dedupe",
            f"duplicates {dup.name} is about {dup.spec.table}, this mapping reads {legacy}",
        )
        return None
    key = {c.name.upper(): c for c in driving.columns}.get(dup.spec.key.upper())
    if key is None:
        return None
    m = outputs.merge
    return sa.exists().where(m.c.duplicates == dup.name, m.c.merged_key == sa.func.trim(key))


def _lineage(
    project: MappingProject,
    target: sa.Table,
    source_system: str,
    legacy: str,
    driving: sa.FromClause,
    run_id: str,
    dialect: str,
    values: dict[str, ColumnElement[Any]],
) -> None:
    fixed = {
        "_run_id": lit(run_id, EType.TEXT, dialect),
        # The source the driving table was staged from, so stg_<system>_<table> finds the row.
        "_source_system": lit(source_system, EType.TEXT, dialect),
        "_source_table": lit(legacy, EType.TEXT, dialect),
        "_source_key": driving.c["_src_key"],
        "_mapping_version": lit(project.project.version, EType.TEXT, dialect),
    }
    values.update({col: value for col, value in fixed.items() if col in target.columns})


def _fn_column(
    comp: ExprCompiler, plan: TablePlan, cname: str, expr: ex.Fn, column: sa.Column[Any]
) -> None:
    funcs = registered()
    func = funcs.get(expr.name)
    where = f"{plan.name}.{cname}"
    if func is None:
        comp.problems.add(
            expr.at.file,
            expr.at.line,
            where,
            f"unknown function {expr.name!r}",
            suggest(expr.name, funcs),
        )
        return
    if func.arity is not None and func.arity != len(expr.args):
        comp.problems.add(
            expr.at.file,
            expr.at.line,
            where,
            f"function {expr.name} takes {func.arity} argument(s)",
        )
    names = []
    for arg in expr.args:
        typed = comp.expr(arg, cname)
        key = f"a_{len(plan.fn_args)}"
        plan.fn_args[key] = typed.sql
        names.append(key)
    reason = compatible(EType(_FN_TYPES[func.returns]), column)
    if reason:
        comp.problems.add(expr.at.file, expr.at.line, where, reason)
    plan.fn_columns.append(FnColumn(cname, func, tuple(names)))


def _precedence(
    comp: ExprCompiler, plan: TablePlan, entry: tuple[Any, ex.Expr], secondary: Typed
) -> Typed:
    spec, expr = entry
    primary = comp.expr(expr, spec.column)
    t = unify(primary.type, secondary.type)
    if t is None:
        comp.problems.add(
            expr.at.file,
            expr.at.line,
            f"{plan.name}.{spec.column}",
            f"precedence: primary is {primary.type}, the column is {secondary.type}",
        )
        t = secondary.type
    aliases = {n.alias for n in ex.walk(expr) if isinstance(n, ex.Column)}
    others = [a for a in comp.scope.tables if a in aliases and a != comp.scope.driving]
    if len(others) != 1:
        comp.problems.add(
            expr.at.file,
            expr.at.line,
            f"{plan.name}.{spec.column}",
            "precedence: primary must read exactly one joined table (alias.COL)",
        )
        return secondary
    legacy, table = comp.scope.tables[others[0]]
    pp = PrecedencePlan(spec.fact, spec.column, legacy)
    plan.precedence.append((pp, primary, secondary, table.c["_src_key"]))
    if spec.mode == "record":
        return secondary
    # The primary where it has a value (written once: the primary may be a long expression).
    return Typed(sa.func.coalesce(primary.sql, secondary.sql), t)


def _required_and_orphans(
    comp: ExprCompiler,
    plan: TablePlan,
    cname: str,
    xf_tables: dict[str, sa.Table],
) -> None:
    if cname in plan.required:
        plan.post_checks.append(
            PostCheck("missing_value", (cname,), "the target column requires a value")
        )
    ref = plan.tdef.spec.references.get(cname)
    if ref is None:
        return
    table, _, col = ref.partition(".")
    parent = xf_tables.get(table)
    at = plan.tdef.line("references", cname)
    if parent is None or col not in parent.columns:
        pool = list(xf_tables) if parent is None else [c.name for c in parent.columns]
        comp.problems.add(
            plan.tdef.doc.file,
            at,
            f"{plan.name}.{cname}",
            f"references unknown target {ref!r}",
            suggest(table if parent is None else col, pool),
        )
        return
    _orphan(plan, table, parent, [cname], [col])


def _orphan(
    plan: TablePlan, table: str, parent: sa.Table, cols: list[str], parent_cols: list[str]
) -> None:
    plan.post_checks.append(
        PostCheck(
            "orphan",
            tuple(cols),
            f"no {table} row has this {'/'.join(parent_cols)}",
            parent,
            tuple(parent_cols),
        )
    )
    plan.parents.add(table)
    plan.probes.add((table, tuple(parent_cols)))


def _foreign_keys(comp: ExprCompiler, plan: TablePlan, xf_tables: dict[str, sa.Table]) -> None:
    for fk in plan.target.foreign_key_constraints:
        table = fk.referred_table.name
        cols = list(fk.column_keys)
        if any(c in plan.tdef.spec.references for c in cols):
            continue
        if any(c not in plan.values or c in {f.column for f in plan.fn_columns} for c in cols):
            continue
        parent_cols = [e.column.name for e in fk.elements]
        if table == plan.name:  # checked against the table's own rows that pass
            plan.post_checks.append(
                PostCheck(
                    "orphan",
                    tuple(cols),
                    f"no {table} row has this {'/'.join(parent_cols)}",
                    None,
                    tuple(parent_cols),
                )
            )
            continue
        if table not in xf_tables:
            comp.problems.add(
                plan.tdef.doc.file,
                plan.tdef.line(),
                f"{plan.name}",
                f"foreign key to {table}, which no mapping fills (map {table} too)",
            )
            continue
        _orphan(plan, table, xf_tables[table], cols, parent_cols)


def _from(
    comp: ExprCompiler, driving: str, joins: list[tuple[str, ColumnElement[bool]]]
) -> sa.FromClause:
    def with_merges(frm: sa.FromClause, alias: str) -> sa.FromClause:
        for (a, _col), (merge, on) in comp.merge_joins.items():
            if a == alias:
                frm = frm.outerjoin(merge, on)
        return frm

    frm = with_merges(comp.scope.tables[driving][1], driving)
    for alias, on in joins:
        frm = with_merges(frm.outerjoin(comp.scope.tables[alias][1], on), alias)
    return frm


def describe(plan: TablePlan) -> str:
    """A one-line summary of a plan (for ``mappings check``)."""
    fns = f", {len(plan.fn_columns)} Python function column(s)" if plan.fn_columns else ""
    rows = f", {plan.variants} rows per source row" if plan.variants > 1 else ""
    return (
        f"{plan.name} <- {plan.source_table}: {len(plan.values)} columns, "
        f"{len(plan.checks)} checks{fns}{rows}"
    )
