"""Answer-key entries: what the generator injected, for tests and benchmarks to score against."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

__all__ = ["QUALITY_CODES", "RELEASE_CODES", "QualityDefect", "ReleaseDefect"]

#: Release-date causes in waterfall order.
RELEASE_CODES: tuple[str, ...] = (
    "WORK_CREDIT_DURING_SEGREGATION",
    "JAIL_CREDIT_MISPOSTED",
    "CREDIT_WITHOUT_ASSIGNMENT",
    "ASSIGNMENT_WITHOUT_CREDIT",
    "UNDOCUMENTED_LABOR_POOL",
    "MONTHLY_CAP_EXCEEDED",
    "REVOCATION_MISMATCH",
    "GOOD_CONDUCT_RATE",
)

QUALITY_CODES: tuple[str, ...] = (
    "IMPOSSIBLE_DATE",
    "UNKNOWN_TASK_CODE",
    "ORPHAN_ROW",
    "DUPLICATE_OFFENDER",
    "DUPLICATE_USER",
    "EXCESS_SCREEN_ACCESS",
    "DOCUMENT_DISAGREEMENT",
    "CODE_CASE_DRIFT",
)


@dataclass(slots=True)
class ReleaseDefect:
    """One release-date cause of one offender: its waterfall days and the rows behind it."""

    off_id: str
    code: str
    days: int = 0
    rows: dict[str, list[str]] = field(default_factory=dict)
    #: Ledger components the defect touched (not written: the waterfall's working set).
    earned_keys: list[tuple[int, int]] = field(default_factory=list)
    infractions: list[str] = field(default_factory=list)

    def add_rows(self, table: str, *keys: str) -> None:
        self.rows.setdefault(table, []).extend(keys)

    def to_json(self) -> str:
        return json.dumps(
            {
                "kind": "release_date",
                "off_id": self.off_id,
                "code": self.code,
                "days": self.days,
                "rows": self.rows,
            },
            separators=(",", ":"),
        )


@dataclass(frozen=True, slots=True)
class QualityDefect:
    """A data-quality defect: the table, the key values of the rows involved, the column."""

    code: str
    table: str
    keys: tuple[str, ...]
    column: str

    def to_json(self) -> str:
        return json.dumps(
            {
                "kind": "data_quality",
                "code": self.code,
                "table": self.table,
                "keys": list(self.keys),
                "column": self.column,
            },
            separators=(",", ":"),
        )
