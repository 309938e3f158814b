"""A batch's evidence in one run: what a validator reads before signing, and its hash.

The evidence of batch ``B`` in run ``R`` is: the validation summary, the row accounting, the
quarantined rows (grouped by target table, source table, rule and column), the catalogue
findings, every offender's comparison with its automatic explanations, and the decisions that
apply to them (manual explanations and accepted variances still valid for the offender's facts,
quarantine triage still valid for the group's rows). :func:`evidence_hash` hashes all of it
except the run id, streaming in key order, so two runs with the same evidence hash the same and
a sign-off stays fresh exactly while nothing it saw has changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cutover.batches.tables import (
    explanation_register,
    quarantine_triage,
    run_accounting,
    run_quarantine,
    val_explanation,
    val_finding,
    val_offender,
    val_run_summary,
)

__all__ = [
    "UNEXPLAINED",
    "AccountingLine",
    "Discrepancy",
    "Finding",
    "QuarantineGroup",
    "Resolution",
    "Summary",
    "accounting",
    "discrepancies",
    "evidence_hash",
    "findings",
    "quarantine_groups",
    "summary",
]

UNEXPLAINED = "UNEXPLAINED"
_CHUNK = 5_000

#: How a discrepancy stands: explained by a rule (``automatic``), by a person (``explained``,
#: ``accepted``), not at all (``unexplained``), or by a person against facts that have since
#: changed (``review``: a manual decision that no longer applies until someone looks again).
Resolution = Literal["automatic", "explained", "accepted", "review", "unexplained"]
Direction = Literal["early", "late"]


@dataclass(frozen=True, slots=True)
class Summary:
    offenders: int = 0
    matched: int = 0
    explained: int = 0
    unexplained: int = 0
    out_of_scope: int = 0
    incomplete: int = 0
    released_early: int = 0
    released_late: int = 0


@dataclass(frozen=True, slots=True)
class AccountingLine:
    source_table: str
    source_rows: int
    loaded: int
    merged: int
    quarantined: int
    target_table: str = ""

    @property
    def balanced(self) -> bool:
        return self.source_rows == self.loaded + self.merged + self.quarantined


@dataclass(frozen=True, slots=True)
class Finding:
    finding_key: str
    kind: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class QuarantineGroup:
    """Quarantined rows sharing a target table, source table, rule and column."""

    target_table: str
    source_table: str
    rule: str
    column_name: str
    rows: int
    #: SHA-256 over the rows' identities and value hashes: a changed group needs triage again.
    fingerprint: str
    message: str
    sample_keys: tuple[str, ...]
    #: The triage that applies (same fingerprint), if any; ``stale_triage`` when one was made
    #: for this group but its rows have changed since.
    triaged_by: str | None = None
    triaged_at: str | None = None
    triage_reason: str | None = None
    stale_triage: bool = False

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.target_table, self.source_table, self.rule, self.column_name)

    @property
    def triaged(self) -> bool:
        return self.triaged_by is not None

    @property
    def slug(self) -> str:
        """The group's identity as one string (``target/source/rule/column``)."""
        return "/".join(self.key)


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One cause of one offender's date difference: identity ``(person_id, code)``."""

    person_id: str
    code: str
    days: int
    detail: str
    evidence: list[str] = field(default_factory=list)
    status: str = ""
    delta_days: int | None = None
    impact_kind: str | None = None
    legacy_ms_rel: date | None = None
    recomputed_ms_rel: date | None = None
    resolution: Resolution = "automatic"
    register_reason: str | None = None
    register_by: str | None = None
    #: The legacy date whose difference this cause explains: ``MS_REL_DT`` or ``MAX_EXP_DT``.
    date_field: str = "MS_REL_DT"

    @property
    def blocking(self) -> bool:
        return self.code == UNEXPLAINED and self.resolution in ("unexplained", "review")


def summary(conn: Connection, batch: str, run_id: str) -> Summary | None:
    row = conn.execute(
        sa.select(val_run_summary).where(
            val_run_summary.c.run_id == run_id, val_run_summary.c.batch == batch
        )
    ).first()
    if row is None:
        return None
    values = row._mapping
    return Summary(**{f: int(values[f] or 0) for f in Summary.__dataclass_fields__})


def accounting(conn: Connection, batch: str, run_id: str) -> list[AccountingLine]:
    rows = conn.execute(
        sa.select(run_accounting)
        .where(run_accounting.c.run_id == run_id, run_accounting.c.batch == batch)
        .order_by(run_accounting.c.source_table, run_accounting.c.target_table)
    )
    return [
        AccountingLine(
            r.source_table, r.source_rows, r.loaded, r.merged, r.quarantined, r.target_table
        )
        for r in rows
    ]


