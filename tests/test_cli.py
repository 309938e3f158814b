"""The command line: init, help, and errors turned into messages with exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from cutover.cli import app

runner = CliRunner()


def test_init_creates_a_workspace_and_refuses_to_overwrite_it(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ws" / "cutover.toml").is_file()
    again = subprocess.run(
        [sys.executable, "-m", "cutover", "init", str(tmp_path / "ws")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 2
    assert "already exists" in again.stderr
    assert "--force" in again.stderr


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "init" in result.output
