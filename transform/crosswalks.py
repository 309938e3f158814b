"""Crosswalks in the staging database: every entry of every crosswalk in ``xf__crosswalk``.

A lookup (see :mod:`transform.compiler`) is a correlated scalar subquery on this table: entries
of the crosswalk with the code, of the row's institution or of any institution (an institution's
own entry wins), effective on the row's ``as_of`` date (``eff_from`` and ``eff_to`` inclusive;
the latest ``eff_from`` wins). ``canonical_rate`` carries the canonical code's rate for the
``harmonize`` policy; ``rate`` the institution's own for ``keep``.
"""

from __future__ import annotations

import sqlalchemy as sa

from transform.project import MappingProject
from transform.schema import OutputTables

__all__ = ["materialize_crosswalks"]


def materialize_crosswalks(
    conn: sa.Connection, project: MappingProject, outputs: OutputTables
) -> int:
    """Replace ``xf__crosswalk`` with the project's entries; returns how many were written."""
    table = outputs.crosswalk
    conn.execute(table.delete())
    rows = [
        {
            "crosswalk": name,
            "institution": entry.institution,
            "code": entry.code,
            "canonical": entry.canonical,
            "rate": entry.rate,
            "canonical_rate": xw.spec.canonical.get(entry.canonical, {}).get("rate"),
            "eff_from": entry.eff_from,
            "eff_to": entry.eff_to,
        }
        for name, xw in project.crosswalks.items()
        for entry in xw.entries
    ]
    if rows:
        conn.execute(table.insert(), rows)
    return len(rows)
