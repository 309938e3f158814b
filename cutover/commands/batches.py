"""Batches, sign-off and readiness on the command line.

``cutover batch list|show|diff`` read; ``cutover batch sign|revoke``, ``cutover explanation
add``, ``cutover quarantine triage`` change state as a named account (``--as USER``, see
:mod:`cutover.commands.admin`), through the same permission model and audit log as the web.
``cutover report --html FILE`` writes the readiness report as one self-contained page.
A refused sign-off lists every blocker and exits 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine

from cutover.batches import (
    add_explanation,
    batch_names,
    diff_runs,
    discrepancies,
    ensure_tables,
    institution_readiness,
    latest_run,
    list_register,
    quarantine_groups,
    readiness,
    revoke,
    sign,
    triage_quarantine,
)
from cutover.batches.decisions import DecisionKind
from cutover.batches.report import write_report
from cutover.commands.admin import AsUserOption, acting_user
from cutover.commands.common import WorkspaceOption, command_group, settings_for
from cutover.control import open_control
from cutover.errors import SignOffError

__all__ = ["register"]

_console = Console()
BatchArg = Annotated[str, typer.Argument(help="The batch: an institution code, e.g. ECI.")]


@contextmanager
def _control(workspace: Path) -> Iterator[Engine]:
    engine = open_control(settings_for(workspace))
    try:
        ensure_tables(engine)
        yield engine
    finally:
        engine.dispose()


def _mark(ok: bool) -> str:
    return "[green]✓[/green]" if ok else "[red]✕[/red]"


def _register_batch(app: typer.Typer) -> None:
    batch_app = typer.Typer(help="Batches: evidence, diffs and sign-off.", no_args_is_help=True)
    app.add_typer(batch_app, name="batch")

    @batch_app.command("list")
    def list_(workspace: WorkspaceOption = Path()) -> None:
        """Every institution batch with its gates on its latest dry run."""
        with _control(workspace) as engine, engine.connect() as conn:
            state = readiness(conn)
        table = Table("batch", "run", "unexplained", "gates", "sign-off", "verdict")
        for i in state.institutions:
            table.add_row(
                i.batch,
                i.run_id or "-",
                str(i.open_unexplained),
                " ".join(_mark(g.ok) for g in i.gates),
                i.signoff.state,
                "[green]ready[/green]" if i.ready else "[red]blocked[/red]",
            )
        _console.print(table)
        verdict = "[green]GO[/green]" if state.go else "[red]NO-GO[/red]"
        _console.print(f"overall: {verdict}")

    @batch_app.command("show")
    def show(batch: BatchArg, workspace: WorkspaceOption = Path()) -> None:
        """A batch's gates, blockers and discrepancies on its latest dry run."""
        with _control(workspace) as engine, engine.connect() as conn:
            run_id = latest_run(conn, batch)
            state = institution_readiness(conn, batch)
            rows = list(discrepancies(conn, batch, run_id, limit=200))
            groups = quarantine_groups(conn, batch, run_id)
        _console.print(f"[bold]batch {batch}[/bold] run {run_id}: {state.signoff.describe()}")
        for g in state.gates:
            _console.print(f"  {_mark(g.ok)} {g.label}: {g.detail}")
        table = Table("person", "code", "days", "standing", "detail", title="discrepancies")
        for d in rows:
            table.add_row(d.person_id, d.code, f"{d.days:+d}", d.resolution, d.detail)
        _console.print(table)
        qt = Table("group", "rows", "triage", title="quarantine")
        for q in groups:
            qt.add_row(q.slug, str(q.rows), "triaged" if q.triaged else "[red]untriaged[/red]")
        _console.print(qt)

    @batch_app.command("diff")
    def diff(
        batch: BatchArg,
        run: Annotated[str | None, typer.Option(help="Run to compare (default: latest).")] = None,
        previous: Annotated[
            str | None, typer.Option(help="Run to compare with (default: the one before).")
        ] = None,
        workspace: WorkspaceOption = Path(),
    ) -> None:
        """New, fixed, regressed and changed discrepancies since the previous dry run."""
        with _control(workspace) as engine, engine.connect() as conn:
            d = diff_runs(conn, batch, run_id=run, previous_run_id=previous)
        _console.print(f"batch {batch}: {d.previous_run_id or '(none)'} -> {d.run_id}")
        for name, part in (
            ("new", d.new),
            ("regressed", d.regressed),
            ("fixed", d.fixed),
            ("changed", d.changed),
            ("quarantine new", d.quarantine_new),
            ("quarantine regressed", d.quarantine_regressed),
            ("quarantine fixed", d.quarantine_fixed),
        ):
            items = ", ".join(" ".join(str(v) for v in item) for item in part.items[:20])
            _console.print(f"  {name}: {part.count}" + (f"  [dim]{items}[/dim]" if items else ""))

    @batch_app.command("sign")
    def sign_(
        batch: BatchArg,
        statement: Annotated[str, typer.Option(help="What you checked.")] = "",
        as_user: AsUserOption = None,
        workspace: WorkspaceOption = Path(),
    ) -> None:
        """Sign off a batch's latest evidence (validators for the institution)."""
        with _control(workspace) as engine:
            actor = acting_user(engine, as_user)
            try:
                done = sign(engine, actor=actor, batch=batch, statement=statement)
            except SignOffError as exc:
                _console.print(f"[red]refused:[/red] {exc.message}")
                for b in exc.blockers:
                    _console.print(f"  - {b}")
                raise typer.Exit(1) from exc
        _console.print(
            f"[green]signed off[/green] {batch} run {done.run_id} evidence {done.evidence_hash}"
        )

    @batch_app.command("revoke")
    def revoke_(
        batch: BatchArg,
        reason: Annotated[str, typer.Option(help="Why the sign-off is revoked.")],
        as_user: AsUserOption = None,
        workspace: WorkspaceOption = Path(),
    ) -> None:
        """Revoke a batch's sign-off, with a reason."""
        with _control(workspace) as engine:
            gone = revoke(engine, actor=acting_user(engine, as_user), batch=batch, reason=reason)
        _console.print(f"[yellow]revoked[/yellow] the sign-off of {batch} by {gone.signed_by}")


