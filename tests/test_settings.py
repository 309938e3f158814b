"""Workspace settings: layered command line > environment > file, with errors that say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from cutover.commands.workspace import write_workspace
from cutover.errors import ConfigError
from cutover.settings import load_settings, redact_url


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    write_workspace(tmp_path / "ws")
    return tmp_path / "ws"


def test_init_writes_a_workspace_whose_relative_paths_resolve_inside_it(workspace: Path) -> None:
    settings = load_settings(workspace, environ={})
    assert settings.mappings_dir == (workspace / "mappings" / "obscis").resolve()
    url = settings.sources["obscis"].url
    assert url is not None
    assert url.get_secret_value() == f"sqlite:///{(workspace / 'legacy' / 'obscis.db').resolve()}"
    assert settings.staging.url.get_secret_value().endswith("/.cutover/staging.db")
    assert settings.sources["documents"].path == (workspace / "legacy/documents.csv").resolve()


@pytest.mark.parametrize(
    ("environ", "overrides", "expected"),
    [
        pytest.param({}, {}, "sqlite:///", id="file"),
        pytest.param(
            {"CUTOVER_TARGET_URL": "postgresql://env/db"}, {}, "postgresql://env/db", id="env"
        ),
        pytest.param(
            {"CUTOVER_TARGET_URL": "postgresql://env/db"},
            {"target_url": "postgresql://cli/db"},
            "postgresql://cli/db",
            id="cli-beats-env",
        ),
    ],
)
def test_settings_are_layered_cli_over_environment_over_file(
    workspace: Path, environ: dict[str, str], overrides: dict[str, str], expected: str
) -> None:
    settings = load_settings(workspace, environ=environ, overrides=overrides)
    assert settings.target.url.get_secret_value().startswith(expected)


def test_source_credentials_come_from_the_environment(workspace: Path) -> None:
    env = {"CUTOVER_SOURCE_OBSCIS_URL": "postgresql://u:secret@h/legacy"}
    settings = load_settings(workspace, environ=env)
    url = settings.sources["obscis"].url
    assert url is not None
    assert url.get_secret_value() == "postgresql://u:secret@h/legacy"
    assert "secret" not in repr(settings)


def test_missing_workspace_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no cutover\.toml") as err:
        load_settings(tmp_path, environ={})
    assert "cutover init" in str(err.value)


def test_missing_mappings_setting_names_every_place_it_looked(workspace: Path) -> None:
    toml = workspace / "cutover.toml"
    toml.write_text(toml.read_text().replace('dir = "mappings/obscis"', ""))
    with pytest.raises(ConfigError) as err:
        load_settings(workspace, environ={})
    text = str(err.value)
    for place in ("--mappings-dir", "$CUTOVER_MAPPINGS_DIR", "[mappings] dir"):
        assert place in text


def test_every_invalid_setting_is_reported_at_once(workspace: Path) -> None:
    toml = workspace / "cutover.toml"
    toml.write_text(
        toml.read_text().replace(
            'kind = "sqlalchemy"', 'kind = "sqlalchemy"\nchunk_rows = 0\nbogus = 1'
        )
    )
    with pytest.raises(ConfigError) as err:
        load_settings(workspace, environ={})
    assert "sources.obscis.chunk_rows" in str(err.value)
    assert "sources.obscis.bogus" in str(err.value)


def test_unknown_source_lists_the_configured_ones(workspace: Path) -> None:
    settings = load_settings(workspace, environ={})
    with pytest.raises(ConfigError, match="documents, obscis"):
        settings.source("obsics")


def test_redact_url_hides_the_password() -> None:
    assert (
        redact_url("postgresql://cutover:hunter2@db:5432/x") == "postgresql://cutover:***@db:5432/x"
    )
    assert redact_url("sqlite:///a.db") == "sqlite:///a.db"
