"""``cutover dry-run`` and ``cutover demo``."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cutover.commands.common import WorkspaceOption, settings_for
from cutover.commands.workspace import write_workspace
from cutover.pipeline import DryRunResult, dry_run
from cutover.settings import Settings

__all__ = ["REFERENCE_MAPPINGS", "print_readiness", "register", "run_demo", "write_html_report"]

#: The reference mappings shipped with the project (the folder beside the packages).
REFERENCE_MAPPINGS = Path(__file__).resolve().parents[2] / "mappings" / "obscis"


def _print_result(console: Console, result: DryRunResult) -> None:
    table = Table(title=f"dry run {result.run_id}: staged", title_justify="left")
    for column in ("source", "table", "rows", "status"):
        table.add_column(column, justify="right" if column == "rows" else "left")
    for t in result.extracted:
        table.add_row(t.source, t.table, f"{t.rows:,}", t.status)
    console.print(table)
    if result.load is not None:
        console.print(
            f"loaded into the scratch target: {len(result.load.batches)} batches, "
            f"{result.load.changed:,} rows changed"
        )
    if result.coverage_gaps:
        console.print(
            f"[yellow]{result.coverage_gaps} legacy code(s) no crosswalk maps[/yellow]: "
            "see 'cutover mappings check'"
        )


#: Short gate names for a terminal table (the dashboard and report show the full ones).
_SHORT = {
    "extract_verified": "verify",
    "mappings_clean": "mappings",
    "rows_reconciled": "accounting",
    "quarantine_triaged": "quarantine",
    "zero_unexplained": "unexplained",
    "signed_fresh": "sign-off",
}


def print_readiness(console: Console, settings: Settings) -> bool:
    """Per institution: the validation outcome and every readiness gate; return go/no-go."""
    import sqlalchemy as sa  # noqa: PLC0415 - kept off the command line's start-up path

    from cutover.batches.readiness import GATES, readiness  # noqa: PLC0415

    engine = sa.create_engine(settings.control.url.get_secret_value())
    try:
        with engine.connect() as conn:
            state = readiness(conn)
    finally:
        engine.dispose()
    table = Table(title="cutover readiness", title_justify="left")
    table.add_column("institution")
    for column in ("offenders", "match", "explained", "unexpl.", "out of scope"):
        table.add_column(column, justify="right")
    table.add_column("blocked by", overflow="fold")
    for inst in state.institutions:
        s = inst.summary
        counts = (
            (s.offenders, s.matched, s.explained, s.unexplained, s.out_of_scope)
            if s
            else (0, 0, 0, 0, 0)
        )
        failing = [_SHORT.get(g.name, GATES[g.name]) for g in inst.gates if not g.ok]
        table.add_row(
            inst.batch,
            *(f"{n:,}" for n in counts),
            "[green]ready[/green]" if not failing else "[red]" + "; ".join(failing) + "[/red]",
        )
    console.print(table)
    verdict = "[bold green]GO[/bold green]" if state.go else "[bold red]NO-GO[/bold red]"
    console.print(f"overall: {verdict} ({len(state.blocked)} institution(s) blocked)")
    return state.go


def _run(console: Console, settings: Settings, actor: str | None, *, verify: bool) -> DryRunResult:
    with console.status("dry run") as status:
        result = dry_run(
            settings,
            actor=actor,
            verify=verify,
            progress=lambda step, message: status.update(f"[bold]{step}[/bold]: {message}"),
        )
    _print_result(console, result)
    print_readiness(console, settings)
    return result


def run_demo(directory: Path, *, offenders: int, seed: int, console: Console) -> DryRunResult:
    """Generate a legacy system in ``directory/legacy``, make a workspace there, dry-run it."""
    from cutover.legacy import DB_FILE, generate  # noqa: PLC0415 - only the demo needs it

    legacy = directory / "legacy"
    if not (legacy / DB_FILE).exists():
        with console.status(f"generating a legacy system of {offenders:,} offenders"):
            summary = generate(legacy, offenders, seed)
        console.print(f"legacy system generated in {legacy} ({summary.seconds:.1f} s)")
    mappings = directory / "mappings" / "obscis"
    if not mappings.exists():
        shutil.copytree(REFERENCE_MAPPINGS, mappings)
    write_workspace(directory, name="demo", force=True)
    settings = settings_for(directory)
    result = _run(console, settings, actor=None, verify=True)
    report = directory / "readiness-report.html"
    write_html_report(settings, report)
    console.print(f"readiness report written: {report}")
    return result


def write_html_report(settings: Settings, path: Path) -> None:
    """The self-contained readiness report (``cutover report --html``)."""
    import datetime as dt  # noqa: PLC0415

    import sqlalchemy as sa  # noqa: PLC0415

    from cutover.batches.report import write_report  # noqa: PLC0415

    engine = sa.create_engine(settings.control.url.get_secret_value())
    try:
        write_report(engine, path, workspace_name=settings.name, now=dt.datetime.now(dt.UTC))
    finally:
        engine.dispose()


def register(app: typer.Typer) -> None:
    @app.command("dry-run")
    def dry_run_command(
        workspace: WorkspaceOption = Path(),
        actor: Annotated[
            str | None, typer.Option("--as", help="Who runs it (default: the OS user).")
        ] = None,
        verify: Annotated[
            bool, typer.Option(help="Re-read the sources and prove staging matches them.")
        ] = False,
    ) -> None:
        """Extract, check, transform, load into the scratch target and validate: one run."""
        _run(Console(), settings_for(workspace), actor, verify=verify)

    @app.command("demo")
    def demo_command(
        directory: Annotated[Path, typer.Option("--dir", help="Folder for the demo.")] = Path(
            "demo-workspace"
        ),
        offenders: Annotated[int, typer.Option(min=10, help="Offenders to generate.")] = 2000,
        seed: Annotated[int, typer.Option(help="Generator seed.")] = 7,
    ) -> None:
        """Generate a sample legacy system and run a full dry run on it."""
        run_demo(directory, offenders=offenders, seed=seed, console=Console())
