"""Lineage: from any target row back to the staged legacy row it came from.

Each target row names its source system, source table and source key; the staged row is in
``stg_<system>_<table>`` (lower case) with that ``_src_key`` (staging contract). Identity values
(names, dates of birth) are shown only when asked for explicitly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from rich.console import Group
from rich.table import Table as RichTable
from sqlalchemy import Date, Engine, MetaData, Table, func, inspect, select
from sqlalchemy.engine import URL

from cutover.errors import ConfigError
from cutover.logs import SENSITIVE_FIELDS
from load.engine import create_target_engine
from load.models import LINEAGE_COLUMNS
from load.tables import key_columns, load_order, target_table

__all__ = [
    "HIDDEN",
    "LineageProblem",
    "StagedRow",
    "Trace",
    "staged_table_name",
    "trace",
    "verify_lineage",
]

HIDDEN = "[hidden: identifies a person; pass --show-sensitive]"
_STAGED_LINEAGE = ("_run_id", "_src_pos", "_src_key", "_row_hash")


def staged_table_name(source_system: str, source_table: str) -> str:
    """The staging table holding a legacy table's raw rows."""
    return f"stg_{source_system}_{source_table}".lower()


@dataclass(frozen=True)
class StagedRow:
    lineage: dict[str, Any]
    values: dict[str, Any] | None


@dataclass(frozen=True)
class Trace:
    table: str
    key: dict[str, Any]
    lineage: dict[str, Any]
    values: dict[str, Any] | None
    staged_table: str
    staged_table_found: bool
    staged: tuple[StagedRow, ...]

    @property
    def ok(self) -> bool:
        """Exactly one staged row backs the target row."""
        return len(self.staged) == 1

    def to_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "key": _plain(self.key),
            "lineage": self.lineage,
            "values": _plain(self.values) if self.values is not None else None,
            "staged_table": self.staged_table,
            "staged_table_found": self.staged_table_found,
            "staged": [
                {"lineage": _plain(s.lineage), "values": _plain(s.values) if s.values else None}
                for s in self.staged
            ],
            "ok": self.ok,
        }

    def render(self) -> Group:
        target = _pairs(f"target {self.table}", {**self.key, **self.lineage, **(self.values or {})})
        parts: list[Any] = [target]
        if not self.staged_table_found:
            parts.append(f"[red]staged table {self.staged_table} not found[/red]")
        elif not self.staged:
            parts.append(f"[red]no row of {self.staged_table} has this source key[/red]")
        for i, row in enumerate(self.staged, 1):
            title = f"staged {self.staged_table}" + (f" ({i})" if len(self.staged) > 1 else "")
            parts.append(_pairs(title, {**row.lineage, **(row.values or {})}))
        return Group(*parts)


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def _pairs(title: str, values: dict[str, Any]) -> RichTable:
    table = RichTable(title=title, show_header=False, title_justify="left")
    table.add_column("column", style="bold")
    table.add_column("value")
    for name, value in values.items():
        table.add_row(name, "" if value is None else str(value))
    return table


@contextmanager
def _engine(bind: Engine | str | URL) -> Iterator[Engine]:
    if isinstance(bind, Engine):
        yield bind
        return
    engine = create_target_engine(bind)
    try:
        yield engine
    finally:
        engine.dispose()


def _parse_key(table: Table, key: str | Sequence[str]) -> dict[str, Any]:
    names = key_columns(table)
    parts = key.split("|") if isinstance(key, str) else list(key)
    if len(parts) != len(names):
        raise ConfigError(
            f"{table.name} is keyed by {len(names)} column(s), got {len(parts)} value(s)",
            hint=f"give the key as {'|'.join(n.upper() for n in names)}",
            table=table.name,
        )
    out: dict[str, Any] = {}
    for name, raw in zip(names, parts, strict=True):
        if isinstance(table.c[name].type, Date):
            try:
                out[name] = date.fromisoformat(raw.strip())
            except ValueError:
                raise ConfigError(
                    f"{name} of {table.name} is a date, got {raw!r}",
                    hint="write dates as YYYY-MM-DD",
                    table=table.name,
                ) from None
        else:
            out[name] = raw
    return out


