"""Reference tables: catalogues the legacy system never held, staged from the mapping folder.

A ``references`` entry (:class:`transform.models.ReferenceSpec`) names a CSV file beside the
mapping. Before the mappings are compiled, each is written to the staging database as
``stg_ref_<name>`` in the staging contract's layout (the CSV's columns as text, plus
``_run_id``, ``_src_pos``, ``_src_key`` = the key columns joined by ``|``, ``_row_hash``), so a
table mapping reads it with ``from: ref.NAME`` like any staged legacy table, and every row of it
is accounted for.
"""

from __future__ import annotations

import sqlalchemy as sa

from transform.hashing import row_hash
from transform.project import MappingProject
from transform.schema import staged_name

__all__ = ["REFERENCE_SOURCE", "materialize_references"]

#: The source name reference tables are staged under (``from: ref.NAME``).
REFERENCE_SOURCE = "ref"


def materialize_references(engine: sa.Engine, project: MappingProject, run_id: str) -> int:
    """(Re)write every reference table of ``project`` into staging; returns the rows written."""
    written = 0
    with engine.begin() as conn:
        for ref in project.references.values():
            meta = sa.MetaData()
            table = sa.Table(
                staged_name(REFERENCE_SOURCE, ref.name),
                meta,
                *(sa.Column(h, sa.Text) for h in ref.header),
                sa.Column("_run_id", sa.Text),
                sa.Column("_src_pos", sa.BigInteger),
                sa.Column("_src_key", sa.Text),
                sa.Column("_row_hash", sa.Text),
            )
            table.drop(conn, checkfirst=True)
            table.create(conn)
            at = [ref.header.index(k) for k in ref.spec.key]
            rows = [
                {
                    **dict(zip(ref.header, row, strict=True)),
                    "_run_id": run_id,
                    "_src_pos": pos,
                    "_src_key": "|".join(row[i] for i in at),
                    "_row_hash": row_hash(list(row)),
                }
                for pos, row in enumerate(ref.rows)
            ]
            if rows:
                conn.execute(table.insert(), rows)
            written += len(rows)
    return written
