"""Duplicate master records: found by rule, merged into a survivor, recorded, never silent.

A ``duplicates`` entry names a master staged table and its key, match rules (two rows are one
when every expression of a rule is equal and non-null on both; rules chain transitively), and
which row survives. The engine writes ``xf__merge`` (merged key -> survivor key and the rule
that matched), one merge record per merged row into the named target table (in the survivor's
batch, where the surviving row it names is loaded), and from then on:

- the master table's mapping (``dedupe: NAME``) counts merged rows as *merged*, not loaded;
- every staged column listed under ``repoint`` reads a merged key as its survivor's key.

Candidate keys are computed in SQL; only rows sharing a key with another row reach Python.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from transform.compiler import EType, lit
from transform.expressions import Where
from transform.filling import transaction_only
from transform.hashing import HASH_EXCLUDED, row_hash
from transform.plan import MappingCompiler
from transform.problems import Problems, suggest
from transform.project import DuplicateDef, MappingProject
from transform.schema import OutputTables, StagedSchema

__all__ = ["DuplicatePlan", "plan_duplicates", "run_duplicates"]

_SEP = "\x1f"


@dataclass(frozen=True)
class DuplicatePlan:
    dup: DuplicateDef
    legacy: str
    master: sa.FromClause
    key: ColumnElement[Any]
    rules: tuple[tuple[str, ColumnElement[Any]], ...]
    order: ColumnElement[Any] | None
    batch: ColumnElement[Any]
    xf: sa.Table


def plan_duplicates(
    project: MappingProject,
    staged: StagedSchema,
    target: sa.MetaData,
    outputs: OutputTables,
    xf_tables: dict[str, sa.Table],
    dialect: str,
    problems: Problems,
) -> list[DuplicatePlan]:
    plans = []
    for dup in project.duplicates.values():
        plan = _plan(project, staged, target, outputs, xf_tables, dialect, dup, problems)
        if plan is not None:
            plans.append(plan)
    return plans


def _plan(
    project: MappingProject,
    staged: StagedSchema,
    target: sa.MetaData,
    outputs: OutputTables,
    xf_tables: dict[str, sa.Table],
    dialect: str,
    dup: DuplicateDef,
    problems: Problems,
) -> DuplicatePlan | None:
    label = f"duplicates.{dup.name}"
    comp = MappingCompiler(project, staged, outputs, dialect, problems, label)
    comp.repoint = {}
    file = str(dup.doc.file)
    alias = comp.add_table(
        dup.spec.table, None, Where(file, dup.doc.line((*dup.path, "table")), (*dup.path, "table"))
    )
    record = dup.spec.record
    rline = dup.doc.line((*dup.path, "record"))
    if record.table not in target.tables:
        problems.add(
            file,
            rline,
            label,
            f"unknown target table {record.table!r}",
            suggest(record.table, target.tables),
        )
    elif record.table in project.tables:
        problems.add(file, rline, label, f"{record.table} is also filled by a table mapping")
    else:
        tcols = target.tables[record.table].columns
        for cname in record.columns:
            if cname not in tcols:
                problems.add(
                    file,
                    rline,
                    label,
                    f"unknown column {cname!r} of {record.table}",
                    suggest(cname, [c.name for c in tcols]),
                )
        for tcol in tcols:
            if (
                not tcol.name.startswith("_")
                and tcol.name not in record.columns
                and tcol.name not in record.unfilled
            ):
                problems.add(
                    file,
                    rline,
                    f"{label}.{tcol.name}",
                    "merge record column is filled by nothing (map it or list it under unfilled:)",
                )
    if alias is None:
        return None
    legacy, master = comp.scope.tables[alias]
    key = comp.source_column(alias, dup.spec.key)
    if key is None:
        problems.add(
            file,
            dup.doc.line((*dup.path, "key")),
            label,
            f"unknown column {dup.spec.key!r} in {legacy}",
            suggest(dup.spec.key, [c.name for c in master.columns]),
        )
        return None
    rules = []
    for rule_name, exprs in dup.match:
        parts = []
        for e in exprs:
            typed = comp.expr(e, rule_name)
            parts.append(
                typed.sql if typed.type in (EType.TEXT, EType.RAW) else sa.cast(typed.sql, sa.Text)
            )
        if comp.checks:
            problems.add(
                file,
                dup.doc.line((*dup.path, "match")),
                f"{label}.{rule_name}",
                "match expressions must not fail to parse; compare with text:, "
                "code: or name_key: instead of date:/int:/flag:/crosswalk:",
            )
            comp.checks.clear()
        joined: ColumnElement[Any] = parts[0]
        for part in parts[1:]:
            joined = joined.concat(_SEP).concat(part)
        any_null = sa.or_(*[p.is_(None) for p in parts])
        rules.append((rule_name, sa.case((any_null, sa.null()), else_=joined)))
    order = None
    if dup.survivor_column is not None:
        typed = comp.expr(dup.survivor_column, "survivor")
        order = typed.sql if typed.type in (EType.TEXT, EType.RAW) else sa.cast(typed.sql, sa.Text)
    batch: ColumnElement[Any] = lit("_GLOBAL", EType.TEXT, dialect)
    if dup.batch is not None:
        batch = sa.func.coalesce(
            comp.expr(dup.batch, "batch").sql,
            lit(project.project.unknown_batch, EType.TEXT, dialect),
        )
    comp.checks.clear()
    xf = xf_tables.get(record.table)
    if xf is None:
        return None
    return DuplicatePlan(dup, legacy, master, key, tuple(rules), order, batch, xf)


class _Groups:
    """Union-find over master keys."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, k: str) -> str:
        self.parent.setdefault(k, k)
        while self.parent[k] != k:
            self.parent[k] = self.parent[self.parent[k]]
            k = self.parent[k]
        return k

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def run_duplicates(
    conn: sa.Connection,
    plan: DuplicatePlan,
    outputs: OutputTables,
    project: MappingProject,
    run_id: str,
) -> int:
    """Find and record the merges of one duplicates entry; returns how many rows merge."""
    name = plan.dup.name
    work = transaction_only(
        sa.Table(
            "xf__work_dup",
            sa.MetaData(),
            *(
                sa.Column(c, sa.Text)
                for c in ("rule", "k", "key", "raw", "src_key", "ord", "batch")
            ),
        )
    )
    work.drop(conn, checkfirst=True)
    work.create(conn)
    sa.Index("ix_xf__work_dup", work.c.rule, work.c.k).create(conn)
    m = plan.master
    for rule_name, k in plan.rules:
        sel = sa.select(
            sa.literal(rule_name),
            k,
            sa.func.trim(plan.key),
            plan.key,
            m.c["_src_key"],
            plan.order if plan.order is not None else sa.null(),
            plan.batch,
        ).where(k.is_not(None))
        conn.execute(work.insert().from_select(list(work.c.keys()), sel))
    shared = (
        sa.select(work.c.rule, work.c.k)
        .group_by(work.c.rule, work.c.k)
        .having(sa.func.count(sa.distinct(work.c.key)) > 1)
        .subquery()
    )
    rows = conn.execute(
        sa.select(
            work.c.rule, work.c.k, work.c.key, work.c.raw, work.c.src_key, work.c.ord, work.c.batch
        )
        .join_from(work, shared, sa.and_(work.c.rule == shared.c.rule, work.c.k == shared.c.k))
        .order_by(work.c.rule, work.c.k, work.c.key)
    )
    order = {r: i for i, (r, _) in enumerate(plan.rules)}
    groups = _Groups()
    info: dict[str, tuple[str, str, str | None, str]] = {}
    first_rule: dict[str, str] = {}
    last: tuple[str, str, str] | None = None
    for row in rows:
        rule, kval, key = str(row.rule), str(row.k), str(row.key)
        raw, src_key, ord_, batch = str(row.raw), str(row.src_key), row.ord, str(row.batch)
        info.setdefault(key, (raw, src_key, ord_, batch))
        if key not in first_rule or order[rule] < order[first_rule[key]]:
            first_rule[key] = rule
        if last is not None and last[:2] == (rule, kval):
            groups.union(last[2], key)
        last = (rule, kval, key)
        groups.find(key)
    work.drop(conn)
    members: dict[str, list[str]] = {}
    for key in info:
        members.setdefault(groups.find(key), []).append(key)
    merges = []
    for keys in members.values():
        survivor = _survivor(keys, info, plan.dup.spec.survivor.rule)
        merges += [
            {
                "duplicates": name,
                "merged_key": k,
                "merged_raw": info[k][0],
                "merged_src_key": info[k][1],
                "survivor_key": survivor,
                "survivor_raw": info[survivor][0],
                "rule": first_rule[k],
                # The record belongs with the survivor (its foreign key names the survivor, and
                # a load goes batch by batch), so it takes the survivor's batch.
                "batch": info[survivor][3],
            }
            for k in sorted(keys)
            if k != survivor
        ]
    conn.execute(outputs.merge.delete().where(outputs.merge.c.duplicates == name))
    if merges:
        conn.execute(outputs.merge.insert(), merges)
        conn.execute(plan.xf.insert(), list(_records(plan, project, run_id, merges)))
    return len(merges)


