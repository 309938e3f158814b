"""The batch commands act as a named account; ``cutover load`` refuses unsigned institutions."""

# ruff: noqa: S105, S106 - test accounts' passwords are fixtures, not secrets

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from rich.console import Console
from typer.testing import CliRunner, Result

from cutover.cli import app
from cutover.commands.load import check_signoffs
from cutover.commands.workspace import write_workspace
from cutover.control import create_first_admin, create_user, list_entries, open_control
from cutover.errors import AccessDeniedError, SignOffError
from cutover.settings import Settings, load_settings
from tests.batches.scenario import write_run

runner = CliRunner()
PASSWORD = "validator password 1"
GROUP = "credit_entry/CR_TXN/impossible_date/ENT_DT"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    ws = tmp_path / "ws"
    write_workspace(ws, name="pilot", documents=None)
    settings = load_settings(ws)
    engine = open_control(settings)
    fast = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    try:
        root = create_first_admin(engine, username="root", password="root password 1", hasher=fast)
        create_user(
            engine, actor=root, username="val", role="validator", password=PASSWORD,
            institutions=["ECI"], hasher=fast,
        )  # fmt: skip
        write_run(engine, 1)
    finally:
        engine.dispose()
    return settings


def _run(settings: Settings, *args: str, user: str | None = None) -> Result:
    env = {"CUTOVER_USER": user, "CUTOVER_PASSWORD": PASSWORD if user else None, "COLUMNS": "200"}
    return runner.invoke(app, [*args, "--workspace", str(settings.workspace)], env=env)


def test_sign_from_the_command_line_lists_blockers_then_signs(settings: Settings) -> None:
    refused = _run(settings, "batch", "sign", "ECI", user="val")
    assert refused.exit_code == 1
    assert "person P3: UNEXPLAINED +5 days" in refused.output
    assert f"quarantine group {GROUP}: 2 row(s) not triaged" in refused.output

    added = _run(
        settings, "explanation", "add", "ECI", "P3", "UNEXPLAINED",
        "--reason", "confirmed with the records office", user="val",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    triaged = _run(settings, "quarantine", "triage", "ECI", GROUP, "--reason", "old test rows",
                   user="val")  # fmt: skip
    assert triaged.exit_code == 0, triaged.output
    signed = _run(settings, "batch", "sign", "ECI", user="val")
    assert signed.exit_code == 0, signed.output
    assert re.search(r"signed off ECI run \S+ evidence [0-9a-f]{64}", signed.output)

    listing = _run(settings, "batch", "list")
    assert re.search(r"ECI .* fresh .* ready", listing.output)
    assert "overall: NO-GO" in listing.output  # RCI is still blocked


def test_a_validator_of_another_institution_is_refused_on_the_command_line(
    settings: Settings,
) -> None:
    refused = _run(settings, "batch", "sign", "RCI", user="val")
    assert isinstance(refused.exception, AccessDeniedError)
    assert "'val' is not a validator for institution 'RCI'" in str(refused.exception)


def test_diff_and_html_report(settings: Settings, tmp_path: Path) -> None:
    engine = open_control(settings)
    try:
        write_run(engine, 2)
    finally:
        engine.dispose()
    diff = _run(settings, "batch", "diff", "ECI")
    assert diff.exit_code == 0, diff.output
    assert "new: 1  P5 CREDIT_WITHOUT_ASSIGNMENT MS_REL_DT 4" in diff.output
    assert "fixed: 1  P2 JAIL_CREDIT_MISPOSTED MS_REL_DT 37" in diff.output

    out = tmp_path / "report" / "readiness.html"
    written = _run(settings, "report", "--html", str(out))
    assert written.exit_code == 0, written.output
    html = out.read_text(encoding="utf-8")
    assert "<style>" in html
    assert "<svg" in html
    assert "NO-GO" in html
    assert "<script" not in html
    assert "&#34;" not in html.split("</style>", 1)[0]  # the stylesheet is inlined verbatim
    assert "<link" not in html
    assert not re.search(r"(src|href)=\"https?://", html)
    assert "person P3: UNEXPLAINED +5 days" in html


def _staging_with(settings: Settings, batches: list[str]) -> None:
    engine = sa.create_engine(settings.staging.url.get_secret_value())
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE xf_person (person_id TEXT, _batch TEXT)")
        for n, batch in enumerate(batches):
            conn.exec_driver_sql(f"INSERT INTO xf_person VALUES ('P{n}', '{batch}')")
    engine.dispose()


def test_the_real_load_refuses_institutions_not_signed_off_and_fresh(settings: Settings) -> None:
    _staging_with(settings, ["_GLOBAL", "ECI", "RCI"])
    for user, batch in (("val", "ECI"),):
        assert _run(settings, "explanation", "add", batch, "P3", "UNEXPLAINED",
                    "--reason", "confirmed by phone", user=user).exit_code == 0  # fmt: skip
        assert _run(settings, "quarantine", "triage", batch, GROUP, "--reason", "old rows",
                    user=user).exit_code == 0  # fmt: skip
        assert _run(settings, "batch", "sign", batch, user=user).exit_code == 0
    console = Console(file=None, quiet=True)
    with pytest.raises(SignOffError) as refused:
        check_signoffs(settings, None, force=False, console=console)
    assert refused.value.blockers == ["RCI: not signed off"]
    check_signoffs(settings, ["ECI"], force=False, console=console)

    cli = _run(settings, "load")
    assert cli.exit_code == 1
    assert "RCI: not signed off" in str(cli.exception)

    check_signoffs(settings, None, force=True, console=console)
    engine = open_control(settings)
    try:
        forced = [e for e in list_entries(engine) if e.action == "load.forced_unsigned"]
    finally:
        engine.dispose()
    assert forced[0].details == {"batches": {"RCI": "not signed off"}}
