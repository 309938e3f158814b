"""Running the mappings: staging -> ``xf_<table>``, quarantine, disagreements, accounting.

Per target table, inside one transaction:

1. one statement computes, for every source row the mapping's filter keeps, every target value,
   the batch, whether the row was merged, and one flag per check (date, number, flag, crosswalk,
   required value, orphan), into a working table ``xf__work`` (an INSERT ... SELECT; on
   PostgreSQL a CREATE TABLE ... AS, which the server runs in parallel: :mod:`transform.filling`;
   on SQLite, for a large table, one worker process per core: :mod:`transform.splitting`);
2. only for a mapping that calls registered Python functions (the fallback for what SQL cannot
   say), a chunked Python pass over the rows that passed every check computes them;
3. one statement (made the same way) writes ``xf_<table>``, the engine computing each row's
   ``_row_hash`` (:mod:`transform.hashing`), unless the worker processes of a split fill
   decided every flag and wrote the rows themselves; companion INSERT ... SELECTs write each
   failed check to ``xf__quarantine``, each repaired cell of a written row (``on_invalid:
   null``) to ``xf__repair`` and each precedence disagreement to ``xf__disagreement``;
4. the accounting is computed from what was written (:mod:`transform.accounting`) and must hold.

Each run replaces the previous run's output for its tables: fixing a mapping and rerunning takes
rows out of quarantine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.visitors import replacement_traverse

from cutover.logs import get_logger
from transform import sqlfuncs as sf
from transform.accounting import (
    TableAccount,
    WorkCounts,
    account_table,
    add_tallies,
    check_fanout,
    work_tallies,
)
from transform.checker import CompiledProject, compile_project
from transform.compiler import Check, Repair
from transform.crosswalks import materialize_crosswalks
from transform.duplicates import run_duplicates
from transform.filling import recreate_filled
from transform.hashing import HASH_EXCLUDED, sql_row_hash
from transform.plan import PostCheck, TablePlan
from transform.project import MappingProject
from transform.worktables import (
    flag_columns,
    flagged_table,
    hits_table,
    passed,
    result_table,
    work_table,
)

__all__ = [
    "TableResult",
    "TransformResult",
    "passed",
    "result_table",
    "run_transform",
    "work_table",
]


@dataclass(frozen=True)
class TableResult:
    name: str
    account: TableAccount
    disagreements: int
    seconds: float
    python_seconds: float


@dataclass(frozen=True)
class TransformResult:
    run_id: str
    tables: list[TableResult] = field(default_factory=list)
    merges: dict[str, int] = field(default_factory=dict)


def run_transform(
    project: MappingProject,
    staging: sa.Engine,
    target: sa.MetaData,
    run_id: str,
    *,
    chunk_rows: int = 5_000,
    on_table: Callable[[TableResult], None] | None = None,
) -> TransformResult:
    """Check, then run every mapping; raise ``ReconciliationError`` if accounting fails."""
    log = get_logger("transform")
    compiled = compile_project(project, staging, target, run_id=run_id)
    outputs = compiled.outputs
    with staging.begin() as conn:
        outputs.meta.create_all(conn)
        for xf in compiled.xf_tables.values():
            xf.drop(conn, checkfirst=True)
            xf.create(conn)
        mine = list(compiled.xf_tables)
        for table in (
            outputs.quarantine,
            outputs.accounting,
            outputs.disagreement,
            outputs.repair,
        ):
            conn.execute(table.delete().where(table.c.target_table.in_(mine)))
        materialize_crosswalks(conn, project, outputs)
    merges: dict[str, int] = {}
    for dup in compiled.duplicates:
        with staging.begin() as conn:
            merges[dup.dup.name] = run_duplicates(conn, dup, outputs, project, run_id)
        log.info("duplicates merged", duplicates=dup.dup.name, merged=merges[dup.dup.name])
    result = TransformResult(run_id, merges=merges)
    for plan in compiled.plans:
        started = time.perf_counter()
        with staging.begin() as conn:
            python_seconds, positions, counts = _fill(conn, compiled, plan, run_id, chunk_rows)
            disagreements = _disagreements(conn, compiled, plan, run_id)
            account = account_table(
                conn, compiled, plan, run_id, positions=positions, counts=counts
            )
            _index_probes(conn, compiled, plan)
            work_table(plan).drop(conn)
            result_table(plan).drop(conn, checkfirst=True)
            flagged_table(plan).drop(conn, checkfirst=True)
        table_result = TableResult(
            plan.name, account, disagreements, time.perf_counter() - started, python_seconds
        )
        result.tables.append(table_result)
        log.info(
            "table transformed",
            table=plan.name,
            source_table=plan.source_table,
            source_rows=account.source_rows,
            loaded=account.loaded,
            merged=account.merged,
            quarantined=account.quarantined,
            filtered=account.filtered,
            disagreements=disagreements,
            seconds=round(table_result.seconds, 3),
            python_seconds=round(python_seconds, 3),
        )
        if on_table is not None:
            on_table(table_result)
    return result


def _fill(
    conn: sa.Connection, compiled: CompiledProject, plan: TablePlan, run_id: str, chunk_rows: int
) -> tuple[float, int, WorkCounts | None]:
    """Steps 1-3 for one table; returns the seconds spent in the Python pass, the working
    table's distinct positions and, when it keeps only its flagged rows, the counts of all of
    them."""
    sf.ensure_functions(conn)
    work = work_table(plan, compiled)
    res = result_table(plan, compiled)
    res.drop(conn, checkfirst=True)
    if plan.fn_columns:
        res.create(conn)
    xf = compiled.xf_tables[plan.name]
    driving = plan.driving
    select_cols: dict[str, Any] = {
        "_pos": driving.c["_src_pos"],
        "_src_key": driving.c["_src_key"],
        "_batch": plan.batch,
        "_merged": sa.case((plan.merged, 1), else_=0) if plan.merged is not None else 0,
    }
    for i, c in enumerate(xf.columns):
        # The batch is computed once, into _batch; its c_ column stays empty.
        if c.name in plan.values and c.name != "_batch":
            select_cols[f"c_{i}"] = plan.values[c.name]
    for i, check in enumerate(plan.checks):
        select_cols[f"q_{i}"] = 0 if _deferred(plan, check) else sa.case((check.failed, 1), else_=0)
        select_cols[f"v_{i}"] = sa.cast(check.value, sa.Text) if check.value is not None else None
    for i, repair in enumerate(plan.repairs):
        select_cols[f"r_{i}"] = (
            0 if _deferred(plan, repair) else sa.case((repair.repaired, 1), else_=0)
        )
        select_cols[f"rv_{i}"] = sa.cast(repair.value, sa.Text)
    for k in range(len(plan.post_checks)):
        select_cols[f"p_{k}"] = 0
    select_cols.update(plan.fn_args)
    for i, (_p, primary, secondary, key) in enumerate(plan.precedence):
        select_cols[f"pp_{i}"] = sa.cast(primary.sql, sa.Text)
        select_cols[f"ps_{i}"] = sa.cast(secondary.sql, sa.Text)
        select_cols[f"pk_{i}"] = key
    names = list(select_cols)
    sel = sa.select(*[_as_sql(v).label(k) for k, v in select_cols.items()]).select_from(plan.from_)
    if plan.where is not None:
        sel = sel.where(sf.is_true(plan.where))
    # A fill split across processes computes there, where the work is shared out, what is
    # decided on each stored row alone: the row hash (otherwise the xf_ table's fill computes
    # it) and the flags of the deferred checks and of the post-checks that look only at the row
    # and at earlier tables (otherwise an UPDATE of the working table each).
    # When every flag is decided there (no Python function, no orphan check against the
    # table's own rows), the workers also write the rows that pass into xf_<table>.
    # Then the rows that pass are all the workers' to write, and for a table whose source rows
    # are one target row each and that records no disagreement, the rest of the work reads
    # only the flagged rows (quarantine, repairs), while the accounting reads counts the
    # workers took of their parts: the working table keeps the flagged rows alone.
    flags = _row_flags(compiled, plan, work)
    derived: dict[str, sa.ColumnElement[Any]] = dict(flags)
    then = None
    keep: sa.ColumnElement[bool] | None = None
    if not plan.fn_columns:
        derived["_h"] = _row_hash(_xf_values(compiled, plan, work, res), conn.dialect)
        if len(flags) == len(flag_columns(work, plan)):
            then = (xf, _xf_select(compiled, plan, work, res, hash_in=None))
            if plan.variants == 1 and not plan.precedence:
                keep = _any_flag(plan, work)
    parts = recreate_filled(
        conn,
        work,
        names,
        sel,
        split_on=driving.c["_src_pos"],
        derived=derived,
        then=then,
        keep=keep,
        tallies=work_tallies(work, xf) if keep is not None else (),
    )
    split = parts is not None
    counts = (
        add_tallies(parts.rows, parts.tallies) if parts is not None and keep is not None else None
    )
    hashed = split and "_h" in derived
    _analyze(conn, work)
    if not split:
        _deferred_checks(conn, compiled, plan, work)
    positions = check_fanout(conn, plan, work, counts)
    _post_checks(conn, compiled, plan, work, decided=set(flags) if split else set())
    python_seconds = _python_pass(conn, plan, work, res, chunk_rows) if plan.fn_columns else 0.0
    if not (split and then is not None):
        _insert_xf(conn, compiled, plan, work, res, hashed=hashed)
    _analyze(conn, compiled.xf_tables[plan.name])
    flagged = _flagged(conn, plan, work)
    _quarantine(conn, compiled, plan, work, res, flagged, run_id)
    _repairs(conn, compiled, plan, work, res, flagged, run_id)
    return python_seconds, positions, counts


def _any_flag(plan: TablePlan, work: sa.Table) -> sa.ColumnElement[bool]:
    """The working row has a check, post-check or repair flag set."""
    flags = flag_columns(work, plan)
    return sa.or_(*[f == 1 for f in flags]) if flags else sa.false()


def _flagged(conn: sa.Connection, plan: TablePlan, work: sa.Table) -> sa.ColumnElement[bool]:
    """A condition on the working table: the row has a flag set. The positions are gathered
    once (see :func:`transform.worktables.flagged_table`)."""
    if not flag_columns(work, plan):
        return sa.false()
    flagged = flagged_table(plan)
    rows = sa.select(work.c._pos).where(_any_flag(plan, work))
    recreate_filled(conn, flagged, ["_pos"], rows)
    # IN, not a join: the engine walks the few positions through the index on work._pos
    # (with a join, SQLite may scan the working table and probe the positions instead).
    return work.c._pos.in_(sa.select(flagged.c._pos))


def _analyze(conn: sa.Connection, table: sa.Table) -> None:
    """On PostgreSQL, gather statistics on a table just filled in this transaction: autovacuum
    cannot see it yet, and without them the planner may join it by nested scans (the orphan
    check of a table against its own rows was quadratic: 1.2 s at 13,000 commitments, minutes
    at 135,000)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"ANALYZE {conn.dialect.identifier_preparer.format_table(table)}")


