"""``cutover legacy generate`` on the command line: options reach the generator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cutover.commands.legacy import register
from cutover.errors import ConfigError
from cutover.legacy import DefectRates, generate


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:
        """The command line, with only the legacy commands."""

    return app


def test_generate_command_writes_the_files_with_the_rates_given(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _app(),
        [
            "legacy",
            "generate",
            "--offenders",
            "80",
            "--seed",
            "4",
            "--out",
            str(tmp_path),
            "--jail-credit-misposted",
            "0",
            "--good-conduct-rate",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    for name in ("obscis.db", "documents.csv", "answer_key.jsonl", "generate.json"):
        assert (tmp_path / name).is_file()
    options = json.loads((tmp_path / "generate.json").read_text(encoding="utf-8"))["options"]
    assert options["jail_credit_misposted"] == 0.0
    assert options["good_conduct_rate"] == 1.0
    codes = {
        json.loads(line).get("code")
        for line in (tmp_path / "answer_key.jsonl").read_text(encoding="utf-8").splitlines()
    }
    assert "JAIL_CREDIT_MISPOSTED" not in codes


def test_generate_command_rejects_a_rate_above_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _app(),
        ["legacy", "generate", "--offenders", "5", "--out", str(tmp_path), "--orphan-row", "1.5"],
    )
    assert result.exit_code != 0
    assert not (tmp_path / "obscis.db").exists()


def test_rates_outside_zero_to_one_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="orphan_row"):
        DefectRates(orphan_row=-0.1)


def test_a_count_of_zero_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="offenders"):
        generate(tmp_path, 0, 1)


def test_an_unwritable_output_folder_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot write"):
        generate(blocker / "out", 5, 1)
