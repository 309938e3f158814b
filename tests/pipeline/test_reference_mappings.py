"""The reference mappings (``mappings/obscis/``) on a generated legacy system: checked clean,
every table accounted for, every row that passes loaded with the right values."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import sqlalchemy as sa
from typer.testing import CliRunner

from cutover.cli import app
from load import reconcile
from load.models import Base

from .conftest import Pipeline
from .support import answer_rows, staged_rows, target_rows


def test_mappings_check_is_clean_and_reports_only_the_unknown_task_codes(
    pipeline: Pipeline,
) -> None:
    injected = {
        (r["INST_CD"].strip(), r["TSK_CD"].strip().upper())
        for r in staged_rows(pipeline, "stg_obscis_asgn")
        if r["ASGN_ID"].strip() in answer_rows(pipeline, "UNKNOWN_TASK_CODE", "ASGN")
    }
    assert injected, "the generated system should hold unknown task codes"
    gaps = {
        (g.table, g.column, g.crosswalk, g.institution, g.code) for g in pipeline.check.coverage
    }
    assert gaps == {("assignment", "task_code", "task", i, c) for i, c in injected}
    result = CliRunner().invoke(
        app, ["mappings", "check", "--workspace", str(pipeline.settings.workspace)]
    )
    assert result.exit_code == 0, result.output
    assert "mappings OK" in result.output
    for _inst, code in injected:
        assert code in result.output


def test_every_legacy_table_is_migrated(pipeline: Pipeline) -> None:
    with pipeline.staging().connect() as conn:
        staged = {
            n
            for n in sa.inspect(conn).get_table_names()
            if n.startswith(("stg_obscis_", "stg_documents_"))
        }
    legacy = {n.split("_", 2)[2].upper() for n in staged}
    driven = {t.account.source_table for t in pipeline.transform.tables}
    assert legacy - driven == set()


def test_accounting_holds_for_every_table_and_batch(pipeline: Pipeline) -> None:
    with pipeline.staging().connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM xf__accounting")).mappings().all()
        names = {
            n.split("_", 2)[2].upper(): n
            for n in sa.inspect(conn).get_table_names()
            if n.startswith(("stg_obscis_", "stg_documents_", "stg_ref_"))
        }
        staged: dict[str, int] = {
            legacy: int(conn.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one())
            for legacy, name in names.items()
        }
    broken = [
        dict(r) for r in rows if r["source_rows"] != r["loaded"] + r["merged"] + r["quarantined"]
    ]
    assert not broken
    per_table: Counter[tuple[str, str]] = Counter()
    for r in rows:
        per_table[(r["target_table"], r["source_table"])] += r["source_rows"] + r["filtered"]
    assert {k: staged[k[1]] for k in per_table} == dict(per_table)
    loaded_by_table_batch = Counter[tuple[str, str]]()
    for r in rows:
        loaded_by_table_batch[(r["target_table"], r["batch"])] += r["loaded"]
    # A source row an unpivot turns into several target rows is loaded once: count its key.
    unpivots = {p.name for p in pipeline.check.compiled.plans if p.variants > 1}
    assert unpivots == {"revocation"}
    with pipeline.target().connect() as conn:
        in_target = Counter[tuple[str, str]]()
        for table in {t for t, _b in loaded_by_table_batch}:
            count = "count(DISTINCT _source_key)" if table in unpivots else "count(*)"
            for batch, n in conn.execute(
                sa.text(f"SELECT _batch, {count} FROM {table} GROUP BY _batch")
            ):
                in_target[(table, str(batch))] = int(str(n))
    assert in_target == +loaded_by_table_batch


def test_target_matches_the_transform_output_row_for_row(pipeline: Pipeline) -> None:
    report = reconcile(pipeline.staging_url, pipeline.target_url)
    assert report.tables
    wrong = [t for t in report.tables if not t.ok]
    assert not wrong


def test_padded_and_drifted_codes_are_normalized(pipeline: Pipeline) -> None:
    inst = {r["institution_id"] for r in target_rows(pipeline, "institution")}
    assert "ECI" in inst
    assert all(i == i.strip().upper() for i in inst)
    drifted = answer_rows(pipeline, "CODE_CASE_DRIFT", "CR_TXN", column="CR_TYP")
    raw = {
        r["TXN_ID"].strip(): r["CR_TYP"]
        for r in staged_rows(pipeline, "stg_obscis_cr_txn")
        if r["TXN_ID"].strip() in drifted
    }
    lower = {k for k, v in raw.items() if v != v.upper()}
    assert lower, "the generated system should hold lower-case credit types"
    loaded = {
        r["txn_id"]: r["credit_type"]
        for r in target_rows(pipeline, "credit_transaction")
        if r["txn_id"] in raw
    }
    assert loaded == {k: v.strip().upper() for k, v in raw.items() if k in loaded}
    assert lower <= set(loaded)


def test_months_become_first_days_and_char_numbers_become_integers(pipeline: Pipeline) -> None:
    staged = {r["TXN_ID"].strip(): r for r in staged_rows(pipeline, "stg_obscis_cr_txn")}
    for row in target_rows(pipeline, "credit_transaction")[:2000]:
        legacy = staged[row["txn_id"]]
        month = legacy["CR_MO"]
        assert row["credit_month"] == dt.date(int(month[:4]), int(month[4:]), 1)
        assert row["days"] == int(legacy["CR_DAYS"])
    jail = {r["JCR_ID"].strip(): r["CR_DAYS"] for r in staged_rows(pipeline, "stg_obscis_jail_cr")}
    padded = {k: v for k, v in jail.items() if v.startswith("00") and v != "000"}
    assert padded, "the generated system should hold a jail credit such as '005'"
    days = {r["jail_credit_id"]: r["days_posted"] for r in target_rows(pipeline, "jail_credit")}
    assert {k: days[k] for k in padded} == {k: int(v) for k, v in padded.items()}


def test_lifers_keep_never_computed_dates_as_null(pipeline: Pipeline) -> None:
    lifers = {
        r["OFF_ID"].strip()
        for r in staged_rows(pipeline, "stg_obscis_rel_calc")
        if r["MAX_EXP_DT"] == "99999999"
    }
    assert lifers
    calc = {r["person_id"]: r for r in target_rows(pipeline, "legacy_release_calculation")}
    for person in lifers:
        assert calc[person]["max_expiration_date"] is None
        assert calc[person]["ms_release_date"] is None
        assert calc[person]["calculated_as_of"] is not None


def test_each_institution_keeps_its_own_task_rate(pipeline: Pipeline) -> None:
    legacy = {
        (r["INST_CD"].strip(), r["TSK_CD"].strip()): r["CR_RATE"]
        for r in staged_rows(pipeline, "stg_obscis_inst_tsk")
    }
    rates = {
        (r["institution_id"], r["task_code"]): r["monthly_rate"]
        for r in target_rows(pipeline, "task_rate")
    }
    assert rates == legacy
    painter = {
        (r["institution_id"], r["task_code"])
        for r in target_rows(pipeline, "institution_task")
        if r["canonical_task_id"] == "PAINTER"
    }
    assert {("ECI", "PNT1"), ("MCIH", "PAINT"), ("MCTC", "P-01")} <= painter
    assert {rates[k] for k in painter} == {5, 10}


def test_duplicate_offenders_rows_belong_to_the_survivor(pipeline: Pipeline) -> None:
    merges = {
        r["merged_key"]: r["survivor_person_id"] for r in target_rows(pipeline, "person_merge")
    }
    assert merges
    people = {r["person_id"] for r in target_rows(pipeline, "person")}
    assert not set(merges) & people
    moved = [r for r in staged_rows(pipeline, "stg_obscis_asgn") if r["OFF_ID"].strip() in merges]
    assert moved, "a duplicate record should own some assignments"
    owner = {r["assignment_id"]: r["person_id"] for r in target_rows(pipeline, "assignment")}
    for r in moved:
        assert owner[r["ASGN_ID"].strip()] == merges[r["OFF_ID"].strip()]
    identifiers = {
        r["identifier_value"]: r["person_id"] for r in target_rows(pipeline, "person_identifier")
    }
    assert {k: identifiers[k] for k in merges} == merges
    aliases = {r["alias_id"]: r["person_id"] for r in target_rows(pipeline, "person_alias")}
    assert aliases == merges


def test_users_get_their_jobs_role_once_per_employee(pipeline: Pipeline) -> None:
    merged = {r["merged_key"] for r in target_rows(pipeline, "user_merge")}
    users = {r["user_id"]: r["job_code"] for r in target_rows(pipeline, "app_user")}
    roles = {r["user_id"]: r["role_id"] for r in target_rows(pipeline, "user_role")}
    assert set(roles) == set(users) - merged
    expected = {
        "CMGR": "CASE_MANAGER",
        "CMST": "COMMITMENT_STAFF",
        "WRDN": "WARDEN",
        "CO": "CORRECTIONAL_OFFICER",
        "ADMN": "ADMINISTRATOR",
    }
    assert roles == {u: expected[users[u]] for u in roles}
    needs = {(r["role_id"], r["screen_code"]) for r in target_rows(pipeline, "role_grant")}
    assert ("CORRECTIONAL_OFFICER", "CSM1") in needs
    assert ("CORRECTIONAL_OFFICER", "DIM1") not in needs


def test_document_terms_are_parsed(pipeline: Pipeline) -> None:
    staged = {r["DOC_ID"]: r["TERM"] for r in staged_rows(pipeline, "stg_documents_doc_idx")}
    docs = target_rows(pipeline, "document")
    for doc in docs:
        term = staged[doc["document_id"]]
        if term == "LIFE":
            assert doc["life_term"] is True
            assert doc["term_years"] is None
        elif term:
            years, months, days = (int(p[:-1]) for p in term.split())
            assert (doc["term_years"], doc["term_months"], doc["term_days"]) == (
                years,
                months,
                days,
            )
            assert doc["life_term"] is False
        else:
            assert doc["life_term"] is None
            assert doc["term_years"] is None


def test_jail_days_stay_as_posted_and_every_misposting_is_recorded(pipeline: Pipeline) -> None:
    misposted = {
        key
        for a in pipeline.answers
        if a.get("code") == "JAIL_CREDIT_MISPOSTED"
        for key in a["rows"].get("JAIL_CR", [])
    }
    assert misposted, "the generated system should hold misposted jail credits"
    recorded = {
        r["source_key"].strip(): (int(r["primary_value"]), int(r["secondary_value"]))
        for r in staged_rows(pipeline, "xf__disagreement")
        if r["fact"] == "jail_days"
    }
    assert set(recorded) == misposted
    posted = {r["jail_credit_id"]: r["days_posted"] for r in target_rows(pipeline, "jail_credit")}
    assert {k: posted[k] for k in recorded} == {k: v[1] for k, v in recorded.items()}
    assert all(certificate != keyed for certificate, keyed in recorded.values())


def test_every_target_table_is_filled_and_only_unknown_facts_are_left_empty(
    pipeline: Pipeline,
) -> None:
    assert pipeline.check.unmapped_tables == []
    project = pipeline.check.compiled.project
    filled = set(project.tables) | {d.spec.record.table for d in project.duplicates.values()}
    assert filled == set(Base.metadata.tables)
    unfilled = {(name, column) for name, t in project.tables.items() for column in t.spec.unfilled}
    # When a person arrived at the current institution was never recorded.
    assert unfilled == {("custody", "begin_date")}


def test_each_person_is_in_custody_at_the_current_institution(pipeline: Pipeline) -> None:
    master = {r["OFF_ID"].strip(): r for r in staged_rows(pipeline, "stg_obscis_offndr")}
    released = {
        r["OFF_ID"].strip(): r["ACT_REL_DT"].strip()
        for r in staged_rows(pipeline, "stg_obscis_rel_calc")
    }
    custody = {r["person_id"]: r for r in target_rows(pipeline, "custody")}
    assert set(custody) == {r["person_id"] for r in target_rows(pipeline, "person")}
    for person, row in custody.items():
        legacy = master[person]
        assert row["custody_id"] == person
        assert row["institution_id"] == legacy["CUR_INST_CD"].strip().upper()
        assert row["is_current"] is (legacy["STAT_CD"].strip().upper() == "IN")
        day = released[person]
        expected = None if day in ("", "00000000") else dt.date.fromisoformat(day)
        assert row["end_date"] == expected
        assert row["begin_date"] is None
        assert row["is_current"] is (row["end_date"] is None)
    assert {row["is_current"] for row in custody.values()} == {True, False}


def test_each_infraction_revokes_its_days_one_row_per_kind(pipeline: Pipeline) -> None:
    infractions = target_rows(pipeline, "infraction")
    expected = {
        (r["infraction_id"], kind): days
        for r in infractions
        for kind, days in (("RG", r["gc_revoked_days"]), ("RS", r["sp_revoked_days"]))
        if days
    }
    revocations = {
        (r["infraction_id"], r["credit_type"]): r["days"]
        for r in target_rows(pipeline, "revocation")
    }
    assert revocations == expected
    assert {kind for _infraction, kind in revocations} == {"RG", "RS"}
    account = next(t.account for t in pipeline.transform.tables if t.name == "revocation")
    staged = len(staged_rows(pipeline, "stg_obscis_infr"))
    assert account.filtered > 0  # infractions that revoke nothing
    assert account.source_rows + account.filtered == staged
    assert account.loaded == len({i for i, _kind in revocations})
