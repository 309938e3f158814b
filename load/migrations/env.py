"""Alembic environment for the target schema.

The database comes from, in order: a connection handed over by :mod:`load.migrate`
(``config.attributes["connection"]``), the ``sqlalchemy.url`` option, or ``CUTOVER_TARGET_URL``.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from cutover.errors import ConfigError
from load.engine import create_target_engine
from load.models import Base

config = context.config
target_metadata = Base.metadata


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    handed: Connection | None = config.attributes.get("connection")
    if handed is not None:
        _configure_and_run(handed)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("CUTOVER_TARGET_URL")
    if not url:
        raise ConfigError(
            "no target database for the migrations",
            hint="set CUTOVER_TARGET_URL, or use 'cutover db upgrade' in a workspace",
        )
    engine = create_target_engine(url)
    try:
        with engine.connect() as connection:
            _configure_and_run(connection)
    finally:
        engine.dispose()


def _run_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("CUTOVER_TARGET_URL")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
