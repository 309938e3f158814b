"""The transform's output loaded into a PostgreSQL target: the same rows land, per table and
batch, as in the SQLite target."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from load import load_run, reconcile, upgrade
from load.models import Base

from .conftest import Pipeline


def _counts(url: str) -> dict[tuple[str, str], int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                (table.name, str(batch)): int(str(n))
                for table in Base.metadata.sorted_tables
                for batch, n in conn.execute(
                    sa.select(table.c._batch, sa.func.count()).group_by(table.c._batch)
                )
            }
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_postgresql_target_receives_the_same_rows(pipeline: Pipeline, pg_url: str) -> None:
    upgrade(pg_url)
    load_run(pipeline.staging_url, pg_url)  # reconciles, or raises
    assert _counts(pg_url) == _counts(pipeline.target_url)
    report = reconcile(pipeline.staging_url, pg_url)
    assert report.tables
    assert report.sources
    assert report.ok, report.problems
