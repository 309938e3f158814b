"""Catalogue findings: a task at different rates, duplicate accounts, screens a job does not need.

What each job needs comes from the policy file; a different file gives different findings, and
a broken file is an error naming it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from target_builders import add_task, add_user, insert, new_target

import load
from cutover.errors import ConfigError
from validation import catalogue_findings, load_screen_policy


@pytest.fixture
def target(tmp_path: Path) -> sa.Engine:
    engine = new_target(tmp_path / "target.db")
    old, new = date(1970, 1, 1), date(2015, 7, 1)
    with engine.begin() as conn:
        add_task(conn, "ECI", "PNT1", "PAINTER", "W", [(old, 10)])
        add_task(conn, "MCIH", "PAINT", "PAINTER", "W", [(old, 10)])
        add_task(conn, "WCI", "P-01", "PAINTER", "W", [(old, 10), (new, 5)])
        add_task(conn, "ECI", "COOK", "COOK", "W", [(old, 10)])
        add_task(conn, "WCI", "CK1", "COOK", "W", [(old, 5), (new, 10)])
        add_task(conn, "ECI", "XX9", None, "W", [(old, 3)])
        add_user(conn, "CO000001", "CO", {"CSM1": "R"}, employee_no="100001", inst="ECI")
        add_user(conn, "CO000002", "CO", {"CSM1": "U"}, employee_no="100002", inst="ECI")
        add_user(conn, "CMGR0001", "CMGR", {"CMT1": "R", "DIM1": "U", "CSM1": "U"})
        add_user(conn, "WRDN0001", "WRDN", {"DIM1": "U"}, employee_no="100003")
        add_user(conn, "WRDN0002", "WRDN", {"DIM1": "R"}, employee_no="100003")
        add_user(conn, "CMST0001", "CMST", {"CMT1": "U"}, employee_no="100004")
        insert(
            conn,
            "user_merge",
            "CMST0009",
            load.GLOBAL_BATCH,
            merged_key="CMST0009",
            survivor_user_id="CMST0001",
            rule="same employee number",
            merge_run_id="r",
        )
    return engine


def by_kind(findings: list, kind: str) -> dict[str, dict]:
    return {f.finding_key: dict(f.detail) for f in findings if f.kind == kind}


def test_a_task_credited_at_different_current_rates_is_one_finding(target: sa.Engine) -> None:
    found = by_kind(catalogue_findings(target), "TASK_RATE_VARIES")
    assert list(found) == ["TASK_RATE_VARIES:PAINTER"]
    assert found["TASK_RATE_VARIES:PAINTER"]["rates"] == {
        "5": ["WCI/P-01"],
        "10": ["ECI/PNT1", "MCIH/PAINT"],
    }


def test_accounts_of_one_employee_and_merged_accounts_are_duplicates(target: sa.Engine) -> None:
    found = by_kind(catalogue_findings(target), "DUPLICATE_USER")
    assert found["DUPLICATE_USER:WRDN0001"]["accounts"] == ["WRDN0001", "WRDN0002"]
    assert found["DUPLICATE_USER:CMST0001"]["accounts"] == ["CMST0001", "CMST0009"]
    assert found["DUPLICATE_USER:CMST0001"]["rules"] == ["merged: same employee number"]
    assert len(found) == 2


def test_a_merged_account_still_in_the_catalogue_is_one_finding(target: sa.Engine) -> None:
    with target.begin() as conn:
        add_user(conn, "CMST0009", "CMST", {"CMT1": "U"}, employee_no="100004")
    found = by_kind(catalogue_findings(target), "DUPLICATE_USER")
    assert found["DUPLICATE_USER:CMST0001"]["accounts"] == ["CMST0001", "CMST0009"]
    assert found["DUPLICATE_USER:CMST0001"]["rules"] == [
        "merged: same employee number",
        "same employee number",
    ]
    assert len(found) == 2


def test_grants_beyond_the_jobs_needs_are_excess_access(target: sa.Engine) -> None:
    found = by_kind(catalogue_findings(target), "EXCESS_SCREEN_ACCESS")
    assert set(found) == {
        "EXCESS_SCREEN_ACCESS:CO000002:CSM1",
        "EXCESS_SCREEN_ACCESS:WRDN0001:DIM1",
    }
    co = found["EXCESS_SCREEN_ACCESS:CO000002:CSM1"]
    assert (co["job"], co["access"], co["needed"]) == ("CO", "U", "R")
    assert all("Doe" not in str(detail) for detail in found.values())


def test_the_policy_file_decides_what_a_job_needs(target: sa.Engine, tmp_path: Path) -> None:
    text = load_screen_policy().model_dump()
    text["jobs"]["CO"] = {"CSM1": "U"}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(text), encoding="utf-8")
    found = by_kind(catalogue_findings(target, load_screen_policy(path)), "EXCESS_SCREEN_ACCESS")
    assert set(found) == {"EXCESS_SCREEN_ACCESS:WRDN0001:DIM1"}


def test_a_broken_policy_file_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("policy: p\nversion: '1'\nlevels: [R, U]\njobs: {CO: {CSM1: X}}\n")
    with pytest.raises(ConfigError, match=r"policy\.yaml") as caught:
        load_screen_policy(path)
    assert "level 'X'" in str(caught.value)
