"""The run beside the audit: share of MS releases with a wrong date, days early / late by bin.

Only releases on mandatory supervision count; early and late are the legacy date against the
recomputed one (``delta_days``), whatever day the release was processed.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from validation import audit_report, render_audit_report
from validation.store import OffenderRow, ensure_tables, write_offenders

#: (impact kind, delta days): a person released late only by processing has delta 0.
RELEASES = [
    ("released_on_time", 0),
    ("released_late", 0),
    ("released_on_time", 0),
    ("released_early", 3),
    ("released_early", 7),
    ("released_early", 8),
    ("released_early", 112),
    ("released_early", 130),
    ("released_late", -24),
    ("not_yet_due", 40),
    ("out_of_scope", 0),
]


def control(tmp_path: Path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'control.db'}")
    ensure_tables(engine)
    rows = [
        OffenderRow(
            f"P{i}",
            "ECI" if i % 2 else "WCI",
            "match",
            None,
            None,
            None,
            None,
            delta,
            kind,
            abs(delta),
            "h" * 32,
        )
        for i, (kind, delta) in enumerate(RELEASES)
    ]
    with engine.begin() as conn:
        write_offenders(conn, "run-1", rows)
    return engine


def test_share_wrong_counts_only_releases_and_bins_the_days(tmp_path: Path) -> None:
    report = audit_report(control(tmp_path), "run-1")
    assert (report.releases, report.on_time, report.early, report.late) == (9, 3, 5, 1)
    assert report.share_wrong == 6 / 9
    assert (report.most_days_early, report.most_days_late) == (130, 24)
    early = {b.label: b.count for b in report.early_bins}
    assert early == {"1-7": 2, "8-30": 1, "31-60": 0, "61-90": 0, "91-120": 1, "121+": 1}
    assert {b.label: b.count for b in report.late_bins}["8-30"] == 1
    text = render_audit_report(report)
    assert "66.7%" in text
    assert "33%" in text
    assert "early      1-7      2 " in text


def test_a_batch_report_counts_only_that_batch(tmp_path: Path) -> None:
    report = audit_report(control(tmp_path), "run-1", batches=["WCI"])
    assert (report.releases, report.early, report.late) == (5, 2, 1)
    assert report.as_dict()["early_bins"][0] == {"label": "1-7", "low": 1, "high": 7, "count": 1}
