"""How the reader turns target rows into facts: keys, hashes, rows of nobody, driver errors.

The reader fetches plain tuples (``validation.streams``) and builds the facts and their hash
from them; these tests pin what that must keep: lineage keys trimmed as before, a hash that
follows the facts (not the rows' other columns, nor which objects happen to be shared), rows
of persons outside the read counted instead of given to a neighbour, and database errors that
arrive as SQLAlchemy's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from diminution_builders import baseline, post_clean
from target_builders import new_target, write_offenders

import load
from load import models as m
from validation import OffenderFacts, ReadStats, RulePack, read_offenders
from validation.queries import FACT_ORDER, FACT_TABLES, fact_order, fact_queries
from validation.reader import OffenderRecord, facts_hash

TXN = m.CreditTransaction.__table__


def two_offenders(pack: RulePack) -> list[tuple[OffenderFacts, str]]:
    clean = post_clean(baseline(), pack)
    return [(clean, "MCIH"), (replace(clean, person_id="P3"), "ECI")]


def written_target(
    tmp_path: Path, pack: RulePack
) -> tuple[Path, sa.Engine, dict[str, OffenderRecord]]:
    """A target file holding :func:`two_offenders`, and what the reader reads from it."""
    path = tmp_path / "t.db"
    engine = new_target(path)
    write_offenders(engine, two_offenders(pack))
    return path, engine, {r.person_id: r for r in read_offenders(engine)}


@contextmanager
def unchecked(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain connection to the target file ``path``, committed and closed on leaving: it does
    not enforce foreign keys, so rows can be made or rewritten that the target would refuse."""
    raw = sqlite3.connect(path)
    try:
        yield raw
        raw.commit()
    finally:
        raw.close()


def set_source_key(engine: sa.Engine, txn_id: str, source_key: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(TXN).where(TXN.c.txn_id == txn_id).values(_source_key=source_key))


def test_lineage_keys_are_trimmed_part_by_part_or_fall_back_to_the_natural_key(
    tmp_path: Path, pack: RulePack
) -> None:
    engine = new_target(tmp_path / "t.db")
    write_offenders(engine, two_offenders(pack))
    with engine.connect() as conn:
        first, second, third = conn.execute(
            sa.select(TXN.c.txn_id).where(TXN.c.person_id == "P1").order_by(TXN.c.txn_id).limit(3)
        ).scalars()
    set_source_key(engine, first, " T1 | X2\t")
    set_source_key(engine, second, "\u3000T2  ")
    set_source_key(engine, third, "")
    (record,) = read_offenders(engine, person_ids=["P1"])
    assert record.facts is not None
    keys = [r.key for r in record.facts.ledger]
    assert keys[:3] == ["CR_TXN:T1|X2", "CR_TXN:T2", f"CR_TXN:{third}"]
    assert all(k.startswith("CR_TXN:P1-") for k in keys[3:])


def test_rows_of_persons_outside_the_read_are_counted_not_given_to_a_neighbour(
    tmp_path: Path, pack: RulePack
) -> None:
    path, engine, clean = written_target(tmp_path, pack)
    with unchecked(path) as raw:
        columns = [c.name for c in TXN.columns]
        names, marks = ", ".join(columns), ", ".join("?" for _ in columns)
        first = raw.execute(f"SELECT {names} FROM credit_transaction").fetchone()
        row = dict(zip(columns, first, strict=True))
        for person in ("P0", "P2", "P9"):
            orphan = {**row, "txn_id": f"{person}-ORPHAN", "person_id": person}
            raw.execute(
                f"INSERT INTO credit_transaction ({names}) VALUES ({marks})", list(orphan.values())
            )
    stats = ReadStats()
    records = list(read_offenders(engine, fetch_rows=2, stats=stats))
    assert [(r.person_id, r.facts, r.facts_hash) for r in records] == [
        (p, clean[p].facts, clean[p].facts_hash) for p in ("P1", "P3")
    ]
    assert stats.unmatched == {"credit_transaction": 3}
    assert stats.persons == 2