def _survivor(keys: list[str], info: dict[str, tuple[str, str, str | None, str]], rule: str) -> str:
    if rule == "latest":
        dated = [k for k in keys if info[k][2] is not None]
        if dated:
            best = max(str(info[k][2]) for k in dated)
            return min(k for k in dated if info[k][2] == best)
    return min(keys)


def _records(
    plan: DuplicatePlan, project: MappingProject, run_id: str, merges: list[dict[str, Any]]
) -> Iterable[dict[str, Any]]:
    spec = plan.dup.spec.record
    source = {"survivor": "survivor_key", "merged": "merged_key", "rule": "rule"}
    merges = [m | {"run_id": run_id} for m in merges]
    source["run_id"] = "run_id"
    for merge in merges:
        row: dict[str, Any] = {c.name: None for c in plan.xf.columns}
        row.update(
            {
                "_run_id": run_id,
                "_source_system": plan.dup.spec.table.rpartition(".")[0]
                or project.project.default_source,
                "_source_table": plan.legacy,
                "_source_key": merge["merged_src_key"],
                "_mapping_version": project.project.version,
                "_batch": merge["batch"],
            }
        )
        for col, what in spec.columns.items():
            row[col] = merge[source[what]]
        row = {k: v for k, v in row.items() if k in plan.xf.columns}
        # A column filled with the run id is lineage, like _run_id: it says which run recorded
        # the merge, not what was merged, so a rerun that finds the same merge changes nothing.
        lineage = {col for col, what in spec.columns.items() if what == "run_id"}
        row["_row_hash"] = row_hash(
            [
                None if c.name in lineage else row[c.name]
                for c in plan.xf.columns
                if c.name not in HASH_EXCLUDED
            ]
        )
        yield row