def _deferred(plan: TablePlan, check: Check | Repair) -> bool:
    """Whether ``check`` is decided on the stored values (see ``Check.failed_if_null``): only
    when the expression it accompanies is its column's whole value."""
    return (
        check.failed_if_null is not None
        and check.produced is not None
        and plan.values.get(check.column) is check.produced
    )


def _value(
    compiled: CompiledProject, plan: TablePlan, work: sa.FromClause, column: str
) -> sa.ColumnElement[Any]:
    """The column of the working table (or of an alias of it) holding target ``column``."""
    return work.c[f"c_{compiled.xf_tables[plan.name].columns.keys().index(column)}"]


def _deferred_failures(
    compiled: CompiledProject, plan: TablePlan, work: sa.Table
) -> dict[str, sa.ColumnElement[bool]]:
    """The flag column of each deferred check and repair, with the condition on the stored row
    under which it failed: the column came out NULL from a non-empty input."""
    items: list[tuple[str, str, int, Check | Repair]] = [
        ("q", "v", i, c) for i, c in enumerate(plan.checks)
    ]
    items += [("r", "rv", i, c) for i, c in enumerate(plan.repairs)]
    failures: dict[str, sa.ColumnElement[bool]] = {}
    for flag, stored, i, check in items:
        if not _deferred(plan, check) or check.failed_if_null is None:
            continue
        value = _value(compiled, plan, work, check.column)
        failures[f"{flag}_{i}"] = sa.and_(
            value.is_(None), check.failed_if_null(work.c[f"{stored}_{i}"])
        )
    return failures