def test_the_hash_follows_the_facts_not_other_columns(tmp_path: Path, pack: RulePack) -> None:
    engine = new_target(tmp_path / "t.db")
    write_offenders(engine, two_offenders(pack))
    again = new_target(tmp_path / "again.db")
    write_offenders(again, two_offenders(pack))

    def hashes(target: sa.Engine) -> dict[str, str]:
        return {r.person_id: r.facts_hash for r in read_offenders(target)}

    before = hashes(engine)
    assert before == hashes(again)
    assert before["P1"] != before["P3"]
    with engine.begin() as conn:
        conn.execute(sa.update(TXN).values(entered_by="SOMEONE", _row_hash="changed"))
    assert hashes(engine) == before
    with engine.begin() as conn:
        one = sa.select(TXN.c.txn_id).where(TXN.c.person_id == "P1").limit(1).scalar_subquery()
        conn.execute(sa.update(TXN).where(TXN.c.txn_id == one).values(days=TXN.c.days + 1))
    after = hashes(engine)
    assert after["P1"] != before["P1"]
    assert after["P3"] == before["P3"]


def test_a_persons_rows_come_in_key_order_whatever_order_the_table_holds_them(
    tmp_path: Path, pack: RulePack
) -> None:
    path, engine, before = written_target(tmp_path, pack)
    with unchecked(path) as raw:
        for table in FACT_TABLES:  # the same rows, stored (and indexed by person) in reverse
            key = ", ".join(f"{c.name} DESC" for c in m.Base.metadata.tables[table].primary_key)
            raw.execute(f"CREATE TEMP TABLE copy AS SELECT * FROM {table}")
            raw.execute(f"DELETE FROM {table}")
            raw.execute(f"INSERT INTO {table} SELECT * FROM copy ORDER BY {key}")
            raw.execute("DROP TABLE copy")
        stored = [r[0] for r in raw.execute("SELECT txn_id FROM credit_transaction ORDER BY rowid")]
    assert len(stored) > 2
    assert stored == sorted(stored, reverse=True)
    after = {r.person_id: r for r in read_offenders(engine, fetch_rows=3)}
    assert after == before
    ledger = [e.key for e in after["P1"].facts.ledger] if after["P1"].facts else []
    assert len(ledger) > 2
    assert ledger == sorted(ledger)


def test_the_order_within_a_person_is_the_tables_key_within_a_person(tmp_path: Path) -> None:
    engine = new_target(tmp_path / "t.db")
    with engine.connect() as conn:
        statements = fact_queries(conn, None, None)
    for table in FACT_TABLES:
        key = {c.name for c in m.Base.metadata.tables[table].primary_key.columns} - {"person_id"}
        assert set(FACT_ORDER[table]) == key, table
        names = list(statements[table].selected_columns.keys())
        assert [names[i] for i in fact_order(statements[table], table)] == list(FACT_ORDER[table])


def test_the_hash_depends_on_values_not_on_which_objects_are_shared() -> None:
    shared = "".join(["CR_TXN:", "T1"])
    separate = ["CR_TXN:T1", "".join(["CR_TXN:", "T1"])]
    assert separate[0] is not separate[1]
    assert facts_hash([(shared, 5), (shared, 5)]) == facts_hash([(s, 5) for s in separate])
    assert facts_hash([("CR_TXN:T1", 5)]) != facts_hash([("CR_TXN:T1", 6)])
    assert len(facts_hash(())) == 32


def test_a_database_error_arrives_as_a_sqlalchemy_error(tmp_path: Path, pack: RulePack) -> None:
    engine = new_target(tmp_path / "t.db")
    write_offenders(engine, two_offenders(pack))
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE infraction")
    with pytest.raises(sa.exc.OperationalError, match="infraction"):
        list(read_offenders(engine))


@pytest.mark.postgres
def test_postgresql_reads_can_share_a_connection(pg_url: str, pack: RulePack) -> None:
    load.upgrade(pg_url)
    engine = load.create_target_engine(pg_url)
    try:
        write_offenders(engine, two_offenders(pack))
        whole = [(r.person_id, r.facts_hash) for r in read_offenders(engine)]
        with engine.connect() as conn:
            outer = read_offenders(conn, fetch_rows=1)
            first = next(outer)
            (inner,) = read_offenders(conn, person_ids=[first.person_id])
            rest = list(outer)
        assert inner.facts == first.facts
        assert [(r.person_id, r.facts_hash) for r in (first, *rest)] == whole
    finally:
        engine.dispose()
