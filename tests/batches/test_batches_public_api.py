"""The package's public surface is what its ``__all__`` says, and every name resolves."""

from __future__ import annotations

import cutover.batches
from cutover.batches import tables


def test_the_public_surface_is_pinned() -> None:
    assert set(cutover.batches.__all__) == {
        "GATES", "GLOBAL_BATCH", "UNEXPLAINED", "AccountingLine", "BatchDiff", "DiffPart",
        "Discrepancy", "Finding", "Gate", "InstitutionReadiness", "QuarantineGroup", "Readiness",
        "RegisterEntry", "RunRef", "SignOff", "SignOffState", "Summary", "TrendPoint",
        "accounting", "add_explanation", "batch_names", "batch_runs", "blockers", "diff_runs",
        "discrepancies", "ensure_tables", "evidence_hash", "findings", "institution_readiness",
        "institutions", "latest_run", "list_register", "metadata", "quarantine_groups",
        "readiness", "revoke", "sign", "signoff_state", "summary", "triage_quarantine", "trend",
        "unsigned_batches", "withdraw_explanation",
    }  # fmt: skip
    for name in cutover.batches.__all__:
        assert getattr(cutover.batches, name) is not None


def test_every_contract_table_has_one_definition() -> None:
    names = [t.name for t in tables.CONTRACT_TABLES]
    assert names == [
        "val_offender", "val_explanation", "val_finding", "val_run_summary",
        "run_quarantine", "run_accounting",
    ]  # fmt: skip
    assert tables.metadata.tables["run_quarantine"] is tables.run_quarantine
    assert "val_offender" not in tables.metadata.tables  # defined by validation.store
