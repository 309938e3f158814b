"""A migration bug is not a legacy defect: it shows up as UNEXPLAINED, never as a pass.

A clean offender is written to the target, then the target is damaged the way a wrong mapping
would damage it: a crosswalk with a wrong rate, a segregation period dropped. Validation must
flag the difference as UNEXPLAINED rather than match or attribute it to a legacy cause.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from diminution_builders import baseline, post_clean
from target_builders import new_target, write_offenders

from load import models as m
from validation import UNEXPLAINED, RulePack, ValidationEngines, validate_run
from validation.facts import SegregationFact
from validation.store import read_explanations, read_offenders_of_run


def damaged(tmp_path: Path, pack: RulePack, damage: sa.Executable) -> ValidationEngines:
    facts = replace(
        baseline(),
        segregations=(SegregationFact("S1", "DS", date(2020, 2, 10), date(2020, 2, 19)),),
    )
    target = new_target(tmp_path / "target.db")
    write_offenders(target, [(post_clean(facts, pack), "MCIH")])
    engines = ValidationEngines(target, sa.create_engine(f"sqlite:///{tmp_path / 'control.db'}"))
    validate_run(engines, "before", pack=pack)
    with target.begin() as conn:
        conn.execute(damage)
    validate_run(engines, "after", pack=pack)
    return engines


@pytest.mark.parametrize(
    ("damage", "days"),
    [
        pytest.param(
            sa.update(m.TaskRate.__table__)
            .where(m.TaskRate.__table__.c.task_code == "PNT1")
            .values(monthly_rate=5),
            # Jan and Mar-Jun at 5 instead of 10; Feb's 19 eligible days of 29 give 3, not 7
            5 * 5 + 4,
            id="wrong-crosswalk-rate",
        ),
        pytest.param(
            sa.delete(m.Segregation.__table__),
            # Feb: 29 eligible days give 10, the legacy posted 7 for 19
            -3,
            id="segregation-period-dropped",
        ),
    ],
)
def test_a_damaged_target_is_unexplained_not_a_match(
    tmp_path: Path, pack: RulePack, damage: sa.Executable, days: int
) -> None:
    engines = damaged(tmp_path, pack, damage)
    (before,) = read_offenders_of_run(engines.control, "before")
    assert before.status == "match"
    (after,) = read_offenders_of_run(engines.control, "after")
    assert after.status == "unexplained"
    assert after.delta_days == days
    assert after.facts_hash != before.facts_hash
    explanations = read_explanations(engines.control, "after")
    assert [(e.code, e.days) for e in explanations] == [(UNEXPLAINED, days)]
