"""Accounts: the first admin, creation by admins only, disabling, password changes, audit trail."""

# ruff: noqa: S105, S106 - test accounts' passwords are fixtures, not secrets

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from cutover.control import (
    Role,
    User,
    authenticate,
    change_password,
    create_first_admin,
    create_user,
    get_user,
    list_entries,
    list_users,
    set_active,
    verify,
)
from cutover.control.sessions import load_session, start_session
from cutover.control.users import MAX_FAILED_LOGINS
from cutover.errors import AccessDeniedError, ConfigError

PASSWORD = "a sufficiently long one"


@pytest.fixture
def admin(engine: Engine, fast_hasher: PasswordHasher) -> User:
    return create_first_admin(engine, username="root", password=PASSWORD, hasher=fast_hasher)


def test_first_admin_is_created_once_and_audited(
    engine: Engine, admin: User, fast_hasher: PasswordHasher
) -> None:
    assert admin.role is Role.ADMIN
    assert admin.active
    with pytest.raises(AccessDeniedError, match="already has accounts"):
        create_first_admin(engine, username="other", password=PASSWORD, hasher=fast_hasher)
    [entry] = list_entries(engine)
    assert (entry.actor, entry.action, entry.subject) == ("(init)", "user.created", "user:root")
    assert entry.details == {"institutions": [], "role": "admin"}


def test_admin_creates_a_validator_scoped_to_institutions(
    engine: Engine, admin: User, fast_hasher: PasswordHasher
) -> None:
    created = create_user(
        engine,
        actor=admin,
        username="val",
        role="validator",
        password=PASSWORD,
        institutions=[" eci", "RCI"],
        hasher=fast_hasher,
    )
    assert created.institutions == frozenset({"ECI", "RCI"})
    assert get_user(engine, "val") == created
    assert [u.username for u in list_users(engine)] == ["root", "val"]
    assert list_entries(engine, limit=1)[0].details == {
        "institutions": ["ECI", "RCI"],
        "role": "validator",
    }


@pytest.mark.parametrize(
    ("username", "role", "institutions", "error"),
    [
        pytest.param(
            "val", "validator", [], "needs at least one institution", id="validator-unscoped"
        ),
        pytest.param("eng", "engineer", ["ECI"], "only validators", id="engineer-scoped"),
        pytest.param("Bad Name", "viewer", [], "invalid username", id="bad-username"),
        pytest.param("vic", "superuser", [], "unknown role", id="unknown-role"),
        pytest.param("vic", "viewer", ["E C I"], "invalid institution", id="bad-institution"),
        pytest.param("root", "viewer", [], "already exists", id="duplicate"),
    ],
)
def test_invalid_accounts_are_refused_and_nothing_is_recorded(
    engine: Engine,
    admin: User,
    fast_hasher: PasswordHasher,
    username: str,
    role: str,
    institutions: list[str],
    error: str,
) -> None:
    with pytest.raises(ConfigError, match=error):
        create_user(
            engine,
            actor=admin,
            username=username,
            role=role,
            password=PASSWORD,
            institutions=institutions,
            hasher=fast_hasher,
        )
    assert len(list_entries(engine)) == 1
    assert verify(engine).ok


def test_only_admins_create_accounts(
    engine: Engine, admin: User, fast_hasher: PasswordHasher
) -> None:
    engineer = create_user(
        engine,
        actor=admin,
        username="eng",
        role=Role.ENGINEER,
        password=PASSWORD,
        hasher=fast_hasher,
    )
    with pytest.raises(AccessDeniedError, match="may not manage_users"):
        create_user(
            engine,
            actor=engineer,
            username="x1",
            role="admin",
            password=PASSWORD,
            hasher=fast_hasher,
        )
    assert get_user(engine, "x1") is None


