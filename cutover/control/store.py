"""The control store's security tables, created idempotently with SQLAlchemy Core.

The control database (``settings.control.url``: SQLite by default, PostgreSQL in production) is
shared with the run ledger and, later, batches and sign-offs. This module owns only the tables of
the security core: ``users``, ``user_institutions``, ``web_sessions``, ``audit_log`` and the one-row
``audit_head`` that serializes appends to the audit chain.

Timestamps of users and sessions are ``DateTime(timezone=True)`` and always written in UTC;
:func:`as_utc` puts the zone back on values SQLite returns naive. Audit timestamps are ISO 8601
text, because they are hashed and must read back byte for byte on every engine.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from cutover.errors import ConfigError
from cutover.settings import Settings, redact_url

__all__ = [
    "GENESIS_HASH",
    "as_utc",
    "audit_head",
    "audit_log",
    "ensure_schema",
    "metadata",
    "open_control",
    "user_institutions",
    "users",
    "utc_now",
    "web_sessions",
]

#: The ``prev_hash`` of the first audit entry.
GENESIS_HASH = "0" * 64

metadata = sa.MetaData()

users = sa.Table(
    "users",
    metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
    #: Consecutive failed sign-ins, and until when the account refuses them after too many.
    sa.Column("failed_logins", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
)

user_institutions = sa.Table(
    "user_institutions",
    metadata,
    sa.Column(
        "username",
        sa.String(64),
        sa.ForeignKey("users.username", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("institution", sa.String(16), primary_key=True),
)

web_sessions = sa.Table(
    "web_sessions",
    metadata,
    #: SHA-256 of the cookie's token: a leaked table does not hand out live sessions.
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column(
        "username",
        sa.String(64),
        sa.ForeignKey("users.username", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False, index=True),
    sa.Column("action", sa.String(64), nullable=False, index=True),
    sa.Column("subject", sa.String(255), nullable=False),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

#: One row (``id`` = 1): the last appended ``seq`` and ``hash``. Appends update it first, which
#: takes the write lock (SQLite) or the row lock (PostgreSQL) and so serializes writers; verify
#: compares it with the last entry, which is how a removed tail is caught.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive value (SQLite) is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def ensure_schema(engine: Engine) -> None:
    """Create the security tables and the audit head if missing. Safe to call every time."""
    metadata.create_all(engine, checkfirst=True)
    with engine.connect() as conn:
        present = conn.execute(sa.select(audit_head.c.id).where(audit_head.c.id == 1)).first()
    if present is None:
        # Another process may create the head between our read and our insert: either way the
        # head exists afterwards, which is all this needs.
        with suppress(IntegrityError), engine.begin() as conn:
            conn.execute(audit_head.insert().values(id=1, seq=0, hash=GENESIS_HASH))


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def control_engine(url: str) -> Engine:
    """An engine on the control database at ``url``, its folder made for a SQLite file.

    On SQLite a writer waits for another's transaction (``busy_timeout``) instead of failing at
    once: several processes (validation's workers, the dashboard) write the same file.
    """
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def open_control(settings: Settings) -> Engine:
    """An engine on the control database with the security tables in place."""
    url = settings.control.url.get_secret_value()
    engine = control_engine(url)
    try:
        ensure_schema(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise ConfigError(
            f"cannot open the control database {redact_url(url)}: {type(exc).__name__}",
            hint="check [control] url in cutover.toml or $CUTOVER_CONTROL_URL, and that the "
            "database server is reachable",
        ) from exc
    return engine
