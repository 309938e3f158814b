"""The validation results of a run, in the control database (contract "Validation results").

Tables ``val_offender``, ``val_explanation``, ``val_finding`` and ``val_run_summary`` are
created idempotently on SQLite and PostgreSQL. Writing a run's batch again replaces what that
run wrote for it, nothing else: ``clear`` first, then offenders chunk by chunk, the summary last
(a batch without a summary row was interrupted).

``val_offender`` carries one column beyond the contract's list: ``reason``, why an offender is
out of scope or incomplete. Each legacy date is compared: ``delta_days`` is the ``MS_REL_DT``
difference, ``max_exp_delta_days`` the ``MAX_EXP_DT`` one, and each ``val_explanation`` row
names the date it explains (``date_field``), so that each date's rows add up to its delta.

Columns added after the tables were first released (:data:`ADDED_COLUMNS`) are added to a
control database that predates them whenever the tables are ensured (``create_all`` on
:data:`VALIDATION_METADATA`, from here or from the batches' tables): they are nullable or have a
server default, so the rows already there stay valid.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from validation.explain import DateField

__all__ = [
    "ADDED_COLUMNS",
    "VALIDATION_METADATA",
    "VAL_EXPLANATION",
    "VAL_FINDING",
    "VAL_OFFENDER",
    "VAL_RUN_SUMMARY",
    "ExplanationRow",
    "FindingRow",
    "OffenderRow",
    "SummaryRow",
    "clear_run",
    "ensure_tables",
    "read_explanations",
    "read_findings",
    "read_offenders_of_run",
    "read_summary",
    "write_explanations",
    "write_findings",
    "write_offenders",
    "write_summary",
]

VALIDATION_METADATA = sa.MetaData()

VAL_OFFENDER = sa.Table(
    "val_offender",
    VALIDATION_METADATA,
    sa.Column("run_id", sa.String(40), primary_key=True),
    sa.Column("person_id", sa.Text, primary_key=True),
    sa.Column("batch", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("legacy_max_exp", sa.Date),
    sa.Column("recomputed_max_exp", sa.Date),
    sa.Column("legacy_ms_rel", sa.Date),
    sa.Column("recomputed_ms_rel", sa.Date),
    sa.Column("delta_days", sa.Integer),
    sa.Column("impact_kind", sa.String(30), nullable=False),
    sa.Column("impact_days", sa.Integer, nullable=False),
    sa.Column("facts_hash", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text),
    #: ``recomputed_max_exp - legacy_max_exp`` in days.
    sa.Column("max_exp_delta_days", sa.Integer),
    sa.Index("ix_val_offender_run_batch", "run_id", "batch"),
)
VAL_EXPLANATION = sa.Table(
    "val_explanation",
    VALIDATION_METADATA,
    sa.Column("run_id", sa.String(40), primary_key=True),
    sa.Column("person_id", sa.Text, primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(60), nullable=False),
    sa.Column("days", sa.Integer, nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column(
        "date_field", sa.String(10), nullable=False, default="MS_REL_DT", server_default="MS_REL_DT"
    ),
    sa.Index("ix_val_explanation_run_code", "run_id", "code"),
)
VAL_FINDING = sa.Table(
    "val_finding",
    VALIDATION_METADATA,
    sa.Column("run_id", sa.String(40), primary_key=True),
    sa.Column("finding_key", sa.Text, primary_key=True),
    sa.Column("batch", sa.Text, nullable=False),
    sa.Column("kind", sa.String(60), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
)
VAL_RUN_SUMMARY = sa.Table(
    "val_run_summary",
    VALIDATION_METADATA,
    sa.Column("run_id", sa.String(40), primary_key=True),
    sa.Column("batch", sa.Text, primary_key=True),
    *(
        sa.Column(name, sa.Integer, nullable=False)
        for name in (
            "offenders",
            "matched",
            "explained",
            "unexplained",
            "out_of_scope",
            "incomplete",
            "released_early",
            "released_late",
        )
    ),
)

#: ``(table, column)`` added after the first release, in the order they were added.
ADDED_COLUMNS: tuple[tuple[sa.Table, str], ...] = (
    (VAL_OFFENDER, "max_exp_delta_days"),
    (VAL_EXPLANATION, "date_field"),
)


@sa.event.listens_for(VALIDATION_METADATA, "after_create")
def _add_missing_columns(_metadata: sa.MetaData, connection: Connection, **_kw: Any) -> None:
    """Add the :data:`ADDED_COLUMNS` that a table created before them lacks."""
    inspector = sa.inspect(connection)
    preparer = connection.dialect.identifier_preparer
    # IF NOT EXISTS: another process may add the column between the inspection and the ALTER.
    guard = " IF NOT EXISTS" if connection.dialect.name == "postgresql" else ""
    present: dict[str, set[str]] = {}
    for table, name in ADDED_COLUMNS:
        if table.name not in present:
            if not inspector.has_table(table.name):
                continue
            present[table.name] = {c["name"] for c in inspector.get_columns(table.name)}
        if name in present[table.name]:
            continue
        column = sa.schema.CreateColumn(table.c[name]).compile(dialect=connection.dialect)
        connection.execute(
            sa.text(f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN{guard} {column}")
        )
        present[table.name].add(name)


@dataclass(frozen=True, slots=True)
class OffenderRow:
    """One ``val_offender`` row."""

    person_id: str
    batch: str
    status: str
    legacy_max_exp: date | None
    recomputed_max_exp: date | None
    legacy_ms_rel: date | None
    recomputed_ms_rel: date | None
    delta_days: int | None
    impact_kind: str
    impact_days: int
    facts_hash: str
    reason: str | None = None
    max_exp_delta_days: int | None = None


@dataclass(frozen=True, slots=True)
class ExplanationRow:
    """One ``val_explanation`` row; ``evidence`` holds fact keys and legacy row keys."""

    person_id: str
    seq: int
    code: str
    days: int
    evidence: tuple[str, ...]
    detail: str
    date_field: DateField = "MS_REL_DT"


@dataclass(frozen=True, slots=True)
class FindingRow:
    """One catalogue finding (``val_finding``)."""

    finding_key: str
    batch: str
    kind: str
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SummaryRow:
    """One ``val_run_summary`` row: counts of one batch."""

    batch: str
    offenders: int = 0
    matched: int = 0
    explained: int = 0
    unexplained: int = 0
    out_of_scope: int = 0
    incomplete: int = 0
    released_early: int = 0
    released_late: int = 0


def ensure_tables(engine: Engine | Connection) -> None:
    """Create the validation tables where missing (idempotent)."""
    VALIDATION_METADATA.create_all(engine, checkfirst=True)


def clear_run(conn: Connection, run_id: str, batches: Sequence[str] | None = None) -> None:
    """Remove what ``run_id`` wrote (for ``batches`` only, when given): a rewrite replaces it."""
    offenders = sa.select(VAL_OFFENDER.c.person_id).where(VAL_OFFENDER.c.run_id == run_id)
    summary = VAL_RUN_SUMMARY.c.run_id == run_id
    if batches is not None:
        offenders = offenders.where(VAL_OFFENDER.c.batch.in_(list(batches)))
        summary = summary & VAL_RUN_SUMMARY.c.batch.in_(list(batches))
    conn.execute(
        sa.delete(VAL_EXPLANATION).where(
            VAL_EXPLANATION.c.run_id == run_id, VAL_EXPLANATION.c.person_id.in_(offenders)
        )
    )
    gone = VAL_OFFENDER.c.run_id == run_id
    if batches is not None:
        gone = gone & VAL_OFFENDER.c.batch.in_(list(batches))
    conn.execute(sa.delete(VAL_OFFENDER).where(gone))
    conn.execute(sa.delete(VAL_RUN_SUMMARY).where(summary))


def write_offenders(conn: Connection, run_id: str, rows: Iterable[OffenderRow]) -> int:
    """Insert offender rows; the number written."""
    values = [
        {
            "run_id": run_id,
            "person_id": r.person_id,
            "batch": r.batch,
            "status": r.status,
            "legacy_max_exp": r.legacy_max_exp,
            "recomputed_max_exp": r.recomputed_max_exp,
            "legacy_ms_rel": r.legacy_ms_rel,
            "recomputed_ms_rel": r.recomputed_ms_rel,
            "delta_days": r.delta_days,
            "impact_kind": r.impact_kind,
            "impact_days": r.impact_days,
            "facts_hash": r.facts_hash,
            "reason": r.reason,
            "max_exp_delta_days": r.max_exp_delta_days,
        }
        for r in rows
    ]
    if values:
        conn.execute(sa.insert(VAL_OFFENDER), values)
    return len(values)


def write_explanations(conn: Connection, run_id: str, rows: Iterable[ExplanationRow]) -> int:
    """Insert explanation rows; the number written."""
    values = [
        {
            "run_id": run_id,
            "person_id": r.person_id,
            "seq": r.seq,
            "code": r.code,
            "days": r.days,
            "evidence": json.dumps(list(r.evidence)),
            "detail": r.detail,
            "date_field": r.date_field,
        }
        for r in rows
    ]
    if values:
        conn.execute(sa.insert(VAL_EXPLANATION), values)
    return len(values)


def write_findings(conn: Connection, run_id: str, rows: Iterable[FindingRow]) -> int:
    """Replace the run's catalogue findings with ``rows``; the number written."""
    conn.execute(sa.delete(VAL_FINDING).where(VAL_FINDING.c.run_id == run_id))
    values = [
        {
            "run_id": run_id,
            "finding_key": r.finding_key,
            "batch": r.batch,
            "kind": r.kind,
            "detail": json.dumps(r.detail, sort_keys=True, default=str),
        }
        for r in rows
    ]
    if values:
        conn.execute(sa.insert(VAL_FINDING), values)
    return len(values)


