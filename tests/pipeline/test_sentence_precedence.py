"""The commitment order is the primary file for the sentence: on a generated system it agrees
with CMT everywhere (no disagreement at all), and where a commitment order is made to disagree,
its value is loaded and the disagreement recorded."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from cutover.commands.workspace import write_workspace
from cutover.legacy import DB_FILE, DOCUMENTS_FILE
from cutover.pipeline import target_metadata
from cutover.runs import start_run
from cutover.settings import load_settings
from extract import extract_sources
from transform import load_project, run_transform

from .conftest import MAPPINGS, Pipeline
from .support import staged_rows

SENTENCE_FACTS = {"sentence_term_years", "sentence_term_months", "sentence_term_days"}
SENTENCE_FACTS |= {"life_sentence"}


def test_commitment_orders_agree_with_the_commitments_of_a_generated_system(
    pipeline: Pipeline,
) -> None:
    facts = {r["fact"] for r in staged_rows(pipeline, "xf__disagreement")}
    assert facts == {"jail_certificate_no", "jail_days"}
    commitments = staged_rows(pipeline, "xf_commitment")
    orders = {
        (r["OFF_ID"], r["SENT_BGN_DT"])
        for r in staged_rows(pipeline, "stg_documents_doc_idx")
        if r["DOC_TYP"].strip().upper() == "COMMITMENT_ORDER"
    }
    staged = {r["CMT_ID"].strip(): r for r in staged_rows(pipeline, "stg_obscis_cmt")}
    # Every loaded commitment found its order, so the precedence compared every one.
    assert all(
        (staged[c["commitment_id"]]["OFF_ID"], staged[c["commitment_id"]]["SENT_BGN_DT"]) in orders
        for c in commitments
    )


@dataclass(frozen=True)
class Changed:
    """The transform of a legacy system whose documents were edited by hand."""

    staging: sa.Engine
    term: dict[str, Any]  # the commitment whose order states another term
    life: dict[str, Any]  # the commitment whose order states a life term


def _edit_orders(documents: Path, cmt: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    """Give two commitment orders another term; return the two commitments they belong to."""
    with documents.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or ())
        docs = list(reader)
    by_sentence = {(c["OFF_ID"], c["SENT_BGN_DT"]): c for c in cmt}
    chosen: list[dict[str, Any]] = []
    for doc in docs:
        commitment = by_sentence.get((doc["OFF_ID"], doc["SENT_BGN_DT"]))
        if doc["DOC_TYP"] != "COMMITMENT_ORDER" or commitment is None or doc["TERM"] == "LIFE":
            continue
        if not chosen:
            doc["TERM"] = f"{int(commitment['TERM_YRS']) + 3}Y {commitment['TERM_MOS']}M "
            doc["TERM"] += f"{commitment['TERM_DYS']}D"
        else:
            doc["TERM"] = "LIFE"
        chosen.append(commitment)
        if len(chosen) == 2:
            break
    with documents.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, header)
        writer.writeheader()
        writer.writerows(docs)
    return tuple(chosen)


@pytest.fixture(scope="module")
def changed(legacy_system: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Changed]:
    legacy = tmp_path_factory.mktemp("edited_legacy")
    shutil.copy(legacy_system / DB_FILE, legacy / DB_FILE)
    shutil.copy(legacy_system / DOCUMENTS_FILE, legacy / DOCUMENTS_FILE)
    source = sa.create_engine(f"sqlite:///{legacy / DB_FILE}")
    with source.connect() as conn:
        cmt = [
            {k: (v.strip() if isinstance(v, str) else v) for k, v in r.items()}
            for r in conn.execute(sa.text("SELECT * FROM CMT WHERE LIFE_FLG = 'N'")).mappings()
        ]
    source.dispose()
    term, life = _edit_orders(legacy / DOCUMENTS_FILE, cmt)
    workspace = tmp_path_factory.mktemp("edited_workspace")
    write_workspace(
        workspace,
        source_url=f"sqlite:///{legacy / DB_FILE}",
        documents=str(legacy / DOCUMENTS_FILE),
        mappings=str(MAPPINGS),
    )
    settings = load_settings(workspace)
    with start_run(settings, kind="transform", actor="test") as run:
        extract_sources(settings, run=run)
    staging = sa.create_engine(settings.staging.url.get_secret_value())
    run_transform(load_project(MAPPINGS), staging, target_metadata(), "edited")
    yield Changed(staging, term, life)
    staging.dispose()


def _query(engine: sa.Engine, sql: str, **params: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(sql), params).mappings()]


def test_a_term_the_commitment_order_states_otherwise_is_loaded_from_it(
    changed: Changed,
) -> None:
    cmt = changed.term
    (row,) = _query(
        changed.staging, "SELECT * FROM xf_commitment WHERE commitment_id = :c", c=cmt["CMT_ID"]
    )
    assert row["term_years"] == int(cmt["TERM_YRS"]) + 3
    assert (row["term_months"], row["term_days"]) == (int(cmt["TERM_MOS"]), int(cmt["TERM_DYS"]))
    assert row["life_sentence"] in (False, 0)


def test_a_life_term_on_the_commitment_order_makes_the_sentence_life(changed: Changed) -> None:
    cmt = changed.life
    (row,) = _query(
        changed.staging, "SELECT * FROM xf_commitment WHERE commitment_id = :c", c=cmt["CMT_ID"]
    )
    assert row["life_sentence"] in (True, 1)
    # 'LIFE' states no years, months or days: the commitment's own stay.
    assert row["term_years"] == int(cmt["TERM_YRS"])


def test_exactly_the_edited_sentences_are_recorded_as_disagreements(changed: Changed) -> None:
    found = {
        (r["fact"], r["source_key"].strip(), r["primary_value"], r["secondary_value"])
        for r in _query(changed.staging, "SELECT * FROM xf__disagreement")
        if r["fact"] in SENTENCE_FACTS
    }
    years = int(changed.term["TERM_YRS"])
    assert found == {
        ("sentence_term_years", changed.term["CMT_ID"], str(years + 3), str(years)),
        ("life_sentence", changed.life["CMT_ID"], "1", "0"),
    }
