"""Validation on the command line.

``cutover validate`` recomputes every offender of the target and records the results of the
run; ``cutover explain OFFENDER_ID`` shows one offender's computation side by side with the
legacy ledger; ``cutover score ANSWER_KEY`` scores a run against a generated answer key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from cutover.commands.common import WorkspaceOption, settings_for
from cutover.errors import ConfigError
from cutover.runs import list_runs, start_run
from cutover.settings import Settings

if TYPE_CHECKING:
    from validation.run import ValidationResult

__all__ = ["register"]

RunOption = Annotated[
    str | None,
    typer.Option("--run", help="The run whose results to use (default: the latest validated)."),
]
ScratchOption = Annotated[
    bool,
    typer.Option("--scratch", help="Read the dry run's scratch database instead of the target."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _database(scratch: bool) -> Literal["target", "scratch"]:
    return "scratch" if scratch else "target"


def _latest_validated(settings: Settings) -> str:
    """The newest run of the ledger that has validation results."""
    import sqlalchemy as sa  # noqa: PLC0415

    from validation.run import engines_for  # noqa: PLC0415
    from validation.store import VAL_RUN_SUMMARY, ensure_tables  # noqa: PLC0415

    engines = engines_for(settings)
    try:
        ensure_tables(engines.control)
        with engines.control.connect() as conn:
            validated = {r[0] for r in conn.execute(sa.select(VAL_RUN_SUMMARY.c.run_id).distinct())}
    finally:
        engines.target.dispose()
        engines.control.dispose()
    for run in list_runs(settings, limit=1000):
        if run["id"] in validated:
            return str(run["id"])
    raise ConfigError(
        "no run of this workspace has validation results",
        hint="run 'cutover validate' first, or pass --run RUN",
    )


def _summary_table(result: ValidationResult) -> Table:
    table = Table(title=f"validation, run {result.run_id}", title_justify="left")
    names = (
        "offenders",
        "matched",
        "explained",
        "unexplained",
        "out_of_scope",
        "incomplete",
        "released_early",
        "released_late",
    )
    table.add_column("batch")
    for name in names:
        table.add_column(name.replace("_", " "), justify="right")
    for batch, s in sorted(result.summaries.items()):
        style = "red" if s.unexplained else ""
        cells = [f"{getattr(s, n):,}" for n in names]
        table.add_row(batch, *cells, style=style)
    over = f" (summed over {result.workers} worker processes)" if result.workers > 1 else ""
    table.caption = (
        f"{result.findings} catalogue findings; read {result.read_seconds:.1f}s, "
        f"recompute and explain {result.compute_seconds:.1f}s, write {result.write_seconds:.1f}s"
        + over
    )
    return table


def register(app: typer.Typer) -> None:
    @app.command("validate")
    def validate_command(
        workspace: WorkspaceOption = Path(),
        run: Annotated[
            str | None,
            typer.Option("--run", help="Record under this existing run (default: a new run)."),
        ] = None,
        batch: Annotated[
            list[str] | None,
            typer.Option("--batch", "-b", help="Only this batch (repeatable). Default: all."),
        ] = None,
        scratch: ScratchOption = False,
        pack: Annotated[str | None, typer.Option(help="Rule pack name or YAML file.")] = None,
        actor: Annotated[str | None, typer.Option(help="Who runs it (default: OS user).")] = None,
        workers: Annotated[
            int | None,
            typer.Option(
                min=1,
                help="Worker processes (default: one per core; a small run uses one).",
            ),
        ] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Recompute every offender from the migrated data, compare and explain; record it."""
        from validation import (  # noqa: PLC0415
            audit_report,
            engines_for,
            render_audit_report,
            validate_run,
        )

        settings = settings_for(workspace, rule_pack=pack)
        err = Console(stderr=True)

        def work(run_id: str) -> ValidationResult:
            with Progress(
                SpinnerColumn(),
                TextColumn("validating"),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            ) as progress:
                task = progress.add_task("validate", total=None)
                return validate_run(
                    settings,
                    run_id,
                    batches=batch,
                    database=_database(scratch),
                    progress=lambda n: progress.update(task, completed=n),
                    workers=workers,
                )

        if run is None:
            with start_run(settings, "validate", actor) as ledger, ledger.step("validate") as step:
                result = work(ledger.id)
                step.add(**result.counts())
        else:
            result = work(run)
        engines = engines_for(settings)
        try:
            report = audit_report(engines.control, result.run_id, batches=batch)
        finally:
            engines.target.dispose()
            engines.control.dispose()
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "run_id": result.run_id,
                        "counts": result.counts(),
                        "batches": {
                            b: {k: getattr(s, k) for k in s.__slots__}
                            for b, s in sorted(result.summaries.items())
                        },
                        "workers": result.workers,
                        "seconds": {
                            "read": result.read_seconds,
                            "compute": result.compute_seconds,
                            "write": result.write_seconds,
                        },
                        "audit": report.as_dict(),
                    },
                    indent=2,
                )
            )
            return
        console = Console()
        console.print(_summary_table(result))
        console.print(render_audit_report(report), highlight=False)
        if result.unexplained:
            console.print(
                f"[red]{result.unexplained} offender(s) with UNEXPLAINED differences[/red]: "
                "see 'cutover explain OFFENDER_ID'"
            )

    @app.command("explain")
    def explain_command(
        offender_id: Annotated[str, typer.Argument(help="Person id or legacy offender id.")],
        workspace: WorkspaceOption = Path(),
        run: Annotated[
            str | None,
            typer.Option("--run", help="Show this run's stored result beside the computation."),
        ] = None,
        scratch: ScratchOption = False,
        as_json: JsonOption = False,
    ) -> None:
        """One offender's computation side by side, month by month, with each explanation."""
        from validation import engines_for, explain_offender, load_pack, render_explain  # noqa: PLC0415

        settings = settings_for(workspace)
        engines = engines_for(settings, _database(scratch))
        try:
            doc = explain_offender(engines, offender_id, load_pack(settings.rule_pack), run_id=run)
        finally:
            engines.target.dispose()
            engines.control.dispose()
        if as_json:
            typer.echo(json.dumps(doc, indent=2))
        else:
            typer.echo(render_explain(doc))

    @app.command("score")
    def score_command(
        answer_key: Annotated[Path, typer.Argument(help="answer_key.jsonl of the legacy system.")],
        workspace: WorkspaceOption = Path(),
        run: RunOption = None,
        scratch: ScratchOption = False,
        as_json: JsonOption = False,
    ) -> None:
        """Score a run against the answer key: precision and recall per code (exit 1 if not 1.0)."""
        from validation import engines_for, format_score, score_run  # noqa: PLC0415

        settings = settings_for(workspace)
        run_id = run or _latest_validated(settings)
        engines = engines_for(settings, _database(scratch))
        try:
            score = score_run(engines.control, run_id, answer_key, target=engines.target)
        finally:
            engines.target.dispose()
            engines.control.dispose()
        if as_json:
            typer.echo(json.dumps(score.as_dict(), indent=2))
        else:
            typer.echo(format_score(score))
        if not score.perfect:
            raise typer.Exit(1)
