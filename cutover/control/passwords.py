"""Password hashing with argon2id.

Hashes carry their own parameters, so raising the cost later needs no migration: a successful
login whose hash was made with other parameters is re-hashed with the current ones
(:func:`verify_password` says so through ``needs_rehash``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from cutover.errors import ConfigError

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "PasswordCheck",
    "check_password_policy",
    "default_hasher",
    "hash_password",
    "verify_password",
]

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

_DEFAULT = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """A well-formed hash of a fixed secret: verifying against it when the user does not exist
    takes as long as a real check, so response times do not reveal which usernames exist."""
    return _DEFAULT.hash("no such user: constant-time stand-in")


def default_hasher() -> PasswordHasher:
    """The hasher with the project's current parameters (argon2-cffi's recommended defaults)."""
    return _DEFAULT


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    ok: bool
    needs_rehash: bool = False


def check_password_policy(password: str) -> None:
    """Refuse passwords too short to resist guessing, or absurdly long ones."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(
            f"the password is too short ({len(password)} characters)",
            hint=f"choose at least {MIN_PASSWORD_LENGTH} characters; a passphrase is easiest",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ConfigError(
            "the password is too long", hint=f"choose at most {MAX_PASSWORD_LENGTH} characters"
        )


def hash_password(password: str, hasher: PasswordHasher | None = None) -> str:
    return (hasher or _DEFAULT).hash(password)


def verify_password(
    stored_hash: str | None, password: str, hasher: PasswordHasher | None = None
) -> PasswordCheck:
    """Check ``password`` against ``stored_hash`` (``None``: unknown user, always refused)."""
    ph = hasher or _DEFAULT
    try:
        ph.verify(stored_hash or _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return PasswordCheck(ok=False)
    if stored_hash is None:
        return PasswordCheck(ok=False)
    return PasswordCheck(ok=True, needs_rehash=ph.check_needs_rehash(stored_hash))