def findings(conn: Connection, batch: str, run_id: str) -> list[Finding]:
    rows = conn.execute(
        sa.select(val_finding)
        .where(val_finding.c.run_id == run_id, val_finding.c.batch == batch)
        .order_by(val_finding.c.kind, val_finding.c.finding_key)
    )
    return [Finding(r.finding_key, r.kind, _json_object(r.detail)) for r in rows]


def _json_object(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {"unparsable": text}
    return value if isinstance(value, dict) else {"value": value}


def _json_list(text: str | None) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return [str(text)]
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, dict):
        return [f"{k}={v}" for k, v in sorted(value.items())]
    return [str(value)]


def _quarantine_rows(conn: Connection, batch: str, run_id: str) -> Iterator[sa.Row[Any]]:
    q = run_quarantine.c
    query = (
        sa.select(
            q.target_table,
            q.source_table,
            q.rule,
            sa.func.coalesce(q.column_name, "").label("column_name"),
            q.source_key,
            sa.func.coalesce(q.value_hash, "").label("value_hash"),
            q.message,
        )
        .where(q.run_id == run_id, q.batch == batch)
        .order_by(q.target_table, q.source_table, q.rule, q.column_name, q.source_key, q.value_hash)
    )
    yield from conn.execute(query.execution_options(yield_per=_CHUNK))


def quarantine_groups(conn: Connection, batch: str, run_id: str) -> list[QuarantineGroup]:
    """The run's quarantine of ``batch`` in groups, each with the triage that still applies."""
    groups: list[QuarantineGroup] = []
    current: tuple[str, str, str, str] | None = None
    digest = hashlib.sha256()
    rows, message = 0, ""
    samples: list[str] = []

    def close() -> None:
        if current is not None:
            groups.append(
                QuarantineGroup(*current, rows, digest.hexdigest(), message, tuple(samples))
            )

    for r in _quarantine_rows(conn, batch, run_id):
        key = (r.target_table, r.source_table, r.rule, r.column_name)
        if key != current:
            close()
            current, digest, rows, message, samples = key, hashlib.sha256(), 0, r.message, []
        digest.update(f"{r.source_key}\x1f{r.value_hash}\n".encode())
        rows += 1
        if len(samples) < 5:
            samples.append(r.source_key)
    close()
    return [_with_triage(conn, batch, g) for g in groups]


def _with_triage(conn: Connection, batch: str, group: QuarantineGroup) -> QuarantineGroup:
    t = quarantine_triage.c
    made = conn.execute(
        sa.select(t.fingerprint, t.triaged_by, t.triaged_at, t.reason)
        .where(
            t.batch == batch,
            t.target_table == group.target_table,
            t.source_table == group.source_table,
            t.rule == group.rule,
            t.column_name == group.column_name,
        )
        .order_by(t.id.desc())
    ).all()
    if not made:
        return group
    for m in made:
        if m.fingerprint == group.fingerprint:
            return _replace(
                group, triaged_by=m.triaged_by, triaged_at=m.triaged_at, triage_reason=m.reason
            )
    return _replace(group, stale_triage=True, triage_reason=made[0].reason)


def _replace(group: QuarantineGroup, **changes: Any) -> QuarantineGroup:
    values = {f: getattr(group, f) for f in QuarantineGroup.__dataclass_fields__}
    values.update(changes)
    return QuarantineGroup(**values)


def _register_kind(current: bool) -> sa.ScalarSelect[Any]:
    """The newest live register entry for the row's ``(person_id, code)``, as a subquery.

    ``current``: only entries made against the offender's facts in this run.
    """
    r = explanation_register.c
    cond = [
        r.person_id == val_explanation.c.person_id,
        r.code == val_explanation.c.code,
        r.withdrawn_at.is_(None),
    ]
    if current:
        cond.append(r.facts_hash == val_offender.c.facts_hash)
    packed = r.kind + sa.literal("\x1f") + r.created_by + sa.literal("\x1f") + r.reason
    return sa.select(packed).where(*cond).order_by(r.id.desc()).limit(1).scalar_subquery()


def _discrepancy_query(batch: str, run_id: str) -> sa.Select[Any]:
    o, e = val_offender.c, val_explanation.c
    return (
        sa.select(
            e.person_id,
            e.code,
            e.days,
            e.detail,
            e.evidence,
            e.date_field,
            o.status,
            o.delta_days,
            o.impact_kind,
            o.legacy_ms_rel,
            o.recomputed_ms_rel,
            _register_kind(current=True).label("current"),
            _register_kind(current=False).label("latest"),
        )
        .select_from(
            val_explanation.join(
                val_offender, sa.and_(o.run_id == e.run_id, o.person_id == e.person_id)
            )
        )
        .where(e.run_id == run_id, o.batch == batch)
    )


