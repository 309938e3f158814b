"""The public surfaces others build on are pinned: changing them is a deliberate act."""

from __future__ import annotations

import cutover.control
import cutover.web


def test_the_control_package_offers_exactly_its_public_api() -> None:
    assert set(cutover.control.__all__) == {
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
    }
    for name in cutover.control.__all__:
        assert hasattr(cutover.control, name), name


def test_the_web_package_offers_exactly_its_public_api() -> None:
    assert set(cutover.web.__all__) == {
        "DEFAULT_IDLE_TIMEOUT",
        "DEFAULT_SESSION_TTL",
        "Signed",
        "allowed",
        "checked_form",
        "create_app",
        "render",
        "signed_in",
    }
    for name in cutover.web.__all__:
        assert hasattr(cutover.web, name), name
