"""Writing the legacy database, the document index and the answer key, in bounded chunks.

The SQLite file is built with a fixed page size, no journal and no syncs (it is written once,
start to finish), inside one transaction, so the same rows give the same bytes. Rows are buffered
per table and flushed with ``executemany`` whenever the buffers hold ``chunk_rows`` rows, so memory
stays flat however many offenders are written.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

from cutover.legacy.schema import DOCUMENT_COLUMNS, TABLES, ddl

__all__ = ["LegacyWriter"]

Row = tuple[object, ...]


class LegacyWriter:
    """Owns the three output files while a generation runs."""

    def __init__(
        self, db_path: Path, documents_path: Path, answers_path: Path, chunk_rows: int = 50_000
    ) -> None:
        self._paths = (db_path, documents_path, answers_path)
        for path in self._paths:
            path.unlink(missing_ok=True)
        self.conn = sqlite3.connect(db_path, isolation_level=None)
        for pragma in (
            "PRAGMA page_size = 4096",
            "PRAGMA journal_mode = OFF",
            "PRAGMA synchronous = OFF",
            "PRAGMA locking_mode = EXCLUSIVE",
            "PRAGMA temp_store = MEMORY",
            "PRAGMA cache_size = -65536",
        ):
            self.conn.execute(pragma)
        self.conn.execute("BEGIN")
        for table in TABLES:
            self.conn.execute(ddl(table))
        self._sql = {t.name: t.insert_sql() for t in TABLES}
        self._buffers: dict[str, list[Row]] = {t.name: [] for t in TABLES}
        self.counts: dict[str, int] = {t.name: 0 for t in TABLES}
        self.documents = 0
        self.answers = 0
        self._buffered = 0
        self._chunk = chunk_rows
        self._doc_file: IO[str] = documents_path.open("w", encoding="utf-8", newline="")
        self._doc_csv = csv.writer(self._doc_file, lineterminator="\n")
        self._doc_csv.writerow(DOCUMENT_COLUMNS)
        self._answer_file: IO[str] = answers_path.open("w", encoding="utf-8", newline="\n")

    def rows(self, table: str, rows: Sequence[Row]) -> None:
        self._buffers[table].extend(rows)
        self._buffered += len(rows)
        if self._buffered >= self._chunk:
            self.flush()

    def document_rows(self, rows: Iterable[tuple[str, ...]]) -> None:
        for row in rows:
            self._doc_csv.writerow(row)
            self.documents += 1

    def answer_lines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self._answer_file.write(line)
            self._answer_file.write("\n")
            self.answers += 1

    def flush(self) -> None:
        for name, buffer in self._buffers.items():
            if buffer:
                self.conn.executemany(self._sql[name], buffer)
                self.counts[name] += len(buffer)
                buffer.clear()
        self._buffered = 0

    def close(self) -> None:
        self.flush()
        self.conn.execute("COMMIT")
        self.conn.close()
        self._doc_file.close()
        self._answer_file.close()

    def abort(self) -> None:
        """Close and remove the half-written files: a partial legacy system must not be used."""
        self.conn.close()
        self._doc_file.close()
        self._answer_file.close()
        for path in self._paths:
            path.unlink(missing_ok=True)

    def __enter__(self) -> LegacyWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
