"""``cutover inspect``: profile a legacy source for the engineer writing its mappings.

Per table: row count, declared key and unique sets, and candidate keys (single columns that are
never blank and never repeat). Per column: the share of blanks (NULL or only spaces), the
sentinel dates (``00000000``, ``99999999``), impossible calendar dates (eight digits that are no
date, such as ``20030231``; counted only in columns where nine values in ten have eight digits),
and, for code columns, the distinct values with their counts per group (by default the first
column whose name contains ``INST``: per institution).

The profile holds aggregates only: a column is treated as a code column while it has at most
``max_codes`` distinct values, all short, and its name is not one of the personal fields the
logs never show; otherwise its values are dropped, so names and dates of birth are never listed.
Candidate keys are checked on at most ``key_rows`` rows (memory grows with them); beyond that
the table's candidate keys are reported as unchecked.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cutover.logs import SENSITIVE_FIELDS
from extract.base import Source, TableInfo

__all__ = ["SENTINELS", "ColumnProfile", "TableProfile", "code_columns", "profile_table"]

SENTINELS = ("00000000", "99999999")
_DATE_SHARE = 0.9
_CODE_LENGTH = 8


@dataclass
class ColumnProfile:
    name: str
    blanks: int = 0
    sentinels: Counter[str] = field(default_factory=Counter)
    impossible_dates: int = 0
    eight_digit: int = 0
    non_blank: int = 0
    #: group -> code -> count; ``None`` when the column is not a code column.
    codes: dict[str, Counter[str]] | None = field(default_factory=dict)

    def share(self, count: int, rows: int) -> float:
        return count / rows if rows else 0.0

    @property
    def looks_like_date(self) -> bool:
        return self.non_blank > 0 and self.eight_digit / self.non_blank >= _DATE_SHARE

    @property
    def distinct_codes(self) -> int:
        if self.codes is None:
            return 0
        return len({code for counts in self.codes.values() for code in counts})


@dataclass
class TableProfile:
    table: str
    rows: int
    key: tuple[str, ...]
    unique: tuple[tuple[str, ...], ...]
    candidate_keys: list[str] | None
    group_column: str | None
    columns: list[ColumnProfile]


def _valid_date(text: str) -> bool:
    try:
        dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return False
    return True


def _group_column(info: TableInfo, requested: str | None) -> str | None:
    names = info.column_names
    if requested:
        for name in names:
            if name.lower() == requested.lower():
                return name
        return None
    return next((n for n in names if "inst" in n.lower()), None)


def profile_table(
    source: Source,
    info: TableInfo,
    *,
    chunk_rows: int,
    group_by: str | None = None,
    max_codes: int = 60,
    key_rows: int = 2_000_000,
) -> TableProfile:
    """Stream one table once and return its profile (aggregates only)."""
    group = _group_column(info, group_by)
    group_index = info.column_names.index(group) if group else None
    columns = [ColumnProfile(c.name) for c in info.columns]
    for col in columns:
        if col.name.lower() in SENSITIVE_FIELDS:
            col.codes = None
    seen: list[set[Any] | None] = [set() for _ in columns]
    rows = 0
    with contextlib.closing(source.read(info, chunk_rows=chunk_rows)) as chunks:
        for chunk in chunks:
            for row in chunk:
                label = "" if group_index is None else str(row[group_index]).strip()
                for i, value in enumerate(row):
                    _observe(columns[i], value, label, max_codes)
                    unique = seen[i]
                    if unique is not None:
                        if _blank(value) or value in unique or rows >= key_rows:
                            seen[i] = None
                        else:
                            unique.add(value)
                rows += 1
    candidates: list[str] | None = [
        col.name for col, unique in zip(columns, seen, strict=True) if unique is not None
    ]
    if rows > key_rows:
        candidates = None
    for col in columns:
        if col.looks_like_date and col.codes is not None:
            col.codes = None  # dates are not codes, and a date of birth is personal
        if not col.looks_like_date:
            col.impossible_dates = 0  # eight digits in an identifier column are no date
    return TableProfile(info.name, rows, info.key, info.unique, candidates, group, columns)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _observe(col: ColumnProfile, value: Any, group: str, max_codes: int) -> None:
    if _blank(value):
        col.blanks += 1
        return
    col.non_blank += 1
    text = value.strip() if isinstance(value, str) else str(value)
    if len(text) == 8 and text.isdigit():
        col.eight_digit += 1
        if text in SENTINELS:
            col.sentinels[text] += 1
        elif not _valid_date(text):
            col.impossible_dates += 1
    if col.codes is not None:
        raw = value if isinstance(value, str) else str(value)
        if len(text) > _CODE_LENGTH:
            col.codes = None
            return
        counts = col.codes.setdefault(group, Counter())
        counts[raw] += 1
        if len(counts) > max_codes:
            col.codes = None


def code_columns(profile: TableProfile) -> Sequence[ColumnProfile]:
    """Columns that look like codes: few distinct short values, repeated."""
    return [
        c
        for c in profile.columns
        if c.codes is not None
        and c.distinct_codes
        and c.distinct_codes < max(profile.rows, 2)
        and c.name not in profile.key
        and c.name != profile.group_column
    ]
