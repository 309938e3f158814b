"""Sign-off: a validator, for an institution they hold, vouches for a batch's evidence.

A sign-off binds to the hash of the evidence of the batch's latest run
(:func:`cutover.batches.evidence.evidence_hash`). It is *fresh* while the latest run's evidence
hashes the same, and *stale* as soon as a run (or a decision) changes it. Signing is refused,
with every blocker listed, while the batch has unresolved ``UNEXPLAINED`` discrepancies,
untriaged quarantine groups or row accounting that does not balance. A sign-off can be revoked
with a reason. Every change lands in the audit log in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cutover.batches.decisions import latest_run, now_text
from cutover.batches.evidence import (
    accounting,
    discrepancies,
    evidence_hash,
    quarantine_groups,
    summary,
)
from cutover.batches.history import GLOBAL_BATCH, batch_runs
from cutover.batches.tables import batch_signoff
from cutover.control import Action, Principal, record, require
from cutover.errors import ConfigError, SignOffError

__all__ = [
    "BLOCKER_LIST_LIMIT",
    "SignOff",
    "SignOffState",
    "blockers",
    "revoke",
    "sign",
    "signoff_state",
]

#: How many individual discrepancies a blocker list names before it summarizes the rest.
BLOCKER_LIST_LIMIT = 20

StateName = Literal["unsigned", "fresh", "stale"]


@dataclass(frozen=True, slots=True)
class SignOff:
    id: int
    batch: str
    run_id: str
    evidence_hash: str
    statement: str
    signed_by: str
    signed_at: str


@dataclass(frozen=True, slots=True)
class SignOffState:
    """Where a batch stands: its live sign-off (if any) against its latest evidence."""

    batch: str
    run_id: str | None
    evidence_hash: str | None
    signoff: SignOff | None

    @property
    def state(self) -> StateName:
        if self.signoff is None:
            return "unsigned"
        return "fresh" if self.signoff.evidence_hash == self.evidence_hash else "stale"

    @property
    def fresh(self) -> bool:
        return self.state == "fresh"

    def short(self) -> str:
        """A few words, for a table cell."""
        if self.signoff is None:
            return "not signed off"
        if self.fresh:
            return f"signed by {self.signoff.signed_by}, fresh"
        return f"stale: evidence changed since {self.signoff.signed_by} signed"

    def describe(self) -> str:
        if self.signoff is None:
            return "not signed off"
        s = self.signoff
        who = f"signed by {s.signed_by} at {s.signed_at[:16].replace('T', ' ')} UTC"
        if self.fresh:
            return f"{who}: fresh"
        return f"{who} on run {s.run_id}: stale, the evidence changed in run {self.run_id}"


def blockers(conn: Connection, batch: str, run_id: str) -> list[str]:
    """What stands between ``batch`` (in ``run_id``) and a sign-off; empty when nothing."""
    found: list[str] = []
    if summary(conn, batch, run_id) is None:
        found.append(f"validation has not run for batch {batch} in run {run_id}")
    unbalanced = [a for a in accounting(conn, batch, run_id) if not a.balanced]
    found += [
        f"row accounting of {a.source_table} does not balance: {a.source_rows} source rows, "
        f"{a.loaded} loaded + {a.merged} merged + {a.quarantined} quarantined"
        for a in unbalanced
    ]
    open_items = list(discrepancies(conn, batch, run_id, only_blocking=True))
    for d in open_items[:BLOCKER_LIST_LIMIT]:
        why = (
            "its explanation needs review: the facts changed since"
            if d.resolution == "review"
            else "no cause accounts for it"
        )
        date = "" if d.date_field == "MS_REL_DT" else f" of {d.date_field}"
        found.append(f"person {d.person_id}: UNEXPLAINED {d.days:+d} days{date} ({why})")
    if len(open_items) > BLOCKER_LIST_LIMIT:
        found.append(
            f"... and {len(open_items) - BLOCKER_LIST_LIMIT} more UNEXPLAINED discrepancies"
        )
    for g in quarantine_groups(conn, batch, run_id):
        if not g.triaged:
            how = "changed since its triage" if g.stale_triage else "not triaged"
            found.append(f"quarantine group {g.slug}: {g.rows} row(s) {how}")
    return found


def _live(conn: Connection, batch: str) -> SignOff | None:
    s = batch_signoff.c
    row = conn.execute(
        sa.select(batch_signoff)
        .where(s.batch == batch, s.revoked_at.is_(None))
        .order_by(s.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return SignOff(
        int(row.id), row.batch, row.run_id, row.evidence_hash, row.statement, row.signed_by,
        row.signed_at,
    )  # fmt: skip


def signoff_state(conn: Connection, batch: str) -> SignOffState:
    runs = batch_runs(conn, batch)
    if not runs:
        return SignOffState(batch, None, None, _live(conn, batch))
    run_id = runs[-1].run_id
    return SignOffState(batch, run_id, evidence_hash(conn, batch, run_id), _live(conn, batch))


def sign(
    engine: Engine,
    *,
    actor: Principal,
    batch: str,
    statement: str = "",
    expected_hash: str | None = None,
) -> SignOff:
    """Sign ``batch``'s latest evidence; refused with :class:`SignOffError` listing blockers.

    ``expected_hash``: the evidence hash the signer was shown; refused if it has changed since
    (another run or decision landed while they were reading).
    """
    if batch == GLOBAL_BATCH:
        raise ConfigError(
            "the catalogue batch is not signed by an institution",
            hint="sign the institution batches",
        )
    require(actor, Action.SIGN_BATCH, batch)
    with engine.begin() as conn:
        run_id = latest_run(conn, batch)
        found = blockers(conn, batch, run_id)
        if found:
            raise SignOffError(
                f"batch {batch} cannot be signed off: {len(found)} blocker(s)",
                blockers=found,
                hint="explain or accept each UNEXPLAINED discrepancy, triage each quarantine "
                "group, then sign again",
                batch=batch,
                run=run_id,
            )
        digest = evidence_hash(conn, batch, run_id)
        if expected_hash is not None and expected_hash != digest:
            raise SignOffError(
                f"the evidence of batch {batch} changed while you were reading it",
                hint="reload the batch, review what changed, then sign again",
                batch=batch,
                run=run_id,
            )
        live = _live(conn, batch)
        if live is not None and live.evidence_hash == digest:
            raise ConfigError(
                f"batch {batch} is already signed off for this evidence by {live.signed_by}",
                hint="nothing to do; revoke it first to sign again",
                batch=batch,
            )
        at = now_text()
        if live is not None:
            conn.execute(
                batch_signoff.update()
                .where(batch_signoff.c.id == live.id)
                .values(revoked_by=actor.username, revoked_at=at, revoke_reason="superseded")
            )
        new_id: int = conn.execute(
            batch_signoff.insert()
            .values(
                batch=batch,
                run_id=run_id,
                evidence_hash=digest,
                statement=statement.strip(),
                signed_by=actor.username,
                signed_at=at,
            )
            .returning(batch_signoff.c.id)
        ).scalar_one()
        record(
            conn,
            actor=actor.username,
            action="batch.signed",
            subject=f"batch:{batch}",
            details={
                "run_id": run_id,
                "evidence_hash": digest,
                "supersedes": None if live is None else live.id,
            },
        )
    return SignOff(int(new_id), batch, run_id, digest, statement.strip(), actor.username, at)


def revoke(engine: Engine, *, actor: Principal, batch: str, reason: str) -> SignOff:
    """Revoke the live sign-off of ``batch``, with a reason."""
    require(actor, Action.SIGN_BATCH, batch)
    text = reason.strip()
    if len(text) < 5:
        raise ConfigError("a reason is required to revoke a sign-off", hint="say why")
    with engine.begin() as conn:
        live = _live(conn, batch)
        if live is None:
            raise ConfigError(f"batch {batch} has no sign-off to revoke", batch=batch)
        conn.execute(
            batch_signoff.update()
            .where(batch_signoff.c.id == live.id)
            .values(revoked_by=actor.username, revoked_at=now_text(), revoke_reason=text)
        )
        record(
            conn,
            actor=actor.username,
            action="batch.signoff_revoked",
            subject=f"batch:{batch}",
            details={"signoff": live.id, "run_id": live.run_id, "reason": text},
        )
    return live
