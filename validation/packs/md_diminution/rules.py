"""The pack's steps, registered by name; ``pack.yaml`` lists them in the order they run.

Each step reads the facts and the parameters and fills in its part of the ``Workpad``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from cutover.errors import RulePackError
from validation.computation import CommitmentSpan, Workpad
from validation.dates import month_index, month_of_index
from validation.facts import OffenderFacts
from validation.packs.md_diminution.credits import (
    CUT_CAP,
    CUT_REVOCATION,
    cap_months,
    earned_by_month,
    good_conduct_days,
    good_conduct_rate,
)
from validation.packs.md_diminution.params import MdDiminutionParams
from validation.packs.md_diminution.term import (
    TermError,
    certificate_targets,
    jail_days,
    term_spans,
)
from validation.registry import register_rule

T = TypeVar("T")

__all__ = [
    "earned_credits",
    "good_conduct",
    "jail_credit",
    "monthly_cap",
    "release_date",
    "revocations",
    "scope",
    "term_of_confinement",
]


def _needed(value: T | None, step: str, before: str) -> T:
    if value is None:
        raise RulePackError(
            f"rule {step} needs {before} to run before it",
            hint="list the steps in the pack file in the order pack.yaml documents",
        )
    return value


@register_rule("md.scope")
def scope(facts: OffenderFacts, _params: MdDiminutionParams, pad: Workpad) -> None:
    """Life sentences get no mandatory supervision date; missing essentials halt as incomplete."""
    if facts.is_lifer:
        pad.halt("out_of_scope", "life sentence: no mandatory supervision release date")
    elif not facts.commitments:
        pad.halt("incomplete", "no commitments")
    elif facts.custody_date is None:
        pad.halt("incomplete", "no commitment carries a custody date (CMT_DT)")
    else:
        pad.custody_date = facts.custody_date


@register_rule("md.jail_credit")
def jail_credit(facts: OffenderFacts, _params: MdDiminutionParams, pad: Workpad) -> None:
    """Jail days per commitment from the certificate, else from the posted rows."""
    for doc, keys in certificate_targets(facts).items():
        if not keys:
            pad.notes.append(f"jail certificate {doc} names no commitment's SENT_BGN_DT")
    for key, jail in jail_days(facts).items():
        pad.jail_days[key] = jail.days
        pad.jail_source[key] = jail.source
        pad.jail_evidence[key] = jail.evidence


@register_rule("md.term_of_confinement")
def term_of_confinement(facts: OffenderFacts, _params: MdDiminutionParams, pad: Workpad) -> None:
    """Commitment spans; the term runs from the first begin to the last end (``MAX_EXP_DT``)."""
    try:
        spans = term_spans(facts.commitments, pad.jail_days)
    except TermError as exc:
        pad.halt("incomplete", str(exc))
        return
    pad.spans = [
        CommitmentSpan(
            key=key,
            begin=begin,
            end=end,
            jail_days=pad.jail_days.get(key, 0),
            jail_source=pad.jail_source.get(key, "none"),
            evidence=(key, *pad.jail_evidence.get(key, ())),
        )
        for key, (begin, end) in spans.items()
    ]
    pad.term_start = min(s.begin for s in pad.spans)
    pad.max_expiration = max(s.end for s in pad.spans)


@register_rule("md.good_conduct")
def good_conduct(facts: OffenderFacts, params: MdDiminutionParams, pad: Workpad) -> None:
    """Good conduct in advance for ``[CMT_DT, MAX_EXP_DT)`` at the term's rate."""
    custody = _needed(pad.custody_date, "md.good_conduct", "md.scope")
    max_exp = _needed(pad.max_expiration, "md.good_conduct", "md.term_of_confinement")
    pad.gc_rate = good_conduct_rate(facts, params)
    pad.good_conduct = good_conduct_days(pad.gc_rate, custody, max_exp, params)


@register_rule("md.earned_credits")
def earned_credits(facts: OffenderFacts, params: MdDiminutionParams, pad: Workpad) -> None:
    """Earned credits per month and type, before the cap, and the days the eligibility rules cut."""
    custody = _needed(pad.custody_date, "md.earned_credits", "md.scope")
    for index, month in earned_by_month(facts, params, custody, removed=pad.cuts).items():
        pad.eligible[index] = month.eligible
        pad.earned[index] = month.amount
        pad.month_evidence[index] = tuple(month.evidence)


@register_rule("md.monthly_cap")
def monthly_cap(facts: OffenderFacts, params: MdDiminutionParams, pad: Workpad) -> None:
    """Cap each month's earned credits, in the cap order."""
    classes = frozenset(c.offense_class for c in facts.commitments)
    for index, amounts in pad.earned.items():
        capped, pad.caps[index] = cap_months(amounts, month_of_index(index), classes, params)
        pad.capped[index] = capped
        for ctype, days in amounts.items():
            cut = days - capped.get(ctype, 0)
            if cut:  # most months are under the cap: no call for nothing cut
                pad.cut(index, ctype, CUT_CAP, cut)


@register_rule("md.revocations")
def revocations(facts: OffenderFacts, params: MdDiminutionParams, pad: Workpad) -> None:
    """Revocations of infractions before the as-of date, never more than was awarded."""
    counted = [i for i in facts.infractions if i.date < facts.as_of]
    revokes = params.revocation.revokes
    sp_type = params.revocation.special_project_type
    gc_ledger = next((k for k, v in revokes.items() if v == "GC"), None)
    sp_ledger = next((k for k, v in revokes.items() if v == sp_type), None)
    for i in counted:
        for ltype, days in ((gc_ledger, i.gc_revoked), (sp_ledger, i.sp_revoked)):
            if ltype is not None and days:
                index = month_index(i.date)
                month = pad.revoked_by_month.setdefault(index, {})
                month[ltype] = month.get(ltype, 0) + days
                pad.cut(index, ltype, CUT_REVOCATION, days)
    gc = sum(i.gc_revoked for i in counted)
    sp = sum(i.sp_revoked for i in counted)
    if params.revocation.floor_at_awarded:
        gc = min(gc, pad.good_conduct)
        sp = min(sp, sum(m.get(sp_type, 0) for m in pad.credited().values()))
    pad.revoked_gc = gc
    pad.revoked_sp = sp
    pad.revocation_evidence = tuple(i.key for i in counted if i.gc_revoked > 0 or i.sp_revoked > 0)


@register_rule("md.release_date")
def release_date(_facts: OffenderFacts, _params: MdDiminutionParams, pad: Workpad) -> None:
    """``MAX_EXP_DT`` minus net good conduct minus net earned credits."""
    max_exp = _needed(pad.max_expiration, "md.release_date", "md.term_of_confinement")
    earned = sum(sum(m.values()) for m in pad.credited().values())
    net = (pad.good_conduct - pad.revoked_gc) + (earned - pad.revoked_sp)
    pad.ms_release = max_exp - timedelta(days=net)