def write_summary(conn: Connection, run_id: str, rows: Iterable[SummaryRow]) -> None:
    """Insert (or replace) per-batch summary rows."""
    for r in rows:
        conn.execute(
            sa.delete(VAL_RUN_SUMMARY).where(
                VAL_RUN_SUMMARY.c.run_id == run_id, VAL_RUN_SUMMARY.c.batch == r.batch
            )
        )
        conn.execute(
            sa.insert(VAL_RUN_SUMMARY).values(
                run_id=run_id,
                batch=r.batch,
                offenders=r.offenders,
                matched=r.matched,
                explained=r.explained,
                unexplained=r.unexplained,
                out_of_scope=r.out_of_scope,
                incomplete=r.incomplete,
                released_early=r.released_early,
                released_late=r.released_late,
            )
        )


def read_offenders_of_run(
    conn: Connection | Engine,
    run_id: str,
    *,
    batch: str | None = None,
    person_id: str | None = None,
) -> list[OffenderRow]:
    """Offender rows of a run, by ``person_id``."""
    query = sa.select(VAL_OFFENDER).where(VAL_OFFENDER.c.run_id == run_id)
    if batch is not None:
        query = query.where(VAL_OFFENDER.c.batch == batch)
    if person_id is not None:
        query = query.where(VAL_OFFENDER.c.person_id == person_id)
    fields = [f for f in OffenderRow.__slots__ if isinstance(f, str)]
    with _connected(conn) as c:
        return [
            OffenderRow(**{f: row._mapping[f] for f in fields})
            for row in c.execute(query.order_by(VAL_OFFENDER.c.person_id))
        ]


