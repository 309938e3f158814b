"""Server-side web sessions in the control database.

The browser holds only a random token (256 bits); the table stores its SHA-256, so reading the
table does not hand out live sessions. A session ends at the first of: its absolute lifetime
(``ttl``), ``idle`` time without a request, logout, the account being disabled, or its password
changing. Each session has its own CSRF token, which every form posts back.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cutover.control.store import as_utc, users, utc_now, web_sessions

__all__ = [
    "SessionState",
    "WebSession",
    "end_session",
    "load_session",
    "start_session",
]

#: A session's ``last_seen_at`` is written at most this often, not on every request.
_TOUCH_EVERY = timedelta(seconds=30)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class WebSession:
    token: str
    username: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SessionState:
    """What :func:`load_session` found: a live session, or why there is none."""

    session: WebSession | None
    #: ``"missing"``, ``"expired"`` (lifetime or idle) or ``"ok"``.
    status: str


def start_session(engine: Engine, username: str, *, ttl: timedelta) -> WebSession:
    """A new session (a fresh token: never reuse one from before login)."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = utc_now()
    with engine.begin() as conn:
        conn.execute(web_sessions.delete().where(web_sessions.c.expires_at < now))
        conn.execute(
            web_sessions.insert().values(
                token_hash=_digest(token),
                username=username,
                csrf_token=csrf,
                created_at=now,
                last_seen_at=now,
                expires_at=now + ttl,
            )
        )
    return WebSession(token, username, csrf, now + ttl)


def load_session(engine: Engine, token: str | None, *, idle: timedelta) -> SessionState:
    """The live session of ``token`` for an active account, touching its idle clock."""
    if not token:
        return SessionState(None, "missing")
    digest = _digest(token)
    now = utc_now()
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(web_sessions, users.c.active)
            .join(users, users.c.username == web_sessions.c.username)
            .where(web_sessions.c.token_hash == digest)
        ).first()
    if row is None:
        return SessionState(None, "missing")
    last_seen = as_utc(row.last_seen_at)
    if as_utc(row.expires_at) <= now or last_seen + idle <= now or not row.active:
        end_session(engine, token)
        return SessionState(None, "expired" if row.active else "missing")
    if now - last_seen >= _TOUCH_EVERY:
        with engine.begin() as conn:
            conn.execute(
                web_sessions.update()
                .where(web_sessions.c.token_hash == digest)
                .values(last_seen_at=now)
            )
    return SessionState(
        WebSession(token, row.username, row.csrf_token, as_utc(row.expires_at)), "ok"
    )


def end_session(engine: Engine, token: str) -> None:
    with engine.begin() as conn:
        conn.execute(web_sessions.delete().where(web_sessions.c.token_hash == _digest(token)))
