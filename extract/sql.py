"""The ``sqlalchemy`` source: any database SQLAlchemy can reach, read as raw driver values.

Columns are selected untyped, so SQLAlchemy applies no conversion: a ``CHAR(9)`` comes back with
its padding, a SQLite ``DATE`` column comes back as the text it holds. The column kind (which
staging column type to use) follows the declared type; on SQLite, whose values are dynamically
typed, declared dates, numerics and booleans are staged as text, the way SQLite stores them.

Where the driver's own cursor reads a chunk at a time (SQLite, and PostgreSQL through a named,
server-side cursor), rows are fetched from it as the tuples it makes (:mod:`cutover.cursors`:
the same values SQLAlchemy would hand over, without a result row object per row); another
driver is read through SQLAlchemy's streaming results. :attr:`sqlite_file` names the database
file, so staging on SQLite can attach it (see ``extract.engine``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cutover.cursors import select_chunks, streams
from cutover.errors import ConfigError
from cutover.settings import SourceSettings
from extract.base import Checkpoint, Column, ColumnKind, Row, TableInfo, register_source
from extract.retry import translate
from extract.selection import pick_key, pick_tables

__all__ = ["SqlAlchemySource", "keyset_after"]

_KINDS: dict[type, ColumnKind] = {
    str: "text",
    int: "integer",
    float: "float",
    Decimal: "decimal",
    dt.datetime: "datetime",
    dt.date: "date",
    bytes: "binary",
    bool: "boolean",
}


def _kind(type_: Any, dialect: str) -> ColumnKind:
    try:
        python_type = type_.python_type
    except NotImplementedError:
        return "text"
    kind = _KINDS.get(python_type, "text")
    if dialect == "sqlite" and kind in ("date", "datetime", "decimal", "boolean"):
        return "text"
    return kind


def keyset_after(columns: Sequence[sa.ColumnElement[Any]], values: Sequence[Any]) -> Any:
    """``(k1, k2, ...) > (v1, v2, ...)`` spelled out so every SQL dialect understands it."""
    terms = []
    for i, col in enumerate(columns):
        equal = [columns[j] == values[j] for j in range(i)]
        terms.append(sa.and_(*equal, col > values[i]))
    return sa.or_(*terms)


class SqlAlchemySource:
    """A legacy database behind a SQLAlchemy URL."""

    def __init__(self, name: str, settings: SourceSettings) -> None:
        if settings.url is None:
            raise ConfigError(
                f"source {name!r} of kind 'sqlalchemy' needs a url",
                hint=f"set url in [sources.{name}] or CUTOVER_SOURCE_{name.upper()}_URL",
            )
        self.name = name
        self.settings = settings
        try:
            self._engine: Engine = sa.create_engine(settings.url.get_secret_value())
        except (sa.exc.ArgumentError, ImportError) as exc:
            raise ConfigError(
                f"source {name!r} has an invalid url: {exc}",
                hint="use a SQLAlchemy URL such as sqlite:///legacy/obscis.db",
            ) from exc
        self._dialect = self._engine.dialect.name

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite database file this source reads, when it is one reached by a file path.

        ``None`` for other databases, in-memory databases and ``uri=true`` URLs.
        """
        dialect = self._engine.dialect
        if dialect.name != "sqlite" or dialect.driver != "pysqlite":
            return None
        args, options = dialect.create_connect_args(self._engine.url)
        filename = str(args[0]) if args else ":memory:"
        if options.get("uri") or filename in ("", ":memory:"):
            return None
        return Path(filename)

    def tables(self) -> list[str]:
        try:
            available = sa.inspect(self._engine).get_table_names()
        except sa.exc.SQLAlchemyError as exc:
            raise translate(exc, source=self.name, action="list its tables") from exc
        return pick_tables(self.name, available, self.settings.tables)

    def describe(self, table: str) -> TableInfo:
        try:
            insp = sa.inspect(self._engine)
            if not insp.has_table(table):
                available = insp.get_table_names()
                pick_tables(self.name, available, (table,))  # raises with a suggestion
            cols = insp.get_columns(table)
            pk = tuple(insp.get_pk_constraint(table).get("constrained_columns") or ())
            unique = tuple(
                tuple(str(c) for c in u["column_names"] if c)
                for u in insp.get_unique_constraints(table)
            )
        except sa.exc.SQLAlchemyError as exc:
            raise translate(exc, source=self.name, table=table, action="describe") from exc
        columns = tuple(
            Column(str(c["name"]), _kind(c["type"], self._dialect), bool(c.get("nullable", True)))
            for c in cols
        )
        key = pick_key(self.name, table, [c.name for c in columns], pk, self.settings.keys)
        return TableInfo(table, columns, key, unique)

    def read(
        self, table: TableInfo, *, chunk_rows: int, after: Checkpoint | None = None
    ) -> Generator[Sequence[Row], None, None]:
        t = sa.table(table.name, *(sa.column(c) for c in table.column_names))
        query = sa.select(*t.c)
        if table.key:
            key_cols = [t.c[k] for k in table.key]
            if after is not None and after.key is not None:
                query = query.where(keyset_after(key_cols, after.key))
            query = query.order_by(*key_cols)
        else:
            query = query.order_by(*t.c)
            if after is not None and after.position:
                query = query.offset(after.position)
        try:
            with self._engine.connect() as conn:
                if streams(conn):
                    yield from select_chunks(conn, query, "cutover_extract", chunk_rows)
                    return
                result = conn.execution_options(
                    stream_results=True, max_row_buffer=chunk_rows
                ).execute(query)
                for part in result.partitions(chunk_rows):
                    yield [tuple(r) for r in part]
        except sa.exc.SQLAlchemyError as exc:
            raise translate(exc, source=self.name, table=table.name, action="read") from exc

    def close(self) -> None:
        self._engine.dispose()


def _factory(name: str, settings: SourceSettings) -> SqlAlchemySource:
    return SqlAlchemySource(name, settings)


register_source("sqlalchemy", _factory)
