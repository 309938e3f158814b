"""Two people who share a name and a date of birth are two people when their state IDs differ
(at state scale such namesakes exist: merging them gives one the other's sentences); records
with no state ID still merge on name and date of birth."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from cutover.commands.workspace import write_workspace
from cutover.legacy import DB_FILE, DOCUMENTS_FILE
from cutover.pipeline import target_metadata
from cutover.runs import start_run
from cutover.settings import load_settings
from extract import extract_sources
from transform import load_project, run_transform

from .conftest import MAPPINGS


@dataclass(frozen=True)
class Edited:
    staging: sa.Engine
    namesakes: tuple[str, str]  # same name and birth date, different state IDs
    no_state_id: tuple[str, str]  # same name and birth date, neither has a state ID


def _offenders(conn: sa.Connection) -> list[dict[str, str]]:
    # Masters only: a generated duplicate shares its master's state ID.
    rows = conn.execute(sa.text("SELECT OFF_ID, SID_NO, DOB FROM OFFNDR ORDER BY OFF_ID"))
    seen: set[str] = set()
    out = []
    for off_id, sid, dob in rows:
        if sid.strip() and sid not in seen and dob.strip() not in ("", "00000000"):
            seen.add(sid)
            out.append({"OFF_ID": off_id, "SID_NO": sid, "DOB": dob})
    return out


@pytest.fixture(scope="module")
def edited(legacy_system: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edited]:
    legacy = tmp_path_factory.mktemp("namesakes_legacy")
    shutil.copy(legacy_system / DB_FILE, legacy / DB_FILE)
    shutil.copy(legacy_system / DOCUMENTS_FILE, legacy / DOCUMENTS_FILE)
    source = sa.create_engine(f"sqlite:///{legacy / DB_FILE}")
    with source.begin() as conn:
        a, b, c, d = _offenders(conn)[10:14]
        # a and b: one name and birth date, their own state IDs kept.
        # c and d: one name and birth date, and no state ID on either.
        for first, second, blank in ((a, b, False), (c, d, True)):
            conn.execute(
                sa.text(
                    "UPDATE OFFNDR SET LAST_NM = 'NAMESAKE', FRST_NM = 'PAT', DOB = :dob"
                    + (", SID_NO = ''" if blank else "")
                    + " WHERE OFF_ID IN (:x, :y)"
                ),
                {"dob": first["DOB"], "x": first["OFF_ID"], "y": second["OFF_ID"]},
            )
    source.dispose()
    workspace = tmp_path_factory.mktemp("namesakes_workspace")
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
    run_transform(load_project(MAPPINGS), staging, target_metadata(), "namesakes")
    ids = (a["OFF_ID"].strip(), b["OFF_ID"].strip()), (c["OFF_ID"].strip(), d["OFF_ID"].strip())
    yield Edited(staging, *ids)
    staging.dispose()


def _merges(edited: Edited) -> dict[str, tuple[str, str]]:
    with edited.staging.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT merged_key, survivor_person_id, rule FROM xf_person_merge")
        )
        return {m.strip(): (s.strip(), r) for m, s, r in rows}


def test_namesakes_with_different_state_ids_stay_two_people(edited: Edited) -> None:
    merges = _merges(edited)
    assert not set(edited.namesakes) & set(merges)
    with edited.staging.connect() as conn:
        people = {
            r[0].strip()
            for r in conn.execute(sa.text("SELECT person_id FROM xf_person"))
            if r[0].strip() in edited.namesakes
        }
    assert people == set(edited.namesakes)


def test_records_without_a_state_id_still_merge_on_name_and_birth_date(edited: Edited) -> None:
    first, second = sorted(edited.no_state_id)
    assert _merges(edited)[second] == (first, "same_name_and_birth_date")