def _deferred_checks(
    conn: sa.Connection, compiled: CompiledProject, plan: TablePlan, work: sa.Table
) -> None:
    """Set the flags of the deferred checks and repairs in one pass over the working table."""
    failures = _deferred_failures(compiled, plan, work)
    if failures:
        flags = {n: sa.case((failed, 1), else_=work.c[n]) for n, failed in failures.items()}
        _update_work(conn, plan, work, sa.or_(*failures.values()), flags)


def _row_flags(
    compiled: CompiledProject, plan: TablePlan, work: sa.Table
) -> dict[str, sa.ColumnElement[int]]:
    """The final value of each flag decidable from the stored row alone (and from earlier
    tables), as an expression over the working table's stored columns: the deferred checks and
    repairs, then every post-check but an orphan check against the table's own rows (which
    needs the whole table flagged first). Computed with the fill when it is split
    (:func:`_fill`); :func:`_deferred_checks` and :func:`_post_checks` set the same values by
    UPDATE otherwise."""
    deferred = {
        name: sa.case((failed, 1), else_=work.c[name])
        for name, failed in _deferred_failures(compiled, plan, work).items()
    }
    stored = {work.c[name]: expr for name, expr in deferred.items()}

    def final(element: Any, **_kw: Any) -> Any:
        return stored.get(element)

    flags: dict[str, sa.ColumnElement[int]] = dict(deferred)
    for k, check, failed in _post_failures(compiled, plan, work):
        if check.rule == "orphan" and check.parent is None:
            continue
        decided = replacement_traverse(failed, {}, final)
        flags[f"p_{k}"] = sa.case((decided, 1), else_=work.c[f"p_{k}"])
    return flags


