"""validation stage: rule packs over typed facts, recompute, compare and explain.

``validate_run`` is the run step: it reads ``OffenderFacts`` from the target
(``read_offenders``), explains every offender with the rule pack, and writes the results and
the catalogue findings to the control database (``validation.store``). ``score_run`` scores a
run against a generated answer key, ``audit_report`` puts it beside the audit, and
``explain_offender`` shows one offender's computation side by side.
"""

from validation.audit_report import AuditReport, audit_report, render_audit_report
from validation.computation import (
    CommitmentSpan,
    Computation,
    MonthTrace,
    Workpad,
    recompute,
    recompute_many,
)
from validation.explain import (
    Comparison,
    Impact,
    SideBySideRow,
    WaterfallStart,
    explain,
    explain_many,
)
from validation.explain_report import explain_document, render_explain
from validation.facts import (
    AssignmentFact,
    CommitmentFact,
    InfractionFact,
    JailCertificateFact,
    JailCreditFact,
    LaborPoolWeekFact,
    LedgerEntryFact,
    LegacyCalcFact,
    OffenderFacts,
    SegregationFact,
)
from validation.findings import ScreenPolicy, catalogue_findings, load_screen_policy
from validation.reader import OffenderRecord, ReadStats, read_offenders, resolve_person
from validation.registry import (
    register_correction,
    register_pack,
    register_parameters,
    register_rule,
)
from validation.render import format_comparison
from validation.rulepack import PackFileError, RulePack, Step, load_pack
from validation.run import (
    ValidationEngines,
    ValidationResult,
    engines_for,
    explain_offender,
    validate_run,
)
from validation.score import AnswerKey, CodeScore, Score, format_score, load_answer_key, score_run
from validation.waterfall import UNEXPLAINED, Correction, Explanation

__all__ = [
    "UNEXPLAINED",
    "AnswerKey",
    "AssignmentFact",
    "AuditReport",
    "CodeScore",
    "CommitmentFact",
    "CommitmentSpan",
    "Comparison",
    "Computation",
    "Correction",
    "Explanation",
    "Impact",
    "InfractionFact",
    "JailCertificateFact",
    "JailCreditFact",
    "LaborPoolWeekFact",
    "LedgerEntryFact",
    "LegacyCalcFact",
    "MonthTrace",
    "OffenderFacts",
    "OffenderRecord",
    "PackFileError",
    "ReadStats",
    "RulePack",
    "Score",
    "ScreenPolicy",
    "SegregationFact",
    "SideBySideRow",
    "Step",
    "ValidationEngines",
    "ValidationResult",
    "WaterfallStart",
    "Workpad",
    "audit_report",
    "catalogue_findings",
    "engines_for",
    "explain",
    "explain_document",
    "explain_many",
    "explain_offender",
    "format_comparison",
    "format_score",
    "load_answer_key",
    "load_pack",
    "load_screen_policy",
    "read_offenders",
    "recompute",
    "recompute_many",
    "register_correction",
    "register_pack",
    "register_parameters",
    "register_rule",
    "render_audit_report",
    "render_explain",
    "resolve_person",
    "score_run",
    "validate_run",
]
