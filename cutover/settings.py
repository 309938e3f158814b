"""One typed settings object for a migration workspace, layered: command line > environment > file.

A workspace is a folder with a ``cutover.toml``; ``cutover init DIR`` writes one. Relative paths
in it (SQLite URLs, the mappings folder, file sources) are resolved against the workspace folder,
so a workspace can be moved or checked out anywhere.

Environment variables: ``CUTOVER_STAGING_URL``, ``CUTOVER_TARGET_URL``, ``CUTOVER_CONTROL_URL``,
``CUTOVER_SCRATCH_URL``, ``CUTOVER_MAPPINGS_DIR``, ``CUTOVER_RULE_PACK`` and, per source,
``CUTOVER_SOURCE_<NAME>_URL`` / ``CUTOVER_SOURCE_<NAME>_CONNECTION_STRING`` (credentials belong
there, not in the file).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from cutover.errors import ConfigError

__all__ = [
    "WORKSPACE_FILE",
    "DatabaseSettings",
    "Settings",
    "SourceSettings",
    "load_settings",
    "redact_url",
]

WORKSPACE_FILE = "cutover.toml"
_STATE_DIR = ".cutover"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceSettings(_Frozen):
    """One legacy source. ``kind`` names a registered extractor; it checks the fields it needs."""

    kind: str
    #: SQLAlchemy URL (kind ``sqlalchemy``).
    url: SecretStr | None = None
    #: ODBC DSN name or full connection string (kind ``odbc``).
    dsn: str | None = None
    connection_string: SecretStr | None = None
    #: A file (kinds ``delimited`` and ``fixed_width``) and the staged table name it becomes.
    path: Path | None = None
    table: str | None = None
    #: Layout file for fixed-width files, or column types for delimited ones.
    layout: Path | None = None
    delimiter: str = ","
    encoding: str = "utf-8"
    header: bool = True
    #: Tables to extract from a database source; empty means every table.
    tables: tuple[str, ...] = ()
    #: Key columns per table where the source declares none (``{"LBR_LOG": ["OFF_ID", ...]}``).
    keys: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    chunk_rows: int = Field(default=20_000, ge=1, le=1_000_000)
    #: Rows per committed chunk when the engine copies the table itself (a SQLite source into
    #: SQLite staging): no row passes through Python, so a chunk can be larger, and fewer
    #: commits (each an fsync) are paid.
    engine_chunk_rows: int = Field(default=250_000, ge=1, le=10_000_000)


class DatabaseSettings(_Frozen):
    url: SecretStr


class Settings(_Frozen):
    """Everything a command needs to know about a workspace."""

    workspace: Path
    name: str = "migration"
    sources: dict[str, SourceSettings] = Field(default_factory=dict)
    staging: DatabaseSettings
    target: DatabaseSettings
    #: Where ``cutover dry-run`` loads: never the real target.
    scratch: DatabaseSettings
    control: DatabaseSettings
    mappings_dir: Path
    rule_pack: str = "md_diminution"

    @property
    def state_dir(self) -> Path:
        return self.workspace / _STATE_DIR

    def source(self, name: str) -> SourceSettings:
        try:
            return self.sources[name]
        except KeyError:
            known = ", ".join(sorted(self.sources)) or "(none configured)"
            raise ConfigError(
                f"unknown source {name!r}",
                hint=f"configured sources are: {known}; add [sources.{name}] to {WORKSPACE_FILE}",
            ) from None


def redact_url(url: str) -> str:
    """A URL fit for a log line or a report: the password replaced by ***."""
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def _resolve_url(url: str, workspace: Path) -> str:
    """Make a relative SQLite path absolute against the workspace folder."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        rel = url[len(prefix) :]
        return prefix + str((workspace / rel).resolve())
    return url


def _default_db(workspace: Path, name: str) -> str:
    return f"sqlite:///{(workspace / _STATE_DIR / f'{name}.db').resolve()}"


def load_settings(
    workspace: Path | str | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Read ``cutover.toml`` in ``workspace``, then the environment, then ``overrides``.

    ``overrides`` are the command line's values (``staging_url``, ``target_url``, ``control_url``,
    ``mappings_dir``, ``rule_pack``); ``None`` values are ignored.
    """
    ws = Path(workspace or Path.cwd()).resolve()
    env = os.environ if environ is None else environ
    cli = {k: v for k, v in (overrides or {}).items() if v is not None}
    path = ws / WORKSPACE_FILE
    if not path.is_file():
        raise ConfigError(
            f"no {WORKSPACE_FILE} in {ws}",
            hint=f"run 'cutover init {ws}' to create a workspace, or pass --workspace DIR",
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}", hint="fix the TOML syntax at that line") from exc

    project = raw.get("project", {})
    data: dict[str, Any] = {"workspace": ws, "name": project.get("name", ws.name)}

    def layered(key: str, file_value: Any, env_name: str) -> Any:
        if key in cli:
            return cli[key]
        if env_name in env:
            return env[env_name]
        return file_value

    for db in ("staging", "target", "scratch", "control"):
        url = layered(f"{db}_url", raw.get(db, {}).get("url"), f"CUTOVER_{db.upper()}_URL")
        data[db] = {"url": _resolve_url(url or _default_db(ws, db), ws)}

    mdir = layered("mappings_dir", raw.get("mappings", {}).get("dir"), "CUTOVER_MAPPINGS_DIR")
    if mdir is None:
        raise ConfigError(
            "the mappings folder is not set",
            hint=(
                f"looked at --mappings-dir, $CUTOVER_MAPPINGS_DIR and [mappings] dir in {path}; "
                "set one of them"
            ),
        )
    data["mappings_dir"] = (ws / mdir).resolve()
    pack = layered("rule_pack", raw.get("rules", {}).get("pack"), "CUTOVER_RULE_PACK")
    if pack is not None:
        data["rule_pack"] = pack

    sources: dict[str, Any] = {}
    for name, file_src in raw.get("sources", {}).items():
        src = dict(file_src)
        for field in ("url", "connection_string"):
            env_name = f"CUTOVER_SOURCE_{name.upper()}_{field.upper()}"
            if env_name in env:
                src[field] = env[env_name]
        if "url" in src:
            src["url"] = _resolve_url(src["url"], ws)
        for field in ("path", "layout"):
            if field in src:
                src[field] = (ws / src[field]).resolve()
        sources[name] = src
    data["sources"] = sources

    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise ConfigError(
            f"{path} is invalid:\n  - " + "\n  - ".join(problems),
            hint="fix every line listed, then rerun",
        ) from exc
