"""The page size of the SQLite files cutover creates: 64 KiB, where SQLite's default is 4 KiB.

SQLite reads and writes a database file a page at a time, one system call per page it does not
hold in its own cache. A run moves gigabytes through SQLite files that it creates itself:
staging (the extract writes it, the transform reads it and writes its ``xf_`` tables), the parts
worker processes fill beside it (the extract's and the transform's), and the target a dry run
loads. With 4 KiB pages that is a quarter of a million system calls per gigabyte, each copying a
page between SQLite and the operating system's cache, and the kernel's share of the run grew
with the files (the ledger's values statement in a transform worker, alone on this machine:
5.7 us per row over 1 million rows, 6.2 us over 4 million; 8.2 us over a whole dry run's part of
7 million rows at 100,000 offenders).

Measured at 100,000 offenders (16 million legacy rows), one dry run each way in turn on this
machine: 363.0 and 371.8 s with 64 KiB pages against 418.7 s with 4 KiB (and 439 s earlier the
same morning); the kernel's share of the CPU 7.8% and 6.3% against 9.6% and 12.5%. The extract
alone, into a new staging file: 31.6 s against 38.1 s, its system time 3.2 s against 10.4 s.

The size applies to a database that has no table yet; SQLite keeps the page size of a file that
has one (changing it takes a ``VACUUM``), so a workspace made before keeps its pages until it is
made anew. PostgreSQL is not concerned.
"""

from __future__ import annotations

import sqlite3

__all__ = ["PAGE_SIZE", "large_pages"]

#: The page size, in bytes, of the SQLite files cutover creates (SQLite's largest).
PAGE_SIZE = 65_536


def large_pages(connection: sqlite3.Connection, schema: str = "main") -> None:
    """Give the database ``schema`` of ``connection`` pages of :data:`PAGE_SIZE` bytes if it has
    no table yet; a database that has one keeps its size."""
    connection.execute(f"PRAGMA {schema}.page_size = {PAGE_SIZE}")
