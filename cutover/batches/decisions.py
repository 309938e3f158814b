"""People's decisions about a batch's evidence: the explanation register and quarantine triage.

The **register** keeps manual explanations and accepted variances of one discrepancy
``(person_id, code)``: the reason, who, when, and the offender's ``facts_hash`` in the run they
were made against. A decision carries to later runs while that offender's facts hash is
unchanged; when it changes, the decision is flagged for review (it no longer resolves
anything) instead of silently carried. Adding a decision again against the new facts is how a
person reviews it.

**Triage** marks a quarantine group (target table, source table, rule, column) as looked at,
against the group's fingerprint; a group whose rows change needs triage again.

Every change is checked with the shared permission model and recorded in the audit log in the
same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cutover.batches.evidence import quarantine_groups
from cutover.batches.history import GLOBAL_BATCH, batch_runs
from cutover.batches.tables import (
    explanation_register,
    quarantine_triage,
    val_explanation,
    val_offender,
)
from cutover.control import Action, Principal, can, record, require
from cutover.control.store import utc_now
from cutover.errors import AccessDeniedError, ConfigError

__all__ = [
    "DecisionKind",
    "RegisterEntry",
    "add_explanation",
    "latest_run",
    "list_register",
    "now_text",
    "triage_quarantine",
    "withdraw_explanation",
]

DecisionKind = Literal["explanation", "accepted_variance"]
_KINDS: tuple[str, ...] = ("explanation", "accepted_variance")


def now_text() -> str:
    return utc_now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    id: int
    batch: str
    person_id: str
    code: str
    kind: str
    reason: str
    facts_hash: str
    run_id: str
    days: int | None
    created_by: str
    created_at: str
    withdrawn_by: str | None
    withdrawn_at: str | None
    withdrawn_reason: str | None
    #: Against the batch's latest run: ``current`` (facts unchanged), ``review`` (facts changed
    #: since), ``gone`` (the discrepancy is no longer there) or ``withdrawn``.
    state: str = "current"


def latest_run(conn: Connection, batch: str) -> str:
    """The newest usable run with evidence for ``batch``."""
    runs = batch_runs(conn, batch)
    if not runs:
        raise ConfigError(
            f"no dry run has produced evidence for batch {batch!r}",
            hint="run a dry run and its validation first; 'cutover batch list' shows the batches",
            batch=batch,
        )
    return runs[-1].run_id


def _reason(reason: str) -> str:
    text = reason.strip()
    if len(text) < 5:
        raise ConfigError(
            "a reason is required (at least a few words)",
            hint="say why: what was checked, and what it showed",
        )
    return text


def add_explanation(
    engine: Engine,
    *,
    actor: Principal,
    batch: str,
    person_id: str,
    code: str,
    kind: DecisionKind,
    reason: str,
) -> RegisterEntry:
    """Record a manual explanation or an accepted variance of ``(person_id, code)``.

    Made against the offender's facts in the batch's latest run; the discrepancy must be there.
    """
    if kind not in _KINDS:
        raise ConfigError(f"unknown decision kind {kind!r}", hint=f"use one of: {_KINDS}")
    require(actor, Action.EXPLAIN if kind == "explanation" else Action.ANNOTATE, batch)
    text = _reason(reason)
    with engine.begin() as conn:
        run_id = latest_run(conn, batch)
        o, e = val_offender.c, val_explanation.c
        found = conn.execute(
            # The days of the release date's difference; the expiration date's where the
            # cause moved only that one.
            sa.select(
                o.facts_hash,
                sa.func.coalesce(
                    sa.func.sum(sa.case((e.date_field == "MS_REL_DT", e.days))),
                    sa.func.sum(e.days),
                ).label("days"),
            )
            .select_from(
                val_offender.join(
                    val_explanation, sa.and_(e.run_id == o.run_id, e.person_id == o.person_id)
                )
            )
            .where(o.run_id == run_id, o.batch == batch, o.person_id == person_id, e.code == code)
            .group_by(o.facts_hash)
        ).first()
        if found is None:
            raise ConfigError(
                f"batch {batch} has no discrepancy {code} for person {person_id} in run {run_id}",
                hint="'cutover batch show BATCH' lists the discrepancies of the latest run",
                batch=batch,
                run=run_id,
            )
        at = now_text()
        new_id: int = conn.execute(
            explanation_register.insert()
            .values(
                batch=batch,
                person_id=person_id,
                code=code,
                kind=kind,
                reason=text,
                facts_hash=found.facts_hash,
                run_id=run_id,
                days=int(found.days),
                created_by=actor.username,
                created_at=at,
            )
            .returning(explanation_register.c.id)
        ).scalar_one()
        record(
            conn,
            actor=actor.username,
            action=f"{'explanation' if kind == 'explanation' else 'variance'}.added",
            subject=f"batch:{batch}",
            details={
                "id": int(new_id),
                "person_id": person_id,
                "code": code,
                "run_id": run_id,
                "facts_hash": found.facts_hash,
                "reason": text,
            },
        )
    return RegisterEntry(
        int(new_id), batch, person_id, code, kind, text, found.facts_hash, run_id,
        int(found.days), actor.username, at, None, None, None,
    )  # fmt: skip


def withdraw_explanation(engine: Engine, *, actor: Principal, entry_id: int, reason: str) -> None:
    """Withdraw a register entry; it stops resolving its discrepancy at once."""
    text = _reason(reason)
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(explanation_register).where(explanation_register.c.id == entry_id)
        ).first()
        if row is None or row.withdrawn_at is not None:
            raise ConfigError(
                f"no live register entry {entry_id}",
                hint="'cutover explanation list' shows the entries",
            )
        require(actor, Action.EXPLAIN if row.kind == "explanation" else Action.ANNOTATE, row.batch)
        conn.execute(
            explanation_register.update()
            .where(explanation_register.c.id == entry_id)
            .values(withdrawn_by=actor.username, withdrawn_at=now_text(), withdrawn_reason=text)
        )
        record(
            conn,
            actor=actor.username,
            action="explanation.withdrawn",
            subject=f"batch:{row.batch}",
            details={"id": entry_id, "person_id": row.person_id, "code": row.code, "reason": text},
        )


def list_register(engine: Engine, batch: str | None = None) -> list[RegisterEntry]:
    """The register's entries (newest first), each with its state against the latest run."""
    r, o, e = explanation_register.c, val_offender.c, val_explanation.c
    with engine.connect() as conn:
        query = sa.select(explanation_register).order_by(r.id.desc())
        if batch is not None:
            query = query.where(r.batch == batch)
        rows = conn.execute(query).all()
        latest: dict[str, str | None] = {}
        for b in {row.batch for row in rows}:
            runs = batch_runs(conn, b)
            latest[b] = runs[-1].run_id if runs else None
        out = []
        for row in rows:
            state = "withdrawn"
            if row.withdrawn_at is None and latest[row.batch] is None:
                state = "gone"
            elif row.withdrawn_at is None:
                now = conn.execute(
                    sa.select(o.facts_hash)
                    .select_from(
                        val_offender.join(
                            val_explanation,
                            sa.and_(e.run_id == o.run_id, e.person_id == o.person_id),
                        )
                    )
                    .where(o.run_id == latest[row.batch], o.person_id == row.person_id)
                    .where(e.code == row.code)
                    .limit(1)
                ).scalar()
                state = "gone" if now is None else "current" if now == row.facts_hash else "review"
            values = {c.name: row._mapping[c.name] for c in explanation_register.c}
            out.append(RegisterEntry(**values, state=state))
    return out


