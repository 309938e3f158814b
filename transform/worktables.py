"""The per-table working tables of a run (``xf__work_<table>`` and its ``_res`` companion).

``xf__work_<table>`` holds, per kept source row (``_pos`` = the staged ``_src_pos``): the batch,
whether it was merged, each target value (``c_<i>`` by xf column position), each check's flag
and offending value (``q_<i>``, ``v_<i>``), each repair's flag and raw value (``r_<i>``,
``rv_<i>``), the Python functions' arguments (``a_<j>``) and the
precedence values (``pp_``/``ps_``/``pk_``). ``_res`` exists only for a table whose mapping
calls registered Python functions: it holds the Python pass's output per row, the function
values (``f_<j>``) and a function failure if any. Both are dropped at the end of the table's
transaction, as are the tables of positions beside them (``_flagged``, ``_hits``).

None of them outlives the transaction that makes it, so each is marked
:func:`transform.filling.transaction_only`: on PostgreSQL it is made ``UNLOGGED``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from transform.filling import transaction_only

if TYPE_CHECKING:
    from transform.checker import CompiledProject
    from transform.plan import TablePlan

__all__ = [
    "flag_columns",
    "flagged_table",
    "hits_table",
    "passed",
    "result_table",
    "work_table",
]


def work_table(plan: TablePlan, compiled: CompiledProject | None = None) -> sa.Table:
    meta = sa.MetaData()
    cols: list[sa.Column[Any]] = [
        # Not a primary key: a join that multiplies rows must reach the accounting, which
        # names it, instead of failing here on a constraint.
        sa.Column("_pos", sa.BigInteger, index=True),
        sa.Column("_src_key", sa.Text),
        sa.Column("_batch", sa.Text),
        sa.Column("_merged", sa.Integer),
    ]
    if compiled is not None:
        xf = compiled.xf_tables[plan.name]
        cols += [
            sa.Column(f"c_{i}", c.type) for i, c in enumerate(xf.columns) if c.name in plan.values
        ]
        cols += [sa.Column(f"q_{i}", sa.Integer) for i in range(len(plan.checks))]
        cols += [sa.Column(f"v_{i}", sa.Text) for i in range(len(plan.checks))]
        cols += [sa.Column(f"r_{i}", sa.Integer) for i in range(len(plan.repairs))]
        cols += [sa.Column(f"rv_{i}", sa.Text) for i in range(len(plan.repairs))]
        cols += [sa.Column(f"p_{k}", sa.Integer) for k in range(len(plan.post_checks))]
        for name, expr in plan.fn_args.items():
            cols.append(sa.Column(name, expr.type))
        for i in range(len(plan.precedence)):
            cols += [
                sa.Column(f"pp_{i}", sa.Text),
                sa.Column(f"ps_{i}", sa.Text),
                sa.Column(f"pk_{i}", sa.Text),
            ]
        # The row's hash, when the fill computed it (transform.splitting); else NULL.
        cols.append(sa.Column("_h", sa.Text))
    return transaction_only(sa.Table(f"xf__work_{plan.name}", meta, *cols))


def result_table(plan: TablePlan, compiled: CompiledProject | None = None) -> sa.Table:
    cols: list[sa.Column[Any]] = [
        sa.Column("_pos", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("e_rule", sa.Text),
        sa.Column("e_col", sa.Text),
        sa.Column("e_val", sa.Text),
        sa.Column("e_msg", sa.Text),
    ]
    if compiled is not None:
        xf = compiled.xf_tables[plan.name]
        cols += [sa.Column(f"f_{i}", xf.c[fn.column].type) for i, fn in enumerate(plan.fn_columns)]
    return transaction_only(sa.Table(f"xf__work_{plan.name}_res", sa.MetaData(), *cols))


def flagged_table(plan: TablePlan) -> sa.Table:
    """``xf__work_<table>_flagged``: the positions of the working rows with any check or repair
    flag set, gathered by one scan so that each quarantine and repair record is read from them
    by index instead of by a scan of the whole working table per rule. Keyed by a unique
    index rather than a primary key, so that PostgreSQL fills it by a parallel
    ``CREATE TABLE ... AS`` (:func:`transform.filling.recreate_filled`)."""
    name = f"xf__work_{plan.name}_flagged"
    pos = sa.Column("_pos", sa.BigInteger, nullable=False)
    index = sa.Index(f"ix_{name}__pos", pos, unique=True)
    return transaction_only(sa.Table(name, sa.MetaData(), pos, index))


def hits_table(plan: TablePlan) -> sa.Table:
    """``xf__work_<table>_hits``: the positions of the working rows an update of flags is about
    to set, gathered first on PostgreSQL (see ``transform.runner._update_work``). No
    constraint, so that PostgreSQL fills it by a parallel ``CREATE TABLE ... AS``."""
    hits = sa.Table(f"xf__work_{plan.name}_hits", sa.MetaData(), sa.Column("_pos", sa.BigInteger))
    return transaction_only(hits)


def flag_columns(work: sa.Table, plan: TablePlan) -> list[sa.Column[Any]]:
    """Every flag column of the working table: checks, post-checks and repairs."""
    names = [f"q_{i}" for i in range(len(plan.checks))]
    names += [f"p_{k}" for k in range(len(plan.post_checks))]
    names += [f"r_{i}" for i in range(len(plan.repairs))]
    return [work.c[n] for n in names]


def passed(work: sa.Table, plan: TablePlan) -> sa.ColumnElement[bool]:
    """Rows of the working table that are not merged and failed no check."""
    return sa.and_(
        work.c._merged == 0,
        *[work.c[f"q_{i}"] == 0 for i in range(len(plan.checks))],
        *[work.c[f"p_{k}"] == 0 for k in range(len(plan.post_checks))],
    )
