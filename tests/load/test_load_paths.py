"""Every path a batch can take ends in the same target.

A batch the target does not hold yet is one bulk insert per table; a batch it holds is compared
with staging; a table whose rows of a batch already match staging is left alone. Rows move by
``INSERT ... SELECT`` across attached SQLite files, by ``COPY`` into PostgreSQL, or by chunked
inserts otherwise.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import Dataset, build_dataset, count_rows, snapshot, write_staging

from cutover.errors import LoadError
from load import batch as batch_module
from load import loader, migrate, transfer
from load.engine import create_target_engine
from load.loader import LoadResult, load_run
from load.reconcile import reconcile
from load.tables import load_order

#: Engine-independent behaviour is proved on SQLite only, to keep the suite fast.
sqlite_only = pytest.mark.parametrize("target_url", ["sqlite"], indirect=True)

MOVED = "000200001"


def _changes(result: LoadResult) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(batch, table) -> (inserted, updated, deleted), for the tables the load changed."""
    return {
        (b.batch, t.table): (t.inserted, t.updated, t.deleted)
        for b in result.batches
        for t in b.tables
        if t.changed
    }


def _newer_run(ds: Dataset) -> Dataset:
    """A later transform output: one row changed, one gone, one new, one person moved to a new
    batch that sorts before the one the target holds them under."""
    ds.new_run("run-2")
    ds.find("credit_transaction", txn_id="T0001000011")["days"] = 7
    ds.tables["credit_transaction"].remove(ds.find("credit_transaction", txn_id="T0001000012"))
    new = dict(ds.find("credit_transaction", txn_id="T0001000013"))
    new.update(txn_id="T0001000014", _source_key="T0001000014")
    ds.tables["credit_transaction"].append(new)
    for rows in ds.tables.values():
        for row in rows:
            if row.get("person_id") == MOVED:
                row["_batch"] = "ABC"
    return ds