def test_disabling_ends_sessions_refuses_sign_in_and_is_audited(
    engine: Engine, admin: User, fast_hasher: PasswordHasher
) -> None:
    create_user(
        engine, actor=admin, username="vic", role="viewer", password=PASSWORD, hasher=fast_hasher
    )
    session = start_session(engine, "vic", ttl=timedelta(hours=1))
    disabled = set_active(engine, actor=admin, username="vic", active=False)
    assert not disabled.active
    assert disabled.disabled_at is not None
    assert load_session(engine, session.token, idle=timedelta(hours=1)).session is None
    with pytest.raises(AccessDeniedError):
        authenticate(engine, "vic", PASSWORD, fast_hasher)
    assert set_active(engine, actor=admin, username="vic", active=True).active
    assert authenticate(engine, "vic", PASSWORD, fast_hasher).username == "vic"
    actions = [e.action for e in list_entries(engine)]
    assert actions[:2] == ["user.enabled", "user.disabled"]


def test_an_admin_cannot_disable_themselves(engine: Engine, admin: User) -> None:
    with pytest.raises(AccessDeniedError, match="their own account"):
        set_active(engine, actor=admin, username="root", active=False)
    with pytest.raises(ConfigError, match="no user"):
        set_active(engine, actor=admin, username="ghost", active=False)


def test_own_password_change_needs_the_current_one_and_ends_sessions(
    engine: Engine, admin: User, fast_hasher: PasswordHasher
) -> None:
    vic = create_user(
        engine, actor=admin, username="vic", role="viewer", password=PASSWORD, hasher=fast_hasher
    )
    session = start_session(engine, "vic", ttl=timedelta(hours=1))
    with pytest.raises(AccessDeniedError, match="current password"):
        change_password(
            engine,
            actor=vic,
            username="vic",
            new_password="another long one",
            current_password="not the password",
            hasher=fast_hasher,
        )
    with pytest.raises(AccessDeniedError, match="manage_users"):
        change_password(engine, actor=vic, username="root", new_password="another long one")
    change_password(
        engine,
        actor=vic,
        username="vic",
        new_password="another long one",
        current_password=PASSWORD,
        hasher=fast_hasher,
    )
    assert load_session(engine, session.token, idle=timedelta(hours=1)).session is None
    assert authenticate(engine, "vic", "another long one", fast_hasher).username == "vic"
    change_password(
        engine, actor=admin, username="vic", new_password="reset by an admin", hasher=fast_hasher
    )
    assert [e.action for e in list_entries(engine, limit=2)] == [
        "user.password_reset",
        "user.password_changed",
    ]


def test_repeated_wrong_passwords_lock_the_account_until_an_admin_resets_it(
    engine: Engine, admin: User, fast_hasher: PasswordHasher
) -> None:
    create_user(
        engine, actor=admin, username="vic", role="viewer", password=PASSWORD, hasher=fast_hasher
    )
    for _ in range(MAX_FAILED_LOGINS):
        with pytest.raises(AccessDeniedError):
            authenticate(engine, "vic", "a wrong password", fast_hasher)
    with pytest.raises(AccessDeniedError, match="locked"):
        authenticate(engine, "vic", PASSWORD, fast_hasher)
    change_password(
        engine, actor=admin, username="vic", new_password="reset by an admin", hasher=fast_hasher
    )
    assert authenticate(engine, "vic", "reset by an admin", fast_hasher).username == "vic"


def test_a_successful_sign_in_resets_the_failure_count(
    engine: Engine, admin: User, fast_hasher: PasswordHasher
) -> None:
    create_user(
        engine, actor=admin, username="vic", role="viewer", password=PASSWORD, hasher=fast_hasher
    )
    for _ in range(2):
        for _ in range(MAX_FAILED_LOGINS - 1):
            with pytest.raises(AccessDeniedError):
                authenticate(engine, "vic", "a wrong password", fast_hasher)
        assert authenticate(engine, "vic", PASSWORD, fast_hasher).username == "vic"
