"""Read ``OffenderFacts`` from the target database: set-based, streaming, one query per table.

Each fact table is read by one query ordered by ``person_id`` (binary collation, so that every
stream and Python agree on the order) and fetched in bounded chunks; the streams are merged
person by person, as a merge join. Memory holds one chunk per stream and one person's facts,
whatever the size of the database. The catalogue (task codes and their rates) is small and
read once.

Fact keys are the lineage of the legacy rows (``CR_TXN:T000123``), so that an explanation cites
the rows a person can look up in the legacy system. Anything the reader cannot turn into a fact
is said in the person's ``notes``, never dropped silently.
"""

from __future__ import annotations

import hashlib
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

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
    LedgerType,
    LegacyCalcFact,
    OffenderFacts,
    SegregationFact,
)

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


def facts_hash(facts: OffenderFacts | None, person_id: str) -> str:
    """A hex BLAKE2b-128 of the facts a computation uses (their canonical representation)."""
    text = repr(facts) if facts is not None else f"no facts: {person_id}"
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _key(table: str, source_key: str | None, natural: str) -> str:
    """``TABLE:key`` from the lineage (key parts trimmed), or the natural key without one."""
    if not source_key:
        return f"{table}:{natural}"
    if "|" not in source_key:
        return f"{table}:{source_key.strip()}"
    return f"{table}:" + "|".join(part.strip() for part in source_key.split("|"))


def _open(day: date | None) -> date | None:
    return None if day is None or day.year >= _OPEN_YEAR else day


class _Stream:
    """One fact table's rows, ordered by person, fetched in chunks; ``take`` pops a person's."""

    def __init__(self, name: str, result: sa.CursorResult[Any], stats: ReadStats) -> None:
        self.name = name
        self._rows: Iterator[Any] = iter(result)
        self._stats = stats
        self.head: Any = next(self._rows, None)

    def take(self, person_id: str) -> list[Any]:
        out: list[Any] = []
        head = self.head
        while head is not None and head[0] < person_id:
            self._stats.unmatched[self.name] = self._stats.unmatched.get(self.name, 0) + 1
            head = next(self._rows, None)
        while head is not None and head[0] == person_id:
            out.append(head)
            head = next(self._rows, None)
        self.head = head
        if out:
            self._stats.rows[self.name] = self._stats.rows.get(self.name, 0) + len(out)
        return out

    def drain(self) -> None:
        """Count what is left (rows of persons after the last one read)."""
        left = 0 if self.head is None else 1 + sum(1 for _ in self._rows)
        if left:
            self._stats.unmatched[self.name] = self._stats.unmatched.get(self.name, 0) + left
        self.head = None


@dataclass(frozen=True, slots=True)
class _Catalogue:
    canonical: dict[tuple[str, str], str | None]
    #: Per institution and task code: ``(effective date, monthly rate)`` in date order.
    rates: dict[tuple[str, str], list[tuple[date, int]]]


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
    return _Catalogue(canonical, rates)


