"""The sign-off gate of the real load: which institutions may not be loaded, and why."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cutover.batches.history import GLOBAL_BATCH
from cutover.batches.signoff import signoff_state
from cutover.batches.tables import ensure_tables

__all__ = ["batches_to_load", "unsigned_batches"]


def unsigned_batches(engine: Engine, batches: Iterable[str]) -> list[tuple[str, str]]:
    """``(batch, why)`` for each institution batch not signed off on fresh evidence.

    The catalogue batch (``_GLOBAL``) is never signed by an institution and is not gated.
    """
    ensure_tables(engine)
    refused = []
    with engine.connect() as conn:
        for batch in sorted(set(batches) - {GLOBAL_BATCH}):
            state = signoff_state(conn, batch)
            if state.run_id is None:
                refused.append((batch, "no dry run evidence, so no sign-off"))
            elif not state.fresh:
                refused.append((batch, state.describe()))
    return refused


def batches_to_load(staging_url: str, target_url: str, wanted: Iterable[str] | None) -> set[str]:
    """The batches ``cutover load`` would touch.

    Those asked for; by default every staged batch plus every batch already in the target (a
    batch gone from staging is emptied there).
    """
    if wanted:
        return set(wanted)
    from load.tables import staged_xf_tables  # noqa: PLC0415 - the load stage, on demand

    found: set[str] = set()
    for url, staged in ((staging_url, True), (target_url, False)):
        engine = sa.create_engine(url)
        try:
            if staged:
                tables = sorted(staged_xf_tables(engine))
            else:
                inspector = sa.inspect(engine)
                tables = [
                    t
                    for t in inspector.get_table_names()
                    if any(c["name"] == "_batch" for c in inspector.get_columns(t))
                ]
            with engine.connect() as conn:
                for table in tables:
                    query: sa.Select[Any] = (
                        sa.select(sa.column("_batch")).select_from(sa.table(table)).distinct()
                    )
                    values: list[Any] = list(conn.execute(query).scalars())
                    found.update(str(value) for value in values)
        finally:
            engine.dispose()
    return found
