"""The peer a user might pick instead: dlt's ``sql_database`` source loading the legacy tables.

Extract and load only: no mapping, no quarantine, no validation. The destination is a fresh
DuckDB file, with the ``pyarrow`` backend reading the source, because that is the fast path dlt
documents for copying SQL tables to a local database: each chunk of rows is read into an Arrow
table and loaded as a Parquet file in bulk. The alternative local destination, SQLite through
dlt's ``sqlalchemy`` destination, inserts the rows with SQLAlchemy statements: two to four times
slower on a 2,000-offender system (and dlt's default ``sqlalchemy`` backend, rows as Python
dicts, is slower still); a target of "faster than dlt" measured against those would say little.
So the figure is the peer at its best on this machine, and the comparison is the strict one.

Usage: python -m tests.benchmarks.dltpeer SOURCE_URL DEST.duckdb WORKDIR [--backend NAME]

Prints the rows dlt loaded (its own normalize counts, dlt's state tables left out) as one line.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Literal, get_args

__all__ = ["Backend", "load_with_dlt"]

#: How dlt's ``sql_database`` reads the source.
Backend = Literal["pyarrow", "sqlalchemy", "pandas", "connectorx"]


def load_with_dlt(source_url: str, dest: Path, workdir: Path, backend: Backend = "pyarrow") -> int:
    """Load every table of ``source_url`` into the DuckDB file ``dest``; return rows loaded."""
    # dlt reads its configuration from the environment; no usage report leaves this machine.
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    import dlt  # noqa: PLC0415 - only the peer needs it (the 'bench' extra)
    from dlt.sources.sql_database import sql_database  # noqa: PLC0415

    shutil.rmtree(workdir, ignore_errors=True)
    dest.unlink(missing_ok=True)
    pipeline = dlt.pipeline(
        pipeline_name="legacy_copy",
        destination=dlt.destinations.duckdb(str(dest)),
        dataset_name="legacy",
        pipelines_dir=str(workdir),
    )
    pipeline.run(sql_database(credentials=source_url, backend=backend))
    trace = pipeline.last_trace
    info = None if trace is None else trace.last_normalize_info
    if info is None:
        raise RuntimeError("dlt recorded no normalize step: nothing was loaded")
    counts: dict[str, Any] = info.row_counts
    return sum(int(n) for table, n in counts.items() if not table.startswith("_dlt"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("source_url")
    parser.add_argument("dest", type=Path)
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--backend", choices=get_args(Backend), default="pyarrow")
    args = parser.parse_args(argv)
    rows = load_with_dlt(args.source_url, args.dest, args.workdir, args.backend)
    sys.stdout.write(f"{rows}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
