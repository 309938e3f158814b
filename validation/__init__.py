"""validation stage: rule packs over typed facts, recompute, compare and explain.

The integrator builds ``OffenderFacts`` from the target, loads a pack once with ``load_pack``
and calls ``explain`` (or ``explain_many`` over a stream) per offender.
"""

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
from validation.registry import (
    register_correction,
    register_pack,
    register_parameters,
    register_rule,
)
from validation.render import format_comparison
from validation.rulepack import PackFileError, RulePack, Step, load_pack
from validation.waterfall import UNEXPLAINED, Correction, Explanation

__all__ = [
    "UNEXPLAINED",
    "AssignmentFact",
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
    "PackFileError",
    "RulePack",
    "SegregationFact",
    "SideBySideRow",
    "Step",
    "WaterfallStart",
    "Workpad",
    "explain",
    "explain_many",
    "format_comparison",
    "load_pack",
    "recompute",
    "recompute_many",
    "register_correction",
    "register_pack",
    "register_parameters",
    "register_rule",
]
