"""The tables the engine reads and writes, by contract.

Read: the staged legacy schema, reflected from the staging database (``stg_<source>_<table>``,
source columns plus ``_run_id``, ``_src_pos``, ``_src_key``, ``_row_hash``).
Written, in the staging database: ``xf_<table>`` per target table (the target's columns, lineage
included, plus ``_batch`` and ``_row_hash``), ``xf__quarantine``, ``xf__accounting``,
``xf__disagreement``, ``xf__repair`` (one row per cell a parser's ``on_invalid: null`` set to
NULL in a row that was written: target table, source table and key, batch, column, rule, raw
value), and the engine's own working tables ``xf__crosswalk`` and ``xf__merge``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

__all__ = [
    "LINEAGE_COLUMNS",
    "STAGING_COLUMNS",
    "OutputTables",
    "StagedSchema",
    "staged_name",
    "xf_table",
]

STAGING_COLUMNS = ("_run_id", "_src_pos", "_src_key", "_row_hash")
LINEAGE_COLUMNS = ("_run_id", "_source_system", "_source_table", "_source_key", "_mapping_version")
_ENGINE_FILLED = (*LINEAGE_COLUMNS, "_batch", "_row_hash")


def staged_name(source: str, table: str) -> str:
    """The staged table of legacy ``table`` from ``source``, per the staging contract."""
    return f"stg_{source}_{table}".lower()


@dataclass(frozen=True)
class StagedSchema:
    """The staged tables, by staged name."""

    tables: dict[str, sa.Table]

    @classmethod
    def reflect(cls, engine: sa.Engine) -> StagedSchema:
        meta = sa.MetaData()
        names = [n for n in sa.inspect(engine).get_table_names() if n.startswith("stg_")]
        if names:
            meta.reflect(engine, only=names)
        return cls({t.name: t for t in meta.tables.values()})

    def legacy_names(self, source: str) -> list[str]:
        prefix = f"stg_{source.lower()}_"
        return sorted(n[len(prefix) :].upper() for n in self.tables if n.startswith(prefix))


def is_engine_filled(column: str) -> bool:
    return column in _ENGINE_FILLED


def xf_table(target: sa.Table, meta: sa.MetaData) -> sa.Table:
    """``xf_<target>``: the target's columns (no constraints), ``_batch`` and ``_row_hash``."""
    columns = [
        sa.Column(c.name, c.type, nullable=True)
        for c in target.columns
        if c.name not in ("_batch", "_row_hash")
    ]
    columns.append(sa.Column("_batch", sa.Text, nullable=False))
    columns.append(sa.Column("_row_hash", sa.Text, nullable=False))
    return sa.Table(f"xf_{target.name}", meta, *columns)


def _cell_table(name: str, meta: sa.MetaData) -> sa.Table:
    """A record per cell a rule acted on: quarantined (the row set aside) or repaired (kept)."""
    return sa.Table(
        name,
        meta,
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("target_table", sa.Text, nullable=False),
        sa.Column("source_table", sa.Text, nullable=False),
        sa.Column("source_key", sa.Text, nullable=False),
        sa.Column("batch", sa.Text, nullable=False),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("column_name", sa.Text, nullable=False),
        sa.Column("value", sa.Text),
        sa.Column("message", sa.Text, nullable=False),
        sa.Index(f"ix_{name}_table", "target_table", "rule"),
    )


@dataclass(frozen=True)
class OutputTables:
    """The engine's bookkeeping tables in the staging database."""

    meta: sa.MetaData
    quarantine: sa.Table
    accounting: sa.Table
    disagreement: sa.Table
    repair: sa.Table
    crosswalk: sa.Table
    merge: sa.Table

    @classmethod
    def define(cls, meta: sa.MetaData | None = None) -> OutputTables:
        meta = meta or sa.MetaData()
        quarantine = _cell_table("xf__quarantine", meta)
        accounting = sa.Table(
            "xf__accounting",
            meta,
            sa.Column("run_id", sa.Text, nullable=False),
            sa.Column("target_table", sa.Text, nullable=False),
            sa.Column("source_table", sa.Text, nullable=False),
            sa.Column("batch", sa.Text, nullable=False),
            sa.Column("source_rows", sa.BigInteger, nullable=False),
            sa.Column("loaded", sa.BigInteger, nullable=False),
            sa.Column("merged", sa.BigInteger, nullable=False),
            sa.Column("quarantined", sa.BigInteger, nullable=False),
            sa.Column("filtered", sa.BigInteger, nullable=False),
        )
        disagreement = sa.Table(
            "xf__disagreement",
            meta,
            sa.Column("run_id", sa.Text, nullable=False),
            sa.Column("target_table", sa.Text, nullable=False),
            sa.Column("fact", sa.Text, nullable=False),
            sa.Column("column_name", sa.Text, nullable=False),
            sa.Column("source_table", sa.Text, nullable=False),
            sa.Column("source_key", sa.Text, nullable=False),
            sa.Column("batch", sa.Text, nullable=False),
            sa.Column("primary_source", sa.Text, nullable=False),
            sa.Column("primary_key", sa.Text),
            sa.Column("primary_value", sa.Text),
            sa.Column("secondary_value", sa.Text),
        )
        repair = _cell_table("xf__repair", meta)
        crosswalk = sa.Table(
            "xf__crosswalk",
            meta,
            sa.Column("crosswalk", sa.Text, nullable=False),
            sa.Column("institution", sa.Text),
            sa.Column("code", sa.Text, nullable=False),
            sa.Column("canonical", sa.Text, nullable=False),
            sa.Column("rate", sa.Numeric(12, 4)),
            sa.Column("canonical_rate", sa.Numeric(12, 4)),
            sa.Column("eff_from", sa.Date),
            sa.Column("eff_to", sa.Date),
            sa.Index("ix_xf__crosswalk_code", "crosswalk", "code", "institution"),
        )
        merge = sa.Table(
            "xf__merge",
            meta,
            sa.Column("duplicates", sa.Text, nullable=False),
            sa.Column("merged_key", sa.Text, nullable=False),
            sa.Column("merged_raw", sa.Text, nullable=False),
            sa.Column("merged_src_key", sa.Text, nullable=False),
            sa.Column("survivor_key", sa.Text, nullable=False),
            sa.Column("survivor_raw", sa.Text, nullable=False),
            sa.Column("rule", sa.Text, nullable=False),
            sa.Column("batch", sa.Text, nullable=False),
            sa.Index("ix_xf__merge_key", "duplicates", "merged_key", unique=True),
        )
        return cls(meta, quarantine, accounting, disagreement, repair, crosswalk, merge)
