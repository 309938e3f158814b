"""Real drivers: ODBC (SQLite3 and PostgreSQL Unicode) and PostgreSQL as source and staging.

Each path must stage the same raw values as the SQLAlchemy read of the SQLite fixture, which the
per-table checksums (order-independent) prove without comparing rows one by one.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from extract_helpers import copy_legacy_to, staged

from cutover.errors import ExtractError
from cutover.runs import list_runs, start_run
from cutover.settings import Settings
from extract import RetryPolicy, Staging, extract_sources, stage_table, verify_sources
from extract.base import Checkpoint, Column, TableInfo, open_source
from extract.hashing import Fingerprint, combine, row_digest

FAST = RetryPolicy(attempts=2, base_delay=0.01)


def _checksums(settings: Settings) -> dict[str, tuple[int, str, str]]:
    with start_run(settings, "extract", actor="tester") as run:
        results = extract_sources(settings, run=run, policy=FAST, chunk_rows=128)
    return {r.table.upper(): (r.rows, r.checksum, r.status) for r in results}


@pytest.fixture
def reference(legacy_settings: Settings) -> dict[str, tuple[int, str, str]]:
    return _checksums(legacy_settings)


@pytest.mark.odbc
def test_sqlite_odbc_driver_stages_what_sqlalchemy_stages(
    sqlite_odbc_driver: str,
    legacy_db: Path,
    make_workspace: Callable[..., Settings],
    reference: dict[str, tuple[int, str, str]],
) -> None:
    settings = make_workspace(
        {
            "obscis": {
                "kind": "odbc",
                "connection_string": f"DRIVER={{{sqlite_odbc_driver}}};Database={legacy_db}",
            }
        }
    )
    assert _checksums(settings) == reference
    again = _checksums(settings)
    assert {status for _, _, status in again.values()} == {"unchanged"}
    assert all(v.ok for v in verify_sources(settings, policy=FAST, chunk_rows=128))
    keys = [r[-2] for r in staged(settings, "stg_obscis_inst_tsk")]
    assert keys[0] == "ECI |KITCH"  # composite key found through SQLPrimaryKeys


def _odbc_for(pg_odbc_connection_string: str, pg_url: str) -> str:
    database = pg_url.rsplit("/", 1)[1]
    return re.sub(r"DATABASE=[^;]*", f"DATABASE={database}", pg_odbc_connection_string)


@pytest.mark.odbc
@pytest.mark.postgres
def test_postgresql_odbc_driver_stages_what_sqlalchemy_stages_from_sqlite(
    pg_odbc_connection_string: str,
    pg_url: str,
    legacy_db: Path,
    make_workspace: Callable[..., Settings],
    reference: dict[str, tuple[int, str, str]],
) -> None:
    copy_legacy_to(pg_url, legacy_db)
    conn = _odbc_for(pg_odbc_connection_string, pg_url)
    settings = make_workspace(
        {"obscis": {"kind": "odbc", "connection_string": conn, "keys": {"LBR_LOG": []}}}
    )
    got = _checksums(settings)
    assert {k: v[:2] for k, v in got.items()} == {k: v[:2] for k, v in reference.items()}
    assert all(v.ok for v in verify_sources(settings, policy=FAST, chunk_rows=128))


@pytest.mark.postgres
def test_postgresql_source_and_staging_and_ledger(
    pg_url: str,
    legacy_db: Path,
    make_workspace: Callable[..., Settings],
    reference: dict[str, tuple[int, str, str]],
) -> None:
    copy_legacy_to(pg_url, legacy_db)
    settings = make_workspace(
        {"obscis": {"kind": "sqlalchemy", "url": pg_url, "tables": sorted(reference)}},
        staging_url=pg_url,
        control_url=pg_url,
    )
    got = _checksums(settings)
    assert {k: v[:2] for k, v in got.items()} == {k: v[:2] for k, v in reference.items()}
    assert {status for _, _, status in _checksums(settings).values()} == {"unchanged"}
    assert all(v.ok for v in verify_sources(settings, policy=FAST, chunk_rows=128))
    rows = staged(settings, "stg_obscis_offndr")
    assert rows[0][2].endswith(" ")  # CHAR padding kept through COPY
    runs = list_runs(settings, kind="extract")
    assert len(runs) == 2
    assert all(r["outcome"] == "succeeded" and len(r["source_checksums"]) == 4 for r in runs)


@pytest.mark.postgres
@pytest.mark.parametrize(("table", "keys"), [("CR_TXN", None), ("LBR_LOG", [])])
def test_postgresql_source_reads_in_chunks_and_resumes_after_a_checkpoint(
    pg_url: str,
    legacy_db: Path,
    make_workspace: Callable[..., Settings],
    table: str,
    keys: list[str] | None,
) -> None:
    """The driver's server-side cursor yields bounded chunks, and a read resumed after a
    checkpoint (by key for a keyed table, by position for a keyless one) yields exactly the
    rows after it."""
    copy_legacy_to(pg_url, legacy_db)
    options: dict[str, object] = {"kind": "sqlalchemy", "url": pg_url}
    if keys is not None:
        options["keys"] = {table: keys}
    settings = make_workspace({"obscis": options})
    source = open_source("obscis", settings.source("obscis"))
    try:
        info = source.describe(table)
        chunks = list(source.read(info, chunk_rows=64))
        rows = [row for chunk in chunks for row in chunk]
        assert len(rows) > 200
        assert all(len(chunk) == 64 for chunk in chunks[:-1])
        assert 0 < len(chunks[-1]) <= 64
        assert all(isinstance(row, tuple) for row in rows)
        key_at = (rows[199][0],) if info.key else None
        after = Checkpoint(200, key_at)
        rest = [row for chunk in source.read(info, chunk_rows=64, after=after) for row in chunk]
    finally:
        source.close()
    assert rest == rows[200:]


@pytest.mark.postgres
def test_postgresql_source_read_errors_name_the_source_and_table(
    pg_url: str, make_workspace: Callable[..., Settings]
) -> None:
    """A driver error raised while fetching from the cursor is the project's error, not
    psycopg's, so the retry policy and the message work as for any other source."""
    settings = make_workspace({"obscis": {"kind": "sqlalchemy", "url": pg_url}})
    source = open_source("obscis", settings.source("obscis"))
    gone = TableInfo("NO_SUCH_TABLE", (Column("ID"),), ("ID",))
    try:
        with pytest.raises(ExtractError, match="NO_SUCH_TABLE") as raised:
            list(source.read(gone, chunk_rows=10))
    finally:
        source.close()
    assert "obscis" in str(raised.value)


