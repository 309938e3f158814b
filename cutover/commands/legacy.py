"""``cutover legacy generate``: build the reference OBSCIS-style legacy system."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cutover.legacy import DefectRates, generate

__all__ = ["register"]

_D = DefectRates()


def _rate(help_text: str) -> Any:
    return typer.Option(min=0.0, max=1.0, help=help_text, rich_help_panel="Defect rates")


def register(app: typer.Typer) -> None:
    legacy = typer.Typer(
        help="The reference legacy system: an OBSCIS-style database with known defects.",
        no_args_is_help=True,
    )

    @legacy.command("generate")
    def generate_command(
        offenders: Annotated[int, typer.Option(min=1, help="Number of offenders.")],
        out: Annotated[Path, typer.Option(help="Folder for obscis.db, documents.csv, ...")],
        seed: Annotated[int, typer.Option(min=0, help="Random seed; same seed, same bytes.")] = 1,
        workers: Annotated[
            int,
            typer.Option(min=1, max=32, help="Worker processes; any number gives the same bytes."),
        ] = 2,
        work_credit_during_segregation: Annotated[
            float, _rate("WT posted for segregation days (per eligible offender).")
        ] = _D.work_credit_during_segregation,
        jail_credit_misposted: Annotated[
            float, _rate("Jail credit keyed wrong or never posted (per offender with jail).")
        ] = _D.jail_credit_misposted,
        credit_without_assignment: Annotated[
            float, _rate("Credits posted for a month no assignment covers.")
        ] = _D.credit_without_assignment,
        assignment_without_credit: Annotated[
            float, _rate("A month an assignment covers with no posting.")
        ] = _D.assignment_without_credit,
        undocumented_labor_pool: Annotated[
            float, _rate("Labor-pool WT without three documented days a week.")
        ] = _D.undocumented_labor_pool,
        monthly_cap_exceeded: Annotated[
            float, _rate("A month's earned credits posted above the cap.")
        ] = _D.monthly_cap_exceeded,
        revocation_mismatch: Annotated[
            float, _rate("A revocation not posted, or posted twice.")
        ] = _D.revocation_mismatch,
        good_conduct_rate: Annotated[
            float, _rate("Good conduct at 10 for a violent or drug term.")
        ] = _D.good_conduct_rate,
        impossible_date: Annotated[
            float, _rate("Non-critical date values keyed as impossible dates.")
        ] = _D.impossible_date,
        unknown_task_code: Annotated[
            float, _rate("Offenders with an assignment under an unknown task code.")
        ] = _D.unknown_task_code,
        orphan_row: Annotated[
            float, _rate("Offenders whose deleted twin left orphan rows.")
        ] = _D.orphan_row,
        duplicate_offender: Annotated[
            float, _rate("Offenders keyed twice in OFFNDR.")
        ] = _D.duplicate_offender,
        duplicate_user: Annotated[
            float, _rate("Employees with a second user account.")
        ] = _D.duplicate_user,
        excess_screen_access: Annotated[
            float, _rate("Correctional officers with case-management update access.")
        ] = _D.excess_screen_access,
        document_disagreement: Annotated[
            float, _rate("JAIL_CR certificate numbers keyed differently from the document.")
        ] = _D.document_disagreement,
        code_case_drift: Annotated[
            float, _rate("Code values keyed lower case or with a leading space.")
        ] = _D.code_case_drift,
    ) -> None:
        """Write obscis.db, documents.csv, answer_key.jsonl and generate.json into --out."""
        rates = DefectRates(
            work_credit_during_segregation=work_credit_during_segregation,
            jail_credit_misposted=jail_credit_misposted,
            credit_without_assignment=credit_without_assignment,
            assignment_without_credit=assignment_without_credit,
            undocumented_labor_pool=undocumented_labor_pool,
            monthly_cap_exceeded=monthly_cap_exceeded,
            revocation_mismatch=revocation_mismatch,
            good_conduct_rate=good_conduct_rate,
            impossible_date=impossible_date,
            unknown_task_code=unknown_task_code,
            orphan_row=orphan_row,
            duplicate_offender=duplicate_offender,
            duplicate_user=duplicate_user,
            excess_screen_access=excess_screen_access,
            document_disagreement=document_disagreement,
            code_case_drift=code_case_drift,
        )
        console = Console(stderr=True)
        with Progress(
            TextColumn("generating offenders"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("offenders", total=offenders)
            summary = generate(
                out,
                offenders,
                seed,
                rates,
                on_progress=lambda done: progress.update(task, completed=done),
                workers=workers,
            )
        rows = sum(summary.tables.values())
        console.print(
            f"[green]legacy system written:[/green] {summary.db_path} "
            f"({rows:,} rows, {summary.documents:,} documents, "
            f"{summary.answer_lines:,} answer-key lines, {summary.seconds:.1f}s)"
        )
        console.print(
            f"released on mandatory supervision: {summary.released_on_ms:,}, "
            f"with a wrong date: {summary.released_on_ms_wrong:,} "
            f"(deltas {summary.days_min:+d} to {summary.days_max:+d} days per cause)"
        )

    app.add_typer(legacy, name="legacy")
