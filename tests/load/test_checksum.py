"""Key checksums: the documented sum of row digests, the same from every engine."""

from __future__ import annotations

import hashlib
from datetime import date

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