def _post_failures(
    compiled: CompiledProject, plan: TablePlan, work: sa.Table
) -> list[tuple[int, PostCheck, sa.ColumnElement[bool]]]:
    """Each post-check with the condition on the working table under which it fails."""
    out: list[tuple[int, PostCheck, sa.ColumnElement[bool]]] = []
    for k, check in enumerate(plan.post_checks):
        values = [_value(compiled, plan, work, c) for c in check.columns]
        if check.rule == "missing_value":
            explained = [
                work.c[f"q_{i}"] == 0
                for i, c in enumerate(plan.checks)
                if c.column == check.columns[0]
            ]
            failed = sa.and_(values[0].is_(None), *explained)
        else:
            match = _parent_match(compiled, plan, work, check, k, values)
            failed = sa.and_(*[v.is_not(None) for v in values], sa.not_(match))
        out.append((k, check, failed))
    return out


def _shown(
    compiled: CompiledProject, plan: TablePlan, work: sa.Table, check: PostCheck
) -> sa.ColumnElement[Any]:
    """The value a failed post-check's quarantine record shows: the column's, as text."""
    if len(check.columns) > 1:
        return sa.literal("composite")
    return sa.cast(_value(compiled, plan, work, check.columns[0]), sa.Text)


def _repairs(
    conn: sa.Connection,
    compiled: CompiledProject,
    plan: TablePlan,
    work: sa.Table,
    res: sa.Table,
    flagged: sa.ColumnElement[bool],
    run_id: str,
) -> None:
    """Record each cell set to NULL by ``on_invalid: null`` in a row that was written."""
    table = compiled.outputs.repair
    names = [c.name for c in table.columns]
    written, ok = _written(plan, work, res)
    for i, repair in enumerate(plan.repairs):
        sel = (
            sa.select(
                sa.literal(run_id),
                sa.literal(plan.name),
                sa.literal(plan.source_table),
                work.c._src_key,
                work.c._batch,
                sa.literal(repair.rule),
                sa.literal(repair.column),
                work.c[f"rv_{i}"],
                sa.literal(repair.message),
            )
            .select_from(written)
            .where(flagged, work.c[f"r_{i}"] == 1, ok)
        )
        conn.execute(table.insert().from_select(names, sel))


