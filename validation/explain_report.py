"""One offender's computation side by side with the legacy ledger, as JSON-ready data and text.

The rules applied in order, what each gave (jail days and where they came from, the term, good
conduct, earned credits before and after the cap, revocations, the dates), the legacy postings
beside the recomputed entitlement month by month (before and after the cap, the rules that cut
each month, the explanations that set it right), and each explanation of each legacy date with
its evidence. Keys and dates of the computation only: nothing that names the person.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any

from validation.explain import MS_REL_DT, Comparison, SideBySideRow
from validation.rulepack import RulePack
from validation.store import ExplanationRow, OffenderRow
from validation.waterfall import Explanation

__all__ = ["explain_document", "render_explain"]


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _num(value: Fraction | None) -> str | None:
    return None if value is None else str(value)


def explain_document(
    comparison: Comparison,
    pack: RulePack,
    *,
    batch: str | None = None,
    notes: tuple[str, ...] = (),
    stored: tuple[OffenderRow, list[ExplanationRow]] | None = None,
    run_id: str | None = None,
    facts_hash: str | None = None,
) -> dict[str, Any]:
    """Everything ``cutover explain`` shows, as plain data (dates as ISO strings)."""
    c = comparison
    comp = c.computation
    start = c.legacy_start
    months = [
        _month(row)
        for row in c.side_by_side()
        if row.legacy or row.recomputed or row.eligible_days or row.cuts or row.codes
    ]
    legacy_earned: dict[str, int] = {}
    for posted in (start.posted if start is not None else {}).values():
        for ctype, days in posted.items():
            legacy_earned[ctype] = legacy_earned.get(ctype, 0) + days
    earned_before_cap: dict[str, int] = {}
    for amounts in comp.earned_by_month.values():
        for ctype, days in amounts.items():
            earned_before_cap[ctype] = earned_before_cap.get(ctype, 0) + days
    doc: dict[str, Any] = {
        "person_id": c.person_id,
        "batch": batch,
        "status": c.status,
        "reason": c.reason,
        "pack": {"name": pack.name, "version": pack.version},
        "as_of": _iso(comp.as_of),
        "rules": [s.name for s in pack.steps],
        "computation": {
            "custody_date": _iso(comp.custody_date),
            "commitments": [
                {
                    "key": s.key,
                    "begin": _iso(s.begin),
                    "end": _iso(s.end),
                    "jail_days": s.jail_days,
                    "jail_source": s.jail_source,
                    "evidence": list(s.evidence),
                }
                for s in comp.spans
            ],
            "term_start": _iso(comp.term_start),
            "max_expiration": _iso(comp.max_expiration),
            "good_conduct_rate": _num(comp.gc_rate),
            "good_conduct": comp.good_conduct,
            "earned_before_cap": earned_before_cap,
            "earned_after_cap": {t: comp.earned_of(t) for t in sorted(earned_before_cap)},
            "revoked_good_conduct": comp.revoked_gc,
            "revoked_special_project": comp.revoked_sp,
            "ms_release": _iso(comp.ms_release),
            "notes": [*notes, *comp.notes],
        },
        "legacy": {
            "max_expiration": _iso(start.max_expiration) if start else None,
            "good_conduct": start.good_conduct if start else None,
            "good_conduct_rate": _num(start.gc_rate) if start else None,
            "earned": legacy_earned,
            "revoked_good_conduct": start.revoked_gc if start else None,
            "revoked_special_project": start.revoked_sp if start else None,
            "ms_release": _iso(c.legacy_ms_release),
        },
        "delta_days": c.delta,
        "impact": {"kind": c.impact.kind, "days": c.impact.days, "text": c.impact.description},
        "explanations": [_explanation(e) for e in c.explanations],
        "max_expiration_delta_days": c.max_expiration_delta,
        "max_expiration_explanations": [_explanation(e) for e in c.max_expiration_explanations],
        "months": months,
        "facts_hash": facts_hash,
    }
    if stored is not None:
        row, explanations = stored
        doc["run"] = {
            "run_id": run_id,
            "status": row.status,
            "delta_days": row.delta_days,
            "max_expiration_delta_days": row.max_exp_delta_days,
            "facts_hash": row.facts_hash,
            "facts_changed_since": facts_hash is not None and row.facts_hash != facts_hash,
            "explanations": [
                {"code": e.code, "days": e.days} for e in explanations if e.date_field == MS_REL_DT
            ],
            "max_expiration_explanations": [
                {"code": e.code, "days": e.days} for e in explanations if e.date_field != MS_REL_DT
            ],
        }
    return doc


def _explanation(e: Explanation) -> dict[str, Any]:
    return {
        "code": e.code,
        "days": e.days,
        "detail": e.detail,
        "months": [m.strftime("%Y-%m") for m in e.months],
        "evidence": list(e.evidence),
    }


def _month(row: SideBySideRow) -> dict[str, Any]:
    return {
        "month": row.month.strftime("%Y-%m"),
        "credit_type": row.credit_type,
        "kind": row.kind,
        "legacy": row.legacy,
        "entitled": row.entitled,
        "cap": row.cap,
        "recomputed": row.recomputed,
        "eligible_days": row.eligible_days if row.kind == "earned" else None,
        # rule -> the days it removed: eligible days, capped credit days or revoked days
        "cut_by": dict(row.cuts),
        "codes": list(row.codes),
        "differs": row.legacy != row.recomputed,
    }


def render_explain(doc: dict[str, Any]) -> str:
    """The document of ``explain_document`` as text for a terminal."""
    comp, legacy = doc["computation"], doc["legacy"]
    head = f"person {doc['person_id']}"
    if doc.get("batch"):
        head += f" (batch {doc['batch']})"
    head += f": {doc['status']}" + (f" ({doc['reason']})" if doc.get("reason") else "")
    lines = [
        head,
        f"  rule pack {doc['pack']['name']} {doc['pack']['version']}, as of {doc['as_of']}",
    ]
    lines.append("  rules applied: " + ", ".join(doc["rules"]))
    lines += [f"  note: {n}" for n in comp["notes"]]
    lines.append(f"  custody date {comp['custody_date']}")
    for c in comp["commitments"]:
        lines.append(
            f"  commitment {c['key']}: {c['begin']} to {c['end']}, jail {c['jail_days']} days "
            f"({c['jail_source']}: {', '.join(c['evidence'][1:]) or '-'})"
        )
    rows = [
        ("max expiration", legacy["max_expiration"], comp["max_expiration"]),
        ("good conduct rate", legacy["good_conduct_rate"], comp["good_conduct_rate"]),
        ("good conduct", legacy["good_conduct"], comp["good_conduct"]),
        *(
            (f"earned {t} (after cap)", legacy["earned"].get(t), comp["earned_after_cap"].get(t))
            for t in sorted({*comp["earned_after_cap"], *legacy["earned"]})
        ),
        ("revoked good conduct", legacy["revoked_good_conduct"], comp["revoked_good_conduct"]),
        (
            "revoked special project",
            legacy["revoked_special_project"],
            comp["revoked_special_project"],
        ),
        ("MS release", legacy["ms_release"], comp["ms_release"]),
    ]
    lines.append(f"  {'':28}{'legacy':>12}{'recomputed':>12}")
    lines += [f"  {name:28}{_s(old):>12}{_s(new):>12}" for name, old, new in rows]
    if doc["delta_days"] is not None:
        lines.append(f"  delta {doc['delta_days']:+d} days; {doc['impact']['text']}")
    else:
        lines.append(f"  {doc['impact']['text']}")
    lines += _explanation_lines(doc["explanations"])
    max_delta = doc.get("max_expiration_delta_days")
    if max_delta:
        lines.append(f"  MAX_EXP_DT delta {max_delta:+d} days")
        lines += _explanation_lines(doc["max_expiration_explanations"])
    if doc["months"]:
        lines.append(
            f"  {'month':9}{'type':>5}{'legacy':>8}{'entitled':>10}{'cap':>5}{'recomputed':>12}"
            f"{'eligible':>10}    {'cut by (days)':38}explained by"
        )
        for m in doc["months"]:
            mark = "<" if m["differs"] else ""
            cut = ", ".join(f"{rule} {days}" for rule, days in m["cut_by"].items())
            line = (
                f"  {m['month']:9}{m['credit_type']:>5}{m['legacy']:>8}{m['entitled']:>10}"
                f"{_s(m['cap']):>5}{m['recomputed']:>12}{_s(m['eligible_days']):>10}  {mark:2}"
                f"{cut or '-':38}{', '.join(m['codes'])}"
            )
            lines.append(line.rstrip())
    run = doc.get("run")
    if run is not None:
        codes = ", ".join(f"{e['code']} {e['days']:+d}" for e in run["explanations"]) or "none"
        lines.append(f"  run {run['run_id']}: {run['status']}, explanations: {codes}")
        if run["max_expiration_explanations"]:
            codes = ", ".join(
                f"{e['code']} {e['days']:+d}" for e in run["max_expiration_explanations"]
            )
            lines.append(f"  run {run['run_id']}: MAX_EXP_DT explanations: {codes}")
        if run["facts_changed_since"]:
            lines.append("  the migrated facts changed since that run (facts hash differs)")
    return "\n".join(lines)


def _explanation_lines(explanations: list[dict[str, Any]]) -> list[str]:
    lines = []
    for e in explanations:
        ev = e["evidence"]
        shown = ", ".join(ev[:10]) + (f" ... (+{len(ev) - 10})" if len(ev) > 10 else "")
        months = f" in {', '.join(e['months'])}" if e["months"] else ""
        lines.append(f"  {e['days']:+6d}  {e['code']}{months}: {e['detail']}")
        lines.append(f"          evidence: {shown}")
    return lines


def _s(value: object) -> str:
    return "-" if value is None else str(value)
