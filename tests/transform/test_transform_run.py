"""Running the example mappings end to end, on SQLite and PostgreSQL staging."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from transform_helpers import (
    EXAMPLE,
    TARGET,
    copy_example,
    node_mappings,
    rows,
    stage,
    stage_example,
)

from cutover.errors import ReconciliationError
from transform import load_project, run_transform, runner


def _quarantine(engine: sa.Engine) -> set[tuple[str, str, str, str, str | None]]:
    return {
        (r["target_table"], r["source_key"].strip(), r["rule"], r["column_name"], r["value"])
        for r in rows(engine, "xf__quarantine")
    }


@pytest.fixture(scope="module")
def transformed(module_staging: sa.Engine) -> sa.Engine:
    """The example, staged and transformed once; tests only read it."""
    stage_example(module_staging)
    run_transform(load_project(EXAMPLE), module_staging, TARGET, "run-1")
    return module_staging


@pytest.mark.parametrize(
    ("table", "key", "rule", "column", "value"),
    [
        pytest.param(
            "person", "P00003", "invalid_date", "birth_date", "19750230", id="impossible-date"
        ),
        pytest.param("job", "J4", "unmapped_code", "task", "S2/UNK9", id="unmapped-code"),
        pytest.param(
            "job", "J5", "unmapped_code", "task", "S2/PAINT", id="code-before-its-effective-date"
        ),
        pytest.param("credit", "T2", "orphan", "person_id", "P00009", id="orphan-parent-absent"),
        pytest.param(
            "credit", "T3", "orphan", "person_id", "P00003", id="orphan-parent-quarantined"
        ),
        pytest.param("person", "P00007", "orphan", "site_id", "S9", id="orphan-by-foreign-key"),
        pytest.param(
            "credit", "T4", "invalid_month", "credit_month", "202013", id="impossible-month"
        ),
        pytest.param("job", "J5", "invalid_number", "hours", "0A5", id="not-a-number"),
    ],
)
def test_bad_rows_are_quarantined_with_rule_column_and_value(
    transformed: sa.Engine, table: str, key: str, rule: str, column: str, value: str
) -> None:
    found = {q for q in _quarantine(transformed) if q[:4] == (table, key, rule, column)}
    assert found, f"{table} {key} not quarantined for {rule}"
    assert {q[4].strip() for q in found if q[4] is not None} == {value}
    loaded = {r["_source_key"].strip() for r in rows(transformed, f"xf_{table}")}
    assert key not in loaded


def test_accounting_balances_for_every_table_and_batch(transformed: sa.Engine) -> None:
    accounting = rows(transformed, "xf__accounting")
    assert {r["target_table"] for r in accounting} == {
        "site",
        "person",
        "credit",
        "jail_credit",
        "job",
        "user_account",
    }
    for r in accounting:
        assert r["source_rows"] == r["loaded"] + r["merged"] + r["quarantined"], r
    person = {r["batch"]: r for r in accounting if r["target_table"] == "person"}
    assert sum(r["source_rows"] for r in person.values()) == 7
    assert sum(r["merged"] for r in person.values()) == 2
    assert person["S9"]["quarantined"] == 1
    credit_batches = {r["batch"] for r in accounting if r["target_table"] == "credit"}
    assert "_UNASSIGNED" in credit_batches  # the orphan's batch: its person is unknown


def test_every_source_row_lands_in_exactly_one_place(transformed: sa.Engine) -> None:
    quarantined = {(q[0], q[1]) for q in _quarantine(transformed)}
    merged = {("person", r["merged_person_id"]) for r in rows(transformed, "xf_person_merge")}
    merged |= {("user_account", r["merged_user_id"]) for r in rows(transformed, "xf_user_merge")}
    for table, source in [
        ("person", "stg_old_person"),
        ("credit", "stg_old_credit"),
        ("job", "stg_old_job"),
        ("user_account", "stg_old_usr"),
    ]:
        loaded = {(table, r["_source_key"].strip()) for r in rows(transformed, f"xf_{table}")}
        staged = {(table, r["_src_key"].strip()) for r in rows(transformed, source)}
        places = [
            loaded,
            {q for q in quarantined if q[0] == table},
            {m for m in merged if m[0] == table},
        ]
        assert set().union(*places) == staged
        assert sum(len(p) for p in places) == len(staged)


def test_duplicate_people_are_merged_recorded_and_children_repointed(
    transformed: sa.Engine,
) -> None:
    merges = {
        (r["merged_person_id"], r["survivor_person_id"], r["match_rule"])
        for r in rows(transformed, "xf_person_merge")
    }
    assert merges == {
        ("P00002", "P00001", "same_state_id"),
        ("P00006", "P00005", "same_name_and_birth_date"),
    }
    people = {r["person_id"] for r in rows(transformed, "xf_person")}
    assert "P00002" not in people
    assert "P00006" not in people
    jobs = {r["job_id"]: r["person_id"] for r in rows(transformed, "xf_job")}
    assert jobs["J2"] == "P00001"  # staged with the merged P00002
    credits = {r["txn_id"]: r for r in rows(transformed, "xf_credit")}
    assert credits["T5"]["person_id"] == "P00001"
    assert credits["T5"]["_batch"] == "S1"


def test_duplicate_users_keep_the_latest_account(transformed: sa.Engine) -> None:
    merges = rows(transformed, "xf_user_merge")
    assert [(r["merged_user_id"], r["survivor_user_id"]) for r in merges] == [("U1", "U2")]
    assert {r["user_id"] for r in rows(transformed, "xf_user_account")} == {"U2", "U3"}


def test_primary_source_wins_and_disagreement_is_recorded(transformed: sa.Engine) -> None:
    jail = {r["jail_credit_id"]: r["days"] for r in rows(transformed, "xf_jail_credit")}
    assert jail == {"JC1": 35, "JC2": 10, "JC3": 7}
    [d] = rows(transformed, "xf__disagreement")
    assert (d["fact"], d["source_key"].strip(), d["primary_key"].strip()) == (
        "jail_days",
        "JC1",
        "D1",
    )
    assert (d["primary_value"], d["secondary_value"]) == ("35", "30")


def test_crosswalk_keeps_each_institution_rate_and_sentinels_follow_the_mapping(
    transformed: sa.Engine,
) -> None:
    jobs = {r["job_id"]: r for r in rows(transformed, "xf_job")}
    assert (jobs["J1"]["task"], jobs["J1"]["credit_rate"]) == ("PAINTER", 10)
    assert (jobs["J3"]["task"], jobs["J3"]["credit_rate"]) == ("PAINTER", 5)
    assert str(jobs["J1"]["end_date"]) == "9999-12-31"
    assert jobs["J3"]["end_date"] is None


def test_lineage_and_row_hash_are_filled(transformed: sa.Engine) -> None:
    for r in rows(transformed, "xf_person"):
        assert r["_run_id"] == "run-1"
        assert (r["_source_system"], r["_source_table"], r["_mapping_version"]) == (
            "old",
            "PERSON",
            "1",
        )
        assert r["_source_key"].strip() == r["person_id"]
        assert len(r["_row_hash"]) == 32


def test_rerun_after_fixing_a_mapping_takes_rows_out_of_quarantine(
    staging: sa.Engine, tmp_path: Path
) -> None:
    stage_example(staging)
    folder = copy_example(tmp_path / "mappings")
    run_transform(load_project(folder), staging, TARGET, "run-1")
    assert any(q[1] == "J4" for q in _quarantine(staging))
    csv = folder / "task_codes.csv"
    csv.write_text(csv.read_text(encoding="utf-8") + "S2,UNK9,COOK,8,,\n", encoding="utf-8")
    run_transform(load_project(folder), staging, TARGET, "run-2")
    assert not any(q[1] == "J4" for q in _quarantine(staging))
    jobs = {r["job_id"]: r for r in rows(staging, "xf_job")}
    assert (jobs["J4"]["task"], jobs["J4"]["credit_rate"]) == ("COOK", 8)
    assert {r["run_id"] for r in rows(staging, "xf__quarantine")} == {"run-2"}


def test_rerun_without_change_gives_the_same_row_hashes(staging: sa.Engine) -> None:
    stage_example(staging)
    run_transform(load_project(EXAMPLE), staging, TARGET, "run-1")
    before = {r["person_id"]: r["_row_hash"] for r in rows(staging, "xf_person")}
    result = run_transform(load_project(EXAMPLE), staging, TARGET, "run-2")
    after = {r["person_id"]: r["_row_hash"] for r in rows(staging, "xf_person")}
    assert {t.name: t.disagreements for t in result.tables if t.disagreements} == {"jail_credit": 1}
    assert result.merges == {"person": 2, "user": 1}
    assert before == after
    assert {r["_run_id"] for r in rows(staging, "xf_person")} == {"run-2"}


def test_a_join_that_multiplies_rows_fails_the_run_loudly(
    staging: sa.Engine, tmp_path: Path
) -> None:
    stage_example(staging)
    stage(
        staging,
        "docs",
        "DOC_IDX",
        {"DOC_ID": 4, "PER_ID": 6, "DOC_TYP": 10, "JAIL_DAYS": 4, "CERT_NO": 6},
        [
            ("D1", "P00001", "JAIL_CERT", "35", "CERT1"),
            ("D9", "P00001", "JAIL_CERT", "36", "CERT1"),
        ],
        key=["DOC_ID"],
    )
    with pytest.raises(ReconciliationError, match="jail_credit") as info:
        run_transform(load_project(EXAMPLE), staging, TARGET, "run-1")
    assert "many-to-one" in (info.value.hint or "")


def test_filtered_rows_are_counted_not_dropped(staging: sa.Engine, tmp_path: Path) -> None:
    stage_example(staging)
    folder = copy_example(tmp_path / "mappings")
    text = (folder / "sites.yaml").read_text(encoding="utf-8")
    (folder / "sites.yaml").write_text(
        text.replace(
            "    # no batch:", "    where: {ne: [{code: SITE_CD}, {const: S3}]}\n    # no batch:"
        ),
        encoding="utf-8",
    )
    run_transform(load_project(folder), staging, TARGET, "run-1")
    [site] = [r for r in rows(staging, "xf__accounting") if r["target_table"] == "site"]
    assert (site["source_rows"], site["loaded"], site["filtered"]) == (2, 2, 1)


def _orphan_chain(staging: sa.Engine, folder: Path) -> sa.MetaData:
    """Nodes A <- B, and C <- D under a parent Z that is not there, staged; the target of
    :func:`node_mappings` written in ``folder``."""
    stage(
        staging,
        "t",
        "NODE",
        {"ID": 2, "PARENT": 2},
        [("A", ""), ("B", "A"), ("C", "Z"), ("D", "C")],
        key=["ID"],
    )
    return node_mappings(folder)


def test_a_foreign_key_to_the_same_table_quarantines_orphans(
    staging: sa.Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "m"
    target = _orphan_chain(staging, folder)
    run_transform(load_project(folder), staging, target, "run-1")
    assert {r["id"] for r in rows(staging, "xf_node")} == {"A", "B"}
    assert {q[1:4] for q in _quarantine(staging)} == {
        ("C", "orphan", "parent_id"),
        ("D", "orphan", "parent_id"),  # its parent C was set aside
    }


def test_flags_are_set_and_gathered_on_postgresql_by_a_parallel_create_table_as(
    staging: sa.Engine, tmp_path: Path
) -> None:
    """PostgreSQL runs an UPDATE or an INSERT ... SELECT in one process: the rows a check flags
    are found first by a ``CREATE TABLE ... AS`` (parallel), then updated through the index on
    ``_pos``, and the flagged positions are gathered the same way. The chain of orphans is
    flagged as by a plain UPDATE."""
    stage(
        staging,
        "t",
        "NODE",
        {"ID": 2, "PARENT": 2},
        [("A", ""), ("B", "A"), ("C", "Z"), ("D", "C"), ("E", "D")],
        key=["ID"],
    )
    folder = tmp_path / "m"
    target = node_mappings(folder)
    updates: list[str] = []
    made: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE XF__WORK_NODE"):
            updates.append(" ".join(statement.split()))
        if statement.lstrip().upper().startswith("CREATE UNLOGGED TABLE XF__WORK_NODE_FLAGGED AS"):
            made.append(statement)

    sa.event.listen(staging, "before_cursor_execute", seen)
    try:
        run_transform(load_project(folder), staging, target, "run-1")
    finally:
        sa.event.remove(staging, "before_cursor_execute", seen)
    assert {r["id"] for r in rows(staging, "xf_node")} == {"A", "B"}
    assert {q[1:4] for q in _quarantine(staging)} == {
        ("C", "orphan", "parent_id"),
        ("D", "orphan", "parent_id"),
        ("E", "orphan", "parent_id"),
    }
    assert updates
    by_position = (
        "WHERE xf__work_node._pos IN (SELECT xf__work_node_hits._pos FROM xf__work_node_hits)"
    )
    postgresql = staging.dialect.name == "postgresql"
    if postgresql:
        assert all(u.endswith(by_position) for u in updates), updates
    else:
        assert not any("xf__work_node_hits" in u for u in updates)
    assert len(made) == postgresql


def test_the_working_tables_are_unlogged_on_postgresql_and_the_output_is_not(
    staging: sa.Engine, tmp_path: Path
) -> None:
    """A table's working tables live and die in its transaction: on PostgreSQL they are made
    ``UNLOGGED`` (no write-ahead log), every one of them; the xf_ table the load reads
    afterwards is a logged table, so a crash cannot empty it. SQLite has no such tables."""
    folder = tmp_path / "m"
    target = _orphan_chain(staging, folder)
    made: list[tuple[str, str]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        found = re.match(r"\s*CREATE ((?:UNLOGGED )?TABLE) (\w+)", statement)
        if found:
            made.append((found[1], found[2]))

    sa.event.listen(staging, "before_cursor_execute", seen)
    try:
        run_transform(load_project(folder), staging, target, "run-1")
    finally:
        sa.event.remove(staging, "before_cursor_execute", seen)
    working = [(kind, name) for kind, name in made if name.startswith("xf__work_")]
    # The working table, its flagged positions and the positions of each update of flags.
    assert {name for _kind, name in working} >= {"xf__work_node", "xf__work_node_flagged"}
    postgresql = staging.dialect.name == "postgresql"
    assert all((kind == "UNLOGGED TABLE") == postgresql for kind, _name in working), working
    others = [kind for kind, name in made if not name.startswith("xf__work_")]
    assert others, made
    assert set(others) == {"TABLE"}, made
    assert not sa.inspect(staging).has_table("xf__work_node")
    if postgresql:
        with staging.connect() as conn:
            persistence = conn.exec_driver_sql(
                "SELECT relpersistence FROM pg_class WHERE oid = 'xf_node'::regclass"
            ).scalar_one()
        assert persistence == "p"


def test_a_row_lost_between_check_and_write_fails_the_run_loudly(
    staging: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The accounting is computed from what was written, so a row the engine loses on the way
    (here: deleted right after xf_site is written) is caught, named and rolled back."""
    stage_example(staging)
    write = runner._insert_xf

    def losing_one_site(
        conn: sa.Connection, compiled: Any, plan: Any, *args: Any, **kwargs: Any
    ) -> None:
        write(conn, compiled, plan, *args, **kwargs)
        if plan.name == "site":
            xf = compiled.xf_tables["site"]
            conn.execute(xf.delete().where(xf.c.site_id == "S3"))

    monkeypatch.setattr(runner, "_insert_xf", losing_one_site)
    with pytest.raises(ReconciliationError) as info:
        run_transform(load_project(EXAMPLE), staging, TARGET, "run-1")
    assert re.fullmatch(
        r"site: batch \S+: 3 source rows != 2 loaded \+ 0 merged \+ 0 quarantined",
        str(info.value).split(" [")[0],
    ), str(info.value)
    assert "lost or counted twice" in (info.value.hint or "")
    # The table's transaction was rolled back: no accounting of site from this run remains.
    assert not [r for r in rows(staging, "xf__accounting") if r["target_table"] == "site"]