def _post_checks(
    conn: sa.Connection,
    compiled: CompiledProject,
    plan: TablePlan,
    work: sa.Table,
    *,
    decided: set[str],
) -> None:
    """Checks on the computed values, run on the working table (each value computed once),
    but for the flags already ``decided`` with the fill (:func:`_row_flags`).

    The missing-value checks are independent of each other: they are decided together, by one
    UPDATE (one pass over the working table); each orphan check by an UPDATE of its own."""
    together: dict[str, Any] = {}
    hits: list[sa.ColumnElement[bool]] = []
    for k, check, failed in _post_failures(compiled, plan, work):
        flag = work.c[f"p_{k}"]
        if flag.name in decided:
            continue
        if check.rule == "orphan":
            if check.parent is None:
                # The parent rows are this table's own: index their key in the working table,
                # or each row's probe scans the whole table (quadratic in the table's size).
                keys = [_value(compiled, plan, work, pc) for pc in check.parent_columns]
                sa.Index(f"ix_{work.name}_p{k}"[:60], *keys).create(conn)
            # Alone, so that the engine can run its NOT EXISTS as an anti-join (PostgreSQL
            # cannot inside an OR). A row whose parent is in the same table and was just set
            # aside is an orphan too: repeat until no new row is flagged (a chain
            # D -> C -> missing Z flags C, then D).
            orphans = sa.and_(flag == 0, failed)
            flagged = _update_work(conn, plan, work, orphans, {flag.name: 1})
            while flagged > 0 and check.parent is None:
                flagged = _update_work(conn, plan, work, orphans, {flag.name: 1})
            continue
        hit = sa.and_(flag == 0, failed)
        together[flag.name] = sa.case((hit, 1), else_=flag)
        hits.append(hit)
    if hits:
        _update_work(conn, plan, work, sa.or_(*hits), together)


def _update_work(
    conn: sa.Connection,
    plan: TablePlan,
    work: sa.Table,
    where: sa.ColumnElement[bool],
    values: dict[str, Any],
) -> int:
    """Set ``values`` in the working rows that meet ``where``; returns how many.

    PostgreSQL runs an UPDATE in one process, which scans the whole working table to find the
    few rows to flag; so there the positions of those rows are gathered first by a
    ``CREATE TABLE ... AS`` (:func:`transform.filling.recreate_filled`, parallel workers sharing
    the scan), and the rows are updated by position, through the index on ``_pos``. The
    positions are read in the same transaction as the update, so they are the rows the update
    alone would have found."""
    if conn.dialect.name != "postgresql":
        return int(conn.execute(work.update().where(where).values(values)).rowcount)
    hits = hits_table(plan)
    recreate_filled(conn, hits, ["_pos"], sa.select(work.c._pos).where(where))
    _analyze(conn, hits)
    found = sa.select(hits.c._pos)
    updated = conn.execute(work.update().where(work.c._pos.in_(found)).values(values)).rowcount
    hits.drop(conn)
    return int(updated)


def _parent_match(
    compiled: CompiledProject,
    plan: TablePlan,
    work: sa.Table,
    check: PostCheck,
    k: int,
    values: Sequence[sa.ColumnElement[Any]],
) -> sa.ColumnElement[bool]:
    """EXISTS a parent row with these key values (in the parent's xf table, or for a foreign
    key to the same table, among this table's rows that are not merged and failed no check)."""
    if check.parent is None:
        own = work.alias("parent")
        keys = [_value(compiled, plan, own, pc) for pc in check.parent_columns]
        ok = [
            own.c._merged == 0,
            own.c[f"p_{k}"] == 0,
            *[own.c[f"q_{i}"] == 0 for i in range(len(plan.checks))],
        ]
        return sa.exists().where(*ok, *[k == v for k, v in zip(keys, values, strict=True)])
    parent = check.parent
    return sa.exists().where(
        *[parent.c[pc] == v for pc, v in zip(check.parent_columns, values, strict=True)]
    )


def _as_sql(value: Any) -> Any:
    if value is None:
        return sa.null()
    if isinstance(value, int):
        return sa.literal(value)
    return value


