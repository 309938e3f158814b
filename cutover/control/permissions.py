"""Who may do what: the one permission model the command line and the web both ask.

Roles:

- ``admin``: manages accounts and reads the audit log; may also run the pipeline.
- ``engineer``: runs the pipeline (extract, transform, load, validate).
- ``validator``: explains and annotates discrepancies and signs batches, but only for the
  institutions listed on the account.
- ``viewer``: reads.

Every active account may view and change its own password. A disabled account may do nothing.
Institution-scoped actions (:data:`SCOPED_ACTIONS`) need the institution: asking without one is
refused, so a caller cannot forget the scope and get a yes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from cutover.errors import AccessDeniedError

__all__ = [
    "ROLE_ACTIONS",
    "SCOPED_ACTIONS",
    "Action",
    "Principal",
    "Role",
    "allowed_actions",
    "can",
    "require",
]


class Role(StrEnum):
    ADMIN = "admin"
    ENGINEER = "engineer"
    VALIDATOR = "validator"
    VIEWER = "viewer"


class Action(StrEnum):
    VIEW = "view"
    CHANGE_OWN_PASSWORD = "change_own_password"  # noqa: S105 - an action name, not a secret
    MANAGE_USERS = "manage_users"
    READ_AUDIT = "read_audit"
    RUN_PIPELINE = "run_pipeline"
    EXPLAIN = "explain"
    ANNOTATE = "annotate"
    SIGN_BATCH = "sign_batch"


#: Actions that only make sense for one institution; the user must hold it.
SCOPED_ACTIONS = frozenset({Action.EXPLAIN, Action.ANNOTATE, Action.SIGN_BATCH})

_EVERYONE = frozenset({Action.VIEW, Action.CHANGE_OWN_PASSWORD})

ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: _EVERYONE | {Action.MANAGE_USERS, Action.READ_AUDIT, Action.RUN_PIPELINE},
    Role.ENGINEER: _EVERYONE | {Action.RUN_PIPELINE},
    Role.VALIDATOR: _EVERYONE | SCOPED_ACTIONS,
    Role.VIEWER: _EVERYONE,
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The acting user as the permission model sees it (:class:`~cutover.control.User` is one)."""

    username: str
    role: Role
    institutions: frozenset[str] = field(default_factory=frozenset)
    active: bool = True


def can(user: Principal, action: Action, institution: str | None = None) -> bool:
    """Whether ``user`` may do ``action`` (for ``institution`` when the action is scoped)."""
    if not user.active or action not in ROLE_ACTIONS[user.role]:
        return False
    if action in SCOPED_ACTIONS:
        return institution is not None and institution in user.institutions
    return True


def require(user: Principal, action: Action, institution: str | None = None) -> None:
    """Raise :class:`AccessDeniedError` unless ``user`` may do ``action``."""
    if can(user, action, institution):
        return
    if not user.active:
        why, hint = "the account is disabled", "ask an administrator to enable it"
    elif action not in ROLE_ACTIONS[user.role]:
        holders = sorted(r.value for r, acts in ROLE_ACTIONS.items() if action in acts)
        why = f"role {user.role.value!r} may not {action.value}"
        hint = f"this needs one of the roles: {', '.join(holders)}"
    elif institution is None:
        why, hint = f"{action.value} needs an institution", "name the institution"
    else:
        held = ", ".join(sorted(user.institutions)) or "none"
        why = f"{user.username!r} is not a validator for institution {institution!r}"
        hint = f"the account's institutions are: {held}; an administrator can add others"
    raise AccessDeniedError(
        f"access denied: {why}",
        hint=hint,
        user=user.username,
        action=action.value,
        institution=institution,
    )


def allowed_actions(user: Principal) -> list[Action]:
    """The actions ``user`` holds at all (scoped ones for at least one institution), in order."""
    if not user.active:
        return []
    held: Iterable[Action] = ROLE_ACTIONS[user.role]
    return [a for a in Action if a in held and (a not in SCOPED_ACTIONS or bool(user.institutions))]
