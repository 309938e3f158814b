"""Options shared by every command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cutover.settings import Settings, load_settings

__all__ = ["WorkspaceOption", "command_group", "settings_for"]

WorkspaceOption = Annotated[
    Path,
    typer.Option(
        "--workspace",
        "-w",
        help="The migration workspace (the folder with cutover.toml).",
        envvar="CUTOVER_WORKSPACE",
    ),
]


def settings_for(workspace: Path, **overrides: object) -> Settings:
    """Load the workspace's settings with the command line's overrides on top."""
    return load_settings(workspace, overrides=overrides)


def command_group(app: typer.Typer, name: str, help_text: str) -> typer.Typer:
    """The sub-command group ``name`` of ``app``, created on first use.

    Several command modules add commands to one group (``cutover quarantine list`` comes from
    the mappings, ``cutover quarantine triage`` from sign-off); registering a second group under
    the same name would hide the first one's commands.
    """
    for info in app.registered_groups:
        if info.name == name and info.typer_instance is not None:
            return info.typer_instance
    group = typer.Typer(help=help_text, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group
