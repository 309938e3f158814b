"""A small global crosswalk looked up by an inline CASE gives exactly what the subquery on
``xf__crosswalk`` gives: canonical codes, kept and harmonized rates, unknown codes quarantined."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from test_transform_goldens import COLUMNS, PROJECT, XW_ENTRIES
from transform_helpers import rows, run_one_mapping, stage

from transform import compiler

ENTRIES = """    entries:
      - {code: PNT1, canonical: PAINTER, rate: 12}
      - {code: COOK, canonical: COOK, rate: 7.5}
      - {code: MOP, canonical: COOK}"""

INPUT = [
    ("001", "PNT1", "", "S1", "", 1),
    ("002", "COOK", "", "S1", "", 1),
    ("003", "MOP", "", "S1", "", 1),
    ("004", "ZZ9", "", "S1", "", 1),
    ("005", "", "", "S1", "", 1),
    ("006", "pnt1", "", "S1", "", 1),
]


def _run(staging: sa.Engine, folder: Path, value: str, policy: str, kind: type) -> dict[str, Any]:
    text = (
        "tables:\n  out:\n    from: SRC\n    batch: {code: INST}\n    columns:\n"
        "      id: {text: ID}\n"
        f"      value: {{crosswalk: task, code: {{code: A}}, value: {value}}}\n"
    )
    text += XW_ENTRIES.format(per_inst="false", policy=policy, body=ENTRIES)
    columns = [sa.Column("id", sa.Text, primary_key=True), sa.Column("value", kind)]
    run_one_mapping(staging, folder, PROJECT, text, columns, "xw-run")
    return {
        "xf": [(r["id"], r["value"]) for r in rows(staging, "xf_out", "id")],
        "quarantine": [
            (r["source_key"], r["rule"], r["value"])
            for r in rows(staging, "xf__quarantine", "source_key")
        ],
    }


@pytest.mark.parametrize(
    ("value", "policy", "kind"),
    [
        pytest.param("canonical", "keep", sa.Text, id="canonical"),
        pytest.param("code", "keep", sa.Text, id="code"),
        pytest.param("rate", "keep", sa.Numeric, id="rate-keep"),
        pytest.param("rate", "harmonize", sa.Numeric, id="rate-harmonize"),
    ],
)
def test_inline_lookup_matches_the_subquery(
    staging: sa.Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    value: str,
    policy: str,
    kind: type,
) -> None:
    stage(staging, "g", "SRC", COLUMNS, INPUT, key=["ID"])
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The working table's fill: INSERT ... SELECT, or CREATE UNLOGGED TABLE ... AS on
        # PostgreSQL.
        fills = ("INSERT INTO xf__work_out (", "CREATE UNLOGGED TABLE xf__work_out AS")
        if statement.startswith(fills):
            statements.append(statement)

    sa.event.listen(staging, "before_cursor_execute", seen)
    inline = _run(staging, tmp_path / "inline", value, policy, kind)
    monkeypatch.setattr(compiler, "INLINE_CROSSWALK_ENTRIES", 0)
    looked_up = _run(staging, tmp_path / "subquery", value, policy, kind)
    sa.event.remove(staging, "before_cursor_execute", seen)
    assert inline == looked_up
    # The first run looked the codes up in the statement itself, the second in the table.
    assert ["xf__crosswalk" in s for s in statements] == [False, True]
    # Spelled out: ZZ9 is unknown; a blank code is no code (NULL), not an unknown one; code:
    # upper-cases, so pnt1 is PNT1.
    assert inline["quarantine"] == [("004", "unmapped_code", "ZZ9")]
    assert [k for k, _v in inline["xf"]] == ["001", "002", "003", "005", "006"]