class _Rows:
    """A source of one table, ``T`` (key ``K``, value ``V``, both declared text), from a list."""

    name = "mem"

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def tables(self) -> list[str]:
        return ["T"]

    def describe(self, table: str) -> TableInfo:
        return TableInfo(table, (Column("K"), Column("V")), ("K",))

    def read(
        self, _table: TableInfo, *, chunk_rows: int, after: Checkpoint | None = None
    ) -> Iterator[Sequence[Any]]:
        start = after.position if after is not None else 0
        for i in range(start, len(self.rows), chunk_rows):
            yield self.rows[i : i + chunk_rows]

    def close(self) -> None:
        pass


def _stage_rows(settings: Settings, rows: list[tuple[Any, ...]]) -> Any:
    source = _Rows(rows)
    staging = Staging(settings.staging.url.get_secret_value())
    try:
        return stage_table(staging, source, source.describe("T"), run_id="r", chunk_rows=100)
    finally:
        staging.dispose()


@pytest.mark.postgres
def test_postgresql_staging_stores_a_value_that_is_not_text_in_a_text_column_as_before(
    pg_url: str, make_workspace: Callable[..., Settings]
) -> None:
    """Text columns are written through psycopg's text dumper without a lookup per value; a
    chunk holding something else (an integer or a date, which SQLite keeps in a column declared
    text) is rolled back and written value by value, as every chunk was before, and nothing is
    lost or staged twice."""
    settings = make_workspace({}, staging_url=pg_url, control_url=pg_url)
    odd = dt.date(2003, 2, 28)
    rows: list[tuple[Any, ...]] = [(f"K{i:04d}", f"v{i}") for i in range(300)]
    rows[150] = ("K0150", odd)
    rows[250] = ("K0250", 7)
    result = _stage_rows(settings, rows)
    expected = [(k, str(v)) for k, v in rows]  # a date as PostgreSQL writes it, ISO
    assert [r[:2] for r in staged(settings, "stg_mem_t")] == expected
    assert [r[3] for r in staged(settings, "stg_mem_t")] == list(range(300))
    fp = Fingerprint.of(300, combine(0, sum(row_digest(r) for r in rows)))
    assert (result.rows, result.checksum) == (fp.rows, fp.checksum)


@pytest.mark.postgres
def test_postgresql_staging_refusing_a_chunk_leaves_the_chunks_before_it_and_their_checkpoint(
    pg_url: str, make_workspace: Callable[..., Settings]
) -> None:
    """Chunks are written by a thread while the next is hashed: a chunk the staging database
    refuses (a NUL character) stops the copy with the chunks before it committed with their
    checkpoint, none after it, and no reading or writing thread left running."""
    settings = make_workspace({}, staging_url=pg_url, control_url=pg_url)
    rows: list[tuple[Any, ...]] = [(f"K{i:04d}", f"v{i}") for i in range(600)]
    rows[250] = ("K0250", "a\x00b")
    with pytest.raises(ExtractError, match="positions 200-299"):
        _stage_rows(settings, rows)
    assert [r[0] for r in staged(settings, "stg_mem_t")] == [k for k, _ in rows[:200]]
    staging = Staging(settings.staging.url.get_secret_value())
    checkpoint = staging.checkpoint("stg_mem_t")
    staging.dispose()
    assert checkpoint is not None
    assert (checkpoint.position, checkpoint.last_key) == (200, ("K0199",))
    assert not [t for t in threading.enumerate() if t.name.startswith(("extract-", "fingerprint"))]