def _written(
    plan: TablePlan, work: sa.Table, res: sa.Table
) -> tuple[sa.FromClause, sa.ColumnElement[bool]]:
    """Where the rows written to ``xf_<table>`` are, and the condition that picks them: the rows
    that passed every check, less (for a table with Python functions) those a function failed."""
    if plan.fn_columns:
        return work.join(res, work.c._pos == res.c._pos), res.c.e_rule.is_(None)
    return work, passed(work, plan)


def _python_pass(
    conn: sa.Connection,
    plan: TablePlan,
    work: sa.Table,
    res: sa.Table,
    chunk_rows: int,
) -> float:
    """The registered Python functions over the rows that passed every SQL check, chunked;
    returns the seconds spent. Only tables whose mapping calls a function have this pass."""
    started = time.perf_counter()
    arg_names = [a for fn in plan.fn_columns for a in fn.args]
    read = [work.c._pos, *[work.c[a] for a in arg_names]]
    arg_at = {a: 1 + k for k, a in enumerate(arg_names)}
    ok = passed(work, plan)
    last = -1
    while True:
        rows = conn.execute(
            sa.select(*read).where(ok, work.c._pos > last).order_by(work.c._pos).limit(chunk_rows)
        ).all()
        if not rows:
            break
        out = []
        for row in rows:
            record: dict[str, Any] = {
                "_pos": row[0],
                "e_rule": None,
                "e_col": None,
                "e_val": None,
                "e_msg": None,
            }
            for j, value in enumerate(_call_functions(plan, row, arg_at, record)):
                record[f"f_{j}"] = value
            out.append(record)
        conn.execute(res.insert(), out)
        last = rows[-1][0]
    return time.perf_counter() - started


def _call_functions(
    plan: TablePlan, row: Any, arg_at: dict[str, int], record: dict[str, Any]
) -> list[Any]:
    values: list[Any] = []
    for fn in plan.fn_columns:
        args = [row[arg_at[a]] for a in fn.args]
        try:
            value = fn.func.func(*args)
        except ValueError as exc:
            if record["e_rule"] is None:
                record.update(
                    e_rule="function_error",
                    e_col=fn.column,
                    e_val=" | ".join("" if a is None else str(a) for a in args),
                    e_msg=f"{fn.func.name}: {exc}",
                )
            value = None
        if value is None and fn.column in plan.required and record["e_rule"] is None:
            record.update(
                e_rule="missing_value",
                e_col=fn.column,
                e_val=None,
                e_msg=f"{fn.func.name} gave no value; the target column requires one",
            )
        values.append(value)
    return values


def _xf_values(
    compiled: CompiledProject, plan: TablePlan, work: sa.Table, res: sa.Table
) -> dict[str, Any]:
    """The value of each column of ``xf_<table>`` but ``_row_hash``, in the table's order."""
    xf = compiled.xf_tables[plan.name]
    fn_index = {fn.column: j for j, fn in enumerate(plan.fn_columns)}
    values: dict[str, Any] = {}
    for i, c in enumerate(xf.columns):
        if c.name == "_batch":
            values[c.name] = work.c._batch
        elif c.name in fn_index:
            values[c.name] = res.c[f"f_{fn_index[c.name]}"]
        elif c.name != "_row_hash":
            values[c.name] = work.c[f"c_{i}"]
    return values


def _row_hash(values: dict[str, Any], dialect: sa.Dialect) -> sa.ColumnElement[str]:
    """The ``_row_hash`` of a row of ``xf_<table>`` whose columns are ``values``
    (:func:`_xf_values`): over its content columns."""
    content = [v for name, v in values.items() if name not in HASH_EXCLUDED]
    return sql_row_hash(content, dialect.name, dialect.server_version_info)


def _insert_xf(
    conn: sa.Connection,
    compiled: CompiledProject,
    plan: TablePlan,
    work: sa.Table,
    res: sa.Table,
    *,
    hashed: bool,
) -> None:
    """Write ``xf_<table>``; the engine computes each row's hash in the same statement, unless
    the working table's fill did (``hashed``)."""
    xf = compiled.xf_tables[plan.name]
    sel = _xf_select(compiled, plan, work, res, hash_in=None if hashed else conn.dialect)
    recreate_filled(conn, xf, [c.name for c in xf.columns], sel)


