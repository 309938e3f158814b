"""The target stage on the command line.

``cutover db upgrade|downgrade|current`` (the target schema), ``cutover load`` (load the
transform's output, then reconcile), ``cutover reconcile`` (the report alone) and
``cutover trace TABLE KEY`` (a target row's lineage).
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cutover.batches.gate import batches_to_load, unsigned_batches
from cutover.commands.common import WorkspaceOption, settings_for
from cutover.control import open_control, record_event
from cutover.errors import SignOffError
from cutover.settings import Settings, redact_url
from load.lineage import trace
from load.loader import LoadProgress, LoadResult, load_run
from load.migrate import current, downgrade, head, upgrade
from load.reconcile import ReconciliationMismatchError, ReconciliationReport, reconcile

__all__ = ["check_signoffs", "register"]

TargetUrlOption = Annotated[
    str | None,
    typer.Option("--target-url", help="Target database URL (default: the workspace's)."),
]


def _target_url(workspace: Path, target_url: str | None) -> str:
    return settings_for(workspace, target_url=target_url).target.url.get_secret_value()


def _show_report(report: ReconciliationReport, *, as_json: bool, only_problems: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
    else:
        Console().print(report.render(only_problems=only_problems))


def _summary(result: LoadResult) -> Table:
    table = Table(title="Load")
    for name in ("batch", "staged", "inserted", "updated", "deleted", "seconds"):
        table.add_column(name, justify="left" if name == "batch" else "right")
    for b in result.batches:
        table.add_row(
            b.batch,
            str(sum(t.staged for t in b.tables)),
            str(sum(t.inserted for t in b.tables)),
            str(sum(t.updated for t in b.tables)),
            str(sum(t.deleted for t in b.tables)),
            f"{b.seconds:.2f}",
        )
    captions = []
    if result.together_seconds is not None:
        captions.append(
            f"first load: every batch in one transaction, {result.together_seconds:.2f} s"
        )
    if result.skipped_tables:
        captions.append("not staged, left untouched: " + ", ".join(result.skipped_tables))
    if captions:
        table.caption = "; ".join(captions)
    return table


def check_signoffs(
    settings: Settings, batches: list[str] | None, *, force: bool, console: Console
) -> None:
    """Refuse the load while any institution it touches is not signed off and fresh."""
    engine = open_control(settings)
    try:
        wanted = batches_to_load(
            settings.staging.url.get_secret_value(),
            settings.target.url.get_secret_value(),
            batches,
        )
        refused = unsigned_batches(engine, wanted)
        if refused and force:
            record_event(
                engine,
                actor=f"os:{getpass.getuser()}",
                action="load.forced_unsigned",
                subject="target",
                details={"batches": dict(refused)},
            )
            for b, why in refused:
                console.print(f"[yellow]loading unsigned batch {b} (--force):[/yellow] {why}")
    finally:
        engine.dispose()
    if refused and not force:
        raise SignOffError(
            f"{len(refused)} institution(s) are not signed off on fresh evidence: "
            + "; ".join(f"{b}: {why}" for b, why in refused),
            blockers=[f"{b}: {why}" for b, why in refused],
            hint="have a validator sign each batch ('cutover batch sign'), load only signed "
            "batches with --batch, or pass --force (recorded in the audit log)",
        )


def register(app: typer.Typer) -> None:
    db = typer.Typer(
        help="The target database's schema, built only by its migrations.", no_args_is_help=True
    )

    @db.command("upgrade")
    def db_upgrade(
        workspace: WorkspaceOption = Path(),
        revision: Annotated[str, typer.Option(help="Revision to reach.")] = "head",
        target_url: TargetUrlOption = None,
    ) -> None:
        """Create or migrate the target schema up to REVISION (default: the newest)."""
        url = _target_url(workspace, target_url)
        upgrade(url, revision)
        Console().print(f"[green]target at revision {current(url)}[/green] ({redact_url(url)})")

    @db.command("downgrade")
    def db_downgrade(
        revision: Annotated[
            str, typer.Argument(help="Revision to go back to; 'base' removes every table.")
        ],
        workspace: WorkspaceOption = Path(),
        target_url: TargetUrlOption = None,
    ) -> None:
        """Migrate the target schema down to REVISION."""
        url = _target_url(workspace, target_url)
        downgrade(url, revision)
        Console().print(f"target at revision {current(url) or 'base (empty)'} ({redact_url(url)})")

    @db.command("current")
    def db_current(
        workspace: WorkspaceOption = Path(),
        target_url: TargetUrlOption = None,
    ) -> None:
        """Show the target schema's revision and whether it is the newest."""
        url = _target_url(workspace, target_url)
        at, newest = current(url), head()
        state = "up to date" if at == newest else f"behind: run 'cutover db upgrade' ({newest})"
        Console().print(f"{at or 'base (empty)'}: {state}")

    app.add_typer(db, name="db")

    @app.command("load")
    def load_command(
        workspace: WorkspaceOption = Path(),
        batch: Annotated[
            list[str] | None,
            typer.Option("--batch", help="Load only this batch (repeatable); default: all."),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        force: Annotated[
            bool,
            typer.Option(
                "--force",
                help="Load institutions whose batches are not signed off and fresh (audited).",
            ),
        ] = False,
    ) -> None:
        """Load the transform's output into the target, batch by batch, then reconcile.

        Refused for institutions whose batches are not signed off on fresh evidence, unless
        --force (recorded in the audit log).
        """
        settings = settings_for(workspace)
        console = Console(stderr=as_json)
        check_signoffs(settings, batch, force=force, console=console)
        try:
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as progress:
                task = progress.add_task("loading", total=None)

                def advance(event: LoadProgress) -> None:
                    progress.update(task, description=f"batch {event.batch}: {event.phase}")
                    if event.phase == "committed":
                        progress.advance(task)

                result = load_run(
                    settings.staging.url.get_secret_value(),
                    settings.target.url.get_secret_value(),
                    batches=batch or None,
                    on_progress=advance,
                )
        except ReconciliationMismatchError as exc:
            _show_report(exc.report, as_json=as_json, only_problems=True)
            raise
        if as_json:
            typer.echo(json.dumps(result.to_json(), indent=2))
            return
        console.print(_summary(result))
        if result.reconciliation is not None:
            console.print(result.reconciliation.render())

    @app.command("reconcile")
    def reconcile_command(
        workspace: WorkspaceOption = Path(),
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        only_problems: Annotated[
            bool, typer.Option("--only-problems", help="Show only lines that differ.")
        ] = False,
    ) -> None:
        """Compare the transform's output with the target, per table and batch."""
        settings = settings_for(workspace)
        report = reconcile(
            settings.staging.url.get_secret_value(),
            settings.target.url.get_secret_value(),
            side_by_side=True,
        )
        _show_report(report, as_json=as_json, only_problems=only_problems)
        if not report.ok:
            raise typer.Exit(1)

    @app.command("trace")
    def trace_row(
        table: Annotated[str, typer.Argument(help="Target table, e.g. commitment.")],
        key: Annotated[str, typer.Argument(help="The row's key; composite keys as A|B|C.")],
        workspace: WorkspaceOption = Path(),
        values: Annotated[
            bool, typer.Option("--values", help="Also show the row's other columns.")
        ] = False,
        show_sensitive: Annotated[
            bool,
            typer.Option(
                "--show-sensitive", help="With --values: also show names and dates of birth."
            ),
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Show where a target row came from: its lineage and the staged legacy row."""
        settings = settings_for(workspace)
        found = trace(
            settings.target.url.get_secret_value(),
            settings.staging.url.get_secret_value(),
            table,
            key,
            values=values,
            sensitive=show_sensitive,
        )
        if as_json:
            typer.echo(json.dumps(found.to_json(), indent=2, default=str))
        else:
            Console().print(found.render())
        if not found.ok:
            typer.secho(
                f"{table} {key} does not trace to exactly one staged legacy row "
                f"({len(found.staged)} found in {found.staged_table})",
                fg=typer.colors.RED,
                err=True,
            )
            raise typer.Exit(1)
