"""Every target row traces to its legacy row; reconciliation catches what the load did not do."""

from __future__ import annotations

import json
import os
import threading
from io import StringIO
from pathlib import Path
from typing import Literal

import pytest
import sqlalchemy as sa
from conftest import Dataset, write_staging
from rich.console import Console
from structlog.testing import capture_logs

from cutover.errors import ConfigError, ReconciliationError
from load import migrate
from load.checksum import Checksums, StagedSide, staged_side
from load.lineage import HIDDEN, trace, verify_lineage
from load.loader import load_run
from load.reconcile import _target_source_keys, reconcile
from load.tables import key_columns, load_order, target_table, xf_table

#: Engine-independent behaviour is proved on SQLite only, to keep the suite fast.
sqlite_only = pytest.mark.parametrize("target_url", ["sqlite"], indirect=True)


@pytest.fixture
def loaded(staging_url: str, target_url: str, dataset: Dataset) -> Dataset:
    write_staging(staging_url, dataset)
    load_run(staging_url, target_url)
    return dataset


def _execute(url: str, sql: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


def test_every_target_row_traces_to_exactly_one_staged_row(
    staging_url: str, target_url: str, loaded: Dataset
) -> None:
    assert verify_lineage(target_url, staging_url) == []
    engine = sa.create_engine(target_url)
    with engine.connect() as conn:
        rows = sum(
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in load_order()
        )
    engine.dispose()
    assert rows == sum(len(r) for r in loaded.tables.values())


@sqlite_only
def test_lineage_check_reports_a_row_whose_legacy_row_is_not_staged(
    staging_url: str, target_url: str, loaded: Dataset
) -> None:
    _execute(staging_url, "DELETE FROM stg_obscis_cr_txn WHERE _src_key = 'T0001000012'")
    _execute(
        staging_url,
        "UPDATE stg_obscis_cmt SET _src_key = 'C0002000011' WHERE _src_key = 'C0002000012'",
    )
    problems = {
        (p.table, p.source_key, p.staged_rows) for p in verify_lineage(target_url, staging_url)
    }
    assert problems == {
        ("credit_transaction", "T0001000012", 0),
        ("commitment", "C0002000011", 2),
        ("commitment", "C0002000012", 0),
    }


@sqlite_only
def test_trace_shows_keys_and_lineage_and_hides_identity_by_default(
    staging_url: str, target_url: str, loaded: Dataset
) -> None:
    found = trace(target_url, staging_url, "person", "000100001")
    assert found.ok
    assert found.key == {"person_id": "000100001"}
    assert found.lineage["_source_table"] == "OFFNDR"
    assert found.lineage["_source_key"] == "000100001"
    assert found.staged_table == "stg_obscis_offndr"
    assert found.staged[0].lineage["_src_key"] == "000100001"
    text = json.dumps(found.to_json())
    assert "Doe1" not in text
    assert "Secretname" not in text
    assert "1970-01-02" not in text


@pytest.mark.parametrize(
    ("sensitive", "shown"),
    [
        pytest.param(False, HIDDEN, id="values-without-identity"),
        pytest.param(True, "Doe1", id="values-with-identity-on-request"),
    ],
)
@sqlite_only
def test_trace_values_show_identity_only_on_explicit_request(
    staging_url: str, target_url: str, loaded: Dataset, sensitive: bool, shown: str
) -> None:
    found = trace(target_url, staging_url, "person", "000100001", values=True, sensitive=sensitive)
    assert found.values is not None
    assert found.values["status_code"] == "IN"
    assert found.values["last_name"] == shown
    assert found.staged[0].values is not None
    assert found.staged[0].values["LAST_NM"] == (shown if not sensitive else "Secretname")


@sqlite_only
def test_trace_accepts_composite_keys_and_explains_a_wrong_one(
    staging_url: str, target_url: str, loaded: Dataset
) -> None:
    found = trace(target_url, staging_url, "task_rate", "ECI|PNT0|1990-01-01")
    assert found.ok
    assert found.lineage["_source_key"] == "ECI|PNT0"
    with pytest.raises(ConfigError, match=r"INSTITUTION_ID\|TASK_CODE\|EFFECTIVE_DATE"):
        trace(target_url, staging_url, "task_rate", "ECI|PNT0")
    with pytest.raises(ConfigError, match="no target table 'persons'"):
        trace(target_url, staging_url, "persons", "1")
    with pytest.raises(ConfigError, match="no row of person"):
        trace(target_url, staging_url, "person", "999")


def test_reconciliation_catches_a_row_deleted_from_the_target_behind_its_back(
    staging_url: str, target_url: str, loaded: Dataset
) -> None:
    assert reconcile(staging_url, target_url).ok
    _execute(target_url, "DELETE FROM credit_transaction WHERE txn_id = 'T0002000011'")
    report = reconcile(staging_url, target_url)
    assert not report.ok
    assert "credit_transaction [MCIH]: 9 row(s) staged, 8 in the target" in report.problems
    traced = "CR_TXN -> credit_transaction [MCIH]: the target traces to 8"
    assert any(p.startswith(traced) for p in report.problems)
    assert [(t.table, t.batch) for t in report.tables if not t.ok] == [
        ("credit_transaction", "MCIH")
    ]
    with pytest.raises(ReconciliationError, match="does not reconcile"):
        report.raise_for_differences()


@sqlite_only
@pytest.mark.parametrize(
    ("compare", "problem"),
    [
        pytest.param(
            "auto",
            "person [ECI]: 1 staged row(s) differ from the target's (key, batch or row hash; "
            "same row count)",
            id="rows-matched-in-the-engine",
        ),
        pytest.param(
            "checksums", "person [ECI]: key checksums differ (same row count)", id="checksums"
        ),
    ],
)
def test_reconciliation_catches_a_row_changed_in_the_target(
    staging_url: str,
    target_url: str,
    loaded: Dataset,
    compare: Literal["auto", "checksums"],
    problem: str,
) -> None:
    _execute(target_url, "UPDATE person SET _row_hash = 'tampered' WHERE person_id = '000100001'")
    report = reconcile(staging_url, target_url, compare=compare)
    assert report.problems == [problem]
    (line,) = [t for t in report.tables if not t.ok]
    assert (line.matched, line.staged_checksum == "") == (
        (line.staged - 1, True) if compare == "auto" else (None, False)
    )


@sqlite_only
def test_rows_matched_in_the_engine_catch_a_key_staged_twice_and_a_row_in_another_batch(
    staging_url: str, target_url: str, loaded: Dataset
) -> None:
    clean = reconcile(staging_url, target_url)
    assert clean.ok
    assert all(t.matched == t.staged == t.target for t in clean.tables)
    by_checksum = reconcile(staging_url, target_url, compare="checksums")
    assert [(t.table, t.batch, t.staged) for t in by_checksum.tables] == [
        (t.table, t.batch, t.staged) for t in clean.tables
    ]
    _stage_a_key_twice_and_move_a_person(staging_url, target_url)
    problems = reconcile(staging_url, target_url).problems
    assert "credit_transaction [MCIH]: 1 key(s) staged more than once" in problems
    assert "person [ECI]: 3 row(s) staged, 2 in the target" in problems
    assert "person [MCIH]: 3 row(s) staged, 4 in the target" in problems


def _stage_a_key_twice_and_move_a_person(staging_url: str, target_url: str) -> None:
    """The target gains a row the staging never had; staging holds another key twice: the
    counts agree, and so would a join that is not checked for keys staged twice. A person of
    batch ECI moves to MCIH in the target."""
    _execute(
        target_url,
        "INSERT INTO credit_transaction SELECT 'T9', person_id, commitment_id, credit_type, "
        "credit_month, days, institution_id, task_code, entered_by, entered_on, _run_id, "
        "_source_system, _source_table, 'T9', _mapping_version, _batch, _row_hash "
        "FROM credit_transaction WHERE txn_id = 'T0002000011'",
    )
    _execute(
        staging_url,
        "INSERT INTO xf_credit_transaction SELECT * FROM xf_credit_transaction "
        "WHERE txn_id = 'T0002000011'",
    )
    _execute(target_url, "UPDATE person SET _batch = 'MCIH' WHERE person_id = '000100001'")


@sqlite_only
def test_the_staged_side_read_apart_on_staging_serves_the_engine_comparison(
    staging_url: str, target_url: str, loaded: Dataset
) -> None:
    """The rows and keys staged twice per batch, read on staging's own connection
    (``staged_side``, as a first load reads them beside its insert), give the reconciliation
    the same findings as the comparison on the attached file; and they are what it uses."""
    _stage_a_key_twice_and_move_a_person(staging_url, target_url)
    staging = sa.create_engine(staging_url)
    plain = sa.MetaData()
    with staging.connect() as conn:
        present = set(sa.inspect(conn).get_table_names())
        staged = [(t, xf_table(t, plain)) for t in load_order() if f"xf_{t.name}" in present]
        sides = {t.name: staged_side(conn, xf, key_columns(t)) for t, xf in staged}
    staging.dispose()
    assert sides["credit_transaction"].duplicates == {"MCIH": 1}
    assert sides["person"].rows["ECI"] == 3
    whole = reconcile(staging_url, target_url)
    apart = reconcile(staging_url, target_url, known=Checksums(sides=sides))
    assert apart.problems == whole.problems
    assert [(t.table, t.batch, t.staged, t.target, t.matched) for t in apart.tables] == [
        (t.table, t.batch, t.staged, t.target, t.matched) for t in whole.tables
    ]
    ledger = sides["credit_transaction"]
    told = dict(sides, credit_transaction=StagedSide(ledger.rows, {"MCIH": 5}))
    problems = reconcile(staging_url, target_url, known=Checksums(sides=told)).problems
    assert "credit_transaction [MCIH]: 5 key(s) staged more than once" in problems


@sqlite_only
def test_reconciliation_checks_the_transform_accounting(
    staging_url: str, target_url: str, loaded: Dataset
) -> None:
    _execute(
        staging_url,
        "UPDATE xf__accounting SET source_rows = source_rows + 1 "
        "WHERE source_table = 'CMT' AND batch = 'ECI'",
    )
    _execute(staging_url, "DELETE FROM xf__quarantine WHERE source_key = 'Q000200000'")
    problems = reconcile(staging_url, target_url).problems
    assert problems == [
        "CMT -> commitment [ECI]: source rows 7 != loaded 6 + merged 0 + quarantined 0",
        "CR_TXN -> credit_transaction [MCIH]: quarantined 3 but 2 key(s) in xf__quarantine",
    ]


@sqlite_only
def test_load_fails_the_run_when_the_target_does_not_reconcile(
    staging_url: str, target_url: str, loaded: Dataset
) -> None:
    _execute(
        staging_url,
        "UPDATE xf__accounting SET loaded = loaded - 1 "
        "WHERE source_table = 'OFFNDR' AND batch = 'ECI'",
    )
    with pytest.raises(ReconciliationError) as caught:
        load_run(staging_url, target_url)
    assert "OFFNDR -> person [ECI]" in str(caught.value)


@sqlite_only
def test_report_is_json_for_tools_and_a_table_for_people(
    staging_url: str, target_url: str, loaded: Dataset
) -> None:
    _execute(target_url, "DELETE FROM commitment WHERE commitment_id = 'C0001000022'")
    report = reconcile(staging_url, target_url)
    data = json.loads(json.dumps(report.to_json()))
    assert data["ok"] is False
    bad = [t for t in data["tables"] if not t["ok"]]
    assert [(t["table"], t["batch"], t["staged"], t["target"]) for t in bad] == [
        ("commitment", "ECI", 6, 5)
    ]
    out = StringIO()
    Console(file=out, width=160).print(report.render())
    text = out.getvalue()
    assert "FAIL" in text
    assert "NOT reconciled" in text
    assert "credit_transaction" in text


@sqlite_only
def test_a_worker_process_reads_the_staging_side_and_the_report_is_the_same(
    staging_url: str, target_url: str, loaded: Dataset
) -> None:
    alone = reconcile(staging_url, target_url, compare="checksums")
    seen: list[str] = []

    def note(_c: object, _cu: object, statement: str, *_a: object) -> None:
        seen.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", note)
    try:
        with capture_logs() as logs:
            beside = reconcile(staging_url, target_url, compare="checksums", side_by_side=True)
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", note)
    assert beside.to_json() == alone.to_json()
    # This process read the target's tables and no staged one: the worker's checksums are used.
    assert any("FROM person" in s for s in seen)
    assert not any("FROM xf_person" in s for s in seen)
    assert alone.ok
    (read,) = [e for e in logs if e["event"] == "reconcile_worker_read_staging"]
    assert read["pid"] != os.getpid()
    assert read["tables"] == len({t.table for t in alone.tables})
    # What the worker read is what is compared: a staged row changed behind the load's back.
    _execute(
        staging_url, "UPDATE xf_person SET _row_hash = 'tampered' WHERE person_id = '000100001'"
    )
    changed = reconcile(staging_url, target_url, compare="checksums", side_by_side=True)
    assert changed.problems == ["person [ECI]: key checksums differ (same row count)"]


@pytest.mark.parametrize(
    "engines", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_sqlite_shares_the_comparison_out_to_two_threads_and_the_report_is_the_same(
    engines: str, tmp_path: Path, request: pytest.FixtureRequest, dataset: Dataset
) -> None:
    if engines == "sqlite":
        staging_url, target_url = (f"sqlite:///{tmp_path / n}" for n in ("s.db", "t.db"))
    else:
        staging_url = request.getfixturevalue("pg_staging_url")
        target_url = request.getfixturevalue("pg_url")
    migrate.upgrade(target_url)
    write_staging(staging_url, dataset)
    load_run(staging_url, target_url)
    _execute(target_url, "DELETE FROM credit_transaction WHERE txn_id = 'T0002000011'")
    _execute(
        staging_url,
        "UPDATE xf__accounting SET source_rows = source_rows + 1 "
        "WHERE source_table = 'CMT' AND batch = 'ECI'",
    )
    alone = reconcile(staging_url, target_url)
    threads: dict[str, set[str]] = {}

    def note(_c: object, _cu: object, statement: str, *_a: object) -> None:
        kind = "lineage" if "_source_key" in statement else "rows"
        if "JOIN" in statement and "xf_" in statement:
            kind = "matched"
        threads.setdefault(kind, set()).add(threading.current_thread().name)

    sa.event.listen(sa.Engine, "before_cursor_execute", note)
    try:
        beside = reconcile(staging_url, target_url, side_by_side=True)
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", note)
    assert beside.to_json() == alone.to_json()
    assert "credit_transaction [MCIH]: 9 row(s) staged, 8 in the target" in beside.problems
    assert "CMT -> commitment [ECI]: source rows 7 != loaded 6 + merged 0 + quarantined 0" in (
        beside.problems
    )
    # On SQLite the target's legacy keys were counted and the rows matched by two threads
    # beside this one, a task a table each; a PostgreSQL pair, whose servers scan with
    # parallel workers, keeps one thread and compares checksums.
    here = threading.current_thread().name
    if engines == "sqlite":
        for kind in ("lineage", "matched"):
            assert threads[kind], kind
            assert all(name.startswith("reconcile") for name in threads[kind]), threads
    else:
        assert threads["lineage"] == {here}
        assert "matched" not in threads
    assert here in threads["rows"]


def test_the_lineage_counts_keys_that_differ_in_case_or_padding_apart(
    target_url: str, loaded: Dataset
) -> None:
    """The distinct legacy keys per source table and batch are counted byte by byte on every
    engine (PostgreSQL counts them under ``COLLATE "C"``): keys that differ only in case or in
    a trailing space are different legacy rows."""
    table = target_table("credit_transaction")
    engine = sa.create_engine(target_url)
    try:
        with engine.begin() as conn:
            keys = [r[0] for r in conn.execute(sa.select(table.c.txn_id).limit(3))]
            for key, legacy in zip(keys, ("k-1", "K-1", "k-1 "), strict=True):
                conn.execute(table.update().where(table.c.txn_id == key).values(_source_key=legacy))
            rows = conn.execute(
                sa.select(table.c._source_table, table.c._batch, table.c._source_key)
            ).all()
        expected: dict[tuple[str, str, str], set[str]] = {}
        for source_table, batch, key in rows:
            expected.setdefault((table.name, source_table, batch), set()).add(key)
        counted = _target_source_keys(engine, [table])
    finally:
        engine.dispose()
    assert counted == {group: len(found) for group, found in expected.items()}
    assert any({"k-1", "K-1", "k-1 "} <= found for found in expected.values())
