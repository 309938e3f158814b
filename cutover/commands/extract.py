"""``cutover extract`` (stage the legacy source, or ``--verify`` it) and ``cutover inspect``.

Output names tables, counts, checksums and code distributions only: never a row's values.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from cutover.commands.common import WorkspaceOption, settings_for
from cutover.errors import ReconciliationError
from cutover.runs import start_run

if TYPE_CHECKING:  # the extract stage is imported when a command runs, not at start-up
    from extract import TableProfile, TableResult, TableVerification

__all__ = ["register"]

_STATUS_STYLE = {"new": "green", "unchanged": "dim", "changed": "yellow", "resumed": "cyan"}

SourceOption = Annotated[
    list[str] | None,
    typer.Option("--source", "-s", help="Only this source (repeatable). Default: every source."),
]
TableOption = Annotated[
    list[str] | None,
    typer.Option("--table", "-t", help="Only this source table (repeatable). Default: all."),
]


@contextmanager
def _progress(console: Console) -> Iterator[tuple[Progress, dict[str, TaskID]]]:
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,} rows"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        yield progress, {}


def _summary(results: list[TableResult]) -> Table:
    table = Table(title="extract", title_justify="left")
    for name in ("source", "table", "staged as", "rows", "written", "checksum", "status", "s"):
        table.add_column(name, justify="right" if name in ("rows", "written", "s") else "left")
    for r in results:
        style = _STATUS_STYLE.get(r.status, "")
        table.add_row(
            r.source,
            r.table,
            r.stg_table,
            f"{r.rows:,}",
            f"{r.written:,}",
            r.checksum,
            f"[{style}]{r.status}[/{style}]" if style else r.status,
            f"{r.seconds:.1f}",
        )
    return table


def _verification(results: list[TableVerification]) -> Table:
    table = Table(title="verify", title_justify="left")
    for name in ("table", "source rows", "staged rows", "source checksum", "staged checksum", ""):
        table.add_column(name, justify="right" if "rows" in name else "left")
    for v in results:
        table.add_row(
            f"{v.source}.{v.table}",
            f"{v.source_fp.rows:,}",
            f"{v.staged_fp.rows:,}",
            v.source_fp.checksum,
            v.staged_fp.checksum,
            "[green]match[/green]" if v.ok else "[red]DIFFERS[/red]",
        )
    return table


def _explain(console: Console, v: TableVerification) -> None:
    if v.problem:
        console.print(f"  {v.stg_table}: {v.problem}")
    if v.bad_row_hashes:
        console.print(f"  {v.stg_table}: {v.bad_row_hashes:,} staged rows disagree with _row_hash")
    for r in v.ranges[:20]:
        console.print(
            f"  {v.stg_table}: positions {r.first_pos:,}-{r.last_pos:,} differ "
            f"(source {r.source_rows:,} rows, keys {r.source_keys[0]}..{r.source_keys[1]}; "
            f"staged {r.staged_rows:,} rows, keys {r.staged_keys[0]}..{r.staged_keys[1]})"
        )
    if len(v.ranges) > 20:
        console.print(f"  {v.stg_table}: ... and {len(v.ranges) - 20} more ranges")


def _print_profile(console: Console, p: TableProfile) -> None:
    from extract import code_columns  # noqa: PLC0415 - see the TYPE_CHECKING import

    keys = ", ".join(p.key) or "(none declared)"
    cands = (
        "unchecked (table too large)"
        if p.candidate_keys is None
        else (", ".join(p.candidate_keys) or "(none)")
    )
    console.print(f"\n[bold]{p.table}[/bold]: {p.rows:,} rows; key {keys}; candidate keys {cands}")
    if p.unique:
        console.print("  unique: " + "; ".join(", ".join(u) for u in p.unique))
    cols = Table(show_edge=False)
    for name in ("column", "blank %", "00000000", "99999999", "impossible dates", "codes"):
        cols.add_column(name, justify="left" if name == "column" else "right")
    for c in p.columns:
        cols.add_row(
            c.name,
            f"{100 * c.share(c.blanks, p.rows):.1f}",
            f"{c.sentinels.get('00000000', 0):,}",
            f"{c.sentinels.get('99999999', 0):,}",
            f"{c.impossible_dates:,}",
            f"{c.distinct_codes}" if c.codes is not None else "",
        )
    console.print(cols)
    by = p.group_column or "(all rows)"
    for c in code_columns(p):
        if c.codes is None:
            continue
        console.print(f"  {c.name} per {by}:")
        for group in sorted(c.codes):
            counts = ", ".join(f"{code!r}={n:,}" for code, n in sorted(c.codes[group].items()))
            label = group or ("(blank)" if p.group_column else "all rows")
            console.print(f"    {label}: {counts}")


def _console() -> Console:
    # Off a terminal (logs, CI) keep the table wide enough for full checksums.
    return Console() if sys.stdout.isatty() else Console(width=180)


def register(app: typer.Typer) -> None:
    @app.command("extract")
    def extract_command(
        workspace: WorkspaceOption = Path(),
        source: SourceOption = None,
        table: TableOption = None,
        verify: Annotated[
            bool, typer.Option("--verify", help="Re-read the source and prove staging matches.")
        ] = False,
        chunk_rows: Annotated[
            int | None, typer.Option(min=1, help="Rows per chunk (default: per source).")
        ] = None,
        actor: Annotated[str | None, typer.Option(help="Who runs it (default: OS user).")] = None,
        retries: Annotated[int, typer.Option(min=1, help="Attempts on a transient error.")] = 5,
    ) -> None:
        """Copy each legacy table into staging, resumably; or verify staging against it."""
        from extract import RetryPolicy, extract_sources, verify_sources  # noqa: PLC0415

        settings = settings_for(workspace)
        console = _console()
        policy = RetryPolicy(attempts=retries)
        if verify:
            with start_run(settings, "verify", actor) as run, run.step("verify") as step:
                checks = verify_sources(
                    settings,
                    sources=source or (),
                    tables=table or (),
                    policy=policy,
                    chunk_rows=chunk_rows,
                )
                step.add(tables=len(checks), differing=sum(not v.ok for v in checks))
                console.print(_verification(checks))
                for v in checks:
                    if not v.ok:
                        _explain(console, v)
                bad = [v.stg_table for v in checks if not v.ok]
                if bad:
                    raise ReconciliationError(
                        f"staging differs from the source in {len(bad)} table(s): {', '.join(bad)}",
                        hint="rerun 'cutover extract' to re-stage them, then verify again",
                    )
                console.print(f"[green]staging matches the source: {len(checks)} tables[/green]")
            return
        err = Console(stderr=True)
        with start_run(settings, "extract", actor) as run, _progress(err) as (progress, tasks):

            def on_table(src: str, name: str) -> None:
                tasks[f"{src}.{name}"] = progress.add_task(f"{src}.{name}", total=None)

            def on_progress(_stg: str, rows: int) -> None:
                if tasks:
                    progress.update(list(tasks.values())[-1], completed=rows)

            results = extract_sources(
                settings,
                run=run,
                sources=source or (),
                tables=table or (),
                policy=policy,
                chunk_rows=chunk_rows,
                on_progress=on_progress,
                on_table=on_table,
            )
            progress.stop()
            console.print(_summary(results))
            changed = [f"{r.source}.{r.table}" for r in results if r.status == "changed"]
            if results and all(r.status == "unchanged" for r in results):
                console.print("source unchanged since the last extract: nothing to do")
            if changed:
                console.print(
                    f"[yellow]changed since the last extract:[/yellow] {', '.join(changed)}"
                )
            run.finish(
                "succeeded",
                tables=len(results),
                statuses={r.stg_table: r.status for r in results},
            )

    @app.command("inspect")
    def inspect_command(
        workspace: WorkspaceOption = Path(),
        source: SourceOption = None,
        table: TableOption = None,
        by: Annotated[
            str | None,
            typer.Option(help="Column to group code counts by (default: first *INST* column)."),
        ] = None,
        max_codes: Annotated[int, typer.Option(min=1, help="Most distinct values of a code.")] = 60,
    ) -> None:
        """Profile the legacy source: tables, counts, keys, blanks, sentinels, bad dates, codes."""
        from extract import RetryPolicy, open_source, profile_table, retrying  # noqa: PLC0415

        settings = settings_for(workspace)
        console = _console()
        policy = RetryPolicy()
        lowered = {t.lower() for t in table or ()}
        for name in source or sorted(settings.sources):
            src_settings = settings.source(name)
            src = open_source(name, src_settings)
            try:
                names = retrying(src.tables, policy, what=f"{name}: list tables")
                for table_name in names:
                    if lowered and table_name.lower() not in lowered:
                        continue
                    info = retrying(
                        functools.partial(src.describe, table_name), policy, what=table_name
                    )
                    prof = profile_table(
                        src,
                        info,
                        chunk_rows=src_settings.chunk_rows,
                        group_by=by,
                        max_codes=max_codes,
                    )
                    console.print(f"[dim]source {name}[/dim]", end="")
                    _print_profile(console, prof)
            finally:
                src.close()
