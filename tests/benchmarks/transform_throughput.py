"""Transform throughput: the example mappings' ``job`` and ``person`` tables at N rows.

Stages N job rows (and N/4 people) with the example's layout, runs the transform, and prints per
table: rows, wall seconds, and the seconds of the chunked Python pass (row hashes and registered
functions) that SQL cannot do. ``--staging-url`` runs it on PostgreSQL instead of SQLite.

Usage: python -m tests.benchmarks.transform_throughput [--rows N] [--staging-url URL]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "transform"))

from transform_helpers import EXAMPLE, TARGET, stage

from transform import load_project, run_transform

_TASKS = [("S1", "PNT1"), ("S2", "PAINT"), ("S3", "P-01"), ("S2", "UNK9")]


def _stage(engine: sa.Engine, rows: int) -> None:
    people = max(rows // 4, 1)
    stage(
        engine,
        "old",
        "SITE",
        {"SITE_CD": 4, "SITE_NM": 20, "RGN_CD": 2},
        [("S1", "North", "NO"), ("S2", "South", "SO"), ("S3", "East", "EA")],
        key=["SITE_CD"],
    )
    stage(
        engine,
        "old",
        "PERSON",
        {
            "PER_ID": 6,
            "STATE_ID": 8,
            "LAST_NM": 12,
            "FRST_NM": 10,
            "BIRTH_DT": 8,
            "SITE_CD": 4,
            "UPD_DT": 8,
            "VET_FLG": 1,
        },
        [
            (
                f"P{i:05d}",
                f"S{i:07d}",
                f"NAME{i % 997}",
                "ANN",
                f"19{i % 90 + 10:02d}0{i % 9 + 1}15",
                f"S{i % 3 + 1}",
                "20200101",
                "YN "[i % 3],
            )
            for i in range(people)
        ],
        key=["PER_ID"],
    )
    stage(
        engine,
        "old",
        "JOB",
        {"JOB_ID": 8, "PER_ID": 6, "SITE_CD": 4, "TASK_CD": 6, "BGN_DT": 8, "END_DT": 8, "HRS": 3},
        [
            (
                f"J{i:07d}",
                f"P{i % people:05d}",
                *_TASKS[i % len(_TASKS)],
                f"20{i % 20 + 5:02d}0{i % 9 + 1}01",
                "99999999" if i % 2 else "20300101",
                f"{i % 40:03d}",
            )
            for i in range(rows)
        ],
        key=["JOB_ID"],
    )
    for table, columns in [
        ("CREDIT", {"TXN_ID": 4, "PER_ID": 6, "CR_MO": 6, "CR_DAYS": 3}),
        ("JAIL", {"JCR_ID": 4, "PER_ID": 6, "CR_DAYS": 3, "CERT_NO": 6}),
        ("USR", {"USR_ID": 4, "EMP_NO": 4, "USR_NM": 10, "UPD_DT": 8}),
    ]:
        stage(engine, "old", table, columns, [])
    stage(
        engine,
        "docs",
        "DOC_IDX",
        {"DOC_ID": 4, "PER_ID": 6, "DOC_TYP": 10, "JAIL_DAYS": 4, "CERT_NO": 6},
        [],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--staging-url", default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        engine = sa.create_engine(args.staging_url or f"sqlite:///{tmp}/staging.db")
        started = time.perf_counter()
        _stage(engine, args.rows)
        staged = time.perf_counter() - started
        result = run_transform(load_project(EXAMPLE), engine, TARGET, "bench")
        engine.dispose()
    report = {
        "staging": (args.staging_url or "sqlite").split(":")[0],
        "stage_seconds": round(staged, 2),
        "tables": [
            {
                "table": t.name,
                "rows": t.account.source_rows,
                "loaded": t.account.loaded,
                "quarantined": t.account.quarantined,
                "seconds": round(t.seconds, 2),
                "python_pass_seconds": round(t.python_seconds, 2),
                "rows_per_second": round(t.account.source_rows / t.seconds) if t.seconds else None,
            }
            for t in result.tables
            if t.account.source_rows
        ],
    }
    sys.stdout.write(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
