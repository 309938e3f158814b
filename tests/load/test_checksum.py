"""Key checksums: the documented sum of row digests, the same from every engine."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import Dataset, build_dataset, write_staging

from load import checksum, migrate
from load.checksum import BatchChecksum, Checksums, batch_checksums
from load.loader import load_run
from load.reconcile import reconcile
from load.tables import key_columns, target_table


def _expected(ds: Dataset, table: str, batch: str) -> str:
    """BLAKE2b-128 of ``_row_hash`` and the keys as text joined by U+001F, summed mod 2**128."""
    keys = key_columns(target_table(table))
    total = 0
    for row in ds.rows(table):
        if row["_batch"] != batch:
            continue
        values = [row["_row_hash"], *(row[k] for k in keys)]
        text = "\x1f".join(v.isoformat() if isinstance(v, date) else str(v) for v in values)
        total += int.from_bytes(hashlib.blake2b(text.encode(), digest_size=16).digest(), "big")
    return f"{total % (1 << 128):032x}"


@pytest.mark.parametrize(
    ("table", "batch"),
    [
        pytest.param("task_rate", "_GLOBAL", id="composite-key-with-a-date"),
        pytest.param("credit_transaction", "MCIH", id="text-key"),
    ],
)
def test_checksums_of_staging_and_target_are_the_documented_sum(
    staging_url: str, target_url: str, dataset: Dataset, table: str, batch: str
) -> None:
    write_staging(staging_url, dataset)
    load_run(staging_url, target_url)
    report = reconcile(staging_url, target_url, compare="checksums")
    (line,) = [t for t in report.tables if (t.table, t.batch) == (table, batch)]
    want = _expected(dataset, table, batch)
    assert (line.staged_checksum, line.target_checksum) == (want, want)
    assert (
        line.staged == line.target == len([r for r in dataset.rows(table) if r["_batch"] == batch])
    )


@pytest.mark.parametrize(
    "wanted",
    [
        pytest.param({"ECI", "NONE"}, id="few-batches-read-by-batch"),
        pytest.param({"ECI", "MCIH", "NBCI"}, id="most-batches-read-whole"),
    ],
)
def test_checksums_of_wanted_batches_equal_those_of_a_whole_read(
    staging_url: str, wanted: set[str]
) -> None:
    ds = build_dataset(institutions=("ECI", "MCIH", "NBCI", "RCI", "WCI"))
    write_staging(staging_url, ds)
    engine = sa.create_engine(staging_url)
    xf = sa.Table("xf_credit_transaction", sa.MetaData(), autoload_with=engine)
    every = batch_checksums(engine, xf, ("txn_id",))
    some = batch_checksums(engine, xf, ("txn_id",), wanted)
    engine.dispose()
    assert sorted(every) == ["ECI", "MCIH", "NBCI", "RCI", "WCI"]
    assert some == {b: every[b] for b in sorted(wanted - {"NONE"})}
    expected = int(_expected(ds, "credit_transaction", "ECI"), 16)
    assert every["ECI"] == BatchChecksum(9, expected)


@pytest.mark.postgres
def test_checksums_do_not_depend_on_the_servers_date_style(
    staging_url: str, pg_url: str, dataset: Dataset
) -> None:
    migrate.upgrade(pg_url)
    write_staging(staging_url, dataset)
    day_first = f"{pg_url}?options=-c%20datestyle%3DSQL%2CDMY"
    engine = sa.create_engine(day_first)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT DATE '1990-01-31'::text").scalar_one() == "31/01/1990"
    engine.dispose()
    result = load_run(staging_url, day_first)
    assert result.reconciliation is not None
    assert result.reconciliation.ok
    (line,) = [t for t in result.reconciliation.tables if t.table == "task_rate"]
    assert line.target_checksum == _expected(dataset, "task_rate", "_GLOBAL")


def _server_digest(url: str, ds: Dataset, table: str, batch: str) -> str:
    """The documented engine checksum: per row, ``hashtextextended`` of the same text with seeds
    0 and 1 (asked of the server row by row), summed here: first * 2**64 + second, mod 2**128."""
    keys = key_columns(target_table(table))
    texts = [
        "\x1f".join(
            v.isoformat() if isinstance(v, date) else str(v)
            for v in (row["_row_hash"], *(row[k] for k in keys))
        )
        for row in ds.rows(table)
        if row["_batch"] == batch
    ]
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        pairs = [
            conn.execute(
                sa.text("SELECT hashtextextended(:t, 0), hashtextextended(:t, 1)"), {"t": t}
            ).one()
            for t in texts
        ]
    engine.dispose()
    total = (sum(p[0] for p in pairs) << 64) + sum(p[1] for p in pairs)
    return f"{total % (1 << 128):032x}"


@pytest.mark.postgres
def test_a_postgresql_pair_is_digested_by_the_servers_as_documented(
    pg_staging_url: str, pg_url: str, dataset: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate.upgrade(pg_url)
    write_staging(pg_staging_url, dataset)

    def hashed_in_python(*_: object) -> None:
        raise AssertionError("a PostgreSQL pair was digested in Python")

    monkeypatch.setattr(checksum, "_digest_sums", hashed_in_python)
    result = load_run(pg_staging_url, pg_url)
    assert result.reconciliation is not None
    assert result.reconciliation.ok
    fresh = reconcile(pg_staging_url, pg_url, compare="checksums")
    for table, batch in (("credit_transaction", "MCIH"), ("task_rate", "_GLOBAL")):
        (line,) = [t for t in fresh.tables if (t.table, t.batch) == (table, batch)]
        want = _server_digest(pg_url, dataset, table, batch)
        assert (line.staged_checksum, line.target_checksum) == (want, want)
        assert want != _expected(dataset, table, batch)


@pytest.mark.postgres
def test_a_postgresql_pair_finds_a_row_changed_in_the_target_and_puts_it_back(
    pg_staging_url: str, pg_url: str, dataset: Dataset
) -> None:
    migrate.upgrade(pg_url)
    write_staging(pg_staging_url, dataset)
    load_run(pg_staging_url, pg_url)
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE credit_transaction SET days = 99, _row_hash = 'edited' "
            "WHERE txn_id = 'T0002000012'"
        )
    engine.dispose()
    report = reconcile(pg_staging_url, pg_url)
    assert [(t.table, t.batch) for t in report.tables if not t.ok] == [
        ("credit_transaction", "MCIH")
    ]
    result = load_run(pg_staging_url, pg_url)
    assert [
        (b.batch, t.table, t.updated) for b in result.batches for t in b.tables if t.changed
    ] == [("MCIH", "credit_transaction", 1)]
    assert reconcile(pg_staging_url, pg_url).ok


@pytest.mark.postgres
def test_checksums_taken_another_way_are_not_reused(
    pg_staging_url: str, pg_url: str, dataset: Dataset
) -> None:
    migrate.upgrade(pg_url)
    write_staging(pg_staging_url, dataset)
    load_run(pg_staging_url, pg_url)
    # Python digests of another pair: comparing them with the servers' would fail every batch.
    python_digests = Checksums(
        staged={"credit_transaction": {"MCIH": BatchChecksum(9, 1)}}, in_engine=False
    )
    report = reconcile(pg_staging_url, pg_url, known=python_digests)
    assert report.ok
    (line,) = [t for t in report.tables if (t.table, t.batch) == ("credit_transaction", "MCIH")]
    assert line.staged_checksum == line.target_checksum != f"{1:032x}"


def _target(*, rowid: bool) -> sa.Table:
    return sa.Table(
        "t",
        sa.MetaData(),
        sa.Column("k", sa.Text, primary_key=True),
        sa.Column("v", sa.Text),
        sa.Column("_batch", sa.Text, nullable=False),
        sa.Column("_row_hash", sa.Text, nullable=False),
        sqlite_with_rowid=rowid,
    )


_XF = sa.Table(
    "xf_t",
    sa.MetaData(),
    sa.Column("k", sa.Text),
    sa.Column("v", sa.Text),
    sa.Column("_batch", sa.Text),
    sa.Column("_row_hash", sa.Text),
    schema="stg",
)
_STAGED = [(f"k{i}", f"v{i}", "AB"[i % 2], f"h{i}") for i in range(12)]


def _changed(rows: list[tuple[str | None, ...]], case: str) -> list[tuple[str | None, ...]]:
    """The target's rows for ``case``, made from the staged ones."""
    if case == "another hash in A":
        return [(k, v, b, "x" if k == "k4" else h) for k, v, b, h in rows]
    if case == "inserted in another order":
        return list(reversed(rows))
    if case == "a row of B missing":
        return [r for r in rows if r[0] != "k5"]
    if case == "moved to another batch":
        return [(k, v, "B" if k == "k2" else b, h) for k, v, b, h in rows]
    return rows


