"""Target databases built by hand: offenders' facts written as the load would write them.

``write_offenders`` turns ``OffenderFacts`` (from ``diminution_builders``) into rows of the
target schema, with lineage naming the legacy tables, so that the reader can be checked against
the facts it should give back. Catalogue rows (institutions, tasks, rates) are made for the
assignments; users and grants are added with ``add_user``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

import load
from load import models as m
from validation import OffenderFacts

SOURCE_TABLE = {
    "person": "OFFNDR",
    "commitment": "CMT",
    "jail_credit": "JAIL_CR",
    "document": "DOC_IDX",
    "assignment": "ASGN",
    "segregation": "SEG",
    "labor_pool_attendance": "LBR_LOG",
    "infraction": "INFR",
    "credit_transaction": "CR_TXN",
    "legacy_release_calculation": "REL_CALC",
    "institution": "INST",
    "canonical_task": "TASK_XWALK",
    "institution_task": "INST_TSK",
    "task_rate": "INST_TSK",
    "app_user": "USR_ACCT",
    "screen_grant": "USR_SCRN",
    "user_merge": "USR_ACCT",
    "person_merge": "OFFNDR",
    "person_identifier": "OFFNDR",
}


def new_target(path: Path) -> Engine:
    """A migrated, empty SQLite target database at ``path``."""
    url = f"sqlite:///{path}"
    load.upgrade(url)
    return load.create_target_engine(url)


def lineage(table: str, key: str, batch: str) -> dict[str, Any]:
    return {
        "_run_id": "run-test",
        "_source_system": "obscis",
        "_source_table": SOURCE_TABLE[table],
        "_source_key": key,
        "_mapping_version": "1",
        "_batch": batch,
        "_row_hash": hashlib.blake2b(f"{table}{key}".encode(), digest_size=16).hexdigest(),
    }


def insert(conn: Connection, table: str, key: str, batch: str, **values: Any) -> None:
    target = m.Base.metadata.tables[table]
    conn.execute(sa.insert(target).values(**values, **lineage(table, key, batch)))


def put(
    rows: dict[str, list[dict[str, Any]]], table: str, key: str, batch: str, **values: Any
) -> None:
    """Buffer a row for ``write_offenders`` to insert with its table's others."""
    rows.setdefault(table, []).append({**values, **lineage(table, key, batch)})


def add_institution(conn: Connection, code: str) -> None:
    exists = conn.execute(
        sa.select(sa.func.count()).where(m.Institution.__table__.c.institution_id == code)
    ).scalar_one()
    if not exists:
        insert(
            conn,
            "institution",
            code,
            load.GLOBAL_BATCH,
            institution_id=code,
            name=f"Institution {code}",
            region_code=None,
            active=True,
        )


def add_task(
    conn: Connection,
    inst: str,
    code: str,
    canonical: str | None,
    assignment_type: str,
    rates: Iterable[tuple[date, int]],
) -> None:
    """An institution task, its canonical task (created when new) and its rate schedule."""
    add_institution(conn, inst)
    g = load.GLOBAL_BATCH
    if canonical is not None:
        known = conn.execute(
            sa.select(sa.func.count()).where(
                m.CanonicalTask.__table__.c.canonical_task_id == canonical
            )
        ).scalar_one()
        if not known:
            insert(
                conn,
                "canonical_task",
                canonical,
                g,
                canonical_task_id=canonical,
                description=canonical.lower(),
                assignment_type=assignment_type,
            )
    insert(
        conn,
        "institution_task",
        f"{inst}|{code}",
        g,
        institution_id=inst,
        task_code=code,
        canonical_task_id=canonical,
        description=None,
        assignment_type=assignment_type,
    )
    for eff, rate in rates:
        insert(
            conn,
            "task_rate",
            f"{inst}|{code}|{eff}",
            g,
            institution_id=inst,
            task_code=code,
            effective_date=eff,
            monthly_rate=rate,
        )


def add_user(
    conn: Connection,
    user_id: str,
    job: str,
    grants: dict[str, str],
    *,
    employee_no: str | None = None,
    inst: str | None = None,
) -> None:
    if inst is not None:
        add_institution(conn, inst)
    g = load.GLOBAL_BATCH
    insert(
        conn,
        "app_user",
        user_id,
        g,
        user_id=user_id,
        employee_no=employee_no,
        user_name="Doe, J",
        job_code=job,
        institution_id=inst,
        active=True,
        last_login_on=None,
    )
    for screen, level in grants.items():
        insert(
            conn,
            "screen_grant",
            f"{user_id}|{screen}",
            g,
            user_id=user_id,
            screen_code=screen,
            access_level=level,
        )


def write_offenders(
    engine: Engine, offenders: Iterable[tuple[OffenderFacts, str]], *, rate_from: date | None = None
) -> None:
    """Write each offender's facts to the target, in the batch given beside them.

    Tasks are made per institution, code and rate (a code met again at another rate gets a
    suffix), with one rate effective from ``rate_from`` (default 1900-01-01).
    """
    effective = rate_from or date(1900, 1, 1)
    with engine.begin() as conn:
        tasks: dict[tuple[str, str], int] = {}
        rows: dict[str, list[dict[str, Any]]] = {}
        for facts, batch in offenders:
            add_institution(conn, batch)
            _write_one(conn, rows, facts, batch, tasks, effective)
        for table in m.Base.metadata.sorted_tables:
            if rows.get(table.name):
                conn.execute(sa.insert(table), rows[table.name])


