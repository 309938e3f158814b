"""Options shared by every command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cutover.settings import Settings, load_settings

__all__ = ["WorkspaceOption", "settings_for"]

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