def _by_person(conn: Connection, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """``column`` in the binary collation Python compares strings in."""
    if conn.dialect.name == "postgresql":
        return column.collate("C")
    return column


def fact_queries(
    conn: Connection, batches: Sequence[str] | None, person_ids: Sequence[str] | None
) -> dict[str, sa.Select[Any]]:
    """The reader's queries, by table: persons and one per fact table, ordered by person."""
    p = m.Person.__table__
    persons_in: sa.Select[Any] | None = None
    if batches is not None:
        persons_in = sa.select(p.c.person_id).where(p.c._batch.in_(list(batches)))
    if person_ids is not None:
        ids = sa.select(p.c.person_id).where(p.c.person_id.in_(list(person_ids)))
        persons_in = ids if persons_in is None else persons_in.where(p.c.person_id.in_(ids))

    def select(table: sa.FromClause, *cols: sa.ColumnElement[Any], order: str) -> sa.Select[Any]:
        query = sa.select(
            table.c.person_id, table.c._source_table, table.c._source_key, *cols
        ).order_by(_by_person(conn, table.c.person_id), table.c[order])
        if persons_in is not None:
            query = query.where(table.c.person_id.in_(persons_in))
        return query

    person = sa.select(p.c.person_id, p.c._batch, p.c.status_code).order_by(
        _by_person(conn, p.c.person_id)
    )
    if persons_in is not None:
        person = person.where(p.c.person_id.in_(persons_in))
    cm, jc, doc = m.Commitment.__table__, m.JailCredit.__table__, m.Document.__table__
    asg, seg, lp = m.Assignment.__table__, m.Segregation.__table__, m.LaborPoolAttendance.__table__
    inf, txn = m.Infraction.__table__, m.CreditTransaction.__table__
    rc = m.LegacyReleaseCalculation.__table__
    cols = {
        "commitment": (
            cm,
            "commitment_id",
            (
                cm.c.commitment_id,
                cm.c.offense_class,
                cm.c.sentence_begin_date,
                cm.c.term_years,
                cm.c.term_months,
                cm.c.term_days,
                cm.c.life_sentence,
                cm.c.consecutive_to_commitment_id,
                cm.c.committed_on,
            ),
        ),
        "jail_credit": (
            jc,
            "jail_credit_id",
            (jc.c.jail_credit_id, jc.c.commitment_id, jc.c.days_posted, jc.c.certificate_no),
        ),
        "document": (
            doc,
            "document_id",
            (
                doc.c.document_id,
                doc.c.sentence_begin_date,
                doc.c.jail_days,
                doc.c.certificate_no,
            ),
        ),
        "assignment": (
            asg,
            "assignment_id",
            (
                asg.c.assignment_id,
                asg.c.institution_id,
                asg.c.task_code,
                asg.c.assignment_type,
                asg.c.begin_date,
                asg.c.end_date,
            ),
        ),
        "segregation": (
            seg,
            "segregation_id",
            (seg.c.segregation_id, seg.c.segregation_type, seg.c.begin_date, seg.c.end_date),
        ),
        "labor_pool_attendance": (
            lp,
            "week_begin_date",
            (lp.c.institution_id, lp.c.week_begin_date, lp.c.days_worked),
        ),
        "infraction": (
            inf,
            "infraction_id",
            (
                inf.c.infraction_id,
                inf.c.infraction_date,
                inf.c.gc_revoked_days,
                inf.c.sp_revoked_days,
            ),
        ),
        "credit_transaction": (
            txn,
            "txn_id",
            (txn.c.txn_id, txn.c.credit_type, txn.c.credit_month, txn.c.days, txn.c.entered_on),
        ),
        "legacy_release_calculation": (
            rc,
            "calculated_as_of",
            (
                rc.c.calculated_as_of,
                rc.c.max_expiration_date,
                rc.c.ms_release_date,
                rc.c.actual_release_date,
                rc.c.release_type,
            ),
        ),
    }
    out = {"person": person}
    for name, (table, order, columns) in cols.items():
        query = select(table, *columns, order=order)
        if name == "document":
            query = query.where(table.c.document_type == "JAIL_CERT")
        out[name] = query
    return out


def read_offenders(
    source: Engine | Connection,
    *,
    batches: Sequence[str] | None = None,
    person_ids: Sequence[str] | None = None,
    fetch_rows: int = FETCH_ROWS,
    stats: ReadStats | None = None,
) -> Generator[OffenderRecord, None, None]:
    """Every person of the target (or of ``batches`` / ``person_ids``), in ``person_id`` order.

    One query per fact table, streamed ``fetch_rows`` at a time and merged by person.
    """
    tally = stats if stats is not None else ReadStats()
    if isinstance(source, Engine):
        with source.connect() as conn:
            yield from _read(conn, batches, person_ids, fetch_rows, tally)
    else:
        yield from _read(source, batches, person_ids, fetch_rows, tally)


def _read(
    conn: Connection,
    batches: Sequence[str] | None,
    person_ids: Sequence[str] | None,
    fetch_rows: int,
    stats: ReadStats,
) -> Iterator[OffenderRecord]:
    catalogue = _catalogue(conn)
    streaming = conn.execution_options(stream_results=True, yield_per=fetch_rows)
    statements = fact_queries(conn, batches, person_ids)
    results = {name: streaming.execute(stmt) for name, stmt in statements.items()}
    try:
        persons: Any = results["person"]
        streams = {
            name: _Stream(name, result, stats)
            for name, result in results.items()
            if name != "person"
        }
        for person_id, batch, status in persons:
            stats.persons += 1
            rows = {name: stream.take(person_id) for name, stream in streams.items()}
            yield _build(person_id, batch, status, rows, catalogue)
        for stream in streams.values():
            stream.drain()
    finally:
        for result in results.values():
            result.close()


def _build(
    person_id: str, batch: str, status: str, rows: dict[str, list[Any]], catalogue: _Catalogue
) -> OffenderRecord:
    notes: list[str] = []
    commitments, keys = _commitments(rows["commitment"], notes)
    jail = []
    for _, table, src, jail_id, cmt_id, days, cert in rows["jail_credit"]:
        target = keys.get(cmt_id)
        if target is None:
            notes.append(
                f"jail credit {_key(table, src, jail_id)} names commitment {cmt_id}, "
                "not one of this person's"
            )
            target = f"?{cmt_id}"
        jail.append(JailCreditFact(_key(table, src, jail_id), target, days, cert))
    certificates = []
    for _, table, src, doc_id, begin, days, cert in rows["document"]:
        key = _key(table, src, doc_id)
        if begin is None or days is None:
            missing = "sentence begin date" if begin is None else "jail days"
            notes.append(f"jail certificate {key} has no {missing}; it cannot be used")
            continue
        certificates.append(JailCertificateFact(key, begin, days, cert))
    legacy_rows = rows["legacy_release_calculation"]
    facts: OffenderFacts | None = None
    reason: str | None = None
    if not legacy_rows:
        reason = "no legacy release calculation (REL_CALC) was migrated for this person"
    else:
        if len(legacy_rows) > 1:
            notes.append(
                f"{len(legacy_rows)} legacy release calculations; the latest "
                f"({legacy_rows[-1][3]}) is compared"
            )
        _, table, src, calc_dt, max_exp, ms_rel, act_rel, rel_typ = legacy_rows[-1]
        facts = OffenderFacts(
            person_id=person_id,
            status=status,
            commitments=commitments,
            legacy=LegacyCalcFact(
                _key(table, src, f"{person_id}|{calc_dt}"),
                max_exp,
                ms_rel,
                calc_dt,
                act_rel,
                rel_typ,
            ),
            jail_credits=tuple(jail),
            jail_certificates=tuple(certificates),
            assignments=_assignments(rows["assignment"], catalogue, notes),
            segregations=tuple(
                SegregationFact(_key(t, s, i), typ, b, _open(e))
                for _, t, s, i, typ, b, e in rows["segregation"]
            ),
            labor_pool=tuple(
                LaborPoolWeekFact(_key(t, s, f"{person_id}|{inst}|{week}"), week, days)
                for _, t, s, inst, week, days in rows["labor_pool_attendance"]
            ),
            infractions=tuple(
                InfractionFact(_key(t, s, i), d, gc, sp)
                for _, t, s, i, d, gc, sp in rows["infraction"]
            ),
            ledger=tuple(
                LedgerEntryFact(_key(t, s, i), cast(LedgerType, typ), month, days, entered)
                for _, t, s, i, typ, month, days, entered in rows["credit_transaction"]
            ),
        )
    return OffenderRecord(
        person_id, batch, facts, facts_hash(facts, person_id), reason, tuple(notes)
    )


def _commitments(
    rows: list[Any], notes: list[str]
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
            CommitmentFact(keys[cmt_id], cls, begin, yrs, mos, dys, bool(life), consecutive, cmt_dt)
        )
    return tuple(out), keys


def _assignments(
    rows: list[Any], catalogue: _Catalogue, notes: list[str]
) -> tuple[AssignmentFact, ...]:
    """Assignments with the rate in effect, split where the task's rate changes."""
    out: list[AssignmentFact] = []
    for _, table, src, asg_id, inst, task, typ, begin, end_date in rows:
        key = _key(table, src, asg_id)
        end = _open(end_date)
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
