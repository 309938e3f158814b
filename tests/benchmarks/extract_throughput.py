"""Extraction throughput: ``cutover extract`` on a legacy-like SQLite database of about N rows.

Builds the extract tests' fixture database at scale, stages it (SQLite staging by default, or
PostgreSQL with ``--staging-url``), then reruns it on the unchanged source (fingerprint only) and
verifies it; each step runs as its own process, measured for wall time and peak memory.

Usage: python -m tests.benchmarks.extract_throughput [--rows N] [--out DIR] [--staging-url URL]

The fixture is built by a child process: a child's peak memory counts its parent's at the fork,
so the measuring process must stay small.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.benchmarks.measure import run_measured
from tests.extract.extract_helpers import create_sqlite_legacy, write_settings

#: Rows the fixture builder writes per offender, on average, over its four tables.
ROWS_PER_OFFENDER = 5.7


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("bench-out/extract"))
    parser.add_argument("--staging-url", default=None)
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    db = args.out / "legacy" / "obscis.db"
    if args.build_only:
        create_sqlite_legacy(db, offenders=int(args.rows / ROWS_PER_OFFENDER), seed=11)
        return 0
    shutil.rmtree(args.out, ignore_errors=True)
    build = [sys.executable, "-m", "tests.benchmarks.extract_throughput", "--build-only"]
    subprocess.run([*build, "--rows", str(args.rows), "--out", str(args.out)], check=True)
    settings = write_settings(
        args.out / "ws",
        {"obscis": {"kind": "sqlalchemy", "url": f"sqlite:///{db}"}},
        staging_url=args.staging_url,
    )
    con = sqlite3.connect(db)
    rows = sum(
        con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
        for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    )
    con.close()
    cutover = [sys.executable, "-m", "cutover", "extract", "--workspace", str(settings.workspace)]
    log = args.out / "bench.log"
    results = [
        run_measured("extract (new)", cutover, rows=rows, log=log),
        run_measured("extract (unchanged)", cutover, rows=rows, log=log),
        run_measured("extract --verify", [*cutover, "--verify"], rows=rows, log=log),
    ]
    for m in results:
        print(json.dumps(m.as_dict()))  # noqa: T201 - the benchmark's report
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
