"""On PostgreSQL a bulk insert checks each foreign key once for the batch, not once per row, and
the target ends with every foreign key valid; a row with no parent still refuses its batch."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from conftest import Dataset, count_rows, write_staging

from cutover.errors import LoadError
from load import constraints, migrate
from load.loader import load_run

pytestmark = pytest.mark.postgres

_FOREIGN_KEYS = (
    "SELECT conrelid::regclass::text, conname, convalidated FROM pg_constraint "
    "WHERE contype = 'f' AND connamespace = 'public'::regnamespace ORDER BY 1, 2"
)


def _foreign_keys(url: str) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.exec_driver_sql(_FOREIGN_KEYS)]
    finally:
        engine.dispose()


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str | None]]:
    """Records each per-batch check: (table, constraint, batch; None for every batch)."""
    seen: list[tuple[str, str, str | None]] = []
    original = constraints._unmatched

    def spy(conn: sa.Connection, table: str, fk: Any, batch: str | None) -> bool:
        seen.append((table, fk.name, batch))
        return original(conn, table, fk, batch)

    monkeypatch.setattr(constraints, "_unmatched", spy)
    return seen


@pytest.mark.parametrize("named", [False, True], ids=["first-load-together", "batch-by-batch"])
def test_bulk_load_checks_each_foreign_key_once_per_load_or_batch_and_ends_valid(
    staging_url: str,
    pg_url: str,
    dataset: Dataset,
    checked: list[tuple[str, str, str | None]],
    named: bool,
) -> None:
    migrate.upgrade(pg_url)
    before = _foreign_keys(pg_url)
    write_staging(staging_url, dataset)
    # A first load of every batch goes in one transaction; naming the batches, one by one.
    result = load_run(staging_url, pg_url, batches=["_GLOBAL", "ECI", "MCIH"] if named else None)
    assert (result.together_seconds is None) == named
    assert result.reconciliation is not None
    assert result.reconciliation.ok
    ledger = sorted(((c, b or "") for t, c, b in checked if t == "credit_transaction"), key=str)
    each = [b.batch for b in result.batches] if named else [""]
    assert ledger == sorted(
        (
            (name, batch)
            for _, name, _ok in before
            if name.startswith("fk_credit_transaction_")
            for batch in each
        ),
        key=str,
    )
    # Every constraint is back, by the same name and definition, and valid.
    assert _foreign_keys(pg_url) == before
    assert all(valid for _, _, valid in before)


def test_bulk_load_refuses_a_row_with_no_parent_and_leaves_constraints_valid(
    staging_url: str, pg_url: str, dataset: Dataset, checked: list[tuple[str, str, str | None]]
) -> None:
    migrate.upgrade(pg_url)
    before = _foreign_keys(pg_url)
    dataset.find("credit_transaction", txn_id="T0002000001")["commitment_id"] = "C9999999"
    write_staging(staging_url, dataset)
    with pytest.raises(LoadError) as caught:
        load_run(staging_url, pg_url)
    assert caught.value.context["batch"] == "MCIH"
    assert caught.value.context["table"] == "credit_transaction"
    assert any(t == "credit_transaction" and b == "MCIH" for t, _c, b in checked)
    held = count_rows(pg_url, "SELECT count(*) FROM credit_transaction WHERE _batch = 'MCIH'")
    assert held == 0
    assert _foreign_keys(pg_url) == before
