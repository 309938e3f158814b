"""The ``odbc`` source: a legacy database reached through an ODBC driver (DSN or connection string).

Catalogue calls (``SQLTables``, ``SQLColumns``, ``SQLPrimaryKeys``) describe the tables; rows are
read with one plain ``SELECT`` per table, ordered by the key (or every column), keyset-resumed
with ``?`` parameters, and fetched ``chunk_rows`` at a time. The PostgreSQL driver buffers a whole
result unless told otherwise, so ``UseDeclareFetch=1`` is added for it to keep memory flat.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import pyodbc

from cutover.errors import ConfigError
from cutover.settings import SourceSettings
from extract.base import Checkpoint, Column, ColumnKind, Row, TableInfo, register_source
from extract.retry import translate
from extract.selection import pick_key, pick_tables

__all__ = ["OdbcSource"]

_KINDS: dict[int, ColumnKind] = {
    4: "integer",  # SQL_INTEGER
    5: "integer",  # SQL_SMALLINT
    -5: "integer",  # SQL_BIGINT
    -6: "integer",  # SQL_TINYINT
    6: "float",  # SQL_FLOAT
    7: "float",  # SQL_REAL
    8: "float",  # SQL_DOUBLE
    2: "decimal",  # SQL_NUMERIC
    3: "decimal",  # SQL_DECIMAL
    9: "date",  # SQL_DATE (ODBC 2)
    91: "date",  # SQL_TYPE_DATE
    11: "datetime",  # SQL_TIMESTAMP (ODBC 2)
    93: "datetime",  # SQL_TYPE_TIMESTAMP
    -2: "binary",  # SQL_BINARY
    -3: "binary",  # SQL_VARBINARY
    -4: "binary",  # SQL_LONGVARBINARY
    -7: "boolean",  # SQL_BIT
}


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class OdbcSource:
    """A legacy database behind an ODBC DSN or connection string."""

    def __init__(self, name: str, settings: SourceSettings) -> None:
        if settings.connection_string is not None:
            conn_str = settings.connection_string.get_secret_value()
        elif settings.dsn:
            conn_str = f"DSN={settings.dsn}"
        else:
            raise ConfigError(
                f"source {name!r} of kind 'odbc' needs a dsn or a connection_string",
                hint=(
                    f"set dsn in [sources.{name}] or CUTOVER_SOURCE_{name.upper()}"
                    "_CONNECTION_STRING"
                ),
            )
        if "postgresql" in conn_str.lower() and "usedeclarefetch" not in conn_str.lower():
            conn_str = conn_str.rstrip(";") + ";UseDeclareFetch=1;Fetch=10000"
        self.name = name
        self.settings = settings
        self._conn_str = conn_str
        self._conn: Any = None

    def _connection(self) -> Any:
        if self._conn is None:
            try:
                self._conn = pyodbc.connect(self._conn_str, autocommit=True, timeout=10)
            except pyodbc.Error as exc:
                raise translate(exc, source=self.name, action="connect") from exc
        return self._conn

    def _table_names(self) -> list[str]:
        try:
            cur = self._connection().cursor()
            names = [str(r[2]) for r in cur.tables(tableType="TABLE").fetchall()]
            cur.close()
        except pyodbc.Error as exc:
            raise translate(exc, source=self.name, action="list its tables") from exc
        return names

    def tables(self) -> list[str]:
        return pick_tables(self.name, self._table_names(), self.settings.tables)

    def describe(self, table: str) -> TableInfo:
        (found,) = pick_tables(self.name, self._table_names(), (table,))
        try:
            cur = self._connection().cursor()
            cols = cur.columns(table=found).fetchall()
            pk_rows = cur.primaryKeys(table=found).fetchall()
            cur.close()
        except pyodbc.Error as exc:
            raise translate(exc, source=self.name, table=found, action="describe") from exc
        columns = tuple(
            Column(str(r[3]), _KINDS.get(int(r[4]), "text"), bool(r[10]))
            for r in sorted(cols, key=lambda r: int(r[16] or 0))
        )
        declared = tuple(str(r[3]) for r in sorted(pk_rows, key=lambda r: int(r[4])))
        key = pick_key(self.name, found, [c.name for c in columns], declared, self.settings.keys)
        return TableInfo(found, columns, key)

    def read(
        self, table: TableInfo, *, chunk_rows: int, after: Checkpoint | None = None
    ) -> Generator[Sequence[Row], None, None]:
        select = ", ".join(_quote(c) for c in table.column_names)
        sql = f"SELECT {select} FROM {_quote(table.name)}"
        params: list[Any] = []
        skip = 0
        if table.key:
            if after is not None and after.key is not None:
                terms = []
                for i, col in enumerate(table.key):
                    equal = [f"{_quote(table.key[j])} = ?" for j in range(i)]
                    terms.append("(" + " AND ".join([*equal, f"{_quote(col)} > ?"]) + ")")
                    params.extend([*after.key[:i], after.key[i]])
                sql += " WHERE " + " OR ".join(terms)
            sql += " ORDER BY " + ", ".join(_quote(k) for k in table.key)
        else:
            sql += " ORDER BY " + select
            skip = after.position if after is not None else 0
        try:
            cur = self._connection().cursor()
            try:
                cur.execute(sql, params)
                while skip > 0:
                    skipped = cur.fetchmany(min(skip, chunk_rows))
                    if not skipped:
                        break
                    skip -= len(skipped)
                while rows := cur.fetchmany(chunk_rows):
                    yield [tuple(r) for r in rows]
            finally:
                cur.close()
        except pyodbc.Error as exc:
            raise translate(exc, source=self.name, table=table.name, action="read") from exc

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except pyodbc.Error as exc:
                raise translate(exc, source=self.name, action="close") from exc
            self._conn = None


def _factory(name: str, settings: SourceSettings) -> OdbcSource:
    return OdbcSource(name, settings)


register_source("odbc", _factory)
