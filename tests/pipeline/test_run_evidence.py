"""The dry run keeps the transform's repairs in the control store, values only as hashes."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from cutover.batches.tables import run_repair

from .conftest import Pipeline
from .support import staged_rows


def _hash(value: str | None) -> str | None:
    return None if value is None else hashlib.blake2b(value.encode(), digest_size=16).hexdigest()


def test_the_run_keeps_every_repair_with_its_value_only_as_a_hash(pipeline: Pipeline) -> None:
    staged = staged_rows(pipeline, "xf__repair")
    assert staged, "the generated system should hold repaired housekeeping dates"
    control = sa.create_engine(pipeline.settings.control.url.get_secret_value())
    try:
        with control.connect() as conn:
            kept = [
                dict(r)
                for r in conn.execute(
                    sa.select(run_repair).where(run_repair.c.run_id == pipeline.transform.run_id)
                ).mappings()
            ]
    finally:
        control.dispose()
    columns = ("batch", "target_table", "source_table", "source_key", "rule", "column_name")
    assert sorted((*(r[c] for c in columns), _hash(r["value"])) for r in staged) == sorted(
        (*(r[c] for c in columns), r["value_hash"]) for r in kept
    )
    for row, raw in zip(
        sorted(kept, key=lambda r: (r["source_key"], r["column_name"])),
        sorted(staged, key=lambda r: (r["source_key"], r["column_name"])),
        strict=True,
    ):
        assert raw["value"] not in row.values()
