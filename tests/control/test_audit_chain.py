"""The audit log is a hash chain: appends never fork it; verify finds the first tampered entry."""

from __future__ import annotations

import itertools
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cutover.control import list_entries, record, record_event, verify
from cutover.control.audit import entry_hash
from cutover.control.store import GENESIS_HASH, audit_head, audit_log
from cutover.errors import ConfigError


def _fill(engine: Engine, n: int) -> None:
    for i in range(1, n + 1):
        record_event(
            engine, actor="root", action="test.event", subject=f"thing:{i}", details={"i": i}
        )


def test_entries_link_each_to_the_hash_of_the_one_before(engine: Engine) -> None:
    _fill(engine, 5)
    entries = sorted(list_entries(engine), key=lambda e: e.seq)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(entries):
        assert after.prev_hash == before.hash
    first = entries[0]
    assert first.hash == entry_hash(
        seq=1,
        at=first.at,
        actor="root",
        action="test.event",
        subject="thing:1",
        details='{"i":1}',
        prev_hash=GENESIS_HASH,
    )
    assert first.at.endswith("Z")
    report = verify(engine, chunk_size=2)
    assert report.ok
    assert (report.entries, report.head_seq, report.head_hash) == (5, 5, entries[-1].hash)


def test_an_empty_log_verifies(engine: Engine) -> None:
    report = verify(engine)
    assert report.ok
    assert (report.entries, report.head_seq) == (0, 0)


def test_an_entry_rolls_back_with_the_callers_transaction(engine: Engine) -> None:
    _fill(engine, 1)

    def sign_then_fail() -> None:
        with engine.begin() as conn:
            record(conn, actor="root", action="batch.signed", subject="batch:ECI")
            raise RuntimeError("the state change failed")

    with pytest.raises(RuntimeError):
        sign_then_fail()
    assert [e.seq for e in list_entries(engine)] == [1]
    _fill(engine, 1)
    assert verify(engine).ok


@pytest.mark.parametrize(
    ("action", "details"),
    [
        pytest.param("User Created", None, id="action-not-dotted-lower-case"),
        pytest.param("user.created", {"when": object()}, id="details-not-json"),
    ],
)
def test_bad_entries_are_refused(engine: Engine, action: str, details: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        record_event(engine, actor="root", action=action, subject="user:x", details=details)
    assert verify(engine).entries == 0


def _tamper(engine: Engine, *statements: sa.Executable) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(statement)


def _swap_seq(a: int, b: int) -> list[sa.Executable]:
    return [
        audit_log.update().where(audit_log.c.seq == a).values(seq=-1),
        audit_log.update().where(audit_log.c.seq == b).values(seq=a),
        audit_log.update().where(audit_log.c.seq == -1).values(seq=b),
    ]


def _rehash_after_edit(engine: Engine, seq: int) -> list[sa.Executable]:
    with engine.connect() as conn:
        row = conn.execute(sa.select(audit_log).where(audit_log.c.seq == seq)).one()
    forged = entry_hash(
        seq=seq,
        at=row.at,
        actor="mallory",
        action=row.action,
        subject=row.subject,
        details=row.details,
        prev_hash=row.prev_hash,
    )
    return [audit_log.update().where(audit_log.c.seq == seq).values(actor="mallory", hash=forged)]


TAMPERING = [
    pytest.param(
        lambda _: [audit_log.update().where(audit_log.c.seq == 4).values(details='{"i":40}')],
        4,
        "edited",
        id="details-edited",
    ),
    pytest.param(
        lambda _: [audit_log.update().where(audit_log.c.seq == 1).values(actor="mallory")],
        1,
        "edited",
        id="first-actor-edited",
    ),
    pytest.param(
        lambda _: [audit_log.delete().where(audit_log.c.seq == 3)],
        3,
        "removed",
        id="middle-removed",
    ),
    pytest.param(
        lambda _: [audit_log.delete().where(audit_log.c.seq == 6)],
        6,
        "removed",
        id="last-removed",
    ),
    pytest.param(
        lambda _: [
            audit_log.delete().where(audit_log.c.seq == 3),
            audit_log.update().where(audit_log.c.seq > 3).values(seq=audit_log.c.seq - 1),
            audit_head.update().values(seq=5),
        ],
        3,
        "removed",
        id="removed-and-renumbered",
    ),
    pytest.param(lambda _: _swap_seq(2, 5), 2, "reordered", id="two-entries-swapped"),
    pytest.param(lambda e: _rehash_after_edit(e, 4), 5, "removed", id="edited-and-rehashed"),
    pytest.param(
        lambda _: [
            audit_log.insert().values(
                seq=7,
                at="2026-01-01T00:00:00.000000Z",
                actor="mallory",
                action="user.created",
                subject="user:mallory",
                details="{}",
                prev_hash="0" * 64,
                hash="0" * 64,
            )
        ],
        7,
        "appended",
        id="forged-entry-appended",
    ),
]


@pytest.mark.parametrize(("tamper", "seq", "kind"), TAMPERING)
def test_verify_names_the_first_tampered_entry(
    engine: Engine, tamper: object, seq: int, kind: str
) -> None:
    _fill(engine, 6)
    assert verify(engine).ok
    _tamper(engine, *tamper(engine))  # type: ignore[operator]
    report = verify(engine, chunk_size=2)
    assert not report.ok
    assert report.broken is not None
    assert (report.broken.seq, report.broken.kind) == (seq, kind), report.broken.message
    assert f"seq {seq}" in report.broken.message


def test_concurrent_writers_never_fork_the_chain(engine: Engine) -> None:
    writers, each = 4, 15
    errors: list[BaseException] = []

    def write(w: int) -> None:
        try:
            for i in range(each):
                record_event(engine, actor=f"w{w}", action="test.event", subject=f"thing:{w}-{i}")
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = verify(engine)
    assert report.ok, report.broken
    assert report.entries == writers * each