def trace(
    target: Engine | str | URL,
    staging: Engine | str | URL,
    table: str,
    key: str | Sequence[str],
    *,
    values: bool = False,
    sensitive: bool = False,
) -> Trace:
    """The target row of ``table`` with ``key`` (``A|B`` for a composite key), its lineage and
    the staged legacy row(s) it came from.

    By default only keys and lineage are returned; ``values`` adds the other columns, with the
    ones identifying a person hidden unless ``sensitive`` is also set.
    """
    model = target_table(table)
    wanted = _parse_key(model, key)
    with _engine(target) as t_engine, t_engine.connect() as conn:
        query = select(model).where(*(model.c[k] == v for k, v in wanted.items()))
        row = conn.execute(query).mappings().first()
    if row is None:
        raise ConfigError(
            f"no row of {table} has key {'|'.join(str(v) for v in wanted.values())}",
            hint="check the key (trimmed, as the target stores it); composite keys are A|B",
            table=table,
        )
    keys = {k: row[k] for k in key_columns(model)}
    lineage = {c: row[c] for c in LINEAGE_COLUMNS}
    shown = None
    if values:
        shown = {
            c.name: (row[c.name] if sensitive or not c.info.get("sensitive") else HIDDEN)
            for c in model.columns
            if c.name not in keys and c.name not in LINEAGE_COLUMNS
        }
    staged_name = staged_table_name(row["_source_system"], row["_source_table"])
    with _engine(staging) as s_engine:
        found = inspect(s_engine).has_table(staged_name)
        staged: list[StagedRow] = []
        if found:
            stg = Table(staged_name, MetaData(), autoload_with=s_engine)
            query = select(stg).where(stg.c._src_key == row["_source_key"]).limit(10)
            with s_engine.connect() as conn:
                staged = [
                    _staged_row(dict(r), values=values, sensitive=sensitive)
                    for r in conn.execute(query).mappings()
                ]
    return Trace(table, keys, lineage, shown, staged_name, found, tuple(staged))


def _staged_row(row: dict[str, Any], *, values: bool, sensitive: bool) -> StagedRow:
    lineage = {k: row.get(k) for k in _STAGED_LINEAGE}
    if not values:
        return StagedRow(lineage, None)
    rest = {
        k: (v if sensitive or k.lower() not in SENSITIVE_FIELDS else HIDDEN)
        for k, v in row.items()
        if k not in _STAGED_LINEAGE
    }
    return StagedRow(lineage, rest)


@dataclass(frozen=True)
class LineageProblem:
    """A target row whose lineage does not lead to exactly one staged row."""

    table: str
    staged_table: str
    source_key: str
    staged_rows: int


def verify_lineage(
    target: Engine | str | URL,
    staging: Engine | str | URL,
    *,
    tables: Sequence[str] | None = None,
    chunk: int = 500,
) -> list[LineageProblem]:
    """Every target row whose source key matches no staged row, or more than one."""
    chosen = [target_table(n) for n in tables] if tables else list(load_order())
    problems: list[LineageProblem] = []
    with _engine(target) as t_engine, _engine(staging) as s_engine:
        staged_tables = set(inspect(s_engine).get_table_names())
        metadata = MetaData()
        with t_engine.connect() as tconn, s_engine.connect() as sconn:
            for table in chosen:
                pairs = tconn.execute(
                    select(table.c._source_system, table.c._source_table).distinct()
                ).all()
                for system, source in pairs:
                    name = staged_table_name(str(system), str(source))
                    keys = tconn.execution_options(yield_per=chunk).execute(
                        select(table.c._source_key)
                        .where(table.c._source_system == system, table.c._source_table == source)
                        .distinct()
                    )
                    stg = (
                        Table(name, metadata, autoload_with=s_engine)
                        if name in staged_tables
                        else None
                    )
                    for part in keys.partitions():
                        wanted = [r[0] for r in part]
                        counts: dict[str, int] = {}
                        if stg is not None:
                            counts = {
                                r[0]: int(r[1])
                                for r in sconn.execute(
                                    select(stg.c._src_key, func.count())
                                    .where(stg.c._src_key.in_(wanted))
                                    .group_by(stg.c._src_key)
                                )
                            }
                        problems.extend(
                            LineageProblem(table.name, name, k, counts.get(k, 0))
                            for k in wanted
                            if counts.get(k, 0) != 1
                        )
    return problems
