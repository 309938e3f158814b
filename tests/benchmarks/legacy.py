"""The generated legacy system a benchmark runs on: reused when it is there, built when not.

A legacy system of 100,000 offenders takes minutes to generate and 1.7 GB on disk, so
``ensure_legacy`` keeps ``OUT/legacy-<offenders>-<seed>`` between runs and reuses it when its
``generate.json`` says it was generated with the same offenders, seed and defect rates. Anything
else (a folder from an interrupted run, which has no ``generate.json``, or other defect rates) is
removed and generated again, measured. A database that no longer holds the row counts its
``generate.json`` lists was changed by hand: that fails, and the folder is left as it is.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cutover.legacy import DB_FILE, DOCUMENTS_FILE, SUMMARY_FILE, DefectRates
from tests.benchmarks.measure import Measurement, run_measured

__all__ = ["LegacySystem", "ensure_legacy", "table_rows"]


@dataclass(frozen=True)
class LegacySystem:
    """A generated legacy system: its folder, row counts, and how it came to be there."""

    path: Path
    offenders: int
    seed: int
    #: Rows per table of the legacy database.
    tables: dict[str, int]
    #: Rows of the scanned-document index (``documents.csv``), which the dry run also reads.
    documents: int
    #: The measured generation, or None when an existing system was reused.
    generated: Measurement | None

    @property
    def db(self) -> Path:
        return self.path / DB_FILE

    @property
    def documents_csv(self) -> Path:
        return self.path / DOCUMENTS_FILE

    @property
    def rows(self) -> int:
        """Rows of the legacy database: what the raw copy and the peer copy."""
        return sum(self.tables.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "offenders": self.offenders,
            "seed": self.seed,
            "rows": self.rows,
            "tables": self.tables,
            "documents": self.documents,
            "reused": self.generated is None,
            "generate": None if self.generated is None else self.generated.as_dict(),
        }


def table_rows(db: Path) -> dict[str, int]:
    """Rows per table of a SQLite database."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {n: int(conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]) for n in names}
    finally:
        conn.close()


def _reusable(folder: Path, offenders: int, seed: int) -> dict[str, Any] | None:
    """``generate.json`` of a complete system generated with these options, else None."""
    summary = folder / SUMMARY_FILE
    if not (summary.is_file() and (folder / DB_FILE).is_file()):
        return None
    if not (folder / DOCUMENTS_FILE).is_file():
        return None
    info: dict[str, Any] = json.loads(summary.read_text(encoding="utf-8"))
    wanted = {"offenders": offenders, "seed": seed, "options": DefectRates().as_dict()}
    if any(info.get(key) != value for key, value in wanted.items()):
        return None
    return info


def ensure_legacy(out: Path, offenders: int, seed: int, *, log: Path) -> LegacySystem:
    """The legacy system of ``offenders`` and ``seed`` under ``out``: reused, or generated."""
    folder = out / f"legacy-{offenders}-{seed}"
    info = _reusable(folder, offenders, seed)
    generated = None
    if info is not None:
        tables = table_rows(folder / DB_FILE)
        if tables != info.get("tables"):
            raise RuntimeError(
                f"{folder / DB_FILE} does not hold the rows its {SUMMARY_FILE} lists: it was "
                f"changed after it was generated; remove {folder} to have it generated again"
            )
    else:
        shutil.rmtree(folder, ignore_errors=True)
        cutover = str(Path(sys.executable).with_name("cutover"))
        argv = [cutover, "legacy", "generate", "--offenders", str(offenders)]
        argv += ["--seed", str(seed), "--out", str(folder)]
        generated = run_measured(f"generate {offenders:,} offenders", argv, log=log)
        info = _reusable(folder, offenders, seed)
        if info is None:
            raise RuntimeError(f"the generator left no complete legacy system in {folder}")
        tables = table_rows(folder / DB_FILE)
        if tables != info.get("tables"):
            raise RuntimeError(f"{folder / DB_FILE} does not hold the rows {SUMMARY_FILE} lists")
        generated = Measurement(
            generated.name, generated.seconds, generated.peak_rss_mb, sum(tables.values())
        )
    documents = int(info["documents"])
    return LegacySystem(folder, offenders, seed, tables, documents, generated)
