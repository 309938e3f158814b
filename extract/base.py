"""The source protocol every extractor implements, and the registry that names them.

A source is one legacy system (a database reached through SQLAlchemy or ODBC, or a flat file). It
lists its tables, describes each table's columns and key, and streams a table's rows as tuples in
bounded chunks, in a deterministic order: by the key when the table has one, by every column
otherwise (identical rows are interchangeable, so the sequence of values is still deterministic).

Resuming: ``read(table, after=Checkpoint(...))`` continues after a checkpoint, by keyset on the
key (``WHERE key > last key``) when there is one, by position for keyless tables.

Extractors register by name with :func:`register_source`; the built-ins use the same call.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from cutover.errors import ConfigError
from cutover.settings import SourceSettings

__all__ = [
    "Checkpoint",
    "Column",
    "ColumnKind",
    "Row",
    "Source",
    "SourceFactory",
    "TableInfo",
    "open_source",
    "register_source",
    "source_kinds",
]

#: The kinds of values a column holds; staging keeps each with a matching column type.
ColumnKind = Literal["text", "integer", "float", "decimal", "date", "datetime", "binary", "boolean"]

#: One row: the source's raw values in column order.
Row = tuple[Any, ...]


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind = "text"
    nullable: bool = True


@dataclass(frozen=True)
class TableInfo:
    """A source table: its name as the source spells it, its columns and its key (may be empty)."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    #: Unique column sets the source declares beside the key (unique indexes), for ``inspect``.
    unique: tuple[tuple[str, ...], ...] = field(default=())

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def key_indexes(self) -> tuple[int, ...]:
        names = self.column_names
        return tuple(names.index(k) for k in self.key)

    def key_of(self, row: Row) -> tuple[Any, ...]:
        return tuple(row[i] for i in self.key_indexes)


@dataclass(frozen=True)
class Checkpoint:
    """Where a read stopped: ``position`` rows were delivered, the last one had key ``key``."""

    position: int
    key: tuple[Any, ...] | None = None


@runtime_checkable
class Source(Protocol):
    """What every extractor offers. Errors are the project's own (see ``extract.retry``)."""

    #: The source's name in the workspace settings (``[sources.<name>]``).
    name: str

    def tables(self) -> list[str]:
        """The tables to extract, in a stable order."""
        ...

    def describe(self, table: str) -> TableInfo:
        """Columns and key of one table; a missing table raises a fatal ``ExtractError``."""
        ...

    def read(
        self, table: TableInfo, *, chunk_rows: int, after: Checkpoint | None = None
    ) -> Generator[Sequence[Row], None, None]:
        """Stream the table's rows in chunks of at most ``chunk_rows``, after ``after``."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...


SourceFactory = Callable[[str, SourceSettings], Source]

_REGISTRY: dict[str, SourceFactory] = {}


def register_source(kind: str, factory: SourceFactory, *, replace: bool = False) -> None:
    """Make ``kind`` available to ``[sources.X] kind = "..."`` in a workspace."""
    if kind in _REGISTRY and not replace:
        raise ConfigError(
            f"a source kind named {kind!r} is already registered",
            hint="choose another name, or pass replace=True to override it on purpose",
        )
    _REGISTRY[kind] = factory


def source_kinds() -> list[str]:
    """Every registered source kind, sorted."""
    _load_builtins()
    return sorted(_REGISTRY)


def open_source(name: str, settings: SourceSettings) -> Source:
    """Build the source named ``name`` from its settings; an unknown kind lists the valid ones."""
    _load_builtins()
    factory = _REGISTRY.get(settings.kind)
    if factory is None:
        close = difflib.get_close_matches(settings.kind, list(_REGISTRY), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ConfigError(
            f"unknown source kind {settings.kind!r} for source {name!r}",
            hint=f"{hint}valid kinds are: {', '.join(sorted(_REGISTRY))}",
            source=name,
        )
    return factory(name, settings)


def _load_builtins() -> None:
    # The built-in extractors register themselves on import, through register_source.
    for module in ("extract.files", "extract.odbc", "extract.sql"):
        importlib.import_module(module)
