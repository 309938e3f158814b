"""The one permission model: who may do what, scoped by institution for validators."""

from __future__ import annotations

import pytest

from cutover.control import SCOPED_ACTIONS, Action, Principal, Role, allowed_actions, can, require
from cutover.errors import AccessDeniedError

ADMIN = Principal("ann", Role.ADMIN)
ENGINEER = Principal("eve", Role.ENGINEER)
VALIDATOR = Principal("val", Role.VALIDATOR, frozenset({"ECI", "RCI"}))
VIEWER = Principal("vic", Role.VIEWER)
DISABLED_ADMIN = Principal("old", Role.ADMIN, active=False)

A = Action
CASES = [
    # Each case: the user, the action, the institution asked about, the expected answer.
    pytest.param(ADMIN, A.MANAGE_USERS, None, True, id="admin-manages-users"),
    pytest.param(ADMIN, A.READ_AUDIT, None, True, id="admin-reads-audit"),
    pytest.param(ADMIN, A.RUN_PIPELINE, None, True, id="admin-runs-pipeline"),
    pytest.param(ADMIN, A.SIGN_BATCH, "ECI", False, id="admin-cannot-sign"),
    pytest.param(ADMIN, A.EXPLAIN, "ECI", False, id="admin-cannot-explain"),
    pytest.param(ENGINEER, A.RUN_PIPELINE, None, True, id="engineer-runs-pipeline"),
    pytest.param(ENGINEER, A.MANAGE_USERS, None, False, id="engineer-cannot-manage-users"),
    pytest.param(ENGINEER, A.READ_AUDIT, None, False, id="engineer-cannot-read-audit"),
    pytest.param(ENGINEER, A.SIGN_BATCH, "ECI", False, id="engineer-cannot-sign"),
    pytest.param(VALIDATOR, A.SIGN_BATCH, "ECI", True, id="validator-signs-own-institution"),
    pytest.param(VALIDATOR, A.SIGN_BATCH, "RCI", True, id="validator-signs-second-institution"),
    pytest.param(VALIDATOR, A.SIGN_BATCH, "WCI", False, id="validator-cannot-sign-another"),
    pytest.param(VALIDATOR, A.SIGN_BATCH, None, False, id="validator-sign-needs-institution"),
    pytest.param(VALIDATOR, A.EXPLAIN, "ECI", True, id="validator-explains-own"),
    pytest.param(VALIDATOR, A.ANNOTATE, "WCI", False, id="validator-cannot-annotate-another"),
    pytest.param(VALIDATOR, A.RUN_PIPELINE, None, False, id="validator-cannot-run-pipeline"),
    pytest.param(VALIDATOR, A.MANAGE_USERS, None, False, id="validator-cannot-manage-users"),
    pytest.param(VIEWER, A.VIEW, None, True, id="viewer-views"),
    pytest.param(VIEWER, A.CHANGE_OWN_PASSWORD, None, True, id="viewer-changes-own-password"),
    pytest.param(VIEWER, A.SIGN_BATCH, "ECI", False, id="viewer-cannot-sign"),
    pytest.param(VIEWER, A.MANAGE_USERS, None, False, id="viewer-cannot-manage-users"),
    pytest.param(VIEWER, A.READ_AUDIT, None, False, id="viewer-cannot-read-audit"),
    pytest.param(VIEWER, A.RUN_PIPELINE, None, False, id="viewer-cannot-run-pipeline"),
    pytest.param(DISABLED_ADMIN, A.VIEW, None, False, id="disabled-account-cannot-view"),
    pytest.param(DISABLED_ADMIN, A.MANAGE_USERS, None, False, id="disabled-admin-has-no-power"),
]


@pytest.mark.parametrize(("user", "action", "institution", "expected"), CASES)
def test_permission_matrix(
    user: Principal, action: Action, institution: str | None, expected: bool
) -> None:
    assert can(user, action, institution) is expected
    if expected:
        require(user, action, institution)
    else:
        with pytest.raises(AccessDeniedError):
            require(user, action, institution)


def test_refusal_names_the_roles_that_may_and_the_institutions_held() -> None:
    with pytest.raises(AccessDeniedError) as role_refusal:
        require(VIEWER, Action.MANAGE_USERS)
    assert "viewer" in str(role_refusal.value)
    assert "admin" in str(role_refusal.value.hint)
    with pytest.raises(AccessDeniedError) as scope_refusal:
        require(VALIDATOR, Action.SIGN_BATCH, "WCI")
    assert "WCI" in str(scope_refusal.value)
    assert "ECI, RCI" in str(scope_refusal.value.hint)
    assert scope_refusal.value.exit_code == 3


def test_every_action_is_granted_to_some_role_and_scoped_ones_only_to_validators() -> None:
    for action in Action:
        assert any(can(u, action, "ECI") for u in (ADMIN, ENGINEER, VALIDATOR, VIEWER)), action
    for action in SCOPED_ACTIONS:
        assert not can(ADMIN, action, "ECI")
        assert can(VALIDATOR, action, "ECI")


def test_allowed_actions_lists_scoped_actions_only_for_validators_with_institutions() -> None:
    assert Action.SIGN_BATCH in allowed_actions(VALIDATOR)
    assert Action.SIGN_BATCH not in allowed_actions(Principal("v", Role.VALIDATOR))
    assert allowed_actions(VIEWER) == [Action.VIEW, Action.CHANGE_OWN_PASSWORD]
    assert allowed_actions(DISABLED_ADMIN) == []
