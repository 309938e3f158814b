"""``mappings check``: every mapping compiled once against the staged and target schemas.

``compile_project`` is the gate before any data moves: it stages the project's reference tables
(:mod:`transform.references`), reflects the staged schema, builds
every plan (unknown tables, columns, crosswalks, vocabularies and functions, type mismatches,
unfilled target columns, reference cycles) and raises one ``MappingError`` with every problem.
``check_project`` adds the crosswalk coverage report: each code present in staging that no
crosswalk entry maps, with its count per institution (those rows would be quarantined), and
names the target tables no mapping fills at all (nothing would ever be loaded into them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from transform import sqlfuncs as sf
from transform.crosswalks import materialize_crosswalks
from transform.duplicates import DuplicatePlan, plan_duplicates
from transform.plan import TablePlan, build_plans
from transform.problems import Problems
from transform.project import MappingProject
from transform.references import materialize_references
from transform.schema import OutputTables, StagedSchema, xf_table

__all__ = ["CheckReport", "CompiledProject", "CoverageGap", "check_project", "compile_project"]


@dataclass(frozen=True)
class CompiledProject:
    project: MappingProject
    staged: StagedSchema
    outputs: OutputTables
    xf_tables: dict[str, sa.Table]
    plans: list[TablePlan]
    duplicates: list[DuplicatePlan]


@dataclass(frozen=True)
class CoverageGap:
    """Staged code values a crosswalk does not map: they would be quarantined."""

    table: str
    column: str
    crosswalk: str
    institution: str | None
    code: str
    rows: int


@dataclass(frozen=True)
class CheckReport:
    compiled: CompiledProject
    coverage: list[CoverageGap] = field(default_factory=list)
    #: Target tables that neither a table mapping nor a merge record fills, by name.
    unmapped_tables: list[str] = field(default_factory=list)


def compile_project(
    project: MappingProject,
    staging: sa.Engine,
    target: sa.MetaData,
    *,
    run_id: str = "check",
) -> CompiledProject:
    """Compile every mapping; raise ``MappingError`` listing every problem (file:line)."""
    problems = Problems(list(project.problems.items))
    if project.references:
        materialize_references(staging, project, run_id)
    staged = StagedSchema.reflect(staging)
    if not staged.tables:
        doc = project.project_doc
        problems.add(
            doc.file,
            1,
            "staging",
            "the staging database holds no staged table (stg_*); run the extract first",
        )
        problems.raise_if_any("mappings cannot be checked")
    outputs = OutputTables.define()
    xf_meta = sa.MetaData()
    names = set(project.tables) | {d.spec.record.table for d in project.duplicates.values()}
    xf_tables = {
        n: xf_table(target.tables[n], xf_meta) for n in sorted(names) if n in target.tables
    }
    dialect = staging.dialect.name
    dups = plan_duplicates(project, staged, target, outputs, xf_tables, dialect, problems)
    plans = build_plans(project, staged, target, outputs, xf_tables, dialect, run_id, problems)
    problems.raise_if_any("mappings are invalid")
    return CompiledProject(project, staged, outputs, xf_tables, plans, dups)


def check_project(project: MappingProject, staging: sa.Engine, target: sa.MetaData) -> CheckReport:
    """Compile every mapping, then measure crosswalk coverage on the staged data."""
    compiled = compile_project(project, staging, target)
    gaps: list[CoverageGap] = []
    outputs = compiled.outputs
    outputs.meta.create_all(staging, tables=[outputs.crosswalk, outputs.merge])
    with staging.begin() as conn:
        _load_crosswalks(conn, compiled)
        for plan in compiled.plans:
            gaps += _coverage(conn, plan)
    # A crosswalk looked up by several columns of a table reports each code once.
    unique = {(g.table, g.crosswalk, g.institution, g.code): g for g in reversed(gaps)}
    return CheckReport(
        compiled,
        sorted(unique.values(), key=lambda g: (g.table, g.crosswalk, g.institution or "", g.code)),
        sorted(set(target.tables) - set(compiled.xf_tables)),
    )


def _load_crosswalks(conn: sa.Connection, compiled: CompiledProject) -> None:
    materialize_crosswalks(conn, compiled.project, compiled.outputs)


def _coverage(conn: sa.Connection, plan: TablePlan) -> list[CoverageGap]:
    out: list[CoverageGap] = []
    for use in plan.crosswalks:
        cond = use.failed if plan.where is None else sa.and_(sf.is_true(plan.where), use.failed)
        inst: Any = use.institution if use.institution is not None else sa.null()
        # PostgreSQL refuses a constant (NULL) in GROUP BY / ORDER BY: group by what varies.
        keys = [use.code] if use.institution is None else [use.institution, use.code]
        # Source rows, also where an unpivot gives one several target rows.
        rows = (
            sa.func.count(sa.distinct(plan.source_row))
            if plan.variants > 1 and plan.source_row is not None
            else sa.func.count()
        )
        query = (
            sa.select(inst, use.code, rows)
            .select_from(plan.from_)
            .where(cond)
            .group_by(*keys)
            .order_by(*keys)
        )
        out += [
            CoverageGap(plan.name, use.column, use.crosswalk, row[0], str(row[1]), int(row[2]))
            for row in conn.execute(query)
        ]
    return out
