"""The load plan's vocabulary: target tables in dependency order, their keys, and their ``xf_``
twins in the staging database (contract "Transform output").

``xf_<table>`` has exactly the target table's columns (lineage, ``_batch`` and ``_row_hash``
included) and none of its constraints: the transform may write anything, the target decides.
:func:`create_xf_tables` builds them from the models so both stages agree on names and types.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Column, Connection, Engine, Index, MetaData, Table, inspect

from cutover.errors import ConfigError
from load.models import Base

__all__ = [
    "GLOBAL_BATCH",
    "TARGET_METADATA",
    "batch_index",
    "create_xf_tables",
    "key_columns",
    "load_order",
    "staged_xf_tables",
    "target_table",
    "xf_name",
    "xf_table",
]

#: The batch of catalogue rows (institutions, tasks, users) that other batches reference.
GLOBAL_BATCH = "_GLOBAL"
TARGET_METADATA: MetaData = Base.metadata


def load_order() -> tuple[Table, ...]:
    """Every target table, parents before children (deletes run in the reverse order)."""
    return tuple(TARGET_METADATA.sorted_tables)


def target_table(name: str) -> Table:
    """The target table called ``name``; an unknown name lists the valid ones."""
    try:
        return TARGET_METADATA.tables[name]
    except KeyError:
        known = ", ".join(sorted(TARGET_METADATA.tables))
        raise ConfigError(f"no target table {name!r}", hint=f"target tables are: {known}") from None


def key_columns(table: Table) -> tuple[str, ...]:
    """The natural key of a target table (its primary key columns, in order)."""
    return tuple(c.name for c in table.primary_key.columns)


def xf_name(table: Table | str) -> str:
    """The staging table the transform writes for a target table."""
    return f"xf_{table if isinstance(table, str) else table.name}"


def xf_table(
    table: Table,
    metadata: MetaData,
    *,
    name: str | None = None,
    schema: str | None = None,
    temporary: bool = False,
) -> Table:
    """A constraint-free copy of ``table``'s columns, called ``name`` (default ``xf_<table>``)."""
    columns = [Column(c.name, c.type, nullable=c.nullable) for c in table.columns]
    prefixes = ["TEMPORARY"] if temporary else []
    return Table(name or xf_name(table), metadata, *columns, schema=schema, prefixes=prefixes)


def batch_index(table: Table, xf: Table) -> Index:
    """The index the load reads ``xf`` (the ``xf_`` table of ``table``) through: by ``_batch``,
    then the target's key, so that a batch's rows come in key order."""
    return Index(f"ix_{xf.name}__batch", xf.c._batch, *(xf.c[k] for k in key_columns(table)))


def create_xf_tables(bind: Engine | Connection, tables: Iterable[Table] | None = None) -> None:
    """Create the ``xf_`` tables (with their :func:`batch_index`) that do not exist yet."""
    metadata = MetaData()
    for table in tables if tables is not None else load_order():
        batch_index(table, xf_table(table, metadata))
    metadata.create_all(bind)


def staged_xf_tables(bind: Engine | Connection, schema: str | None = None) -> dict[str, set[str]]:
    """The ``xf_`` tables present in a database, with their column names."""
    insp = inspect(bind)
    found: dict[str, set[str]] = {}
    for name in insp.get_table_names(schema=schema):
        if name.startswith("xf_") and not name.startswith("xf__"):
            found[name] = {c["name"] for c in insp.get_columns(name, schema=schema)}
    return found
