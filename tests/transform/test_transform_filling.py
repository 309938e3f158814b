"""Creating a table from a SELECT (``transform.filling``): on PostgreSQL by ``CREATE TABLE ...
AS``, which the server may run in parallel, and on every engine the same table, with the same
rows, as ``CREATE TABLE`` and ``INSERT ... SELECT`` make."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from test_transform_row_hash import COLUMNS, MAPPING, PROJECT, ROWS, TARGET
from transform_helpers import stage

from transform import filling, load_project, run_transform
from transform.filling import recreate_filled, transaction_only


def _table(meta: sa.MetaData, name: str, text: sa.types.TypeEngine[Any] | None = None) -> sa.Table:
    return sa.Table(
        name,
        meta,
        sa.Column("_pos", sa.BigInteger, index=True),
        sa.Column("label", text if text is not None else sa.Text),
        sa.Column("day", sa.Date),
        sa.Column("n", sa.Integer),
        sa.Column("ok", sa.Boolean),
        sa.Column("_batch", sa.Text, nullable=False),
        sa.Column("unset", sa.Text),
    )


def _staged_select(conn: sa.Connection) -> tuple[list[str], sa.Select[Any]]:
    """A source table, made and filled in ``conn``, and a select over it that fills the first
    six columns of :func:`_table`."""
    src = sa.Table(
        "src",
        sa.MetaData(),
        sa.Column("pos", sa.Integer),
        sa.Column("raw", sa.Text),
        sa.Column("day", sa.Date),
    )
    src.create(conn)
    conn.execute(
        src.insert(),
        [
            {"pos": 1, "raw": " a ", "day": dt.date(2003, 2, 28)},
            {"pos": 2, "raw": None, "day": None},
            {"pos": 3, "raw": "", "day": dt.date(1999, 12, 31)},
        ],
    )
    names = ["_pos", "label", "day", "n", "ok", "_batch"]
    sel = sa.select(
        src.c.pos,
        sa.func.nullif(sa.func.trim(src.c.raw), ""),
        src.c.day,
        src.c.pos * 10,
        src.c.pos > 1,
        sa.literal("B1"),
    )
    return names, sel


def _shape(conn: sa.Connection, name: str) -> tuple[Any, ...]:
    insp = sa.inspect(conn)
    columns = [(c["name"], type(c["type"]).__name__, c["nullable"]) for c in insp.get_columns(name)]
    indexes = sorted(tuple(i["column_names"]) for i in insp.get_indexes(name))
    return tuple(columns), tuple(indexes)


def test_the_filled_table_is_the_one_create_and_insert_make(staging: sa.Engine) -> None:
    with staging.begin() as conn:
        names, sel = _staged_select(conn)
        plain = _table(sa.MetaData(), "plain")
        plain.create(conn)
        conn.execute(plain.insert().from_select(names, sel))
        filled = _table(sa.MetaData(), "filled")
        recreate_filled(conn, filled, names, sel)
        assert _shape(conn, "filled") == _shape(conn, "plain")
        expected = conn.execute(sa.select(plain).order_by(plain.c._pos)).all()
        got = conn.execute(sa.select(filled).order_by(filled.c._pos)).all()
    assert got == expected
    assert got[0] == (1, "a", dt.date(2003, 2, 28), 10, False, "B1", None)


def test_a_table_already_there_is_replaced(staging: sa.Engine) -> None:
    with staging.begin() as conn:
        names, sel = _staged_select(conn)
        table = _table(sa.MetaData(), "again")
        table.create(conn)
        conn.execute(table.insert(), [{"_pos": 99, "_batch": "OLD"}])
        recreate_filled(conn, table, names, sel)
        positions = conn.execute(sa.select(table.c._pos).order_by(table.c._pos)).scalars().all()
        assert _shape(conn, "again")[1] == (("_pos",),)
    assert positions == [1, 2, 3]


def test_a_missing_required_value_fails_as_an_insert_would(staging: sa.Engine) -> None:
    with staging.connect() as conn, conn.begin():
        names, sel = _staged_select(conn)
        sel = sel.with_only_columns(
            *[*sel.selected_columns[:-1], sa.null()], maintain_column_froms=True
        )
        with pytest.raises(sa.exc.IntegrityError):
            recreate_filled(conn, _table(sa.MetaData(), "nulls"), names, sel)


POSTGRESQL = pytest.mark.parametrize("staging", ["postgresql"], indirect=True)


def test_a_table_of_one_transaction_is_created_unlogged_on_postgresql_only() -> None:
    """``CREATE TABLE`` and ``CREATE TABLE ... AS`` of a table marked ``transaction_only`` say
    ``UNLOGGED`` on PostgreSQL; other engines, and other tables, are created as before."""
    postgresql, sqlite = sa.dialects.postgresql.dialect(), sa.dialects.sqlite.dialect()  # type: ignore[attr-defined]
    marked = transaction_only(_table(sa.MetaData(), "marked"))
    plain = _table(sa.MetaData(), "plain")

    def created(table: sa.Table, dialect: sa.Dialect) -> str:
        return str(sa.schema.CreateTable(table).compile(dialect=dialect)).strip()

    assert created(marked, postgresql).startswith("CREATE UNLOGGED TABLE marked (")
    assert created(plain, postgresql).startswith("CREATE TABLE plain (")
    assert created(marked, sqlite).startswith("CREATE TABLE marked (")
    sel = sa.select(sa.literal(1).label("_pos"))
    as_select = filling._CreateTableAs
    assert str(as_select(marked, sel).compile(dialect=postgresql)).startswith(
        "CREATE UNLOGGED TABLE marked AS SELECT"
    )
    assert str(as_select(plain, sel).compile(dialect=postgresql)).startswith(
        "CREATE TABLE plain AS SELECT"
    )


@pytest.mark.postgres
@POSTGRESQL
def test_postgresql_creates_the_table_from_the_select_and_restores_the_planner(
    staging: sa.Engine,
) -> None:
    seen: list[str] = []
    sa.event.listen(
        staging, "before_cursor_execute", lambda _c, _cu, statement, *_a: seen.append(statement)
    )
    with staging.begin() as conn:
        names, sel = _staged_select(conn)
        before = str(conn.exec_driver_sql("SHOW parallel_tuple_cost").scalar())
        recreate_filled(conn, _table(sa.MetaData(), "made"), names, sel)
        assert str(conn.exec_driver_sql("SHOW parallel_tuple_cost").scalar()) == before
    assert any(s.startswith("CREATE TABLE made AS SELECT") for s in seen), seen
    assert not any(s.startswith("INSERT INTO made") for s in seen)


@pytest.mark.postgres
@POSTGRESQL
def test_postgresql_keeps_insert_for_a_bounded_text_column(staging: sa.Engine) -> None:
    """An explicit cast to VARCHAR(2) would cut a longer text short; an insert refuses it."""
    with staging.connect() as conn, conn.begin():
        names, sel = _staged_select(conn)
        sel = sel.with_only_columns(
            sel.selected_columns[0],
            sa.literal("abc"),
            *sel.selected_columns[2:],
            maintain_column_froms=True,
        )
        with pytest.raises(sa.exc.DataError):
            recreate_filled(conn, _table(sa.MetaData(), "short", sa.String(2)), names, sel)


@pytest.mark.postgres
@POSTGRESQL
def test_the_working_table_select_of_a_mapping_can_run_in_parallel(
    staging: sa.Engine, tmp_path: Path
) -> None:
    """Every function the compiled mapping calls is one PostgreSQL may run in parallel workers:
    with the thresholds for small tables lifted, the working table's select is planned under a
    Gather."""
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "project.yaml").write_text(PROJECT, encoding="utf-8")
    (folder / "out.yaml").write_text(MAPPING, encoding="utf-8")
    engine = staging
    captured: list[tuple[str, Any]] = []

    def keep(_c: Any, _cu: Any, statement: str, parameters: Any, *_a: Any) -> None:
        head = "CREATE UNLOGGED TABLE xf__work_out AS "
        if statement.startswith(head):
            captured.append((statement.removeprefix(head), parameters))

    sa.event.listen(engine, "before_cursor_execute", keep)
    try:
        stage(engine, "h", "SRC", COLUMNS, ROWS, key=["ID"])
        run_transform(load_project(folder), engine, TARGET, "run-1")
        assert len(captured) == 1
        select, parameters = captured[0]
        with engine.begin() as conn:
            for setting in (
                "parallel_setup_cost",
                "parallel_tuple_cost",
                "min_parallel_table_scan_size",
            ):
                conn.exec_driver_sql(f"SET LOCAL {setting} = 0")
            conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 2")
            found = conn.exec_driver_sql("EXPLAIN " + select, parameters)
            plan = [str(row[0]) for row in found]
    finally:
        sa.event.remove(engine, "before_cursor_execute", keep)
    assert "Gather" in plan[0], plan