def _execute(url: str, sql: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


@pytest.fixture
def streamed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Never attach the staging file: SQLite to SQLite takes the chunked-insert path."""
    monkeypatch.setattr(loader, "attachable", lambda *_: None)


def _reference(tmp_path: Path, ds: Dataset) -> tuple[dict[str, list[tuple[Any, ...]]], ...]:
    """Snapshots after a first load and after a newer run, by the attached SQLite path."""
    staging = f"sqlite:///{tmp_path / 'ref_staging.db'}"
    target = f"sqlite:///{tmp_path / 'ref_target.db'}"
    migrate.upgrade(target)
    write_staging(staging, ds)
    load_run(staging, target)
    first = snapshot(target)
    write_staging(staging, _newer_run(ds))
    load_run(staging, target)
    return first, snapshot(target)


@sqlite_only
def test_attached_and_streamed_sqlite_loads_give_the_same_target(
    staging_url: str, target_url: str, tmp_path: Path, streamed: None
) -> None:
    first, newer = _reference(tmp_path, build_dataset())
    ds = build_dataset()
    write_staging(staging_url, ds)
    load_run(staging_url, target_url, chunk_rows=4)
    assert snapshot(target_url) == first
    write_staging(staging_url, _newer_run(ds))
    result = load_run(staging_url, target_url, chunk_rows=4)
    assert snapshot(target_url) == newer
    assert result.reconciliation is not None
    assert result.reconciliation.ok


@pytest.mark.postgres
def test_copy_into_postgresql_gives_the_same_target_as_sqlite(
    staging_url: str, pg_url: str, tmp_path: Path
) -> None:
    first, newer = _reference(tmp_path, build_dataset())
    migrate.upgrade(pg_url)
    ds = build_dataset()
    write_staging(staging_url, ds)
    load_run(staging_url, pg_url, chunk_rows=4)
    assert snapshot(pg_url) == first
    write_staging(staging_url, _newer_run(ds))
    load_run(staging_url, pg_url, chunk_rows=4)
    assert snapshot(pg_url) == newer


@pytest.mark.postgres
def test_postgresql_staging_into_postgresql_target_gives_the_same_target(
    pg_staging_url: str, pg_url: str, tmp_path: Path
) -> None:
    first, newer = _reference(tmp_path, build_dataset())
    migrate.upgrade(pg_url)
    ds = build_dataset()
    write_staging(pg_staging_url, ds)
    result = load_run(pg_staging_url, pg_url, chunk_rows=4)
    assert snapshot(pg_url) == first
    assert result.reconciliation is not None
    assert result.reconciliation.ok
    write_staging(pg_staging_url, _newer_run(ds))
    load_run(pg_staging_url, pg_url, chunk_rows=4)
    assert snapshot(pg_url) == newer
    assert load_run(pg_staging_url, pg_url).changed == 0


@pytest.mark.postgres
def test_postgresql_to_postgresql_moves_binary_copy_data_not_rows(
    pg_staging_url: str, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_rows(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("rows were read into Python")

    monkeypatch.setattr(transfer, "select_chunks", no_rows)
    migrate.upgrade(pg_url)
    ds = build_dataset()
    write_staging(pg_staging_url, ds)
    result = load_run(pg_staging_url, pg_url)
    assert result.reconciliation is not None
    assert result.reconciliation.ok
    assert sum(t.inserted for b in result.batches for t in b.tables) == sum(
        len(rows) for rows in ds.tables.values()
    )


def test_new_batch_takes_over_keys_the_target_holds_under_another_batch(
    staging_url: str, target_url: str, dataset: Dataset
) -> None:
    write_staging(staging_url, dataset)
    load_run(staging_url, target_url)
    write_staging(staging_url, _newer_run(dataset))

    result = load_run(staging_url, target_url)
    changes = _changes(result)
    # The new batch's bulk insert meets keys held under MCIH: they are moved, not duplicated.
    assert changes[("ABC", "person")] == (0, 1, 0)
    assert changes[("ABC", "commitment")] == (0, 2, 0)
    assert changes[("ABC", "credit_transaction")] == (0, 3, 0)
    assert changes[("ECI", "credit_transaction")] == (1, 1, 1)
    assert not [key for key in changes if key[0] == "MCIH"]
    assert result.reconciliation is not None
    assert result.reconciliation.ok
    moved = f"FROM credit_transaction WHERE person_id = '{MOVED}'"
    assert count_rows(target_url, f"SELECT count(*) {moved}") == 3
    assert count_rows(target_url, f"SELECT count(*) {moved} AND _batch = 'ABC'") == 3
    assert load_run(staging_url, target_url).changed == 0


@pytest.mark.parametrize(
    ("column", "value"),
    [("credit_type", "XX"), ("commitment_id", "C9999999")],
    ids=["check-constraint", "no-parent-row"],
)
def test_first_load_of_a_batch_refuses_a_broken_row_naming_batch_and_table(
    staging_url: str, target_url: str, dataset: Dataset, column: str, value: str
) -> None:
    dataset.find("credit_transaction", txn_id="T0002000001")[column] = value
    write_staging(staging_url, dataset)
    with pytest.raises(LoadError) as caught:
        load_run(staging_url, target_url)
    assert caught.value.context["batch"] == "MCIH"
    assert caught.value.context["table"] == "credit_transaction"
    assert count_rows(target_url, "SELECT count(*) FROM person WHERE _batch = 'MCIH'") == 0
    assert count_rows(target_url, "SELECT count(*) FROM credit_transaction") == 9
    assert count_rows(target_url, "SELECT count(*) FROM institution") == 2
    # The first load of every batch at once was refused and rolled back, its indexes with it.
    assert "ix_credit_transaction_person_id" in {
        name for name, _cols, _unique in _indexes(target_url)["credit_transaction"]
    }


def test_rows_changed_in_the_target_outside_the_load_are_put_back(
    staging_url: str, target_url: str, dataset: Dataset
) -> None:
    write_staging(staging_url, dataset)
    load_run(staging_url, target_url)
    before = snapshot(target_url)
    _execute(target_url, "DELETE FROM credit_transaction WHERE txn_id = 'T0001000011'")
    _execute(
        target_url,
        "UPDATE credit_transaction SET days = 99, _row_hash = 'edited' "
        "WHERE txn_id = 'T0002000012'",
    )
    result = load_run(staging_url, target_url)
    assert _changes(result) == {
        ("ECI", "credit_transaction"): (1, 0, 0),
        ("MCIH", "credit_transaction"): (0, 1, 0),
    }
    assert snapshot(target_url) == before


@sqlite_only
def test_load_reports_the_same_reconciliation_as_a_fresh_one(
    staging_url: str, target_url: str, dataset: Dataset
) -> None:
    write_staging(staging_url, dataset)
    load_run(staging_url, target_url)
    write_staging(staging_url, _newer_run(dataset))
    result = load_run(staging_url, target_url)
    assert result.reconciliation is not None
    batches = [b.batch for b in result.batches]
    fresh = reconcile(staging_url, target_url, batches=batches)
    assert result.reconciliation.to_json() == fresh.to_json()
    assert {t.table for t in fresh.tables} >= {"person", "credit_transaction", "task_rate"}


@sqlite_only
@pytest.mark.parametrize("before", ["none", "batch only"])
def test_load_indexes_the_transform_output_by_batch_and_key(
    staging_url: str, target_url: str, dataset: Dataset, before: str
) -> None:
    write_staging(staging_url, dataset)
    engine = sa.create_engine(staging_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_xf_credit_transaction__batch")
        if before == "batch only":  # what an earlier version made
            conn.exec_driver_sql(
                "CREATE INDEX ix_xf_credit_transaction__batch ON xf_credit_transaction (_batch)"
            )
    load_run(staging_url, target_url)
    indexes = sa.inspect(engine).get_indexes("xf_credit_transaction")
    engine.dispose()
    assert [i["column_names"] for i in indexes] == [["_batch", "txn_id"]]


@sqlite_only
@pytest.mark.parametrize("rebuilt", [False, True])
def test_only_a_rebuilt_target_is_opened_as_disposable(
    staging_url: str,
    target_url: str,
    dataset: Dataset,
    monkeypatch: pytest.MonkeyPatch,
    rebuilt: bool,
) -> None:
    write_staging(staging_url, dataset)
    opened: list[str] = []
    real = loader.disposable

    def spy(engine: sa.Engine) -> sa.Engine:
        opened.append(str(engine.url.database))
        return real(engine)

    monkeypatch.setattr(loader, "disposable", spy)
    result = load_run(staging_url, target_url, rebuilt=rebuilt)
    assert result.reconciliation is not None
    assert result.reconciliation.ok
    staging_file, target_file = (sa.make_url(u).database for u in (staging_url, target_url))
    assert opened == ([staging_file, target_file] if rebuilt else [staging_file])


def test_a_first_load_is_one_transaction_and_leaves_what_batch_by_batch_leaves(
    staging_url: str,
    target_url: str,
    dataset: Dataset,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_staging(staging_url, dataset)

    def by_batch(*_: object, **__: object) -> None:
        raise AssertionError("a first load of every batch went batch by batch")

    with monkeypatch.context() as patched:
        patched.setattr(loader, "_load_batch", by_batch)
        together = load_run(staging_url, target_url)
    assert together.together_seconds is not None
    assert together.reconciliation is not None
    assert together.reconciliation.ok
    # The same load batch by batch (naming the batches takes that path), into another target.
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    migrate.upgrade(reference)
    one_by_one = load_run(staging_url, reference, batches=[b.batch for b in together.batches])
    assert one_by_one.together_seconds is None
    assert snapshot(target_url) == snapshot(reference)
    assert [(b.batch, b.tables) for b in together.batches] == [
        (b.batch, b.tables) for b in one_by_one.batches
    ]
    assert together.changed == sum(len(rows) for rows in snapshot(reference).values())
    # The indexes dropped for the insert are all back.
    assert _indexes(target_url) == _indexes(reference)
    if target_url.startswith("postgresql"):
        analyzed = "SELECT count(*) FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL"
        assert count_rows(target_url, analyzed) >= len(together.batches[0].tables)
    # A second load finds the rows there: batch by batch, and nothing to write.
    again = load_run(staging_url, target_url)
    assert again.together_seconds is None
    assert again.changed == 0


def _indexes(url: str) -> dict[str, list[tuple[str, tuple[str, ...], bool]]]:
    """Every target table's indexes: name, columns, unique."""
    engine = sa.create_engine(url)
    found = sa.inspect(engine)
    out = {
        t.name: sorted(
            (str(i["name"]), tuple(str(c) for c in i["column_names"]), bool(i["unique"]))
            for i in found.get_indexes(t.name)
        )
        for t in load_order()
    }
    engine.dispose()
    return out


@sqlite_only
@pytest.mark.parametrize("named", [False, True], ids=["first-load-together", "batch-by-batch"])
def test_a_first_sqlite_load_checks_foreign_keys_per_table_not_per_row(
    staging_url: str, target_url: str, dataset: Dataset, named: bool
) -> None:
    """SQLite checks a foreign key row by row unless told not to, which only a connection with
    no transaction open can be: the first load's is, and each table is then checked once, after
    its insert. A load batch by batch keeps the per-row checks."""
    write_staging(staging_url, dataset)
    enforced: list[int] = []
    copied: list[sa.Table] = []
    checks: list[str] = []
    copy = transfer.copy_batch

    def spy(target: sa.Connection, dest: sa.Table, *args: Any, **kwargs: Any) -> int:
        enforced.append(target.exec_driver_sql("PRAGMA foreign_keys").scalar_one())
        copied.append(dest)
        return copy(target, dest, *args, **kwargs)

    def statement(_c: Any, _cur: Any, sql: str, *_rest: Any) -> None:
        if sql.startswith("SELECT 1 FROM (SELECT DISTINCT"):
            checks.append(sql.split(" FROM ")[2].split(maxsplit=1)[0])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(batch_module, "copy_batch", spy)
        sa.event.listen(sa.Engine, "before_cursor_execute", statement)
        try:
            result = load_run(
                staging_url, target_url, batches=["_GLOBAL", "ECI", "MCIH"] if named else None
            )
        finally:
            sa.event.remove(sa.Engine, "before_cursor_execute", statement)
    assert (result.together_seconds is None) == named
    assert set(enforced) == ({1} if named else {0})
    # One query per foreign key of each table, over the values its rows name.
    keyed = Counter({t.name: len(t.foreign_key_constraints) for t in copied})
    assert Counter(checks) == (Counter() if named else +keyed)
    assert result.reconciliation is not None
    assert result.reconciliation.ok
    # The connection went back to the pool enforcing foreign keys again.
    engine = create_target_engine(target_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("named", [False, True], ids=["first-load", "batch-by-batch"])
def test_postgresql_first_load_indexes_staging_and_validates_keys_beside_the_work(
    pg_staging_url: str,
    pg_url: str,
    dataset: Dataset,
    monkeypatch: pytest.MonkeyPatch,
    named: bool,
) -> None:
    """A first load reads each xf_ table whole: its batch index is built by another thread
    meanwhile, ready before the reconciliation; the foreign keys are validated while the
    reconciliation reads. A load of named batches reads by batch: the index is built first."""
    write_staging(pg_staging_url, dataset)
    migrate.upgrade(pg_url)
    engine = sa.create_engine(pg_staging_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_xf_credit_transaction__batch")
    events: list[tuple[str, bool]] = []
    index_batches, validate, rec = loader._index_batches, loader.validate_foreign_keys, reconcile

    def spy(name: str, real: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            events.append((f"{name} starts", threading.current_thread() is threading.main_thread()))
            try:
                return real(*args, **kwargs)
            finally:
                events.append((f"{name} ends", True))

        return wrapped

    monkeypatch.setattr(loader, "_index_batches", spy("index", index_batches))
    monkeypatch.setattr(loader, "validate_foreign_keys", spy("validate", validate))
    monkeypatch.setattr(loader, "reconcile", spy("reconcile", rec))
    result = load_run(pg_staging_url, pg_url, batches=["_GLOBAL", "ECI", "MCIH"] if named else None)
    assert result.reconciliation is not None
    assert result.reconciliation.ok
    indexes = sa.inspect(engine).get_indexes("xf_credit_transaction")
    engine.dispose()
    assert [i["column_names"] for i in indexes] == [["_batch", "txn_id"]]
    starts = {name: main for name, main in events if name.endswith("starts")}
    assert starts == {"index starts": named, "validate starts": False, "reconcile starts": True}
    order = [name for name, _ in events]
    assert order.index("index ends") < order.index("reconcile starts")


def test_copy_data_is_relayed_whole_in_pieces_of_about_a_megabyte() -> None:
    rows = [bytes([i % 251]) * (1000 + i % 7) for i in range(3000)]
    written: list[bytearray] = []
    transfer.relay(iter(rows), written.append)
    assert b"".join(written) == b"".join(rows)
    assert len(written) == 3
    assert all(transfer.RELAY_BYTES <= len(w) < transfer.RELAY_BYTES + 1007 for w in written[:-1])
    assert 0 < len(written[-1]) < transfer.RELAY_BYTES
    assert len({id(w) for w in written}) == len(written)  # a writer may keep what it was given
    nothing: list[bytearray] = []
    transfer.relay(iter(()), nothing.append)
    assert nothing == []
