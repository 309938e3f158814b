"""The end-to-end pipeline on a generated legacy system, run once per test session.

``generate -> extract -> mappings check -> transform -> load`` with the reference mappings
(``mappings/obscis/``) on a small generated legacy system, in a temporary workspace. Tests read
the stage results and the staging and target databases; none of them changes them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import structlog

from cutover.commands.workspace import write_workspace
from cutover.legacy import ANSWER_KEY_FILE, DB_FILE, DOCUMENTS_FILE, DefectRates, generate
from cutover.pipeline import dry_run
from cutover.settings import Settings, load_settings
from load import LoadResult
from transform import CheckReport, TransformResult

REPO = Path(__file__).resolve().parents[2]
MAPPINGS = REPO / "mappings" / "obscis"
#: Small enough to run in seconds; with these rates every data-quality defect kind, and an
#: impossible date in every non-critical date column, occurs several times.
OFFENDERS = 300
SEED = 11
RATES = DefectRates(
    impossible_date=0.05,
    unknown_task_code=0.03,
    orphan_row=0.02,
    duplicate_offender=0.03,
    duplicate_user=0.05,
    document_disagreement=0.05,
)


@dataclass
class Pipeline:
    """What one run of the stages produced."""

    settings: Settings
    legacy: Path
    staging_url: str
    target_url: str
    check: CheckReport
    transform: TransformResult
    load: LoadResult
    answers: list[dict[str, Any]]
    seconds: dict[str, float] = field(default_factory=dict)
    _engines: dict[str, sa.Engine] = field(default_factory=dict)

    def staging(self) -> sa.Engine:
        """The staging database (one engine, disposed by :meth:`close`)."""
        return self._engine("staging", self.staging_url)

    def target(self) -> sa.Engine:
        """The target database (one engine, disposed by :meth:`close`)."""
        return self._engine("target", self.target_url)

    def _engine(self, name: str, url: str) -> sa.Engine:
        if name not in self._engines:
            self._engines[name] = sa.create_engine(url)
        return self._engines[name]

    def close(self) -> None:
        for engine in self._engines.values():
            engine.dispose()


def run_pipeline(legacy: Path, workspace: Path, target_url: str | None = None) -> Pipeline:
    """Run every stage on the generated system in ``legacy``; return what each produced.

    The sequence a dry run performs: stage both sources, check the mappings, transform, migrate
    the target to head, load and reconcile.
    """
    write_workspace(
        workspace,
        source_url=f"sqlite:///{legacy / DB_FILE}",
        documents=str(legacy / DOCUMENTS_FILE),
        mappings=str(MAPPINGS),
    )
    overrides = {"scratch_url": target_url} if target_url else None
    settings = load_settings(workspace, overrides=overrides)
    staging_url = settings.staging.url.get_secret_value()
    target = settings.scratch.url.get_secret_value()
    done = dry_run(settings, actor="pipeline-test")
    report, result, loaded, seconds = done.check, done.transform, done.load, done.seconds
    answers = [
        json.loads(line)
        for line in (legacy / ANSWER_KEY_FILE).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return Pipeline(settings, legacy, staging_url, target, report, result, loaded, answers, seconds)


@pytest.fixture(scope="session")
def legacy_system(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated legacy system with the default defect rates."""
    out = tmp_path_factory.mktemp("legacy")
    generate(out, OFFENDERS, SEED, RATES)
    return out


@pytest.fixture(scope="session")
def pipeline(legacy_system: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """The whole pipeline on SQLite, run once for every test that reads it."""
    result = run_pipeline(legacy_system, tmp_path_factory.mktemp("workspace"))
    yield result
    result.close()
    structlog.reset_defaults()
