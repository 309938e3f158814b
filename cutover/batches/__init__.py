"""Batches, sign-off and cutover readiness.

A batch is one institution's share of a dry run. Others call:

- :mod:`cutover.batches.tables` (:data:`metadata`, :func:`ensure_tables`): the one definition of
  the contract tables (``val_*``, ``run_quarantine``, ``run_accounting``) and of this package's
  decision tables;
- :func:`discrepancies`, :func:`quarantine_groups`, :func:`evidence_hash`, :func:`diff_runs`:
  a batch's evidence in a run, its hash and what changed since the previous run;
- :func:`add_explanation`, :func:`withdraw_explanation`, :func:`triage_quarantine`: decisions;
- :func:`sign`, :func:`revoke`, :func:`signoff_state`, :func:`blockers`: sign-off;
- :func:`readiness`, :func:`unsigned_batches`: the gates per institution and the go/no-go.
"""

from cutover.batches.decisions import (
    RegisterEntry,
    add_explanation,
    latest_run,
    list_register,
    triage_quarantine,
    withdraw_explanation,
)
from cutover.batches.diff import BatchDiff, DiffPart, diff_runs
from cutover.batches.evidence import (
    UNEXPLAINED,
    AccountingLine,
    Discrepancy,
    Finding,
    QuarantineGroup,
    Summary,
    accounting,
    discrepancies,
    evidence_hash,
    findings,
    quarantine_groups,
    summary,
)
from cutover.batches.gate import unsigned_batches
from cutover.batches.history import GLOBAL_BATCH, RunRef, batch_names, batch_runs, institutions
from cutover.batches.readiness import (
    GATES,
    Gate,
    InstitutionReadiness,
    Readiness,
    TrendPoint,
    institution_readiness,
    readiness,
    trend,
)
from cutover.batches.signoff import SignOff, SignOffState, blockers, revoke, sign, signoff_state
from cutover.batches.tables import ensure_tables, metadata

__all__ = [
    "GATES",
    "GLOBAL_BATCH",
    "UNEXPLAINED",
    "AccountingLine",
    "BatchDiff",
    "DiffPart",
    "Discrepancy",
    "Finding",
    "Gate",
    "InstitutionReadiness",
    "QuarantineGroup",
    "Readiness",
    "RegisterEntry",
    "RunRef",
    "SignOff",
    "SignOffState",
    "Summary",
    "TrendPoint",
    "accounting",
    "add_explanation",
    "batch_names",
    "batch_runs",
    "blockers",
    "diff_runs",
    "discrepancies",
    "ensure_tables",
    "evidence_hash",
    "findings",
    "institution_readiness",
    "institutions",
    "latest_run",
    "list_register",
    "metadata",
    "quarantine_groups",
    "readiness",
    "revoke",
    "sign",
    "signoff_state",
    "summary",
    "trend",
    "triage_quarantine",
    "unsigned_batches",
    "withdraw_explanation",
]
