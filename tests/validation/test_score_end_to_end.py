"""End to end: a generated legacy system, migrated with the reference mappings, validated, scored.

``cutover legacy generate`` writes a legacy system and its answer key; extract, transform (with
``mappings/obscis``) and load migrate it into a target; ``validate_run`` recomputes every
offender from the target. Scored against the answer key, every injected release-date defect is
explained with the right code and days (precision and recall 1.0 per code), no clean offender is
explained, nothing is UNEXPLAINED.

Then two deliberately wrong copies of the mappings, a crosswalk with a wrong rate and a mapping
that drops disciplinary segregation periods, prove that a migration bug shows up as
UNEXPLAINED differences and a failed score, not as a pass.
"""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
import structlog
from typer.testing import CliRunner

from cutover.cli import app
from cutover.commands.workspace import write_workspace
from cutover.runs import start_run
from cutover.settings import Settings, load_settings
from extract import extract_sources
from load import load_run, upgrade
from load.models import Base
from transform import load_project, run_transform
from validation import (
    Score,
    ValidationResult,
    audit_report,
    engines_for,
    format_score,
    score_run,
    validate_run,
)
from validation.store import read_offenders_of_run

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
MAPPINGS = REPO / "mappings" / "obscis"
OFFENDERS = 300
#: A seed whose 300 offenders carry every release-date defect code at the default rates.
SEED = 11


@dataclass(frozen=True)
class Migrated:
    settings: Settings
    run_id: str
    result: ValidationResult
    score: Score


def migrate_and_validate(
    legacy: Path, workspace: Path, mappings: Path, target_url: str | None = None
) -> Migrated:
    """Extract, transform with ``mappings``, load into the target, validate and score.

    ``target_url`` puts the target (and the control database) elsewhere than the workspace's
    SQLite files, on PostgreSQL for example.
    """
    write_workspace(
        workspace,
        source_url=f"sqlite:///{legacy / 'obscis.db'}",
        documents=str(legacy / "documents.csv"),
        mappings=str(mappings),
    )
    overrides = {"target_url": target_url, "control_url": target_url} if target_url else None
    settings = load_settings(workspace, overrides=overrides)
    staging_url = settings.staging.url.get_secret_value()
    target_url = settings.target.url.get_secret_value()
    with start_run(settings, "dry-run", actor="validation-test") as run:
        extract_sources(settings, run=run)
        staging = sa.create_engine(staging_url)
        try:
            run_transform(load_project(settings.mappings_dir), staging, Base.metadata, run.id)
        finally:
            staging.dispose()
        upgrade(target_url)
        load_run(staging_url, target_url, check=False)
        result = validate_run(settings, run.id)
    engines = engines_for(settings)
    try:
        score = score_run(
            engines.control, run.id, legacy / "answer_key.jsonl", target=engines.target
        )
    finally:
        engines.target.dispose()
        engines.control.dispose()
    structlog.reset_defaults()
    return Migrated(settings, run.id, result, score)