def discrepancies(
    conn: Connection,
    batch: str,
    run_id: str,
    *,
    code: str | None = None,
    direction: Direction | None = None,
    only_blocking: bool = False,
    person_id: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Iterator[Discrepancy]:
    """The run's discrepancies of ``batch`` in ``(person_id, seq)`` order, streamed.

    ``direction``: ``early`` = the legacy date was too early (positive delta), ``late`` = too
    late. ``only_blocking``: the ``UNEXPLAINED`` ones no current decision resolves.
    """
    o, e = val_offender.c, val_explanation.c
    query = _discrepancy_query(batch, run_id)
    if code:
        query = query.where(e.code == code)
    if person_id is not None:
        query = query.where(e.person_id == person_id)
    if direction == "early":
        query = query.where(o.delta_days > 0)
    elif direction == "late":
        query = query.where(o.delta_days < 0)
    if only_blocking:
        query = query.where(e.code == UNEXPLAINED, _register_kind(current=True).is_(None))
    query = query.order_by(e.person_id, e.seq).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    for r in conn.execute(query.execution_options(yield_per=_CHUNK)):
        yield _discrepancy(r)


def _discrepancy(r: sa.Row[Any]) -> Discrepancy:
    decision = r.current or r.latest
    kind, by, reason = ([*decision.split("\x1f", 2), "", ""])[:3] if decision else ("", "", "")
    resolution: Resolution
    if r.current:
        resolution = "accepted" if kind == "accepted_variance" else "explained"
    elif r.latest:
        resolution = "review"
    else:
        resolution = "unexplained" if r.code == UNEXPLAINED else "automatic"
    return Discrepancy(
        person_id=r.person_id,
        code=r.code,
        days=int(r.days),
        detail=r.detail or "",
        evidence=_json_list(r.evidence),
        status=r.status,
        delta_days=r.delta_days,
        impact_kind=r.impact_kind,
        legacy_ms_rel=r.legacy_ms_rel,
        recomputed_ms_rel=r.recomputed_ms_rel,
        resolution=resolution,
        register_reason=reason or None,
        register_by=by or None,
        date_field=r.date_field,
    )


def _feed(digest: Any, section: str, rows: Any) -> None:
    digest.update(f"[{section}]\n".encode())
    for row in rows:
        digest.update(json.dumps(list(row), default=str, separators=(",", ":")).encode() + b"\n")


def evidence_hash(conn: Connection, batch: str, run_id: str) -> str:
    """SHA-256 of the batch's evidence in ``run_id`` (everything but the run id itself)."""
    digest = hashlib.sha256()
    digest.update(f"cutover-batch-evidence/1\n{batch}\n".encode())
    found = summary(conn, batch, run_id)
    _feed(digest, "summary", [] if found is None else [list(vars_of(found))])
    _feed(digest, "accounting", (vars_of(a) for a in accounting(conn, batch, run_id)))
    _feed(digest, "quarantine", (tuple(r) for r in _quarantine_rows(conn, batch, run_id)))
    _feed(
        digest,
        "findings",
        ((f.finding_key, f.kind, f.detail) for f in findings(conn, batch, run_id)),
    )
    o = val_offender.c
    offenders = (
        sa.select(
            o.person_id,
            o.status,
            o.legacy_max_exp,
            o.recomputed_max_exp,
            o.legacy_ms_rel,
            o.recomputed_ms_rel,
            o.delta_days,
            o.impact_kind,
            o.impact_days,
            o.facts_hash,
        )
        .where(o.run_id == run_id, o.batch == batch)
        .order_by(o.person_id)
    )
    _feed(digest, "offenders", conn.execute(offenders.execution_options(yield_per=_CHUNK)))
    e = val_explanation.c
    explained = (
        _discrepancy_query(batch, run_id)
        .with_only_columns(
            e.person_id,
            e.seq,
            e.code,
            e.days,
            e.evidence,
            e.detail,
            _register_kind(current=True).label("decision"),
        )
        .order_by(e.person_id, e.seq)
    )
    _feed(digest, "explanations", conn.execute(explained.execution_options(yield_per=_CHUNK)))
    _feed(
        digest,
        "triage",
        (
            (g.slug, g.fingerprint, g.triaged_by, g.triage_reason)
            for g in quarantine_groups(conn, batch, run_id)
            if g.triaged
        ),
    )
    return digest.hexdigest()


def vars_of(item: Summary | AccountingLine) -> tuple[Any, ...]:
    """A dataclass's field values in declaration order."""
    return tuple(getattr(item, f) for f in type(item).__dataclass_fields__)
