"""The control plane's security core: accounts and roles, password hashing, the audit log.

Others call:

- :func:`open_control` for an engine on the control database with these tables in place;
- :func:`can` / :func:`require` with an :class:`Action` (and the institution, for scoped ones)
  before any change of state, on the command line and on the web alike;
- :func:`record` inside the transaction that changes state (or :func:`record_event`), so every
  change lands in the hash-chained audit log; :func:`verify` checks the chain.
"""

from cutover.control.audit import (
    AuditChainError,
    AuditEntry,
    ChainBreak,
    ChainReport,
    count_entries,
    list_entries,
    record,
    record_event,
    verify,
)
from cutover.control.passwords import hash_password, verify_password
from cutover.control.permissions import (
    SCOPED_ACTIONS,
    Action,
    Principal,
    Role,
    allowed_actions,
    can,
    require,
)
from cutover.control.store import ensure_schema, open_control
from cutover.control.users import (
    User,
    authenticate,
    change_password,
    create_first_admin,
    create_user,
    get_user,
    list_users,
    set_active,
)

__all__ = [
    "SCOPED_ACTIONS",
    "Action",
    "AuditChainError",
    "AuditEntry",
    "ChainBreak",
    "ChainReport",
    "Principal",
    "Role",
    "User",
    "allowed_actions",
    "authenticate",
    "can",
    "change_password",
    "count_entries",
    "create_first_admin",
    "create_user",
    "ensure_schema",
    "get_user",
    "hash_password",
    "list_entries",
    "list_users",
    "open_control",
    "record",
    "record_event",
    "require",
    "set_active",
    "verify",
    "verify_password",
]
