"""``cutover init``: create a migration workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cutover.commands.admin import new_password
from cutover.control import create_first_admin, open_control
from cutover.control.passwords import check_password_policy
from cutover.control.users import check_username
from cutover.errors import ConfigError
from cutover.settings import WORKSPACE_FILE, load_settings

__all__ = ["register", "write_workspace"]

_TEMPLATE = """\
# A cutover migration workspace. Paths are relative to this folder.
# Settings are layered: command-line options > environment (CUTOVER_*) > this file.
# Credentials belong in the environment (CUTOVER_SOURCE_<NAME>_URL), not here.

[project]
name = "{name}"

# The legacy system: one table per staged table. 'kind' names a registered extractor:
# sqlalchemy (url), odbc (dsn or connection_string), delimited or fixed_width (path, table, layout).
[sources.{source}]
kind = "sqlalchemy"
url = "{source_url}"
{documents}
[staging]
url = "sqlite:///.cutover/staging.db"

[target]
url = "sqlite:///.cutover/target.db"

# Dry runs load here, never into the real target.
[scratch]
url = "sqlite:///.cutover/scratch.db"

[control]
url = "sqlite:///.cutover/control.db"

[mappings]
dir = "{mappings}"

[rules]
pack = "{rule_pack}"
"""

_DOCUMENTS = """
[sources.documents]
kind = "delimited"
path = "{path}"
table = "DOC_IDX"
# A file has no declared key: name it, so staged rows are traced by DOC_ID, not by position.
keys = {{ DOC_IDX = ["DOC_ID"] }}
"""


def write_workspace(
    directory: Path,
    *,
    name: str | None = None,
    source: str = "obscis",
    source_url: str = "sqlite:///legacy/obscis.db",
    documents: str | None = "legacy/documents.csv",
    mappings: str = "mappings/obscis",
    rule_pack: str = "md_diminution",
    force: bool = False,
) -> Path:
    """Write ``cutover.toml`` in ``directory`` and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / WORKSPACE_FILE
    if path.exists() and not force:
        raise ConfigError(
            f"{path} already exists", hint="pass --force to overwrite it, or choose another folder"
        )
    text = _TEMPLATE.format(
        name=name or directory.resolve().name,
        source=source,
        source_url=source_url,
        documents=_DOCUMENTS.format(path=documents) if documents else "",
        mappings=mappings,
        rule_pack=rule_pack,
    )
    path.write_text(text, encoding="utf-8")
    (directory / ".cutover").mkdir(exist_ok=True)
    load_settings(directory)  # prove what was written is valid
    return path


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init(
        directory: Annotated[Path, typer.Argument(help="Folder for the new workspace.")],
        source_url: Annotated[
            str, typer.Option(help="SQLAlchemy URL of the legacy database.")
        ] = "sqlite:///legacy/obscis.db",
        documents: Annotated[
            str | None, typer.Option(help="Scanned-document index CSV; '' for none.")
        ] = "legacy/documents.csv",
        mappings: Annotated[str, typer.Option(help="Mappings folder.")] = "mappings/obscis",
        rule_pack: Annotated[str, typer.Option(help="Rule pack name.")] = "md_diminution",
        force: Annotated[bool, typer.Option(help="Overwrite an existing cutover.toml.")] = False,
        admin: Annotated[
            str | None,
            typer.Option(
                help="Create the first administrator with this name (password from "
                "$CUTOVER_ADMIN_PASSWORD or a prompt)."
            ),
        ] = None,
    ) -> None:
        """Create a migration workspace: cutover.toml and its state folder."""
        admin_password = None
        if admin is not None:
            check_username(admin)
            admin_password = new_password("CUTOVER_ADMIN_PASSWORD", f"Password for {admin}")
            check_password_policy(admin_password)
        path = write_workspace(
            directory,
            source_url=source_url,
            documents=documents or None,
            mappings=mappings,
            rule_pack=rule_pack,
            force=force,
        )
        Console().print(f"[green]workspace written:[/green] {path}")
        if admin is not None and admin_password is not None:
            engine = open_control(load_settings(directory))
            try:
                create_first_admin(engine, username=admin, password=admin_password)
            finally:
                engine.dispose()
            Console().print(f"[green]first administrator created:[/green] {admin}")
