"""argon2 hashing: verification, refusal, policy, and re-hashing when parameters change."""

# ruff: noqa: S106 - test accounts' passwords are fixtures, not secrets

from __future__ import annotations

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from cutover.control import authenticate, create_first_admin, hash_password, verify_password
from cutover.control.passwords import check_password_policy, default_hasher
from cutover.control.store import users
from cutover.errors import AccessDeniedError, ConfigError

OLD = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def test_hash_is_argon2id_and_verifies_only_the_right_password() -> None:
    stored = hash_password("a long passphrase here")
    assert stored.startswith("$argon2id$")
    assert "a long passphrase" not in stored
    assert verify_password(stored, "a long passphrase here").ok
    assert not verify_password(stored, "a long passphrase HERE").ok
    assert not verify_password("not a hash", "a long passphrase here").ok
    assert not verify_password(None, "a long passphrase here").ok


def test_a_hash_made_with_older_parameters_asks_to_be_rehashed() -> None:
    old = hash_password("a long passphrase here", OLD)
    check = verify_password(old, "a long passphrase here")
    assert check.ok
    assert check.needs_rehash
    assert not verify_password(
        hash_password("a long passphrase here"), "a long passphrase here"
    ).needs_rehash


def test_signing_in_replaces_a_hash_made_with_older_parameters(engine: Engine) -> None:
    create_first_admin(engine, username="root", password="the first password", hasher=OLD)
    with engine.connect() as conn:
        before = conn.execute(sa.select(users.c.password_hash)).scalar_one()
    assert default_hasher().check_needs_rehash(before)

    authenticate(engine, "root", "the first password")

    with engine.connect() as conn:
        after = conn.execute(sa.select(users.c.password_hash)).scalar_one()
    assert after != before
    assert not default_hasher().check_needs_rehash(after)
    assert verify_password(after, "the first password").ok


def test_wrong_password_unknown_user_and_disabled_account_get_one_generic_refusal(
    engine: Engine,
) -> None:
    create_first_admin(engine, username="root", password="the first password", hasher=OLD)
    messages = set()
    for username, password in [("root", "wrong password!"), ("nobody", "the first password")]:
        with pytest.raises(AccessDeniedError) as refused:
            authenticate(engine, username, password, OLD)
        messages.add(refused.value.message)
    assert len(messages) == 1


@pytest.mark.parametrize(
    "password",
    [pytest.param("short", id="too-short"), pytest.param("x" * 2000, id="too-long")],
)
def test_password_policy_refuses(password: str) -> None:
    with pytest.raises(ConfigError):
        check_password_policy(password)