_CASES = [
    "the same rows",
    "another hash in A",
    "inserted in another order",
    "a row of B missing",
    "moved to another batch",
    "a key staged twice",
    "a key staged as NULL",
    "a key NULL on both sides",
]


@pytest.mark.parametrize(
    ("case", "rowid"),
    # The key of a table WITHOUT ROWID is never NULL.
    [(c, r) for r in (True, False) for c in _CASES if r or c != "a key NULL on both sides"],
)
def test_matching_a_first_load_by_rowid_finds_what_the_join_on_key_finds(
    tmp_path: Path, case: str, rowid: bool
) -> None:
    """A first load's rows compared first by rowid, then by key where any differ, give the
    counts of the join on key alone; when every row is the same, the join never runs."""
    staged = list(_STAGED)
    if case == "a key staged twice":
        staged.insert(3, staged[0])
    if case in {"a key staged as NULL", "a key NULL on both sides"}:
        staged[6] = (None, *staged[6][1:])
    both = case == "a key NULL on both sides"
    target = [r for r in _changed(staged, case) if r[0] is not None or both]
    target = [r for i, r in enumerate(target) if r[0] not in {x[0] for x in target[:i]}]
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'target.db'}")
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a, **_k: statements.append(a[2]))
    without = "" if rowid else " WITHOUT ROWID"
    with engine.connect() as conn:
        conn.exec_driver_sql(f"ATTACH DATABASE '{tmp_path / 'staging.db'}' AS stg")
        conn.exec_driver_sql("CREATE TABLE stg.xf_t (k TEXT, v TEXT, _batch TEXT, _row_hash TEXT)")
        conn.exec_driver_sql(
            f"CREATE TABLE t (k TEXT PRIMARY KEY{'' if both else ' NOT NULL'}, v TEXT, "
            "_batch TEXT NOT NULL, "
            f"_row_hash TEXT NOT NULL){without}"
        )
        conn.exec_driver_sql("INSERT INTO stg.xf_t VALUES (?, ?, ?, ?)", staged)
        conn.exec_driver_sql("INSERT INTO t VALUES (?, ?, ?, ?)", target)
        table = _target(rowid=rowid)
        for wanted in (None, {"A"}):
            joined = checksum.batch_matches(conn, table, _XF, ("k",), wanted)
            statements.clear()
            by_rowid = checksum.batch_matches(
                conn, table, _XF, ("k",), wanted, in_staged_order=True
            )
            assert by_rowid == joined
            key_join = [s for s in statements if "JOIN t ON t.k" in s]
            assert bool(key_join) == (not rowid or case != "the same rows"), statements
    engine.dispose()
