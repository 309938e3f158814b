"""The dashboard in real Chromium: each role signs in; refusals, CSRF and expiry are visible.

Screenshots of every page land in ``tests/artifacts/`` (ignored by git) for a person to look at.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from sqlalchemy.engine import Engine

from cutover.control import get_user
from cutover.control.store import utc_now, web_sessions
from cutover.errors import LoadError
from cutover.runs import start_run
from cutover.settings import Settings
from cutover.web import create_app
from tests.web.browser_support import serve, shot, sign_in

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORDS = {
    "root": "admin password 1",
    "eng": "engineer password 1",
    "val": "validator password 1",
    "vic": "viewer password 1",
}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright, chromium_path: str) -> Iterator[Browser]:
    b = playwright_instance.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
    try:
        yield b
    finally:
        b.close()


def _record_runs(settings: Settings) -> None:
    """Two runs in the ledger, as the pipeline records them: one that worked, one that failed."""
    with start_run(settings, "extract", actor="eng") as run:
        for table, rows in (("INST", 24), ("OFFNDR", 5_120), ("CR_TXN", 412_871)):
            with run.step("stage", table) as step:
                step.add(rows=rows)
    with (
        contextlib.suppress(LoadError),
        start_run(settings, "load", actor="eng") as failed,
        failed.step("load", "offender") as step,
    ):
        step.add(rows=0)
        raise LoadError("the target database refused the batch", batch="ECI")


@pytest.fixture
def server(settings: Settings, control: Engine) -> Iterator[str]:
    """The app under uvicorn on a free local port, in a background thread."""
    _record_runs(settings)
    with serve(create_app(settings, engine=control)) as base:
        yield base


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        yield context.new_page()
    finally:
        context.close()


def _sign_in(page: Page, base: str, username: str, next_path: str = "/") -> None:
    page.goto(f"{base}{next_path}")
    expect(page).to_have_url(f"{base}/login?next={next_path}")
    sign_in(page, base, username, PASSWORDS[username], next_path)


@pytest.mark.parametrize(
    ("username", "role", "pages"),
    [
        pytest.param(
            "root", "admin", ["Overview", "Readiness", "Users", "Audit log", "Account"], id="admin"
        ),
        pytest.param("eng", "engineer", ["Overview", "Readiness", "Account"], id="engineer"),
        pytest.param("val", "validator", ["Overview", "Readiness", "Account"], id="validator"),
        pytest.param("vic", "viewer", ["Overview", "Readiness", "Account"], id="viewer"),
    ],
)
def test_each_role_signs_in_and_sees_only_its_pages(
    page: Page, server: str, username: str, role: str, pages: list[str]
) -> None:
    page.goto(f"{server}/")
    shot(page, "sign-in")
    _sign_in(page, server, username)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.locator(".whoami .badge")).to_have_text(role)
    nav = page.get_by_role("navigation", name="Main").get_by_role("link")
    expect(nav).to_have_text(pages)
    if role == "validator":
        expect(page.locator(".facts .badge.inst")).to_have_text(["ECI"])
        expect(page.get_by_text("Sign off batches for your institutions")).to_be_visible()
    shot(page, f"overview-{role}")
    if role == "admin":
        page.get_by_role("link", name="Users").click()
        expect(page.get_by_role("table")).to_contain_text("val2")
        shot(page, "users-admin")
        page.get_by_role("link", name="Audit log").click()
        expect(page.get_by_text("chain intact")).to_be_visible()
        shot(page, "audit-admin")
    if role == "viewer":
        page.locator('a[href^="/runs/"]').last.click()
        expect(page.get_by_role("table")).to_contain_text("CR_TXN")
        shot(page, "run-viewer")


def test_a_viewer_cannot_reach_admin_pages_nor_disable_an_account(
    page: Page, server: str, control: Engine
) -> None:
    _sign_in(page, server, "vic")
    for path in ("/users", "/audit"):
        response = page.goto(f"{server}{path}")
        assert response is not None
        assert response.status == 403
        expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    shot(page, "refused-viewer-audit")
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    assert token
    refused = page.request.post(f"{server}/users/root/disable", form={"csrf_token": token})
    assert refused.status == 403
    root = get_user(control, "root")
    assert root is not None
    assert root.active


def test_a_form_posted_without_its_csrf_token_is_refused(
    page: Page, server: str, control: Engine
) -> None:
    _sign_in(page, server, "root", "/users")
    row = page.get_by_role("row").filter(has_text="vic")
    row.locator('input[name="csrf_token"]').evaluate("input => input.remove()")
    row.get_by_role("button", name="Disable vic").click()
    expect(page.get_by_role("heading", name="Form refused")).to_be_visible()
    shot(page, "refused-form-without-csrf")
    vic = get_user(control, "vic")
    assert vic is not None
    assert vic.active

    page.goto(f"{server}/users")
    page.get_by_role("row").filter(has_text="vic").get_by_role("button", name="Disable vic").click()
    expect(page.get_by_role("status")).to_contain_text("Account vic disabled")
    shot(page, "users-after-disable")


def test_an_expired_session_goes_back_to_sign_in(page: Page, server: str, control: Engine) -> None:
    _sign_in(page, server, "val")
    with control.begin() as conn:
        conn.execute(web_sessions.update().values(last_seen_at=utc_now() - timedelta(hours=1)))
    page.reload()
    expect(page).to_have_url(f"{server}/login?next=/&expired=1")
    expect(page.get_by_role("status")).to_have_text(
        "Your session expired. Sign in again to continue."
    )
    shot(page, "session-expired")