def _write_one(
    conn: Connection,
    rows: dict[str, list[dict[str, Any]]],
    facts: OffenderFacts,
    batch: str,
    tasks: dict[tuple[str, str], int],
    effective: date,
) -> None:
    pid = facts.person_id
    put(
        rows,
        "person",
        pid,
        batch,
        person_id=pid,
        state_id=None,
        last_name="Doe",
        first_name=None,
        middle_initial=None,
        birth_date=None,
        sex_code=None,
        race_code=None,
        current_institution_id=batch,
        status_code=facts.status,
        last_updated_on=None,
        last_updated_by=None,
    )
    for c in facts.commitments:
        put(
            rows,
            "commitment",
            f"{pid}-{c.key}",
            batch,
            commitment_id=f"{pid}-{c.key}",
            person_id=pid,
            docket_no=None,
            county_code=None,
            offense_code=None,
            offense_class=c.offense_class,
            sentenced_on=None,
            sentence_begin_date=c.sentence_begin,
            term_years=c.term_years,
            term_months=c.term_months,
            term_days=c.term_days,
            life_sentence=bool(c.life),
            consecutive_to_commitment_id=c.consecutive_to and f"{pid}-{c.consecutive_to}",
            committed_on=c.custody_date or c.sentence_begin,
        )
    for j in facts.jail_credits:
        put(
            rows,
            "jail_credit",
            f"{pid}-{j.key}",
            batch,
            jail_credit_id=f"{pid}-{j.key}",
            person_id=pid,
            commitment_id=f"{pid}-{j.commitment_key}",
            from_date=None,
            to_date=None,
            days_posted=j.days,
            certificate_no=j.cert_no,
            posted_by=None,
            posted_on=None,
        )
    for d in facts.jail_certificates:
        put(
            rows,
            "document",
            f"{pid}-{d.key}",
            batch,
            document_id=f"{pid}-{d.key}",
            person_id=pid,
            document_type="JAIL_CERT",
            indexed_on=None,
            sentence_begin_date=d.sentence_begin,
            term_years=None,
            term_months=None,
            term_days=None,
            life_term=None,
            jail_days=d.days,
            certificate_no=d.cert_no,
        )
    for a in facts.assignments:
        code = a.task_code
        known = tasks.get((a.institution, code))
        if known is not None and known != a.rate:
            code = f"{a.task_code}.{a.rate}"
            known = tasks.get((a.institution, code))
        if known is None:
            add_task(
                conn, a.institution, code, a.canonical_task, a.type, [(effective, int(a.rate))]
            )
            tasks[a.institution, code] = int(a.rate)
        put(
            rows,
            "assignment",
            f"{pid}-{a.key}",
            batch,
            assignment_id=f"{pid}-{a.key}",
            person_id=pid,
            institution_id=a.institution,
            task_code=code,
            assignment_type=a.type,
            begin_date=a.begin,
            end_date=a.end,
        )
    for s in facts.segregations:
        put(
            rows,
            "segregation",
            f"{pid}-{s.key}",
            batch,
            segregation_id=f"{pid}-{s.key}",
            person_id=pid,
            institution_id=None,
            segregation_type=s.type,
            begin_date=s.begin,
            end_date=s.end,
        )
    weeks: dict[date, int] = {}
    for w in facts.labor_pool:
        weeks[w.week_begin] = weeks.get(w.week_begin, 0) + w.days_worked
    for monday, days in weeks.items():
        put(
            rows,
            "labor_pool_attendance",
            f"{pid}|{monday:%Y%m%d}",
            batch,
            person_id=pid,
            institution_id=batch,
            week_begin_date=monday,
            days_worked=min(days, 7),
        )
    for i in facts.infractions:
        put(
            rows,
            "infraction",
            f"{pid}-{i.key}",
            batch,
            infraction_id=f"{pid}-{i.key}",
            person_id=pid,
            infraction_date=i.date,
            rule_code=None,
            gc_revoked_days=i.gc_revoked,
            sp_revoked_days=i.sp_revoked,
            hearing_date=None,
        )
    for r in facts.ledger:
        put(
            rows,
            "credit_transaction",
            f"{pid}-{r.key}",
            batch,
            txn_id=f"{pid}-{r.key}",
            person_id=pid,
            commitment_id=None,
            credit_type=r.type,
            credit_month=r.month,
            days=r.days,
            institution_id=None,
            task_code=None,
            entered_by=None,
            entered_on=r.entered,
        )
    legacy = facts.legacy
    put(
        rows,
        "legacy_release_calculation",
        f"{pid}|{legacy.calc_date:%Y%m%d}",
        batch,
        person_id=pid,
        calculated_as_of=legacy.calc_date,
        max_expiration_date=legacy.max_expiration,
        ms_release_date=legacy.ms_release,
        actual_release_date=legacy.actual_release,
        release_type=legacy.release_type,
    )
