"""``cutover mappings check``, ``cutover transform`` and ``cutover quarantine list|group|export``.

The target schema comes from ``--target-models`` (a module, optionally ``module:attribute``,
whose ``metadata`` or ``Base.metadata`` is the target's SQLAlchemy MetaData; default
``load.models``). Output names tables, rules, codes and counts, never a person's values.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from cutover.commands.common import WorkspaceOption, command_group, settings_for
from cutover.disposable import disposable
from cutover.errors import ConfigError
from cutover.runs import start_run
from cutover.settings import Settings
from transform import (
    QuarantineFilter,
    TableResult,
    check_project,
    export_quarantine,
    group_quarantine,
    list_quarantine,
    load_project,
    run_transform,
)

__all__ = ["register", "target_metadata"]

TargetModelsOption = Annotated[
    str,
    typer.Option(
        "--target-models",
        help="Module (or module:attribute) holding the target schema's MetaData.",
    ),
]
MappingsDirOption = Annotated[
    Path | None, typer.Option("--mappings-dir", help="Mapping folder (default: the workspace's).")
]
TableOption = Annotated[str | None, typer.Option("--table", help="Only this target table.")]
RuleOption = Annotated[str | None, typer.Option("--rule", help="Only this rule.")]
BatchOption = Annotated[str | None, typer.Option("--batch", help="Only this batch.")]


def target_metadata(spec: str) -> sa.MetaData:
    """The MetaData named by ``module`` or ``module:attribute``."""
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"cannot import target models {module_name!r}: {exc}",
            hint="pass --target-models MODULE[:ATTRIBUTE]",
        ) from exc
    found: Any = getattr(module, attr, None) if attr else getattr(module, "metadata", None)
    if found is None and not attr:
        found = getattr(getattr(module, "Base", None), "metadata", None)
    if found is not None and not isinstance(found, sa.MetaData):
        found = getattr(found, "metadata", None)
    if not isinstance(found, sa.MetaData):
        raise ConfigError(
            f"{spec!r} holds no SQLAlchemy MetaData",
            hint="name a module with 'metadata' or 'Base', or MODULE:ATTRIBUTE",
        )
    return found


def _staging(settings: Settings) -> sa.Engine:
    return disposable(sa.create_engine(settings.staging.url.get_secret_value()))


def _settings(workspace: Path, mappings_dir: Path | None) -> Settings:
    return settings_for(workspace, mappings_dir=mappings_dir)


def register(app: typer.Typer) -> None:
    mappings = typer.Typer(
        help="Mapping files: check them before any data moves.", no_args_is_help=True
    )
    app.add_typer(mappings, name="mappings")
    quarantine = command_group(
        app, "quarantine", "Rows a transform set aside, with the rule they broke; their triage."
    )

    @mappings.command("check")
    def check(
        workspace: WorkspaceOption = Path(),
        mappings_dir: MappingsDirOption = None,
        target_models: TargetModelsOption = "load.models",
    ) -> None:
        """Parse, compile and check every mapping against the staged and target schemas."""
        settings = _settings(workspace, mappings_dir)
        project = load_project(settings.mappings_dir, collect=True)
        engine = _staging(settings)
        try:
            report = check_project(project, engine, target_metadata(target_models))
        finally:
            engine.dispose()
        console = Console()
        console.print(
            f"[green]mappings OK[/green]: {len(report.compiled.plans)} table(s), "
            f"{len(project.crosswalks)} crosswalk(s), "
            f"{len(project.duplicates)} duplicate rule(s) in {project.folder}"
        )
        if report.coverage:
            table = Table(
                "table.column",
                "crosswalk",
                "institution",
                "unmapped code",
                "rows",
                title="Crosswalk coverage: codes no entry maps (would be quarantined)",
            )
            for gap in report.coverage:
                table.add_row(
                    f"{gap.table}.{gap.column}",
                    gap.crosswalk,
                    gap.institution or "-",
                    gap.code,
                    str(gap.rows),
                )
            console.print(table)
        if report.unmapped_tables:
            console.print(
                "[yellow]target tables no mapping fills[/yellow] (nothing will be loaded into "
                "them): " + ", ".join(report.unmapped_tables)
            )

    @app.command("transform")
    def transform(
        workspace: WorkspaceOption = Path(),
        mappings_dir: MappingsDirOption = None,
        target_models: TargetModelsOption = "load.models",
        chunk_rows: Annotated[int, typer.Option(min=100, help="Rows per Python chunk.")] = 5_000,
    ) -> None:
        """Run the mappings: staging -> xf_ tables, quarantine and accounting."""
        settings = _settings(workspace, mappings_dir)
        project = load_project(settings.mappings_dir)
        target = target_metadata(target_models)
        engine = _staging(settings)
        console = Console(stderr=True)
        results: list[TableResult] = []
        try:
            with (
                start_run(settings, "transform") as run,
                run.step("transform") as step,
                Progress(
                    SpinnerColumn(),
                    TextColumn("{task.description}"),
                    TimeElapsedColumn(),
                    console=console,
                    transient=True,
                ) as progress,
            ):
                task = progress.add_task("transforming", total=len(project.tables))

                def done(result: TableResult) -> None:
                    results.append(result)
                    a = result.account
                    step.add(
                        source_rows=a.source_rows,
                        loaded=a.loaded,
                        merged=a.merged,
                        quarantined=a.quarantined,
                        filtered=a.filtered,
                    )
                    progress.update(task, advance=1, description=f"transformed {result.name}")

                outcome = run_transform(
                    project, engine, target, run.id, chunk_rows=chunk_rows, on_table=done
                )
                step.note(merges=outcome.merges)
        finally:
            engine.dispose()
        table = Table(
            "table",
            "source",
            "rows",
            "loaded",
            "merged",
            "quarantined",
            "filtered",
            "disagreements",
            "seconds",
            title=f"transform run {outcome.run_id}",
            caption="py: of the seconds, those spent in registered Python functions "
            "(the row-by-row fallback)",
        )
        for r in results:
            a = r.account
            table.add_row(
                r.name,
                a.source_table,
                str(a.source_rows),
                str(a.loaded),
                str(a.merged),
                str(a.quarantined),
                str(a.filtered),
                str(r.disagreements),
                f"{r.seconds:.2f}" + (f" (py {r.python_seconds:.2f})" if r.python_seconds else ""),
            )
        Console().print(table)

    @quarantine.command("list")
    def q_list(
        workspace: WorkspaceOption = Path(),
        table: TableOption = None,
        rule: RuleOption = None,
        batch: BatchOption = None,
        limit: Annotated[int, typer.Option(min=1, help="At most this many rows.")] = 50,
    ) -> None:
        """List quarantined rows: source key, rule, column and offending value."""
        engine = _staging(settings_for(workspace))
        try:
            found = list_quarantine(engine, QuarantineFilter(table, rule, batch), limit)
        finally:
            engine.dispose()
        out = Table("table", "source", "key", "batch", "rule", "column", "value", "message")
        for r in found:
            out.add_row(
                r["target_table"],
                r["source_table"],
                r["source_key"],
                r["batch"],
                r["rule"],
                r["column_name"],
                r["value"] or "",
                r["message"],
            )
        Console().print(out)

    @quarantine.command("group")
    def q_group(
        workspace: WorkspaceOption = Path(),
        table: TableOption = None,
        rule: RuleOption = None,
        batch: BatchOption = None,
    ) -> None:
        """Count quarantined rows per table, rule, column and batch."""
        engine = _staging(settings_for(workspace))
        try:
            groups = group_quarantine(engine, QuarantineFilter(table, rule, batch))
        finally:
            engine.dispose()
        out = Table("table", "rule", "column", "batch", "rows")
        for g in groups:
            out.add_row(g.target_table, g.rule, g.column_name, g.batch, str(g.rows))
        Console().print(out)

    @quarantine.command("export")
    def q_export(
        out: Annotated[Path, typer.Argument(help="CSV file to write.")],
        workspace: WorkspaceOption = Path(),
        table: TableOption = None,
        rule: RuleOption = None,
        batch: BatchOption = None,
    ) -> None:
        """Export quarantined rows to a CSV file."""
        engine = _staging(settings_for(workspace))
        try:
            n = export_quarantine(engine, out, QuarantineFilter(table, rule, batch))
        finally:
            engine.dispose()
        Console().print(f"{n} quarantined row(s) written to {out}")