def _register_decisions(app: typer.Typer) -> None:
    explanation_app = typer.Typer(
        help="The register of manual explanations and accepted variances.", no_args_is_help=True
    )
    app.add_typer(explanation_app, name="explanation")

    @explanation_app.command("add")
    def add(
        batch: BatchArg,
        person: Annotated[str, typer.Argument(help="The person id.")],
        code: Annotated[str, typer.Argument(help="The discrepancy's code, e.g. UNEXPLAINED.")],
        reason: Annotated[str, typer.Option(help="What was checked and what it showed.")],
        accept: Annotated[
            bool, typer.Option("--accept", help="Accept the variance instead of explaining it.")
        ] = False,
        as_user: AsUserOption = None,
        workspace: WorkspaceOption = Path(),
    ) -> None:
        """Explain (or accept) one discrepancy against the person's current facts."""
        kind: DecisionKind = "accepted_variance" if accept else "explanation"
        with _control(workspace) as engine:
            entry = add_explanation(
                engine,
                actor=acting_user(engine, as_user),
                batch=batch,
                person_id=person,
                code=code,
                kind=kind,
                reason=reason,
            )
        _console.print(f"[green]recorded[/green] register entry {entry.id} ({kind})")

    @explanation_app.command("list")
    def list_(
        batch: Annotated[str | None, typer.Option(help="Only this batch.")] = None,
        workspace: WorkspaceOption = Path(),
    ) -> None:
        """The register, newest first, with each entry's state on the latest run."""
        with _control(workspace) as engine:
            entries = list_register(engine, batch)
        table = Table("id", "batch", "person", "code", "kind", "by", "state", "reason")
        for r in entries:
            table.add_row(
                str(r.id), r.batch, r.person_id, r.code, r.kind, r.created_by, r.state, r.reason
            )
        _console.print(table)

    quarantine_app = command_group(app, "quarantine", "Quarantined rows: list, group, triage.")

    @quarantine_app.command("triage")
    def triage(
        batch: BatchArg,
        group: Annotated[str, typer.Argument(help="target/source/rule/column, as 'batch show'.")],
        reason: Annotated[str, typer.Option(help="Why these rows may stay out of the load.")],
        as_user: AsUserOption = None,
        workspace: WorkspaceOption = Path(),
    ) -> None:
        """Mark a quarantine group triaged for its current rows."""
        with _control(workspace) as engine:
            rows = triage_quarantine(
                engine, actor=acting_user(engine, as_user), batch=batch, group=group, reason=reason
            )
        _console.print(f"[green]triaged[/green] {group}: {rows} row(s)")


def _register_report(app: typer.Typer) -> None:
    @app.command("report")
    def report(
        html: Annotated[Path, typer.Option("--html", help="Write the report to this file.")],
        workspace: WorkspaceOption = Path(),
    ) -> None:
        """Write the readiness report as one self-contained HTML page."""
        settings = settings_for(workspace)
        with _control(workspace) as engine:
            with engine.connect() as conn:
                names = batch_names(conn)
            write_report(engine, html, workspace_name=settings.name, now=datetime.now(UTC))
        _console.print(f"[green]wrote[/green] {html} ({len(names)} batch(es))")


def register(app: typer.Typer) -> None:
    _register_batch(app)
    _register_decisions(app)
    _register_report(app)