@pytest.fixture(scope="session")
def legacy_system(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("legacy-e2e")
    result = CliRunner().invoke(
        app,
        [
            "legacy",
            "generate",
            "--offenders",
            str(OFFENDERS),
            "--seed",
            str(SEED),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def reference(legacy_system: Path, tmp_path_factory: pytest.TempPathFactory) -> Migrated:
    return migrate_and_validate(legacy_system, tmp_path_factory.mktemp("ws-reference"), MAPPINGS)


def summary_line(legacy: Path) -> dict[str, object]:
    lines = (legacy / "answer_key.jsonl").read_text(encoding="utf-8").splitlines()
    entries = [json.loads(x) for x in lines if x.strip()]
    return next(e for e in entries if e["kind"] == "summary")


def test_every_injected_release_defect_is_explained_with_its_code_and_days(
    reference: Migrated,
) -> None:
    score = reference.score
    assert {c.code for c in score.codes if c.expected} == {
        "WORK_CREDIT_DURING_SEGREGATION",
        "JAIL_CREDIT_MISPOSTED",
        "CREDIT_WITHOUT_ASSIGNMENT",
        "ASSIGNMENT_WITHOUT_CREDIT",
        "UNDOCUMENTED_LABOR_POOL",
        "MONTHLY_CAP_EXCEEDED",
        "REVOCATION_MISMATCH",
        "GOOD_CONDUCT_RATE",
    }
    per_code = {c.code: (c.precision, c.recall) for c in score.codes}
    assert per_code == dict.fromkeys(per_code, (1.0, 1.0)), format_score(score)
    assert score.unexplained == []
    assert score.clean_explained == []
    assert score.missing == []
    # A misposted jail credit moves MAX_EXP_DT too: those differences are recorded and each is
    # explained by the cause the key lists for that offender.
    assert score.expiration_differences > 0
    assert score.expiration_misses == []
    assert score.perfect
    assert reference.result.offenders == OFFENDERS


def test_catalogue_findings_match_the_answer_keys_accounts(reference: Migrated) -> None:
    per_kind = {c.code: (c.expected, c.precision, c.recall) for c in reference.score.findings}
    for kind, (expected, precision, recall) in per_kind.items():
        assert expected > 0, kind
        assert (precision, recall) == (1.0, 1.0), format_score(reference.score)


def test_the_audit_report_counts_the_releases_the_generator_got_wrong(
    reference: Migrated, legacy_system: Path
) -> None:
    summary = summary_line(legacy_system)
    engines = engines_for(reference.settings)
    try:
        report = audit_report(engines.control, reference.run_id)
    finally:
        engines.target.dispose()
        engines.control.dispose()
    assert report.releases == summary["released_on_ms"]
    assert report.wrong == summary["released_on_ms_wrong"]
    assert -report.most_days_late >= summary["days_min"]


def copy_mappings(tmp_path: Path) -> Path:
    folder = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, folder)
    return folder


def busiest_task(legacy: Path) -> tuple[str, str]:
    """The institution and task code with the most work assignments in the legacy system."""
    with sqlite3.connect(legacy / "obscis.db") as conn:
        row = conn.execute(
            "SELECT TRIM(INST_CD), UPPER(TRIM(TSK_CD)), COUNT(*) AS n FROM ASGN "
            "WHERE TRIM(ASGN_TYP) = 'W' GROUP BY 1, 2 ORDER BY n DESC LIMIT 1"
        ).fetchone()
    return str(row[0]), str(row[1])


def test_a_crosswalk_with_a_wrong_rate_is_unexplained_not_a_pass(
    legacy_system: Path, tmp_path: Path
) -> None:
    folder = copy_mappings(tmp_path)
    inst, code = busiest_task(legacy_system)
    path = folder / "task_codes.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    changed = [r for r in rows if r["institution"] == inst and r["code"].upper() == code]
    assert len(changed) == 1, (inst, code)
    changed[0]["rate"] = str(int(float(changed[0]["rate"])) + 5)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    wrong = migrate_and_validate(legacy_system, tmp_path / "ws", folder)
    assert not wrong.score.perfect
    assert len(wrong.score.unexplained) >= 1
    assert wrong.result.unexplained == len(wrong.score.unexplained)


def test_a_mapping_that_drops_segregation_periods_is_unexplained_not_a_pass(
    legacy_system: Path, tmp_path: Path
) -> None:
    folder = copy_mappings(tmp_path)
    path = folder / "custody.yaml"
    text = path.read_text(encoding="utf-8")
    anchor = "  segregation:\n    from: {table: SEG, as: s}\n"
    assert anchor in text
    dropped = anchor + "    where: {ne: [{code: s.SEG_TYP}, {const: DS}]}\n"
    path.write_text(text.replace(anchor, dropped), encoding="utf-8")
    wrong = migrate_and_validate(legacy_system, tmp_path / "ws", folder)
    assert not wrong.score.perfect
    assert len(wrong.score.unexplained) >= 1
    engines = engines_for(wrong.settings)
    try:
        rows = read_offenders_of_run(engines.control, wrong.run_id)
    finally:
        engines.target.dispose()
        engines.control.dispose()
    assert sum(r.status == "unexplained" for r in rows) == len(wrong.score.unexplained)


@pytest.mark.postgres
def test_a_postgresql_target_scores_the_same_as_sqlite(
    legacy_system: Path, tmp_path: Path, pg_url: str, reference: Migrated
) -> None:
    on_pg = migrate_and_validate(legacy_system, tmp_path / "ws", MAPPINGS, target_url=pg_url)
    assert on_pg.score.perfect, format_score(on_pg.score)
    assert on_pg.result.counts() == reference.result.counts()
