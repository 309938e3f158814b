"""On PostgreSQL the transform gathers statistics on each table it has just filled, so that the
planner sizes its joins by what the table holds (a table filled in the same transaction is
invisible to autovacuum; without them a check of a table against its own rows ran as nested
scans, quadratic in the table's size)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from test_transform_goldens import COLUMNS, PROJECT
from transform_helpers import run_one_mapping, stage

MAPPING = """\
tables:
  out:
    from: SRC
    batch: {code: INST}
    columns:
      id: {text: ID}
      parent_id: {text: A}
"""


@pytest.mark.postgres
@pytest.mark.parametrize("staging", ["postgresql"], indirect=True)
def test_transformed_and_working_tables_are_analyzed(staging: sa.Engine, tmp_path: Path) -> None:
    rows: list[tuple[Any, ...]] = [
        (f"{i:03d}", f"{i - 1:03d}" if i > 1 else "", "", "S1", "", 1) for i in range(1, 301)
    ]
    stage(staging, "g", "SRC", COLUMNS, rows, key=["ID"])
    seen: dict[str, float] = {}

    def estimate(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # Just before the working table is dropped: what the planner believes it holds.
        if statement.strip() == "DROP TABLE xf__work_out":
            seen["work"] = conn.exec_driver_sql(
                "SELECT reltuples FROM pg_class WHERE relname = 'xf__work_out'"
            ).scalar_one()

    sa.event.listen(staging, "before_cursor_execute", estimate)
    columns = [
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("parent_id", sa.Text, sa.ForeignKey("out.id")),
    ]
    run_one_mapping(staging, tmp_path / "mappings", PROJECT, MAPPING, columns, "stats-run")
    sa.event.remove(staging, "before_cursor_execute", estimate)
    with staging.connect() as conn:
        xf = conn.exec_driver_sql(
            "SELECT reltuples FROM pg_class WHERE relname = 'xf_out'"
        ).scalar_one()
        loaded = conn.exec_driver_sql("SELECT count(*) FROM xf_out").scalar_one()
    # Never analyzed, PostgreSQL says -1.
    assert loaded == 300
    assert xf == 300
    assert seen == {"work": 300}
