"""Accounts: create, list, disable and enable, change passwords, authenticate.

Every change goes through the permission model and into the audit log in the same transaction.
The first administrator is the only account created without an acting user
(:func:`create_first_admin`), and only while the store has no account at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from cutover.control.audit import record
from cutover.control.passwords import check_password_policy, hash_password, verify_password
from cutover.control.permissions import Action, Principal, Role, require
from cutover.control.store import as_utc, user_institutions, users, utc_now, web_sessions
from cutover.errors import AccessDeniedError, ConfigError
from cutover.logs import get_logger

__all__ = [
    "BOOTSTRAP_ACTOR",
    "LOCKOUT",
    "MAX_FAILED_LOGINS",
    "User",
    "authenticate",
    "change_password",
    "check_username",
    "create_first_admin",
    "create_user",
    "get_user",
    "list_users",
    "normalize_institution",
    "set_active",
]

#: The audit actor of the first administrator's creation.
BOOTSTRAP_ACTOR = "(init)"

#: Wrong passwords in a row before an account refuses sign-ins for :data:`LOCKOUT`.
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)

_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
_INSTITUTION = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,15}$")
_log = get_logger("cutover.control.users")


@dataclass(frozen=True, slots=True, kw_only=True)
class User(Principal):
    created_at: datetime
    created_by: str
    password_changed_at: datetime
    disabled_at: datetime | None = None


def check_username(username: str) -> str:
    if not _USERNAME.match(username):
        raise ConfigError(
            f"invalid username {username!r}",
            hint="use 2-64 lower-case letters, digits, '.', '_' or '-', starting with a letter",
        )
    return username


def normalize_institution(code: str) -> str:
    """An institution code as the batches name it: trimmed, upper case."""
    value = code.strip().upper()
    if not _INSTITUTION.match(value):
        raise ConfigError(
            f"invalid institution code {code!r}",
            hint="use the institution's code as in the legacy INST table (e.g. ECI)",
        )
    return value


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        valid = ", ".join(r.value for r in Role)
        raise ConfigError(f"unknown role {value!r}", hint=f"roles are: {valid}") from None


def _load(conn: Connection, usernames: list[str] | None = None) -> list[User]:
    query = sa.select(users).order_by(users.c.username)
    scopes = sa.select(user_institutions)
    if usernames is not None:
        query = query.where(users.c.username.in_(usernames))
        scopes = scopes.where(user_institutions.c.username.in_(usernames))
    held: dict[str, set[str]] = {}
    for row in conn.execute(scopes):
        held.setdefault(row.username, set()).add(row.institution)
    return [
        User(
            username=row.username,
            role=Role(row.role),
            institutions=frozenset(held.get(row.username, ())),
            active=bool(row.active),
            created_at=as_utc(row.created_at),
            created_by=row.created_by,
            password_changed_at=as_utc(row.password_changed_at),
            disabled_at=None if row.disabled_at is None else as_utc(row.disabled_at),
        )
        for row in conn.execute(query)
    ]


def get_user(engine: Engine | Connection, username: str) -> User | None:
    if isinstance(engine, Connection):
        found = _load(engine, [username])
    else:
        with engine.connect() as conn:
            found = _load(conn, [username])
    return found[0] if found else None


def list_users(engine: Engine) -> list[User]:
    with engine.connect() as conn:
        return _load(conn)


def _insert(
    conn: Connection,
    *,
    actor: str,
    username: str,
    role: Role,
    password: str,
    institutions: frozenset[str],
    hasher: PasswordHasher | None,
) -> None:
    now = utc_now()
    try:
        conn.execute(
            users.insert().values(
                username=username,
                role=role.value,
                password_hash=hash_password(password, hasher),
                active=True,
                created_at=now,
                created_by=actor,
                password_changed_at=now,
            )
        )
    except IntegrityError as exc:
        raise ConfigError(
            f"user {username!r} already exists",
            hint="choose another name, or change this user's password with 'cutover user passwd'",
        ) from exc
    if institutions:
        conn.execute(
            user_institutions.insert(),
            [{"username": username, "institution": code} for code in sorted(institutions)],
        )
    record(
        conn,
        actor=actor,
        action="user.created",
        subject=f"user:{username}",
        details={"role": role.value, "institutions": sorted(institutions)},
    )


def create_user(
    engine: Engine,
    *,
    actor: Principal,
    username: str,
    role: Role | str,
    password: str,
    institutions: Iterable[str] = (),
    hasher: PasswordHasher | None = None,
) -> User:
    """Create an account; ``actor`` must be allowed to manage users."""
    require(actor, Action.MANAGE_USERS)
    check_username(username)
    the_role = role if isinstance(role, Role) else _role(role)
    codes = frozenset(normalize_institution(c) for c in institutions)
    if the_role is Role.VALIDATOR and not codes:
        raise ConfigError(
            "a validator needs at least one institution",
            hint="pass --institution CODE once per institution the validator signs for",
        )
    if the_role is not Role.VALIDATOR and codes:
        raise ConfigError(
            f"only validators are scoped to institutions, not role {the_role.value!r}",
            hint="drop --institution, or create the account with --role validator",
        )
    check_password_policy(password)
    with engine.begin() as conn:
        _insert(
            conn,
            actor=actor.username,
            username=username,
            role=the_role,
            password=password,
            institutions=codes,
            hasher=hasher,
        )
    _log.info("user_created", user=username, role=the_role.value, actor=actor.username)
    created = get_user(engine, username)
    assert created is not None  # noqa: S101 - just inserted in a committed transaction
    return created


def create_first_admin(
    engine: Engine, *, username: str, password: str, hasher: PasswordHasher | None = None
) -> User:
    """Create the first administrator; refused once any account exists."""
    check_username(username)
    check_password_policy(password)
    with engine.begin() as conn:
        existing = conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one()
        if existing:
            raise AccessDeniedError(
                "the control store already has accounts; the first administrator exists",
                hint="sign in as an administrator and use 'cutover user add --as ADMIN'",
            )
        _insert(
            conn,
            actor=BOOTSTRAP_ACTOR,
            username=username,
            role=Role.ADMIN,
            password=password,
            institutions=frozenset(),
            hasher=hasher,
        )
    _log.info("first_admin_created", user=username)
    created = get_user(engine, username)
    assert created is not None  # noqa: S101 - just inserted in a committed transaction
    return created


def _existing(conn: Connection, username: str) -> User:
    found = _load(conn, [username])
    if not found:
        raise ConfigError(f"no user {username!r}", hint="'cutover user list' shows the accounts")
    return found[0]


def set_active(engine: Engine, *, actor: Principal, username: str, active: bool) -> User:
    """Disable or enable an account; disabling ends its sessions at once."""
    require(actor, Action.MANAGE_USERS)
    with engine.begin() as conn:
        target = _existing(conn, username)
        if target.active == active:
            return target
        if not active:
            if username == actor.username:
                raise AccessDeniedError(
                    "an administrator cannot disable their own account",
                    hint="ask another administrator",
                    user=actor.username,
                )
            conn.execute(web_sessions.delete().where(web_sessions.c.username == username))
        conn.execute(
            users.update()
            .where(users.c.username == username)
            .values(
                active=active,
                disabled_at=None if active else utc_now(),
                failed_logins=0,
                locked_until=None,
            )
        )
        record(
            conn,
            actor=actor.username,
            action="user.enabled" if active else "user.disabled",
            subject=f"user:{username}",
        )
    _log.info("user_enabled" if active else "user_disabled", user=username, actor=actor.username)
    changed = get_user(engine, username)
    assert changed is not None  # noqa: S101 - the row exists, we just updated it
    return changed


def change_password(
    engine: Engine,
    *,
    actor: Principal,
    username: str,
    new_password: str,
    current_password: str | None = None,
    hasher: PasswordHasher | None = None,
) -> None:
    """Change a password and end every session of that account.

    A user changing their own password must give the current one; an administrator may reset
    anyone else's.
    """
    own = username == actor.username
    require(actor, Action.CHANGE_OWN_PASSWORD if own else Action.MANAGE_USERS)
    check_password_policy(new_password)
    with engine.begin() as conn:
        _existing(conn, username)
        if own:
            stored: str = conn.execute(
                sa.select(users.c.password_hash).where(users.c.username == username)
            ).scalar_one()
            if current_password is None or not verify_password(stored, current_password, hasher).ok:
                raise AccessDeniedError(
                    "the current password is wrong", hint="type the current password again"
                )
        conn.execute(
            users.update()
            .where(users.c.username == username)
            .values(
                password_hash=hash_password(new_password, hasher),
                password_changed_at=utc_now(),
                failed_logins=0,
                locked_until=None,
            )
        )
        conn.execute(web_sessions.delete().where(web_sessions.c.username == username))
        record(
            conn,
            actor=actor.username,
            action="user.password_changed" if own else "user.password_reset",
            subject=f"user:{username}",
        )
    _log.info("password_changed", user=username, actor=actor.username)


def authenticate(
    engine: Engine, username: str, password: str, hasher: PasswordHasher | None = None
) -> User:
    """The active account ``username`` if ``password`` is right; one generic refusal otherwise.

    After :data:`MAX_FAILED_LOGINS` wrong passwords in a row the account refuses every sign-in
    for :data:`LOCKOUT` (an administrator's password reset or enable lifts it). A hash made with
    older parameters is replaced by one with the current parameters.
    """
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(
                users.c.password_hash, users.c.active, users.c.failed_logins, users.c.locked_until
            ).where(users.c.username == username)
        ).first()
    check = verify_password(None if stored is None else stored.password_hash, password, hasher)
    now = utc_now()
    locked = (
        stored is not None and stored.locked_until is not None and as_utc(stored.locked_until) > now
    )
    if stored is None or not check.ok or not stored.active or locked:
        if stored is not None and not check.ok and not locked:
            _count_failure(engine, username, int(stored.failed_logins), now)
        _log.warning("login_refused", user=username, locked=locked)
        raise AccessDeniedError(
            "invalid username or password, or the account is disabled or locked for a while",
            hint="check both and try again; an administrator can reset a password",
        )
    changes: dict[str, object] = {}
    if stored.failed_logins or stored.locked_until is not None:
        changes.update(failed_logins=0, locked_until=None)
    if check.needs_rehash:
        changes["password_hash"] = hash_password(password, hasher)
        _log.info("password_rehashed", user=username)
    if changes:
        with engine.begin() as conn:
            conn.execute(
                users.update()
                .where(users.c.username == username, users.c.password_hash == stored.password_hash)
                .values(**changes)
            )
    user = get_user(engine, username)
    assert user is not None  # noqa: S101 - found above; accounts are never deleted
    return user


def _count_failure(engine: Engine, username: str, failed_before: int, now: datetime) -> None:
    failed = failed_before + 1
    values: dict[str, object] = {"failed_logins": failed}
    if failed >= MAX_FAILED_LOGINS:
        values = {"failed_logins": 0, "locked_until": now + LOCKOUT}
        _log.warning("account_locked", user=username, minutes=LOCKOUT.total_seconds() // 60)
    with engine.begin() as conn:
        conn.execute(users.update().where(users.c.username == username).values(**values))