def read_explanations(
    conn: Connection | Engine, run_id: str, *, person_id: str | None = None
) -> list[ExplanationRow]:
    """Explanation rows of a run, by person and sequence."""
    query = sa.select(VAL_EXPLANATION).where(VAL_EXPLANATION.c.run_id == run_id)
    if person_id is not None:
        query = query.where(VAL_EXPLANATION.c.person_id == person_id)
    query = query.order_by(VAL_EXPLANATION.c.person_id, VAL_EXPLANATION.c.seq)
    with _connected(conn) as c:
        return [
            ExplanationRow(
                r.person_id,
                r.seq,
                r.code,
                r.days,
                tuple(json.loads(r.evidence)),
                r.detail,
                r.date_field,
            )
            for r in c.execute(query)
        ]


def read_findings(conn: Connection | Engine, run_id: str) -> list[FindingRow]:
    """Catalogue findings of a run, by key."""
    query = (
        sa.select(VAL_FINDING)
        .where(VAL_FINDING.c.run_id == run_id)
        .order_by(VAL_FINDING.c.finding_key)
    )
    with _connected(conn) as c:
        return [
            FindingRow(r.finding_key, r.batch, r.kind, json.loads(r.detail))
            for r in c.execute(query)
        ]


def read_summary(conn: Connection | Engine, run_id: str) -> list[SummaryRow]:
    """Per-batch summary rows of a run, by batch."""
    query = (
        sa.select(VAL_RUN_SUMMARY)
        .where(VAL_RUN_SUMMARY.c.run_id == run_id)
        .order_by(VAL_RUN_SUMMARY.c.batch)
    )
    with _connected(conn) as c:
        return [
            SummaryRow(**{k: v for k, v in r._mapping.items() if k != "run_id"})
            for r in c.execute(query)
        ]


@contextmanager
def _connected(source: Connection | Engine) -> Iterator[Connection]:
    """A connection for a read: the one given, or a new one from an engine."""
    if isinstance(source, Engine):
        ensure_tables(source)
        with source.connect() as conn:
            yield conn
    else:
        yield source
