"""Batches and sign-off in real Chromium: who may sign what, blockers, staleness, CSRF.

Screenshots of the readiness overview, a batch page, an offender page and the refusals land in
``tests/artifacts/`` (ignored by git) for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy.engine import Engine

from cutover.batches import signoff_state
from cutover.settings import Settings
from cutover.web import create_app
from tests.batches.scenario import write_run
from tests.web.browser_support import serve, shot, sign_in

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]
PASSWORDS = {
    "val": "validator password 1",
    "val2": "validator password 2",
    "vic": "viewer password 1",
    "eng": "engineer password 1",
    "root": "admin password 1",
}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shared_browser(chromium_path: str) -> Iterator[Browser]:
    """One browser for the module (Playwright's sync API allows one driver at a time)."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def server(settings: Settings, control: Engine) -> Iterator[str]:
    """The dashboard with two dry runs of ECI and RCI in its control store."""
    write_run(control, 1)
    write_run(control, 2)
    with serve(create_app(settings, engine=control)) as base:
        yield base


@pytest.fixture
def page(shared_browser: Browser) -> Iterator[Page]:
    context = shared_browser.new_context(viewport={"width": 1360, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def _sign_in(page: Page, base: str, username: str, next_path: str = "/") -> None:
    sign_in(page, base, username, PASSWORDS[username], next_path)


def _token(page: Page) -> str:
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    assert token
    return token


def test_a_viewer_reads_readiness_and_batches_but_cannot_sign(
    page: Page, server: str, control: Engine
) -> None:
    _sign_in(page, server, "vic", "/readiness")
    expect(page.locator(".verdict")).to_contain_text("NO-GO")
    expect(page.get_by_role("row").filter(has_text="ECI")).to_contain_text("blocked")
    page.get_by_role("link", name="ECI", exact=True).click()
    expect(page.get_by_role("heading", name="Batch ECI")).to_be_visible()
    expect(page.get_by_role("button", name="Sign off batch ECI")).to_have_count(0)
    refused = page.request.post(f"{server}/batches/ECI/sign", form={"csrf_token": _token(page)})
    assert refused.status == 403
    assert "may not sign_batch" in refused.text()
    with control.connect() as conn:
        assert signoff_state(conn, "ECI").signoff is None


@pytest.mark.parametrize(
    "username", [pytest.param("eng", id="engineer"), pytest.param("root", id="admin")]
)
def test_engineers_and_admins_triage_quarantine_but_cannot_sign(
    page: Page, server: str, control: Engine, username: str
) -> None:
    _sign_in(page, server, username, "/batches/ECI")
    expect(page.get_by_role("button", name="Sign off batch ECI")).to_have_count(0)
    expect(page.get_by_role("button", name="Mark triaged")).to_have_count(1)
    refused = page.request.post(f"{server}/batches/ECI/sign", form={"csrf_token": _token(page)})
    assert refused.status == 403
    with control.connect() as conn:
        assert signoff_state(conn, "ECI").signoff is None


def test_a_validator_cannot_sign_another_institutions_batch(
    page: Page, server: str, control: Engine
) -> None:
    _sign_in(page, server, "val2", "/batches/RCI")
    page.goto(f"{server}/batches/ECI")
    expect(page.get_by_role("button", name="Sign off batch ECI")).to_have_count(0)
    expect(page.get_by_text("Only a validator for ECI can sign this batch.")).to_be_visible()
    refused = page.request.post(f"{server}/batches/ECI/sign", form={"csrf_token": _token(page)})
    assert refused.status == 403
    assert "not a validator for institution" in refused.text()
    with control.connect() as conn:
        assert signoff_state(conn, "ECI").signoff is None


def test_unexplained_blocks_the_sign_off_until_explained_and_a_new_run_makes_it_stale(
    page: Page, server: str, control: Engine
) -> None:
    _sign_in(page, server, "val", "/readiness")
    shot(page, "batches-readiness")
    page.get_by_role("link", name="ECI", exact=True).click()
    page.get_by_role("button", name="Sign off batch ECI").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Batch ECI cannot be signed off: 2 blocker(s)")
    expect(alert).to_contain_text("person P3: UNEXPLAINED +5 days")
    expect(alert).to_contain_text("quarantine group credit_entry/CR_TXN/impossible_date/ENT_DT")
    shot(page, "batch-sign-refused")
    with control.connect() as conn:
        assert signoff_state(conn, "ECI").signoff is None

    page.goto(f"{server}/batches/ECI/offenders/P3")
    page.get_by_label("Reason").fill("Jail credit posted by hand; certificate confirmed by phone.")
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("status")).to_contain_text("Recorded in the register")
    page.get_by_label("Triage reason for credit_entry/CR_TXN/impossible_date/ENT_DT").fill(
        "Test postings from 1998, never used in a calculation"
    )
    page.get_by_role("button", name="Mark triaged").click()
    page.get_by_label("Statement").fill("Reviewed every difference against the paper files.")
    page.get_by_role("button", name="Sign off batch ECI").click()
    expect(page.get_by_role("status")).to_contain_text("Batch signed off")
    expect(page.locator("h1 .badge")).to_have_text("signed off")
    page.goto(f"{server}/batches/ECI/offenders/P3")
    shot(page, "offender-P3")
    page.goto(f"{server}/batches/ECI")
    shot(page, "batch-ECI-signed")

    write_run(control, 3)  # P2 regresses and P3's facts change
    page.reload()
    expect(page.locator("h1 .badge")).to_have_text("sign-off stale")
    expect(page.locator("#signoff")).to_contain_text("the evidence changed in run")
    expect(page.locator("#signoff")).to_contain_text("its explanation needs review")
    shot(page, "batch-ECI-stale")
    page.goto(f"{server}/readiness")
    expect(page.get_by_role("row").filter(has_text="ECI")).to_contain_text("stale")
    shot(page, "batches-readiness-after-three-runs")
    with control.connect() as conn:
        assert signoff_state(conn, "ECI").state == "stale"


def test_a_sign_off_posted_without_its_csrf_token_is_refused(
    page: Page, server: str, control: Engine
) -> None:
    _sign_in(page, server, "val", "/batches/ECI")
    form = page.locator('form[action="/batches/ECI/sign"]')
    form.locator('input[name="csrf_token"]').evaluate("input => input.remove()")
    form.get_by_role("button", name="Sign off batch ECI").click()
    expect(page.get_by_role("heading", name="Form refused")).to_be_visible()
    with control.connect() as conn:
        assert signoff_state(conn, "ECI").signoff is None
