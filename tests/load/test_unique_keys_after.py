"""On PostgreSQL a first load builds each table's unique keys after its rows are in, unless a
foreign key names them; the target ends with every key as its migrations made it."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from conftest import Dataset, write_staging

from load import batch as load_batch
from load import migrate
from load.loader import load_run

pytestmark = pytest.mark.postgres

# Every unique index of the public tables: its table, name and definition (the constraint's
# where there is one), and whether a foreign key names it.
_UNIQUE = """
    SELECT t.relname, x.relname,
           coalesce(pg_get_constraintdef(c.oid), pg_get_indexdef(i.indexrelid)),
           EXISTS (SELECT 1 FROM pg_constraint f
                   WHERE f.contype = 'f' AND f.conindid = i.indexrelid)
    FROM pg_index i
    JOIN pg_class t ON t.oid = i.indrelid
    JOIN pg_class x ON x.oid = i.indexrelid
    LEFT JOIN pg_constraint c
           ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u')
    WHERE i.indisunique AND t.relnamespace = 'public'::regnamespace
    ORDER BY 1, 2
"""


def _unique(conn: sa.Connection) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in conn.exec_driver_sql(_UNIQUE)]


@pytest.mark.parametrize("named", [False, True], ids=["first-load-together", "batch-by-batch"])
def test_a_first_load_builds_the_unique_keys_no_foreign_key_names_after_the_rows(
    staging_url: str,
    pg_url: str,
    dataset: Dataset,
    monkeypatch: pytest.MonkeyPatch,
    named: bool,
) -> None:
    migrate.upgrade(pg_url)
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        before = _unique(conn)
    engine.dispose()
    write_staging(staging_url, dataset)
    # The unique indexes each table has while its rows are copied in.
    during: dict[str, set[str]] = {}
    original = load_batch.copy_batch

    def spy(conn: sa.Connection, dest: sa.Table, *args: Any, **kwargs: Any) -> int:
        now = {index for table, index, *_ in _unique(conn) if table == dest.name}
        during[dest.name] = during.get(dest.name, now) & now
        return original(conn, dest, *args, **kwargs)

    monkeypatch.setattr(load_batch, "copy_batch", spy)
    result = load_run(staging_url, pg_url, batches=["_GLOBAL", "ECI", "MCIH"] if named else None)
    assert (result.together_seconds is None) == named
    assert result.reconciliation is not None
    assert result.reconciliation.ok
    assert "credit_transaction" in during
    assert "person" in during
    for table, indexes in during.items():
        named_by_a_key = {i for t, i, _d, named_by in before if t == table and named_by}
        kept = {i for t, i, *_ in before if t == table} if named else named_by_a_key
        assert indexes == kept, table
    # The ledger's key was built after its rows; the person's, which foreign keys name, stayed.
    assert ("pk_credit_transaction" in during["credit_transaction"]) == named
    assert "pk_person" in during["person"]
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        assert _unique(conn) == before
    engine.dispose()