def _xf_select(
    compiled: CompiledProject,
    plan: TablePlan,
    work: sa.Table,
    res: sa.Table,
    *,
    hash_in: sa.Dialect | None,
) -> sa.Select[Any]:
    """The rows of ``xf_<table>``, every column in order: the working rows that were written.
    The row hash is computed by the ``hash_in`` dialect's engine, or None: the working table's."""
    values = _xf_values(compiled, plan, work, res)
    values["_row_hash"] = work.c._h if hash_in is None else _row_hash(values, hash_in)
    written, ok = _written(plan, work, res)
    columns = [values[c.name] for c in compiled.xf_tables[plan.name].columns]
    return sa.select(*columns).select_from(written).where(ok)


def _quarantine(
    conn: sa.Connection,
    compiled: CompiledProject,
    plan: TablePlan,
    work: sa.Table,
    res: sa.Table,
    flagged: sa.ColumnElement[bool],
    run_id: str,
) -> None:
    q = compiled.outputs.quarantine
    names = [c.name for c in q.columns]
    head = [
        sa.literal(run_id),
        sa.literal(plan.name),
        sa.literal(plan.source_table),
        work.c._src_key,
        work.c._batch,
    ]
    for i, check in enumerate(plan.checks):
        sel = sa.select(
            *head,
            sa.literal(check.rule),
            sa.literal(check.column),
            work.c[f"v_{i}"],
            sa.literal(check.message),
        ).where(flagged, work.c[f"q_{i}"] == 1, work.c._merged == 0)
        conn.execute(q.insert().from_select(names, sel))
    for k, post in enumerate(plan.post_checks):
        sel = sa.select(
            *head,
            sa.literal(post.rule),
            sa.literal("+".join(post.columns)),
            _shown(compiled, plan, work, post),
            sa.literal(post.message),
        ).where(flagged, work.c[f"p_{k}"] == 1, work.c._merged == 0)
        conn.execute(q.insert().from_select(names, sel))
    if plan.fn_columns:
        sel = (
            sa.select(*head, res.c.e_rule, res.c.e_col, res.c.e_val, res.c.e_msg)
            .select_from(work.join(res, work.c._pos == res.c._pos))
            .where(res.c.e_rule.is_not(None))
        )
        conn.execute(q.insert().from_select(names, sel))


def _disagreements(
    conn: sa.Connection, compiled: CompiledProject, plan: TablePlan, run_id: str
) -> int:
    if not plan.precedence:
        return 0
    work, res = work_table(plan, compiled), result_table(plan, compiled)
    d = compiled.outputs.disagreement
    names = [
        "run_id",
        "target_table",
        "fact",
        "column_name",
        "source_table",
        "source_key",
        "batch",
        "primary_source",
        "primary_key",
        "primary_value",
        "secondary_value",
    ]
    written, ok = _written(plan, work, res)
    for i, (p, _primary, _secondary, _key) in enumerate(plan.precedence):
        pp, ps = work.c[f"pp_{i}"], work.c[f"ps_{i}"]
        sel = (
            sa.select(
                sa.literal(run_id),
                sa.literal(plan.name),
                sa.literal(p.fact),
                sa.literal(p.column),
                sa.literal(plan.source_table),
                work.c._src_key,
                work.c._batch,
                sa.literal(p.primary_source),
                work.c[f"pk_{i}"],
                pp,
                ps,
            )
            .select_from(written)
            .where(ok, pp.is_not(None), sa.or_(ps.is_(None), pp != ps))
        )
        conn.execute(d.insert().from_select(names, sel))
    # Counted, not taken from rowcount (which a driver may not report for INSERT ... SELECT).
    return int(
        conn.execute(sa.select(sa.func.count()).where(d.c.target_table == plan.name)).scalar_one()
    )


def _index_probes(conn: sa.Connection, compiled: CompiledProject, plan: TablePlan) -> None:
    """Index this table's xf columns that later tables' orphan checks probe."""
    wanted = {cols for p in compiled.plans for (t, cols) in p.probes if t == plan.name}
    xf = compiled.xf_tables[plan.name]
    for cols in sorted(wanted):
        name = f"ix_{xf.name}_{'_'.join(cols)}"[:60]
        sa.Index(name, *[xf.c[c] for c in cols]).create(conn, checkfirst=True)
