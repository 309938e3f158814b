"""The command line acts as a named, password-checked user under the same permission model."""

# ruff: noqa: S105, S106 - test accounts' passwords are fixtures, not secrets

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from typer.testing import CliRunner, Result

from cutover.cli import app
from cutover.control import Principal, Role, create_user
from cutover.control.store import audit_log
from cutover.errors import AccessDeniedError, ConfigError

ROOT_PASSWORD = "root's long password"
runner = CliRunner()


def _flat(text: str) -> str:
    return " ".join(text.split())


class Workspace:
    def __init__(self, path: Path, control_url: str) -> None:
        self.path = path
        self.control_url = control_url

    def run(
        self,
        *args: str,
        user: str | None = None,
        password: str | None = None,
        new_password: str | None = None,
    ) -> Result:
        env = {
            "CUTOVER_CONTROL_URL": self.control_url,
            "CUTOVER_USER": user,
            "CUTOVER_PASSWORD": password,
            "CUTOVER_NEW_PASSWORD": new_password,
            "COLUMNS": "200",
        }
        return runner.invoke(app, [*args, "--workspace", str(self.path)], env=env)

    def as_root(self, *args: str, new_password: str | None = None) -> Result:
        return self.run(*args, user="root", password=ROOT_PASSWORD, new_password=new_password)


def _workspace(path: Path, control_url: str) -> Workspace:
    result = runner.invoke(
        app,
        ["init", str(path), "--admin", "root"],
        env={"CUTOVER_ADMIN_PASSWORD": ROOT_PASSWORD, "CUTOVER_CONTROL_URL": control_url},
    )
    assert result.exit_code == 0, result.output
    assert "first administrator created: root" in result.output
    return Workspace(path, control_url)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A workspace on SQLite: the command line's behaviour does not depend on the engine."""
    return _workspace(tmp_path / "ws", f"sqlite:///{tmp_path / 'control.db'}")


def test_init_refuses_a_weak_admin_password_before_writing_anything(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["init", str(tmp_path / "ws"), "--admin", "root"],
        env={"CUTOVER_ADMIN_PASSWORD": "short"},
    )
    assert isinstance(result.exception, ConfigError)
    assert not (tmp_path / "ws" / "cutover.toml").exists()


def test_admin_adds_lists_disables_and_enables_accounts(ws: Workspace) -> None:
    added = ws.as_root(
        "user",
        "add",
        "val",
        "--role",
        "validator",
        "--institution",
        "eci",
        new_password="validator password",
    )
    assert added.exit_code == 0, added.output
    assert "created val (validator for ECI)" in added.output
    listed = ws.as_root("user", "list")
    assert listed.exit_code == 0, listed.output
    assert "val" in listed.output
    assert "ECI" in listed.output
    assert ws.as_root("user", "disable", "val").exit_code == 0
    refused = ws.run("user", "list", user="val", password="validator password")
    assert isinstance(refused.exception, AccessDeniedError)
    assert ws.as_root("user", "enable", "val").exit_code == 0
    audit = ws.as_root("audit", "list")
    assert audit.exit_code == 0, audit.output
    for action in ("user.created", "user.disabled", "user.enabled"):
        assert action in audit.output


@pytest.mark.parametrize(
    ("user", "password", "error"),
    [
        pytest.param(None, None, "acts as a named account", id="no-acting-user"),
        pytest.param("root", "wrong password", "invalid username or password", id="wrong-password"),
        pytest.param("ghost", ROOT_PASSWORD, "invalid username or password", id="unknown-user"),
    ],
)
def test_commands_refuse_without_a_signed_in_user(
    ws: Workspace, user: str | None, password: str | None, error: str
) -> None:
    result = ws.run(
        "user",
        "add",
        "eng",
        "--role",
        "engineer",
        user=user,
        password=password,
        new_password="engineer password",
    )
    assert isinstance(result.exception, AccessDeniedError)
    assert error in str(result.exception)


def test_the_same_rules_apply_on_the_command_line(ws: Workspace) -> None:
    ws.as_root("user", "add", "vic", "--role", "viewer", new_password="viewer password")
    as_viewer = ws.run(
        "user",
        "add",
        "eve",
        "--role",
        "admin",
        user="vic",
        password="viewer password",
        new_password="mallory password",
    )
    assert isinstance(as_viewer.exception, AccessDeniedError)
    assert "may not manage_users" in str(as_viewer.exception)
    verify = ws.run("audit", "verify", user="vic", password="viewer password")
    assert isinstance(verify.exception, AccessDeniedError)
    bootstrap_again = ws.run(
        "user", "add", "eve", "--role", "admin", new_password="mallory password"
    )
    assert isinstance(bootstrap_again.exception, AccessDeniedError)


def test_a_user_changes_their_own_password(ws: Workspace) -> None:
    ws.as_root("user", "add", "vic", "--role", "viewer", new_password="viewer password")
    changed = ws.run(
        "user",
        "passwd",
        user="vic",
        password="viewer password",
        new_password="a new viewer password",
    )
    assert changed.exit_code == 0, changed.output
    old = ws.run(
        "user", "passwd", user="vic", password="viewer password", new_password="whatever password"
    )
    assert isinstance(old.exception, AccessDeniedError)


def _sql(ws: Workspace, statement: sa.Executable) -> None:
    engine = sa.create_engine(ws.control_url)
    try:
        with engine.begin() as conn:
            conn.execute(statement)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        pytest.param(
            audit_log.update().where(audit_log.c.seq == 2).values(details='{"role":"admin"}'),
            "audit chain broken at seq 2 (edited)",
            id="row-edited",
        ),
        pytest.param(
            audit_log.delete().where(audit_log.c.seq == 2),
            "audit chain broken at seq 2 (removed)",
            id="row-deleted",
        ),
    ],
)
def test_audit_verify_catches_a_row_changed_in_the_database(
    tmp_path: Path,
    control_url: str,
    fast_hasher: PasswordHasher,
    statement: sa.Executable,
    expected: str,
) -> None:
    ws = _workspace(tmp_path / "ws", control_url)
    engine = sa.create_engine(control_url)
    try:
        for name in ("vic", "val"):
            create_user(
                engine,
                actor=Principal("root", Role.ADMIN),
                username=name,
                role="viewer",
                password="viewer password",
                hasher=fast_hasher,
            )
    finally:
        engine.dispose()
    intact = ws.as_root("audit", "verify")
    assert intact.exit_code == 0, intact.output
    assert "audit chain intact: 3 entries" in _flat(intact.output)

    _sql(ws, statement)

    broken = ws.as_root("audit", "verify")
    assert broken.exit_code == 4
    assert expected in _flat(broken.output)
