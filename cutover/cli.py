"""The ``cutover`` command line.

Each command group lives in its own module under ``cutover/commands`` and exposes
``register(app: typer.Typer) -> None``; this module only assembles them, configures logging once,
and turns the project's own exceptions into a clear message and an exit code.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer

from cutover.errors import CutoverError
from cutover.logs import configure_logging

__all__ = ["app", "main"]

#: Command modules, in the order their commands appear in ``cutover --help``.
COMMAND_MODULES: tuple[str, ...] = (
    "cutover.commands.workspace",
    "cutover.commands.legacy",
    "cutover.commands.extract",
    "cutover.commands.admin",
    "cutover.commands.load",
    "cutover.commands.mappings",
    "cutover.commands.pipeline",
    "cutover.commands.validate",
    "cutover.commands.batches",
)

app = typer.Typer(
    name="cutover",
    help="Migrate offender records out of an end-of-life system and prove every release date.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = "WARNING",
    log_json: Annotated[
        bool | None,
        typer.Option("--log-json/--log-console", help="Default: JSON unless a terminal."),
    ] = None,
) -> None:
    configure_logging(level=log_level, json=log_json)


for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except CutoverError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(exc.exit_code)
