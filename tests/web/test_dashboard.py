"""The dashboard without a browser: sign-in, sessions, CSRF, role checks, the pages' content."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from cutover.control import get_user, record_event
from cutover.control.store import audit_log, utc_now, web_sessions
from cutover.runs import start_run
from cutover.settings import Settings
from cutover.web.auth_routes import safe_next

SignIn = Callable[..., str]
PAGES = ["/", "/users", "/audit", "/account"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_a_stranger_to_sign_in(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


@pytest.mark.parametrize(
    ("username", "shown"),
    [
        pytest.param("root", ["admin", "Create, disable and enable accounts"], id="admin"),
        pytest.param("eng", ["engineer", "Run extract, transform, load"], id="engineer"),
        pytest.param("val", ["validator", "ECI", "Sign off batches"], id="validator"),
        pytest.param("vic", ["viewer", "View migration status"], id="viewer"),
    ],
)
def test_each_role_signs_in_and_sees_its_role_and_powers(
    client: TestClient, sign_in: SignIn, username: str, shown: list[str]
) -> None:
    sign_in(client, username)
    page = client.get("/")
    assert page.status_code == 200
    for text in shown:
        assert text in page.text
    if username != "root":
        assert 'href="/users"' not in page.text
        assert "Sign off batches" in page.text or username != "val"


def test_a_wrong_password_is_refused_without_a_session(
    client: TestClient, token_of: Callable[[str], str]
) -> None:
    form = client.get("/login")
    refused = client.post(
        "/login",
        data={"csrf_token": token_of(form.text), "username": "root", "password": "not it"},
    )
    assert refused.status_code == 401
    assert "Invalid username or password" in refused.text
    assert "cutover_session" not in refused.headers.get("set-cookie", "")
    assert client.get("/").status_code == 303


def test_sign_in_without_its_form_token_is_refused(client: TestClient) -> None:
    client.get("/login")
    refused = client.post(
        "/login", data={"username": "root", "password": "admin password 1", "csrf_token": "x"}
    )
    assert refused.status_code == 403
    assert "Form refused" in refused.text


def _post_routes(app: FastAPI) -> list[str]:
    return [
        route.path.replace("{username}", "vic")
        for router in app.state.routers
        for route in router.routes
        if isinstance(route, APIRoute) and "POST" in route.methods and route.path != "/login"
    ]


@pytest.mark.parametrize(
    "token", [pytest.param(None, id="no-token"), pytest.param("forged", id="forged-token")]
)
def test_every_form_posted_without_its_csrf_token_is_refused(
    app: FastAPI, client: TestClient, control: Engine, sign_in: SignIn, token: str | None
) -> None:
    sign_in(client, "root")
    paths = _post_routes(app)
    assert {"/logout", "/users/vic/disable", "/users/vic/enable", "/account/password"} <= set(paths)
    data = {
        "current_password": "admin password 1",
        "new_password": "x" * 20,
        "confirm_password": "x" * 20,
    }
    if token is not None:
        data["csrf_token"] = token
    for path in paths:
        refused = client.post(path, data=data)
        assert refused.status_code == 403, path
        assert "Form refused" in refused.text
    vic = get_user(control, "vic")
    assert vic is not None
    assert vic.active
    assert client.get("/").status_code == 200  # still signed in: logout was refused too


def test_a_viewer_cannot_open_admin_pages_nor_disable_an_account(
    client: TestClient, control: Engine, sign_in: SignIn
) -> None:
    csrf = sign_in(client, "vic")
    for path in ("/users", "/audit"):
        refused = client.get(path)
        assert refused.status_code == 403
        assert "Not allowed" in refused.text
        assert "role &#39;viewer&#39; may not" in refused.text
    refused = client.post("/users/root/disable", data={"csrf_token": csrf})
    assert refused.status_code == 403
    root = get_user(control, "root")
    assert root is not None
    assert root.active


def test_an_admin_disables_an_account_and_its_session_ends_at_once(
    client: TestClient, new_client: Callable[[], TestClient], sign_in: SignIn
) -> None:
    viewer = new_client()
    sign_in(viewer, "vic")
    csrf = sign_in(client, "root")
    done = client.post("/users/vic/disable", data={"csrf_token": csrf})
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    assert "Account vic disabled" in page.text
    assert viewer.get("/").status_code == 303
    own = client.post("/users/root/disable", data={"csrf_token": csrf})
    assert own.status_code == 403
    assert "cannot disable their own account" in own.text


@pytest.mark.parametrize(
    ("column", "shift_minutes"),
    [
        pytest.param("expires_at", -1, id="lifetime-over"),
        pytest.param("last_seen_at", -31, id="idle-too-long"),
    ],
)
def test_an_expired_session_goes_back_to_sign_in_saying_so(
    client: TestClient, control: Engine, sign_in: SignIn, column: str, shift_minutes: int
) -> None:
    sign_in(client, "val")
    with control.begin() as conn:
        conn.execute(
            web_sessions.update().values({column: utc_now() + timedelta(minutes=shift_minutes)})
        )
    response = client.get("/audit")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/audit&expired=1"
    assert "Your session expired" in client.get(response.headers["location"]).text


def test_sign_out_ends_the_session(client: TestClient, sign_in: SignIn) -> None:
    csrf = sign_in(client, "eng")
    out = client.post("/logout", data={"csrf_token": csrf})
    assert out.status_code == 303
    assert client.get("/").status_code == 303


def test_changing_the_password_keeps_this_session_and_ends_the_others(
    client: TestClient, new_client: Callable[[], TestClient], sign_in: SignIn
) -> None:
    other = new_client()
    sign_in(other, "vic")
    csrf = sign_in(client, "vic")
    wrong = client.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current_password": "nope",
            "new_password": "n" * 14,
            "confirm_password": "n" * 14,
        },
    )
    assert wrong.status_code == 400
    assert "The current password is wrong" in wrong.text
    done = client.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current_password": "viewer password 1",
            "new_password": "viewer password 2",
            "confirm_password": "viewer password 2",
        },
    )
    assert done.status_code == 303
    assert "Password changed" in client.get("/account?changed=1").text
    assert other.get("/").status_code == 303
    fresh = new_client()
    sign_in(fresh, "vic", "viewer password 2")


def test_the_audit_log_pages_back_and_reports_a_broken_chain(
    client: TestClient, control: Engine, sign_in: SignIn
) -> None:
    for i in range(60):
        record_event(control, actor="eng", action="test.event", subject=f"thing:{i}")
    sign_in(client, "root")
    first = client.get("/audit")
    assert "chain intact" in first.text
    assert first.text.count('class="badge action"') == 50
    assert "/audit?before=16&amp;" in first.text  # 65 entries: the 5 accounts, then 60 events
    older = client.get("/audit?before=16")
    assert older.text.count('class="badge action"') == 15
    filtered = client.get("/audit?action=user.created")
    assert filtered.text.count('class="badge action"') == 5

    with control.begin() as conn:
        conn.execute(audit_log.update().where(audit_log.c.seq == 7).values(subject="thing:x"))
    broken = client.get("/audit")
    assert "chain broken" in broken.text
    assert "Edited at seq 7" in broken.text


def test_responses_carry_security_headers_and_cookies_are_http_only(client: TestClient) -> None:
    page = client.get("/login")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert client.get("/static/style.css").status_code == 200


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("/audit?before=3", "/audit?before=3", id="local-path"),
        pytest.param("https://evil.example/", "/", id="other-site"),
        pytest.param("//evil.example/", "/", id="scheme-relative"),
        pytest.param("/\\evil.example", "/", id="backslash"),
        pytest.param(None, "/", id="missing"),
    ],
)
def test_sign_in_returns_only_to_a_local_page(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected


def test_an_unknown_page_is_a_404_page(client: TestClient, sign_in: SignIn) -> None:
    sign_in(client, "vic")
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert "Page not found" in missing.text


def test_the_overview_lists_recorded_runs_and_a_run_page_shows_its_steps(
    client: TestClient, settings: Settings, sign_in: SignIn
) -> None:
    with start_run(settings, "extract", actor="eng") as run, run.step("stage", "OFFNDR") as step:
        step.add(rows=1200, quarantined=3)
    sign_in(client, "vic")
    overview = client.get("/")
    assert f'href="/runs/{run.id}"' in overview.text
    assert "succeeded" in overview.text
    page = client.get(f"/runs/{run.id}")
    assert page.status_code == 200
    assert "OFFNDR" in page.text
    assert "1,200" in page.text
    assert client.get("/runs/no-such-run").status_code == 404
