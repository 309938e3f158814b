"""The engine's own limit: copy every table of a SQLite database into another file with
``INSERT ... SELECT`` across attached databases, no transformation, no Python per row.

Usage: python -m tests.benchmarks.rawcopy SOURCE.db DEST.db
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path


def raw_copy(source: Path, dest: Path) -> int:
    """Copy all tables; return the number of rows copied."""
    dest.unlink(missing_ok=True)
    conn = sqlite3.connect(dest)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("ATTACH DATABASE ? AS src", (str(source),))
        tables = [
            (name, sql)
            for name, sql in conn.execute(
                "SELECT name, sql FROM src.sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        total = 0
        conn.execute("BEGIN")
        for name, sql in tables:
            conn.execute(sql)  # the same DDL, in the destination's main schema
            cur = conn.execute(f'INSERT INTO main."{name}" SELECT * FROM src."{name}"')
            total += cur.rowcount
        conn.execute("COMMIT")
        return total
    finally:
        conn.close()


if __name__ == "__main__":
    rows = raw_copy(Path(sys.argv[1]), Path(sys.argv[2]))
    sys.stdout.write(f"{rows}\n")
