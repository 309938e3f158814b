"""Which tables a source extracts and which columns key them, with helpful errors."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from cutover.errors import ExtractError
from cutover.settings import Settings
from extract.base import Source, open_source
from extract.retry import RetryPolicy, retrying

__all__ = ["PlannedSource", "open_plan", "pick_key", "pick_tables"]


def pick_tables(source: str, available: Sequence[str], wanted: Sequence[str]) -> list[str]:
    """``wanted`` matched case-insensitively against ``available``; empty means all, sorted."""
    if not wanted:
        return sorted(available)
    by_lower = {t.lower(): t for t in available}
    picked: list[str] = []
    missing: list[str] = []
    for name in wanted:
        found = by_lower.get(name.lower())
        if found is None:
            missing.append(name)
        else:
            picked.append(found)
    if missing:
        close = [difflib.get_close_matches(m, list(available), n=1) for m in missing]
        hints = [f"{m!r}: did you mean {c[0]!r}?" for m, c in zip(missing, close, strict=True) if c]
        raise ExtractError(
            f"source {source!r} has no table {', '.join(repr(m) for m in missing)}",
            hint="; ".join(hints)
            or f"the source has: {', '.join(sorted(available)) or '(no tables)'}",
            source=source,
            table=missing[0],
        )
    return picked


def pick_key(
    source: str,
    table: str,
    columns: Sequence[str],
    declared: Sequence[str],
    configured: Mapping[str, Sequence[str]],
) -> tuple[str, ...]:
    """The configured key for ``table`` if any (case-insensitive), else the declared one."""
    chosen: Sequence[str] = declared
    for name, key in configured.items():
        if name.lower() == table.lower():
            chosen = key
    by_lower = {c.lower(): c for c in columns}
    resolved: list[str] = []
    for col in chosen:
        found = by_lower.get(col.lower())
        if found is None:
            raise ExtractError(
                f"key column {col!r} of table {table!r} is not a column of the table",
                hint=f"fix keys.{table} in [sources.{source}]; columns are: {', '.join(columns)}",
                source=source,
                table=table,
                column=col,
            )
        resolved.append(found)
    return tuple(resolved)


@dataclass(frozen=True)
class PlannedSource:
    """One opened source and the tables of it to work on."""

    source: Source
    chunk_rows: int
    tables: list[str]
    #: Rows per chunk when the engine copies a table itself (``extract.engine``).
    engine_chunk_rows: int | None = None


@contextmanager
def open_plan(
    settings: Settings,
    *,
    sources: Sequence[str],
    tables: Sequence[str],
    policy: RetryPolicy,
    chunk_rows: int | None,
) -> Iterator[list[PlannedSource]]:
    """Open the chosen sources (default all), list their tables, check every requested table
    exists in one of them, and close the sources afterwards."""
    opened: list[PlannedSource] = []
    every: list[str] = []
    try:
        for name in list(sources) or sorted(settings.sources):
            src_settings = settings.source(name)
            source = open_source(name, src_settings)
            opened.append(
                PlannedSource(
                    source,
                    chunk_rows or src_settings.chunk_rows,
                    [],
                    chunk_rows or src_settings.engine_chunk_rows,
                )
            )
            available = retrying(source.tables, policy, what=f"{name}: list tables")
            every.extend(available)
            lowered = {t.lower() for t in tables}
            opened[-1].tables.extend(t for t in available if not tables or t.lower() in lowered)
        found = {t.lower() for p in opened for t in p.tables}
        missing = [t for t in tables if t.lower() not in found]
        if missing:
            close = difflib.get_close_matches(missing[0], every, n=1)
            raise ExtractError(
                f"no source has the table(s) {', '.join(repr(m) for m in missing)}",
                hint=(f"did you mean {close[0]!r}? " if close else "")
                + f"the sources' tables are: {', '.join(sorted(every)) or '(none)'}",
                table=missing[0],
            )
        yield opened
    finally:
        for planned in opened:
            planned.source.close()
