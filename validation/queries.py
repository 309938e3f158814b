"""The reader's queries: persons, and one query per fact table, ordered by person.

Each selects only what the facts are built from, in a form every driver gives the same way
(dates as ISO text, flags as integers), so that the rows, and the hash made of them, are the
same on SQLite and PostgreSQL. Ordering by person and the restriction to batches or persons
are the engine's work; the order of one person's rows is the reader's (:data:`FACT_ORDER`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from load import models as m

__all__ = [
    "FACT_ORDER",
    "FACT_TABLES",
    "PersonRange",
    "by_person",
    "date_text",
    "fact_order",
    "fact_queries",
    "in_range",
    "person_ranges",
]

#: ``(from, to)``: persons from ``from`` (inclusive) to ``to`` (exclusive); ``None`` is open.
PersonRange = tuple[str | None, str | None]

#: The fact tables, in the order their rows enter a person's facts and ``facts_hash``.
FACT_TABLES = (
    "commitment",
    "jail_credit",
    "document",
    "assignment",
    "segregation",
    "labor_pool_attendance",
    "infraction",
    "credit_transaction",
    "legacy_release_calculation",
)

#: Per fact table: the columns that order one person's rows (the table's key within a person),
#: as its query names them. The queries sort by person only; the reader sorts each person's few
#: rows by these in Python (:func:`fact_order`, :class:`validation.streams.PersonStream`), which
#: compares text as the binary collation does. Sorted by person and key, SQLite built a
#: temporary B-tree beside the ``person_id`` index: reading 1,000 persons took 8% more
#: instructions (callgrind).
FACT_ORDER: dict[str, tuple[str, ...]] = {
    "commitment": ("commitment_id",),
    "jail_credit": ("jail_credit_id",),
    "document": ("document_id",),
    "assignment": ("assignment_id",),
    "segregation": ("segregation_id",),
    "labor_pool_attendance": ("week_begin_date", "institution_id"),
    "infraction": ("infraction_id",),
    "credit_transaction": ("txn_id",),
    "legacy_release_calculation": ("calculated_as_of",),
}


def fact_order(statement: sa.Select[Any], table: str) -> tuple[int, ...]:
    """Where :data:`FACT_ORDER`'s columns of ``table`` are in the rows of ``statement``, its
    query from :func:`fact_queries`."""
    names = list(statement.selected_columns.keys())
    return tuple(names.index(name) for name in FACT_ORDER[table])


def by_person(conn: Connection, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """``column`` in the binary collation Python compares strings in."""
    if conn.dialect.name == "postgresql":
        return column.collate("C")
    return column


def in_range(
    conn: Connection, column: sa.ColumnElement[Any], person_range: PersonRange | None
) -> list[sa.ColumnElement[bool]]:
    """Conditions keeping ``column`` within ``person_range``, compared as persons are sorted."""
    if person_range is None:
        return []
    low, high = person_range
    ordered = by_person(conn, column)
    return [
        *([ordered >= low] if low is not None else []),
        *([ordered < high] if high is not None else []),
    ]


def date_text(conn: Connection, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """A date column as ``YYYY-MM-DD`` text (SQLite stores dates as that text already)."""
    if conn.dialect.name == "postgresql":
        return sa.func.to_char(column, "YYYY-MM-DD")
    return sa.type_coerce(column, sa.String)


def fact_queries(
    conn: Connection,
    batches: Sequence[str] | None,
    person_ids: Sequence[str] | None,
    person_range: PersonRange | None = None,
) -> dict[str, sa.Select[Any]]:
    """The reader's queries, by table: persons and one per fact table, ordered by person.

    Each fact query selects ``person_id``, the lineage (``_source_table``, ``_source_key``),
    then what the facts need; dates come as ISO text and flags as integers. One person's rows
    come in no particular order (:data:`FACT_ORDER` says how to sort them). ``person_range``
    keeps the persons from its first ``person_id`` (inclusive) to its second (exclusive), in
    the order the queries sort by; ``None`` at either end leaves that end open.
    """
    p = m.Person.__table__
    persons_in: sa.Select[Any] | None = None
    if batches is not None:
        persons_in = sa.select(p.c.person_id).where(p.c._batch.in_(list(batches)))
    if person_ids is not None:
        ids = sa.select(p.c.person_id).where(p.c.person_id.in_(list(person_ids)))
        persons_in = ids if persons_in is None else persons_in.where(p.c.person_id.in_(ids))

    def day(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        # Named as the column, so that FACT_ORDER finds it on every engine.
        return date_text(conn, column).label(column.key)

    person = sa.select(p.c.person_id, p.c._batch, p.c.status_code).order_by(
        by_person(conn, p.c.person_id)
    )
    if persons_in is not None:
        person = person.where(p.c.person_id.in_(persons_in))
    person = person.where(*in_range(conn, p.c.person_id, person_range))
    cm, jc, doc = m.Commitment.__table__, m.JailCredit.__table__, m.Document.__table__
    asg, seg, lp = m.Assignment.__table__, m.Segregation.__table__, m.LaborPoolAttendance.__table__
    inf, txn = m.Infraction.__table__, m.CreditTransaction.__table__
    rc = m.LegacyReleaseCalculation.__table__
    #: Per fact table: the table and the columns the facts are built from (the first is the
    #: natural key, for rows without lineage).
    tables: dict[str, tuple[sa.FromClause, tuple[sa.ColumnElement[Any], ...]]] = {
        "commitment": (
            cm,
            (
                cm.c.commitment_id,
                cm.c.offense_class,
                day(cm.c.sentence_begin_date),
                cm.c.term_years,
                cm.c.term_months,
                cm.c.term_days,
                sa.cast(cm.c.life_sentence, sa.Integer),
                cm.c.consecutive_to_commitment_id,
                day(cm.c.committed_on),
            ),
        ),
        "jail_credit": (
            jc,
            (jc.c.jail_credit_id, jc.c.commitment_id, jc.c.days_posted, jc.c.certificate_no),
        ),
        "document": (
            doc,
            (
                doc.c.document_id,
                day(doc.c.sentence_begin_date),
                doc.c.jail_days,
                doc.c.certificate_no,
            ),
        ),
        "assignment": (
            asg,
            (
                asg.c.assignment_id,
                asg.c.institution_id,
                asg.c.task_code,
                asg.c.assignment_type,
                day(asg.c.begin_date),
                day(asg.c.end_date),
            ),
        ),
        "segregation": (
            seg,
            (
                seg.c.segregation_id,
                seg.c.segregation_type,
                day(seg.c.begin_date),
                day(seg.c.end_date),
            ),
        ),
        "labor_pool_attendance": (
            lp,
            (lp.c.institution_id, day(lp.c.week_begin_date), lp.c.days_worked),
        ),
        "infraction": (
            inf,
            (
                inf.c.infraction_id,
                day(inf.c.infraction_date),
                inf.c.gc_revoked_days,
                inf.c.sp_revoked_days,
            ),
        ),
        "credit_transaction": (
            txn,
            (
                txn.c.txn_id,
                txn.c.credit_type,
                day(txn.c.credit_month),
                txn.c.days,
                day(txn.c.entered_on),
            ),
        ),
        "legacy_release_calculation": (
            rc,
            (
                day(rc.c.calculated_as_of),
                day(rc.c.max_expiration_date),
                day(rc.c.ms_release_date),
                day(rc.c.actual_release_date),
                rc.c.release_type,
            ),
        ),
    }
    out = {"person": person}
    for name in FACT_TABLES:
        table, columns = tables[name]
        lineage = (table.c._source_table, table.c._source_key)
        query = sa.select(table.c.person_id, *lineage, *columns).order_by(
            by_person(conn, table.c.person_id)
        )
        if name == "document":
            query = query.where(table.c.document_type == "JAIL_CERT")
        if persons_in is not None:
            query = query.where(table.c.person_id.in_(persons_in))
        out[name] = query.where(*in_range(conn, table.c.person_id, person_range))
    return out


def person_ranges(
    conn: Connection, batches: Sequence[str] | None, parts: int, min_persons: int = 1
) -> list[PersonRange]:
    """The persons (of ``batches``) split into at most ``parts`` ranges of equal size.

    No range holds fewer than ``min_persons`` persons, so a small population is one open range.
    The ranges cover every ``person_id`` between them, in the order the fact queries sort by, so
    each person falls in exactly one. The cut points come from one numbered read of the keys.
    """
    p = m.Person.__table__
    where = [p.c._batch.in_(list(batches))] if batches is not None else []
    total = int(conn.execute(sa.select(sa.func.count()).select_from(p).where(*where)).scalar_one())
    parts = min(parts, total // max(1, min_persons))
    if parts < 2:
        return [(None, None)]
    order = sa.func.row_number().over(order_by=by_person(conn, p.c.person_id))
    numbered = sa.select(p.c.person_id, order.label("n")).where(*where).subquery()
    firsts = [total * i // parts + 1 for i in range(1, parts)]
    cuts: list[str | None] = list(
        conn.execute(
            sa.select(numbered.c.person_id).where(numbered.c.n.in_(firsts)).order_by(numbered.c.n)
        ).scalars()
    )
    bounds = [None, *cuts, None]
    return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
