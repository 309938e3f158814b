"""The batch pages without a browser: filters, CSV export, offender page, audit of sign-offs."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from tests.batches.scenario import add_expiration_cause, write_run

SignIn = Callable[..., str]
PAGES = [
    "/readiness",
    "/batches/ECI",
    "/batches/ECI/discrepancies.csv",
    "/batches/ECI/offenders/P3",
]


@pytest.fixture
def runs(control: Engine) -> Engine:
    write_run(control, 1)
    write_run(control, 2)
    return control


@pytest.mark.parametrize("path", PAGES)
def test_every_batch_page_sends_a_stranger_to_sign_in(
    client: TestClient, runs: Engine, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_discrepancies_filter_by_code_and_direction_and_export_as_csv(
    client: TestClient, runs: Engine, sign_in: SignIn
) -> None:
    sign_in(client, "vic")
    early = client.get("/batches/ECI", params={"direction": "early"})
    assert early.status_code == 200
    assert ">P3</a>" in early.text
    assert ">P5</a>" in early.text
    assert ">P4</a>" not in early.text
    unexplained = client.get("/batches/ECI", params={"code": "UNEXPLAINED"})
    assert ">P3</a>" in unexplained.text
    assert ">P5</a>" not in unexplained.text

    exported = client.get("/batches/ECI/discrepancies.csv", params={"direction": "late"})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["person_id"], r["code"], r["days"]) for r in rows] == [
        ("P4", "GOOD_CONDUCT_RATE", "-12")
    ]
    assert rows[0]["resolution"] == "automatic"


def test_the_batch_page_shows_what_changed_and_what_blocks(
    client: TestClient, runs: Engine, sign_in: SignIn
) -> None:
    sign_in(client, "val")
    page = client.get("/batches/ECI").text
    assert "CREDIT_WITHOUT_ASSIGNMENT" in page  # new since run 1
    assert "person P3: UNEXPLAINED +5 days (no cause accounts for it)" in page
    assert 'action="/batches/ECI/sign"' in page
    assert "<svg" in page
    assert "Legacy date too early" in page
    assert "<script" not in page


def test_an_offender_page_shows_the_waterfall_from_stored_results(
    client: TestClient, runs: Engine, sign_in: SignIn
) -> None:
    sign_in(client, "vic")
    page = client.get("/batches/ECI/offenders/P3")
    assert page.status_code == 200
    assert "2029-03-01" in page.text
    assert "2029-03-06" in page.text
    assert "Record decision" not in page.text  # a viewer may not explain
    assert client.get("/batches/RCI/offenders/P3").status_code == 404


def test_an_offender_page_runs_each_legacy_date_from_its_own_value(
    client: TestClient, runs: Engine, sign_in: SignIn
) -> None:
    add_expiration_cause(runs, 2, "P3", "JAIL_CREDIT_MISPOSTED", -30)
    sign_in(client, "val")
    page = client.get("/batches/ECI/offenders/P3").text
    release, expiration = page.split('id="wf-h-MAX_EXP_DT"')
    # The release date's waterfall ends at legacy + 5, untouched by the expiration's -30.
    assert "2029-03-06" in release
    assert "2029-02-04" not in release
    # The expiration date's runs from its own legacy value, 2031-01-01, to 30 days earlier.
    assert "2031-01-01" in expiration
    assert "2030-12-02" in expiration
    assert expiration.count('<option value="JAIL_CREDIT_MISPOSTED"') == 1


def test_sign_offs_land_in_the_audit_log_an_admin_reads(
    client: TestClient,
    new_client: Callable[[], TestClient],
    runs: Engine,
    sign_in: SignIn,
) -> None:
    csrf = sign_in(client, "val")
    explained = client.post(
        "/batches/ECI/explanations",
        data={
            "csrf_token": csrf,
            "person_id": "P3",
            "code": "UNEXPLAINED",
            "kind": "explanation",
            "reason": "confirmed by the records office",
        },
    )
    assert explained.status_code == 303
    triaged = client.post(
        "/batches/ECI/triage",
        data={
            "csrf_token": csrf,
            "group": "credit_entry/CR_TXN/impossible_date/ENT_DT",
            "reason": "old test rows",
        },
    )
    assert triaged.status_code == 303
    assert client.post("/batches/ECI/sign", data={"csrf_token": csrf}).status_code == 303
    admin = new_client()
    sign_in(admin, "root")
    audit = admin.get("/audit").text
    for action in ("batch.signed", "quarantine.triaged", "explanation.added"):
        assert action in audit
    assert "chain intact" in audit
