"""Read ``OffenderFacts`` from the target database: set-based, streaming, one query per table.

Each fact table is read by one query ordered by ``person_id`` (binary collation, so that every
stream and Python agree on the order) and fetched in bounded chunks of plain tuples
(``validation.streams``); the streams are merged person by person, as a merge join. Memory
holds one chunk per stream and one person's facts, whatever the size of the database. The
catalogue (task codes and their rates) is small and read once.

Fact keys are the lineage of the legacy rows (``CR_TXN:T000123``), so that an explanation cites
the rows a person can look up in the legacy system. Anything the reader cannot turn into a fact
is said in the person's ``notes``, never dropped silently.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cutover.cursors import open_cursor, rows_of
from load import models as m
from validation.facts import (
    AssignmentFact,
    AssignmentType,
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
from validation.queries import FACT_TABLES, PersonRange, fact_order, fact_queries
from validation.streams import Days, PersonStream

__all__ = [
    "FETCH_ROWS",
    "OffenderRecord",
    "ReadStats",
    "fact_queries",
    "facts_hash",
    "read_offenders",
    "resolve_person",
]

#: Rows fetched per round trip and stream.
FETCH_ROWS = 5_000

#: End dates from this year on mean "still open" (``99999999`` mapped to a far-future date).
_OPEN_YEAR = 9999


@dataclass(frozen=True, slots=True)
class OffenderRecord:
    """One person as the target holds them: their facts, or why there are none."""

    person_id: str
    batch: str
    #: ``None`` when the target lacks what a computation needs (see ``reason``).
    facts: OffenderFacts | None
    facts_hash: str
    reason: str | None = None
    #: Target rows the reader could not turn into facts, said in words.
    notes: tuple[str, ...] = ()


@dataclass(slots=True)
class ReadStats:
    """What a read saw: persons, rows per table, rows of persons outside the read."""

    persons: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    #: Rows whose person is not among the persons read (impossible with enforced foreign keys).
    unmatched: dict[str, int] = field(default_factory=dict)


def facts_hash(rows: object) -> str:
    """A hex BLAKE2b-128 of what a person's facts are built from.

    ``rows`` is made of text, integers, ``None`` and tuples or lists of them: the rows as the
    reader's queries select them (dates as ISO text) and the catalogue entries they use, so
    the same facts give the same hash on every database. The pickle is written without a memo,
    so its bytes depend on the values alone, never on which objects happen to be shared.
    """
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=4)
    pickler.fast = True
    pickler.dump(rows)
    return hashlib.blake2b(buffer.getvalue(), digest_size=16).hexdigest()


_new = object.__new__
# One setter per field, in order: a field added to the class fails this line at import.
_set_key, _set_type, _set_month, _set_days, _set_entered = (
    getattr(LedgerEntryFact, f.name).__set__ for f in fields(LedgerEntryFact)
)


def _ledger_entry(
    key: str, type_: str, month: date, days: int, entered: date | None
) -> LedgerEntryFact:
    """``LedgerEntryFact(key, type_, month, days, entered)`` in about half the time, for the
    ledger's many rows: each slot is set through its descriptor, where the generated
    ``__init__`` of a frozen class goes through ``object.__setattr__`` for each."""
    made = _new(LedgerEntryFact)
    _set_key(made, key)
    _set_type(made, type_)
    _set_month(made, month)
    _set_days(made, days)
    _set_entered(made, entered)
    return made


def _key(table: str, source_key: str | None, natural: str) -> str:
    """``TABLE:key`` from the lineage (key parts trimmed), or the natural key without one."""
    if not source_key:
        return f"{table}:{natural}"
    if "|" not in source_key:
        return f"{table}:{source_key.strip()}"
    return f"{table}:" + "|".join(part.strip() for part in source_key.split("|"))


def _open(day: date | None) -> date | None:
    return None if day is None or day.year >= _OPEN_YEAR else day


@dataclass(frozen=True, slots=True)
class _Catalogue:
    canonical: dict[tuple[str, str], str | None]
    #: Per institution and task code: ``(effective date, monthly rate)`` in date order.
    rates: dict[tuple[str, str], list[tuple[date, int]]]
    #: Per institution and task code: what of the catalogue an assignment's facts depend on,
    #: as plain values for ``facts_hash``.
    tokens: dict[tuple[str, str], tuple[Any, ...]]


def _catalogue(conn: Connection) -> _Catalogue:
    it = m.InstitutionTask.__table__
    tr = m.TaskRate.__table__
    canonical = {
        (r[0], r[1]): r[2]
        for r in conn.execute(
            sa.select(it.c.institution_id, it.c.task_code, it.c.canonical_task_id)
        )
    }
    rates: dict[tuple[str, str], list[tuple[date, int]]] = {}
    query = sa.select(
        tr.c.institution_id, tr.c.task_code, tr.c.effective_date, tr.c.monthly_rate
    ).order_by(tr.c.institution_id, tr.c.task_code, tr.c.effective_date)
    for row in conn.execute(query):
        rates.setdefault((row[0], row[1]), []).append((row[2], row[3]))
    tokens = {
        task: (
            canonical.get(task),
            tuple((day.isoformat(), int(rate)) for day, rate in rates.get(task, ())),
        )
        for task in canonical.keys() | rates.keys()
    }
    return _Catalogue(canonical, rates, tokens)


def read_offenders(
    source: Engine | Connection,
    *,
    batches: Sequence[str] | None = None,
    person_ids: Sequence[str] | None = None,
    fetch_rows: int = FETCH_ROWS,
    stats: ReadStats | None = None,
    person_range: PersonRange | None = None,
) -> Generator[OffenderRecord, None, None]:
    """Every person of the target (or of ``batches`` / ``person_ids``), in ``person_id`` order.

    One query per fact table, streamed ``fetch_rows`` at a time and merged by person.
    ``person_range`` keeps one range of persons (:func:`validation.queries.person_ranges`).
    """
    tally = stats if stats is not None else ReadStats()
    if isinstance(source, Engine):
        with source.connect() as conn:
            yield from _read(conn, batches, person_ids, fetch_rows, tally, person_range)
    else:
        yield from _read(source, batches, person_ids, fetch_rows, tally, person_range)


def _read(
    conn: Connection,
    batches: Sequence[str] | None,
    person_ids: Sequence[str] | None,
    fetch_rows: int,
    stats: ReadStats,
    person_range: PersonRange | None = None,
) -> Iterator[OffenderRecord]:
    catalogue = _catalogue(conn)
    statements = fact_queries(conn, batches, person_ids, person_range)
    persons = open_cursor(conn, statements["person"], "cutover_person")
    streams: list[PersonStream] = []
    try:
        for name in FACT_TABLES:
            cursor = open_cursor(conn, statements[name], f"cutover_{name}")
            order = fact_order(statements[name], name)
            streams.append(PersonStream(conn, name, cursor, fetch_rows, order))
        days = Days()
        for person_id, batch, status in rows_of(conn, persons, fetch_rows):
            stats.persons += 1
            rows = [stream.take(person_id) for stream in streams]
            yield _build(person_id, batch, status, rows, catalogue, days)
        for stream in streams:
            stream.drain()
    finally:
        persons.close()
        for stream in streams:
            stream.close()
            if stream.rows:
                stats.rows[stream.name] = stats.rows.get(stream.name, 0) + stream.rows
            if stream.unmatched:
                stats.unmatched[stream.name] = (
                    stats.unmatched.get(stream.name, 0) + stream.unmatched
                )


def _build(
    person_id: str,
    batch: str,
    status: str,
    rows: list[list[tuple[Any, ...]]],
    catalogue: _Catalogue,
    days: Days,
) -> OffenderRecord:
    cmt_rows, jail_rows, doc_rows, asg_rows, seg_rows, lp_rows, inf_rows, txn_rows, rc_rows = rows
    notes: list[str] = []
    commitments, keys = _commitments(cmt_rows, notes, days)
    jail = []
    for _, t, s, jail_id, cmt_id, jail_days, cert in jail_rows:
        key = _key(t, s, jail_id)
        target = keys.get(cmt_id)
        if target is None:
            notes.append(f"jail credit {key} names commitment {cmt_id}, not one of this person's")
            target = f"?{cmt_id}"
        jail.append(JailCreditFact(key, target, jail_days, cert))
    certificates = []
    for _, t, s, doc_id, begin, jail_days, cert in doc_rows:
        key = _key(t, s, doc_id)
        if begin is None or jail_days is None:
            missing = "sentence begin date" if begin is None else "jail days"
            notes.append(f"jail certificate {key} has no {missing}; it cannot be used")
            continue
        certificates.append(JailCertificateFact(key, days[begin], jail_days, cert))
    if not rc_rows:
        reason = "no legacy release calculation (REL_CALC) was migrated for this person"
        digest = hashlib.blake2b(f"no facts: {person_id}".encode(), digest_size=16).hexdigest()
        return OffenderRecord(person_id, batch, None, digest, reason, tuple(notes))
    if len(rc_rows) > 1:
        notes.append(
            f"{len(rc_rows)} legacy release calculations; the latest ({rc_rows[-1][3]}) is compared"
        )
    _, t, s, calc_dt, max_exp, ms_rel, act_rel, rel_typ = rc_rows[-1]
    legacy = LegacyCalcFact(
        _key(t, s, f"{person_id}|{calc_dt}"),
        days[max_exp],
        days[ms_rel],
        days[calc_dt],
        days[act_rel],
        rel_typ,
    )
    # The ledger is most of the rows: the common case of ``_key`` is inlined, without a call.
    ledger = tuple(
        _ledger_entry(
            f"{t}:{s.strip()}" if s and "|" not in s else _key(t, s, i),
            typ,
            days[month],
            n,
            days[entered],
        )
        for _, t, s, i, typ, month, n, entered in txn_rows
    )
    facts = OffenderFacts(
        person_id=person_id,
        status=status,
        commitments=commitments,
        legacy=legacy,
        jail_credits=tuple(jail),
        jail_certificates=tuple(certificates),
        assignments=_assignments(asg_rows, catalogue, notes, days),
        segregations=tuple(
            SegregationFact(_key(t, s, i), typ, days[b], _open(days[e]))
            for _, t, s, i, typ, b, e in seg_rows
        ),
        labor_pool=tuple(
            LaborPoolWeekFact(_key(t, s, f"{person_id}|{inst}|{week}"), days[week], worked)
            for _, t, s, inst, week, worked in lp_rows
        ),
        infractions=tuple(
            InfractionFact(_key(t, s, i), days[d], gc, sp) for _, t, s, i, d, gc, sp in inf_rows
        ),
        ledger=ledger,
    )
    tasks = [catalogue.tokens.get((r[4], r[5])) for r in asg_rows]
    digest = facts_hash((person_id, status, rows, tasks))
    return OffenderRecord(person_id, batch, facts, digest, None, tuple(notes))


def _commitments(
    rows: list[tuple[Any, ...]], notes: list[str], days: Days
) -> tuple[tuple[CommitmentFact, ...], dict[str, str]]:
    keys = {r[3]: _key(r[1], r[2], r[3]) for r in rows}
    out = []
    for _, _t, _s, cmt_id, cls, begin, yrs, mos, dys, life, cons, cmt_dt in rows:
        consecutive = None
        if cons is not None:
            consecutive = keys.get(cons)
            if consecutive is None:
                notes.append(
                    f"commitment {keys[cmt_id]} is consecutive to {cons}, not one of this "
                    "person's commitments"
                )
                consecutive = f"?{cons}"
        out.append(
            CommitmentFact(
                keys[cmt_id],
                cls,
                days[begin],
                yrs,
                mos,
                dys,
                bool(life),
                consecutive,
                days[cmt_dt],
            )
        )
    return tuple(out), keys


def _assignments(
    rows: list[tuple[Any, ...]], catalogue: _Catalogue, notes: list[str], days: Days
) -> tuple[AssignmentFact, ...]:
    """Assignments with the rate in effect, split where the task's rate changes."""
    out: list[AssignmentFact] = []
    for _, table, src, asg_id, inst, task, typ, begin_text, end_text in rows:
        key = _key(table, src, asg_id)
        begin: date = days[begin_text]
        end = _open(days[end_text])
        canonical = catalogue.canonical.get((inst, task))
        atype = cast(AssignmentType, typ)
        schedule = catalogue.rates.get((inst, task), [])
        if not schedule:
            notes.append(f"assignment {key}: task {inst}/{task} has no rate; it earns nothing")
            out.append(AssignmentFact(key, inst, atype, task, canonical, 0, begin, end))
            continue
        if begin < schedule[0][0]:
            notes.append(
                f"assignment {key} begins {begin}, before task {inst}/{task} has a rate "
                f"({schedule[0][0]}); it earns nothing before then"
            )
        pieces = [(begin, 0)] + [(eff, rate) for eff, rate in schedule]
        for i, (eff, rate) in enumerate(pieces):
            nxt = pieces[i + 1][0] if i + 1 < len(pieces) else None
            first = max(eff, begin)
            last = end if nxt is None else (nxt - timedelta(days=1))
            if end is not None and last is not None:
                last = min(last, end)
            if last is not None and last < first:
                continue
            if i == 0 and nxt is not None and nxt <= begin:
                continue
            out.append(AssignmentFact(key, inst, atype, task, canonical, rate, first, last))
    return tuple(out)


def resolve_person(source: Engine | Connection, offender_id: str) -> str | None:
    """The person an id names: a person id, a legacy identifier, or a merged duplicate's key."""
    if isinstance(source, Engine):
        with source.connect() as conn:
            return resolve_person(conn, offender_id)
    wanted = offender_id.strip()
    p, pi, pm = m.Person.__table__, m.PersonIdentifier.__table__, m.PersonMerge.__table__
    queries = (
        sa.select(p.c.person_id).where(p.c.person_id == wanted),
        sa.select(pi.c.person_id).where(sa.func.trim(pi.c.identifier_value) == wanted),
        sa.select(pm.c.survivor_person_id).where(sa.func.trim(pm.c.merged_key) == wanted),
    )
    for query in queries:
        found: Any = source.execute(query.limit(1)).scalar_one_or_none()
        if found is not None:
            return str(found)
    return None
