"""Server-side sessions: absolute lifetime, idle timeout, logout, tokens stored hashed."""

# ruff: noqa: S106 - test accounts' passwords are fixtures, not secrets

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from cutover.control import create_first_admin
from cutover.control.sessions import end_session, load_session, start_session
from cutover.control.store import utc_now, web_sessions

HOUR = timedelta(hours=1)


@pytest.fixture
def root(engine: Engine, fast_hasher: PasswordHasher) -> str:
    create_first_admin(engine, username="root", password="a long enough one", hasher=fast_hasher)
    return "root"


def test_a_fresh_session_loads_and_its_token_is_stored_only_as_a_hash(
    engine: Engine, root: str
) -> None:
    session = start_session(engine, root, ttl=HOUR)
    state = load_session(engine, session.token, idle=HOUR)
    assert state.status == "ok"
    assert state.session is not None
    assert state.session.csrf_token == session.csrf_token
    with engine.connect() as conn:
        stored = conn.execute(sa.select(web_sessions.c.token_hash)).scalars().all()
    assert session.token not in stored
    assert load_session(engine, "forged-token", idle=HOUR).status == "missing"
    assert load_session(engine, None, idle=HOUR).status == "missing"


@pytest.mark.parametrize(
    ("column", "shift"),
    [
        pytest.param("expires_at", timedelta(seconds=-1), id="absolute-lifetime"),
        pytest.param("last_seen_at", -2 * HOUR, id="idle-timeout"),
    ],
)
def test_an_expired_session_is_refused_and_deleted(
    engine: Engine, root: str, column: str, shift: timedelta
) -> None:
    session = start_session(engine, root, ttl=3 * HOUR)
    with engine.begin() as conn:
        conn.execute(web_sessions.update().values({column: utc_now() + shift}))
    assert load_session(engine, session.token, idle=HOUR).status == "expired"
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(web_sessions)).scalar() == 0


def test_logout_ends_the_session(engine: Engine, root: str) -> None:
    session = start_session(engine, root, ttl=HOUR)
    end_session(engine, session.token)
    assert load_session(engine, session.token, idle=HOUR).status == "missing"