def _may_triage(actor: Principal, batch: str) -> None:
    if can(actor, Action.RUN_PIPELINE) and batch != GLOBAL_BATCH:
        return
    if can(actor, Action.ANNOTATE, batch):
        return
    if not actor.active:
        require(actor, Action.ANNOTATE, batch)  # raises with the account's reason
    raise AccessDeniedError(
        f"access denied: {actor.username!r} may not triage the quarantine of batch {batch!r}",
        hint="triage needs an engineer, or a validator for that institution",
        user=actor.username,
        institution=batch,
    )


def triage_quarantine(
    engine: Engine,
    *,
    actor: Principal,
    batch: str,
    group: str,
    reason: str,
) -> int:
    """Mark the quarantine group ``group`` (``target/source/rule/column``) triaged; its rows."""
    _may_triage(actor, batch)
    text = _reason(reason)
    with engine.begin() as conn:
        run_id = latest_run(conn, batch)
        groups = {g.slug: g for g in quarantine_groups(conn, batch, run_id)}
        found = groups.get(group)
        if found is None:
            known = ", ".join(sorted(groups)) or "none"
            raise ConfigError(
                f"batch {batch} has no quarantine group {group!r} in run {run_id}",
                hint=f"the groups are: {known}",
                batch=batch,
            )
        conn.execute(
            quarantine_triage.insert().values(
                batch=batch,
                target_table=found.target_table,
                source_table=found.source_table,
                rule=found.rule,
                column_name=found.column_name,
                fingerprint=found.fingerprint,
                rows=found.rows,
                reason=text,
                run_id=run_id,
                triaged_by=actor.username,
                triaged_at=now_text(),
            )
        )
        record(
            conn,
            actor=actor.username,
            action="quarantine.triaged",
            subject=f"batch:{batch}",
            details={"group": group, "rows": found.rows, "run_id": run_id, "reason": text},
        )
    return found.rows
