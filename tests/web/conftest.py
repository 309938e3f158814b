"""Web fixtures: a workspace with one account per role, the app, and a way to sign in."""

from __future__ import annotations

import re
import shutil
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy.engine import Engine

# The installed Starlette asks for httpx2 under its test client and warns once, at import, when it
# finds httpx instead; the client works the same. Import it quietly rather than fail every test.
from starlette.exceptions import StarletteDeprecationWarning

from cutover.commands.workspace import write_workspace
from cutover.control import Role, create_first_admin, create_user, open_control
from cutover.settings import Settings, load_settings
from cutover.web import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

#: username -> (role, institutions, password)
ACCOUNTS: dict[str, tuple[Role, tuple[str, ...], str]] = {
    "root": (Role.ADMIN, (), "admin password 1"),
    "eng": (Role.ENGINEER, (), "engineer password 1"),
    "val": (Role.VALIDATOR, ("ECI",), "validator password 1"),
    "val2": (Role.VALIDATOR, ("RCI", "WCI"), "validator password 2"),
    "vic": (Role.VIEWER, (), "viewer password 1"),
}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


@pytest.fixture
def token_of() -> Callable[[str], str]:
    """The CSRF token in a page's HTML."""
    return csrf_of


@pytest.fixture(scope="session")
def populated_control(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A control database with every account, built once and copied for each test."""
    ws = tmp_path_factory.mktemp("template")
    write_workspace(ws, documents=None)
    engine = open_control(load_settings(ws))
    try:
        root = create_first_admin(engine, username="root", password=ACCOUNTS["root"][2])
        for name, (role, institutions, password) in ACCOUNTS.items():
            if name != "root":
                create_user(
                    engine,
                    actor=root,
                    username=name,
                    role=role,
                    password=password,
                    institutions=institutions,
                )
    finally:
        engine.dispose()
    return ws / ".cutover" / "control.db"


@pytest.fixture
def settings(tmp_path: Path, populated_control: Path) -> Settings:
    ws = tmp_path / "ws"
    write_workspace(ws, name="Maryland DOC pilot", documents=None)
    shutil.copy(populated_control, ws / ".cutover" / "control.db")
    return load_settings(ws)


@pytest.fixture
def control(settings: Settings) -> Iterator[Engine]:
    engine = open_control(settings)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def app(settings: Settings, control: Engine) -> FastAPI:
    return create_app(settings, engine=control)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as c:
        yield c


@pytest.fixture
def new_client(app: FastAPI) -> Iterator[Callable[[], TestClient]]:
    made: list[TestClient] = []

    def make() -> TestClient:
        c = TestClient(app, follow_redirects=False)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


SignIn = Callable[..., str]


@pytest.fixture
def sign_in() -> SignIn:
    """``sign_in(client, username, password=None)`` signs in; returns the session's CSRF token."""

    def run(client: TestClient, username: str, password: str | None = None) -> str:
        form = client.get("/login")
        response = client.post(
            "/login",
            data={
                "csrf_token": csrf_of(form.text),
                "username": username,
                "password": password or ACCOUNTS[username][2],
                "next": "/",
            },
        )
        assert response.status_code == 303, response.text
        return csrf_of(client.get("/").text)

    return run
