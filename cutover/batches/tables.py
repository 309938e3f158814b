"""Every control-store table batches and sign-off read or write, each defined once.

- the **contract tables** of ``docs/architecture.md`` ("Validation results"): ``val_offender``,
  ``val_explanation``, ``val_finding``, ``val_run_summary`` are defined by ``validation.store``
  (which writes them) and re-exported here; ``run_quarantine`` and ``run_accounting`` (written
  by the dry run) are defined here, in :data:`metadata`: the dry run imports these ``Table``
  objects (or calls :func:`ensure_tables`) so that the layout lives in one place;
- the **decision tables** this package owns, also in :data:`metadata`: the explanation
  register, quarantine triage and sign-offs. Each row says who decided what, when, why, and
  against which facts.

:func:`ensure_tables` creates whatever is missing; it is idempotent and safe to call on every
open. Dates are ``DATE``; decision timestamps are ISO 8601 text in UTC, as in the run ledger.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cutover.runs import RUNS
from validation.store import (
    VAL_EXPLANATION,
    VAL_FINDING,
    VAL_OFFENDER,
    VAL_RUN_SUMMARY,
    VALIDATION_METADATA,
)

__all__ = [
    "CONTRACT_TABLES",
    "batch_signoff",
    "ensure_tables",
    "explanation_register",
    "metadata",
    "quarantine_triage",
    "run_accounting",
    "run_quarantine",
    "run_repair",
    "val_explanation",
    "val_finding",
    "val_offender",
    "val_run_summary",
]

metadata = sa.MetaData()

_RUN = sa.String(40)
_BATCH = sa.String(32)
_PERSON = sa.String(64)
_CODE = sa.String(64)
_HASH = sa.String(64)

#: The validation results (written by ``validation.store``, which defines them): one
#: definition, imported here under the contract's names.
val_offender = VAL_OFFENDER
val_explanation = VAL_EXPLANATION
val_finding = VAL_FINDING
val_run_summary = VAL_RUN_SUMMARY

run_quarantine = sa.Table(
    "run_quarantine",
    metadata,
    sa.Column("run_id", _RUN, nullable=False),
    sa.Column("batch", _BATCH, nullable=False),
    sa.Column("target_table", sa.String(64), nullable=False),
    sa.Column("source_table", sa.String(64), nullable=False),
    sa.Column("source_key", sa.Text, nullable=False),
    sa.Column("rule", sa.String(128), nullable=False),
    sa.Column("column_name", sa.String(64)),
    #: The quarantined cell's value is kept only as a hash, never the raw value.
    sa.Column("value_hash", _HASH),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Index("ix_run_quarantine_identity", "run_id", "batch", "source_table", "source_key"),
)

run_accounting = sa.Table(
    "run_accounting",
    metadata,
    sa.Column("run_id", _RUN, primary_key=True),
    sa.Column("source_table", sa.String(64), primary_key=True),
    sa.Column("batch", _BATCH, primary_key=True),
    #: One legacy table can feed several target tables: a line per (target, source, batch).
    sa.Column("target_table", sa.String(64), primary_key=True, default=""),
    sa.Column("source_rows", sa.BigInteger, nullable=False),
    sa.Column("loaded", sa.BigInteger, nullable=False),
    sa.Column("merged", sa.BigInteger, nullable=False),
    sa.Column("quarantined", sa.BigInteger, nullable=False),
    #: Source rows the mapping's own filter leaves out, on purpose (not in source_rows).
    sa.Column("filtered", sa.BigInteger, nullable=False, default=0),
)

#: The cells the transform repaired instead of quarantining the row (``xf__repair``: an
#: impossible value set to NULL under ``on_invalid: null``), per run, written by the dry run.
run_repair = sa.Table(
    "run_repair",
    metadata,
    sa.Column("run_id", _RUN, nullable=False),
    sa.Column("batch", _BATCH, nullable=False),
    sa.Column("target_table", sa.String(64), nullable=False),
    sa.Column("source_table", sa.String(64), nullable=False),
    sa.Column("source_key", sa.Text, nullable=False),
    sa.Column("rule", sa.String(128), nullable=False),
    sa.Column("column_name", sa.String(64), nullable=False),
    #: The repaired cell's raw value is kept only as a hash, never the raw value.
    sa.Column("value_hash", _HASH),
    sa.Column("message", sa.Text, nullable=False, default=""),
    sa.Index("ix_run_repair_identity", "run_id", "batch", "source_table", "source_key"),
)

#: The contract tables others write (the rest of :data:`metadata` is this package's own).
CONTRACT_TABLES: tuple[sa.Table, ...] = (
    val_offender,
    val_explanation,
    val_finding,
    val_run_summary,
    run_quarantine,
    run_accounting,
)

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")

#: Manual explanations and accepted variances of one discrepancy ``(person_id, code)``, made
#: against the facts the offender had then (``facts_hash``). They carry to later runs while the
#: offender's facts hash is unchanged; when it changes they need review.
explanation_register = sa.Table(
    "explanation_register",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("batch", _BATCH, nullable=False),
    sa.Column("person_id", _PERSON, nullable=False),
    sa.Column("code", _CODE, nullable=False),
    #: ``explanation`` or ``accepted_variance``
    sa.Column("kind", sa.String(24), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("facts_hash", _HASH, nullable=False),
    sa.Column("run_id", _RUN, nullable=False),
    sa.Column("days", sa.Integer),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("withdrawn_by", sa.String(64)),
    sa.Column("withdrawn_at", sa.String(32)),
    sa.Column("withdrawn_reason", sa.Text),
    sa.Index("ix_explanation_register_key", "person_id", "code"),
)

#: A quarantine group (target table, source table, rule, column) marked triaged, against the
#: group's fingerprint (its rows' identities and value hashes) at the time.
quarantine_triage = sa.Table(
    "quarantine_triage",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("batch", _BATCH, nullable=False),
    sa.Column("target_table", sa.String(64), nullable=False),
    sa.Column("source_table", sa.String(64), nullable=False),
    sa.Column("rule", sa.String(128), nullable=False),
    sa.Column("column_name", sa.String(64), nullable=False, default=""),
    sa.Column("fingerprint", _HASH, nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("run_id", _RUN, nullable=False),
    sa.Column("triaged_by", sa.String(64), nullable=False),
    sa.Column("triaged_at", sa.String(32), nullable=False),
    sa.Index("ix_quarantine_triage_batch", "batch"),
)

#: A validator's sign-off of a batch, bound to the hash of the evidence they saw.
batch_signoff = sa.Table(
    "batch_signoff",
    metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("batch", _BATCH, nullable=False, index=True),
    sa.Column("run_id", _RUN, nullable=False),
    sa.Column("evidence_hash", _HASH, nullable=False),
    sa.Column("statement", sa.Text, nullable=False, default=""),
    sa.Column("signed_by", sa.String(64), nullable=False),
    sa.Column("signed_at", sa.String(32), nullable=False),
    sa.Column("revoked_by", sa.String(64)),
    sa.Column("revoked_at", sa.String(32)),
    sa.Column("revoke_reason", sa.Text),
)


def ensure_tables(bind: Engine | Connection) -> None:
    """Create every table of :data:`metadata` (and the run ledger's) that is missing.

    Safe to call every time.
    """
    RUNS.metadata.create_all(bind, checkfirst=True)
    VALIDATION_METADATA.create_all(bind, checkfirst=True)
    metadata.create_all(bind, checkfirst=True)
