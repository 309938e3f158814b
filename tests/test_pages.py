"""The SQLite files cutover creates get 64 KiB pages; a file made before keeps its own."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import sqlalchemy as sa

from cutover.pages import PAGE_SIZE, large_pages
from load import upgrade
from load.engine import create_target_engine


def _page_size(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("PRAGMA page_size").fetchone()[0])


def test_a_new_database_gets_large_pages_one_with_a_table_keeps_its_own(tmp_path: Path) -> None:
    with closing(sqlite3.connect(tmp_path / "new.db")) as conn:
        large_pages(conn)
        conn.execute("CREATE TABLE t (a)")
        conn.commit()
    assert _page_size(tmp_path / "new.db") == PAGE_SIZE
    with closing(sqlite3.connect(tmp_path / "old.db")) as conn:
        conn.execute("CREATE TABLE t (a)")
        conn.execute("INSERT INTO t VALUES (1)")
        conn.commit()
        large_pages(conn)
        conn.execute("CREATE TABLE u (b)")
        conn.commit()
        assert conn.execute("SELECT a FROM t").fetchall() == [(1,)]
    assert _page_size(tmp_path / "old.db") == 4096


def test_a_target_made_by_the_migrations_has_large_pages(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'target.db'}"
    upgrade(url)
    assert _page_size(tmp_path / "target.db") == PAGE_SIZE
    engine = create_target_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM person")).scalar_one() == 0
    engine.dispose()
