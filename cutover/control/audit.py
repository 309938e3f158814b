"""The append-only audit log: a hash chain in the control database.

Every change of state is recorded with :func:`record` (inside the caller's transaction, so the
change and its audit entry commit together) or :func:`record_event` (its own transaction). Each
entry carries ``seq``, ``at`` (UTC, ISO 8601), ``actor``, ``action``, ``subject``, ``details``
(canonical JSON), ``prev_hash`` and ``hash`` = SHA-256 of the canonical serialization of all of
these (see :func:`entry_hash`). The first entry's ``prev_hash`` is :data:`GENESIS_HASH`.

Appends are serialized by updating the one-row ``audit_head`` first: on PostgreSQL that row lock
makes a second writer wait for the first to commit, on SQLite the update takes the database's
write lock, so two writers can never fork the chain. (Under PostgreSQL's default READ COMMITTED
the second writer simply waits; a caller running REPEATABLE READ or SERIALIZABLE gets a
serialization error instead and retries its transaction.) ``audit_head`` also remembers the last
``seq`` and ``hash``, which is how a removed tail is caught.

:func:`verify` walks the chain in bounded chunks and reports the first break: an *edited* entry
(its content no longer matches its hash), a *removed* one (a gap, or a link to a hash no longer
in the log), a *reordered* one (an intact entry at another position), or an *appended* one
(entries past the head that no append wrote). The chain proves the log was not changed after
the fact by anyone who cannot also rewrite every later hash and the head; write down the head
hash ``cutover audit verify`` prints, somewhere outside the database, to anchor it.

Details must never hold a person's identity (names, dates of birth, SSNs): record keys, codes,
counts and reasons.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cutover.control.store import GENESIS_HASH, audit_head, audit_log, utc_now
from cutover.errors import ConfigError, CutoverError

__all__ = [
    "AuditChainError",
    "AuditEntry",
    "ChainBreak",
    "ChainReport",
    "count_entries",
    "entry_hash",
    "list_entries",
    "record",
    "record_event",
    "verify",
]

_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
_SERIALIZATION_VERSION = 1
BreakKind = Literal["edited", "removed", "reordered", "appended"]


class AuditChainError(CutoverError):
    """The audit chain is broken: an entry was edited, removed, reordered or slipped in."""

    exit_code: ClassVar[int] = 4


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    details: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = GENESIS_HASH
    hash: str = ""


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int
    kind: BreakKind
    message: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    entries: int
    head_seq: int
    head_hash: str
    broken: ChainBreak | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None


def _canonical_details(details: Mapping[str, Any] | None) -> str:
    try:
        return json.dumps(
            dict(details or {}), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"audit details are not plain JSON: {exc}",
            hint="pass strings, numbers, booleans, lists and dicts only",
        ) from exc


def entry_hash(
    *, seq: int, at: str, actor: str, action: str, subject: str, details: str, prev_hash: str
) -> str:
    """SHA-256 (hex) of an entry's canonical serialization; ``details`` is the stored JSON text."""
    payload = json.dumps(
        [_SERIALIZATION_VERSION, seq, at, actor, action, subject, details, prev_hash],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _row_hash(row: sa.Row[Any], seq: int | None = None) -> str:
    return entry_hash(
        seq=row.seq if seq is None else seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        details=row.details,
        prev_hash=row.prev_hash,
    )


def record(
    conn: Connection,
    *,
    actor: str,
    action: str,
    subject: str,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry inside ``conn``'s transaction; it commits (or not) with the caller's work.

    ``action`` is a dotted lower-case verb phrase (``user.created``, ``batch.signed``);
    ``subject`` names what changed (``user:alice``, ``batch:MCI-J``).
    """
    if not _ACTION.match(action):
        raise ConfigError(
            f"audit action {action!r} is not a dotted lower-case name",
            hint="use names like 'user.created' or 'batch.signed'",
        )
    if not actor or not subject:
        raise ConfigError("an audit entry needs an actor and a subject", action=action)
    text = _canonical_details(details)
    # The update comes first: it is what serializes concurrent writers (see the module doc).
    bumped = conn.execute(
        audit_head.update().where(audit_head.c.id == 1).values(seq=audit_head.c.seq + 1)
    )
    if bumped.rowcount != 1:
        raise ConfigError(
            "the control database has no audit head row",
            hint="open it with cutover.control.open_control, which creates the tables",
        )
    head = conn.execute(sa.select(audit_head.c.seq, audit_head.c.hash)).one()
    seq, prev_hash = int(head.seq), str(head.hash)
    at = utc_now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    digest = entry_hash(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        details=text,
        prev_hash=prev_hash,
    )
    conn.execute(
        audit_log.insert().values(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            details=text,
            prev_hash=prev_hash,
            hash=digest,
        )
    )
    conn.execute(audit_head.update().where(audit_head.c.id == 1).values(hash=digest))
    return AuditEntry(seq, at, actor, action, subject, json.loads(text), prev_hash, digest)


def record_event(
    engine: Engine,
    *,
    actor: str,
    action: str,
    subject: str,
    details: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """:func:`record` in a transaction of its own."""
    with engine.begin() as conn:
        return record(conn, actor=actor, action=action, subject=subject, details=details)


def _to_entry(row: sa.Row[Any]) -> AuditEntry:
    try:
        parsed = json.loads(row.details)
        details = parsed if isinstance(parsed, dict) else {"value": parsed}
    except ValueError:
        details = {"unparsable": row.details}
    return AuditEntry(
        int(row.seq), row.at, row.actor, row.action, row.subject, details, row.prev_hash, row.hash
    )


def list_entries(
    engine: Engine,
    *,
    limit: int = 50,
    before_seq: int | None = None,
    actor: str | None = None,
    action: str | None = None,
) -> list[AuditEntry]:
    """Entries newest first; ``before_seq`` pages back from a seq (keyset pagination)."""
    query = sa.select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)
    if before_seq is not None:
        query = query.where(audit_log.c.seq < before_seq)
    if actor:
        query = query.where(audit_log.c.actor == actor)
    if action:
        query = query.where(audit_log.c.action == action)
    with engine.connect() as conn:
        return [_to_entry(row) for row in conn.execute(query)]


def count_entries(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar_one())


def _seq_with_hash(conn: Connection, column: sa.Column[str], value: str) -> int | None:
    found = conn.execute(
        sa.select(audit_log.c.seq).where(column == value).order_by(audit_log.c.seq).limit(1)
    ).scalar()
    return None if found is None else int(found)


def _diagnose_mismatch(conn: Connection, row: sa.Row[Any]) -> ChainBreak:
    """An entry whose content does not match its hash: edited, or intact but moved."""
    if row.prev_hash == GENESIS_HASH:
        written_at: int | None = 1
    else:
        before = _seq_with_hash(conn, audit_log.c.hash, row.prev_hash)
        written_at = None if before is None else before + 1
    if written_at is None:
        return ChainBreak(
            row.seq,
            "removed",
            f"seq {row.seq} was written after an entry that is no longer in the log and does "
            "not match its hash: entries before it were removed and the rest renumbered",
        )
    if written_at != row.seq and _row_hash(row, written_at) == row.hash:
        return ChainBreak(
            row.seq,
            "reordered",
            f"seq {row.seq} holds the entry written as seq {written_at}: entries were reordered",
        )
    return ChainBreak(
        row.seq,
        "edited",
        f"seq {row.seq} ({row.action}) was edited: its content no longer matches its hash",
    )


def _diagnose_link(conn: Connection, row: sa.Row[Any], expected_prev_seq: int) -> ChainBreak:
    """An intact entry that does not follow the one before it."""
    other = _seq_with_hash(conn, audit_log.c.hash, row.prev_hash)
    if other is not None:
        return ChainBreak(
            row.seq,
            "reordered",
            f"seq {row.seq} was written after seq {other} but follows seq {expected_prev_seq}: "
            "entries were reordered",
        )
    return ChainBreak(
        row.seq,
        "removed",
        f"seq {row.seq} was written after an entry that is no longer in the log: an entry "
        f"before it was removed and the rest renumbered, or seq {expected_prev_seq} was "
        "edited and re-hashed",
    )


def verify(engine: Engine, *, chunk_size: int = 5_000) -> ChainReport:
    """Walk the whole chain in chunks of ``chunk_size`` and report the first break, if any."""
    with engine.connect() as conn:
        head = conn.execute(sa.select(audit_head.c.seq, audit_head.c.hash)).one()
    head_seq, head_hash = int(head.seq), str(head.hash)

    def report(broken: ChainBreak | None, entries: int) -> ChainReport:
        return ChainReport(entries, head_seq, head_hash, broken)

    expected, prev_hash, checked = 1, GENESIS_HASH, 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(audit_log)
                .where(audit_log.c.seq >= expected, audit_log.c.seq <= head_seq)
                .order_by(audit_log.c.seq)
                .limit(chunk_size)
            ).all()
            for row in rows:
                if row.seq != expected:
                    missing = (
                        f"seq {expected}"
                        if row.seq == expected + 1
                        else f"seq {expected} to {row.seq - 1}"
                    )
                    return report(
                        ChainBreak(expected, "removed", f"{missing} removed from the log"),
                        checked,
                    )
                if _row_hash(row) != row.hash:
                    return report(_diagnose_mismatch(conn, row), checked)
                if row.prev_hash != prev_hash:
                    return report(_diagnose_link(conn, row, expected - 1), checked)
                prev_hash, expected, checked = row.hash, expected + 1, checked + 1
        if len(rows) < chunk_size:
            break

    if checked < head_seq:
        missing = f"seq {checked + 1}" + ("" if checked + 1 == head_seq else f" to {head_seq}")
        return report(
            ChainBreak(checked + 1, "removed", f"{missing} removed from the end of the log"),
            checked,
        )
    if prev_hash != head_hash:
        return report(
            ChainBreak(
                head_seq,
                "edited",
                f"seq {head_seq} does not match the recorded head: the last entry was "
                "re-hashed or the head was edited",
            ),
            checked,
        )
    with engine.connect() as conn:
        extra = conn.execute(
            sa.select(sa.func.min(audit_log.c.seq)).where(audit_log.c.seq > head_seq)
        ).scalar()
        now_head = int(conn.execute(sa.select(audit_head.c.seq)).scalar_one())
    if extra is not None and now_head == head_seq:
        return report(
            ChainBreak(
                int(extra), "appended", f"seq {extra} was added without going through the chain"
            ),
            checked,
        )
    return report(None, checked)
