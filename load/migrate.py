"""Run the target schema's Alembic migrations from code, with no ``alembic.ini`` on disk.

``upgrade(url)`` / ``downgrade(url)`` / ``current(url)`` are what ``cutover db`` calls; the
migrations live inside the package (``load/migrations``), so an installed ``cutover`` carries them.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from cutover.errors import ConfigError, LoadError
from cutover.settings import redact_url
from load.engine import create_target_engine

__all__ = ["MIGRATIONS_DIR", "alembic_config", "current", "downgrade", "head", "upgrade"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """An Alembic configuration pointing at the packaged migrations (no file needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    return cfg


def head() -> str:
    """The newest revision of the target schema."""
    rev = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if rev is None:
        raise ConfigError("the target schema has no migrations", hint="reinstall cutover")
    return rev


def _run(url: str | URL, action: str, revision: str) -> None:
    cfg = alembic_config()
    engine = create_target_engine(url)
    shown = redact_url(str(url))
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            if action == "upgrade":
                command.upgrade(cfg, revision)
            else:
                command.downgrade(cfg, revision)
    except SQLAlchemyError as exc:
        raise LoadError(
            f"{action} of the target schema to {revision!r} failed: {exc.__class__.__name__}",
            hint=f"check that {shown} is reachable and not changed by hand; details: {exc}",
            database=shown,
        ) from exc
    finally:
        engine.dispose()


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Migrate the target database at ``url`` up to ``revision`` (default: the newest)."""
    _run(url, "upgrade", revision)


def downgrade(url: str | URL, revision: str = "base") -> None:
    """Migrate the target database at ``url`` down to ``revision`` (default: empty)."""
    _run(url, "downgrade", revision)


def current(url: str | URL) -> str | None:
    """The revision the target database is at, or ``None`` when it was never migrated."""
    engine = create_target_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        raise LoadError(
            "could not read the target schema's revision",
            hint=f"check that {redact_url(str(url))} is reachable; details: {exc}",
        ) from exc
    finally:
        engine.dispose()
