"""A large SQLite fill computed by worker processes (``transform.splitting``): the rows one
statement stores, the derived row hash over the stored values, the parts detached and deleted
afterwards; and the fill kept in one statement when the workers could not see what this
connection has written."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs
from test_transform_row_hash import COLUMNS, MAPPING, PROJECT, ROWS, TARGET
from transform_helpers import EXAMPLE, node_mappings, rows, stage, stage_example
from transform_helpers import TARGET as EXAMPLE_TARGET

from cutover.errors import ReconciliationError
from cutover.pages import PAGE_SIZE
from transform import load_project, run_transform, splitting
from transform.filling import recreate_filled
from transform.hashing import sql_row_hash
from transform.project import MappingProject
from transform.sqlfuncs import SQLITE_YYYYMMDD

#: The mapping of test_transform_row_hash without its Python function column, so that the
#: working table's fill computes the row hash.
MAPPING_SQL_ONLY = (
    "\n".join(line for line in MAPPING.splitlines() if "fn:" not in line)
    + "\n    unfilled: [years]\n"
)


def _split_every_fill(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every fill with a position column is split in two, however few its rows."""
    monkeypatch.setattr(splitting, "SPLIT_ROWS", 1)
    monkeypatch.setattr(splitting, "worker_count", lambda _limit: 2)


@pytest.fixture
def split(monkeypatch: pytest.MonkeyPatch) -> None:
    _split_every_fill(monkeypatch)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    made = sa.create_engine(f"sqlite:///{tmp_path / 'staging.db'}")
    yield made
    made.dispose()


SRC = sa.Table(
    "src",
    sa.MetaData(),
    sa.Column("pos", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("raw", sa.Text),
    sa.Column("day", sa.Text),
)


def _source(engine: sa.Engine, count: int = 40) -> None:
    days = ["20030228", "20030231", "", "19991231", "2003"]
    with engine.begin() as conn:
        SRC.create(conn)
        conn.execute(
            SRC.insert(),
            [
                {"pos": p, "raw": f" r{p} " if p % 3 else "   ", "day": days[p % len(days)]}
                for p in range(count)
            ],
        )


def _table(name: str) -> sa.Table:
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column("_pos", sa.BigInteger, index=True),
        sa.Column("label", sa.Text),
        sa.Column("day", sa.Date),
        sa.Column("n", sa.Integer),
        sa.Column("_batch", sa.Text),
        sa.Column("_h", sa.Text),
    )


NAMES = ["_pos", "label", "day", "n", "_batch"]
SELECT = sa.select(
    SRC.c.pos,
    sa.func.nullif(sa.func.trim(SRC.c.raw), ""),
    getattr(sa.func, SQLITE_YYYYMMDD)(SRC.c.day),
    SRC.c.pos * 10,
    sa.literal("B1"),
)


def _hash(table: sa.Table) -> sa.ColumnElement[str]:
    return sql_row_hash([table.c.label, table.c.day, table.c.n, table.c._batch], "sqlite")


def _stored(conn: sa.Connection, table: sa.Table) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(sa.select(table).order_by(table.c._pos))]


def _parts(folder: Path) -> list[Path]:
    return sorted(folder.glob(".staging.db.fill-*"))


def _tables(part: Path) -> set[str]:
    with closing(sqlite3.connect(part)) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}


def test_a_split_fill_stores_the_rows_one_statement_stores_and_hashes_them(
    engine: sa.Engine, split: None, tmp_path: Path
) -> None:
    _source(engine)
    plain, parted = _table("plain"), _table("parted")
    with engine.connect() as conn:
        assert recreate_filled(conn, plain, NAMES, SELECT) is None
        conn.commit()
        with capture_logs() as logs:
            derived = {"_h": _hash(parted)}
            done = recreate_filled(conn, parted, NAMES, SELECT, split_on=SRC.c.pos, derived=derived)
        assert done is not None
        # The parts are attached until the connection goes back to the pool; each holds only
        # the table it hands back (the rows before the derived columns were dropped).
        assert [_tables(p) for p in _parts(tmp_path)] == [{"part"}, {"part"}]
        conn.commit()
        got = _stored(conn, parted)
        expected = _stored(conn, plain)
        hashed = dict(conn.execute(sa.select(plain.c._pos, _hash(plain))).all())
    [event] = [e for e in logs if e["event"] == "fill_split"]
    assert (event["parts"], event["rows"], event["derived"]) == (2, 40, ["_h"])
    assert [r[:-1] for r in got] == [r[:-1] for r in expected]
    assert all(r[-1] is None for r in expected)
    # The derived hash is the one computed over the values a single statement stored.
    assert {r[0]: r[-1] for r in got} == hashed
    assert len(set(hashed.values())) == 40


def _fill_keeping_blanks(
    conn: sa.Connection, plain: sa.Table, parted: sa.Table, tallies: list[sa.Select[Any]]
) -> splitting.Parts | None:
    """``plain`` filled in one statement, then ``parted`` split, keeping the blank labels."""
    recreate_filled(conn, plain, NAMES, SELECT)
    conn.commit()
    return recreate_filled(
        conn,
        parted,
        NAMES,
        SELECT,
        split_on=SRC.c.pos,
        derived={"_h": _hash(parted)},
        keep=parted.c.label.is_(None),
        tallies=tallies,
    )


def test_a_split_fill_can_keep_some_rows_and_count_them_all(engine: sa.Engine, split: None) -> None:
    """With ``keep``, the table holds only the rows that meet it, computed as the whole fill
    computes them; each part's ``tallies`` count all of its rows, the rest included."""
    _source(engine)
    plain, parted = _table("plain"), _table("parted")
    tallies = [
        sa.select(parted.c._batch, sa.func.count(), sa.func.sum(parted.c.n)).group_by(
            parted.c._batch
        ),
        sa.select(sa.func.count(sa.distinct(parted.c._pos)), sa.func.count(parted.c.day)),
    ]
    with engine.connect() as conn:
        with capture_logs() as logs:
            done = _fill_keeping_blanks(conn, plain, parted, tallies)
        conn.commit()
        got = _stored(conn, parted)
        blank = _stored(conn, plain.select().where(plain.c.label.is_(None)).subquery())
    assert done is not None
    assert [r[:-1] for r in got] == [r[:-1] for r in blank]
    assert len(got) == 14  # positions 0, 3, ..., 39: a blank label
    [event] = [e for e in logs if e["event"] == "fill_split"]
    assert (event["rows"], event["kept"]) == (40, 14)
    # Per part: 20 rows each, so two rows of the first tally and two of the second.
    assert done.rows == 40
    per_batch, totals = done.tallies
    assert sorted(per_batch) == [
        ("B1", 20, sum(p * 10 for p in range(20))),
        ("B1", 20, sum(p * 10 for p in range(20, 40))),
    ]
    # Real days at positions 0 and 3 of every five (20030228, 19991231): 16 of 40.
    assert totals == [(20, 8), (20, 8)]


def _fill_part_noting_tallies(*args: Any) -> Any:
    """In a worker: the real part, then the tallies it ran written beside it, one per line."""
    found = splitting._fill_part(*args)
    part = Path(args[5])
    noted = "\n".join(" ".join(sql.split()) for sql in args[8])
    (part.parent / f"tallies-{part.name.rsplit('-', 1)[-1]}").write_text(noted)
    return found


def _objects(part: Path) -> set[tuple[str, str]]:
    with closing(sqlite3.connect(part)) as conn:
        return {(r[0], r[1]) for r in conn.execute("SELECT type, name FROM sqlite_schema")}


def test_kept_rows_have_their_derived_columns_beside_the_stored_rows_not_copied_again(
    engine: sa.Engine, split: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``keep``, a part's final rows are a view of the stored rows joined to a table of
    the derived columns alone: the kept rows and their hashes are the ones the whole fill
    computes, and a tally that reads no derived column reads the stored rows directly."""
    _source(engine)
    monkeypatch.setattr(splitting, "_fill_part", _fill_part_noting_tallies)
    plain, parted = _table("plain"), _table("parted")
    tallies = [
        sa.select(parted.c._batch, sa.func.count()).group_by(parted.c._batch),
        sa.select(sa.func.count(sa.distinct(parted.c._h))),
    ]
    with engine.connect() as conn:
        done = _fill_keeping_blanks(conn, plain, parted, tallies)
        objects = [_objects(p) for p in _parts(tmp_path)]
        conn.commit()
        got = _stored(conn, parted)
        hashed = dict(conn.execute(sa.select(plain.c._pos, _hash(plain))).all())
        blank = _stored(conn, plain.select().where(plain.c.label.is_(None)).subquery())
    assert done is not None
    shape = {("table", "rows"), ("table", "derived"), ("view", "part"), ("table", "kept")}
    assert objects == [shape, shape]
    assert [r[:-1] for r in got] == [r[:-1] for r in blank]
    assert {r[0]: r[-1] for r in got} == {r[0]: hashed[r[0]] for r in blank}
    per_batch, distinct = done.tallies
    assert per_batch == [("B1", 20), ("B1", 20)]
    assert distinct == [(20,), (20,)]  # every row of a part has a hash of its own
    noted = [p.read_text().splitlines() for p in sorted(tmp_path.glob("tallies-*"))]
    assert len(noted) == 2
    for counted, hashes in noted:
        assert "FROM fill.rows" in counted, counted
        assert "fill.part" not in counted, counted
        assert "FROM fill.part" in hashes, hashes


def test_the_parts_are_detached_and_deleted_when_the_connection_goes_back(
    engine: sa.Engine, split: None, tmp_path: Path
) -> None:
    _source(engine)
    with engine.connect() as conn:
        assert recreate_filled(conn, _table("t"), NAMES, SELECT, split_on=SRC.c.pos) is not None
        conn.commit()
        attached = {r[1] for r in conn.exec_driver_sql("PRAGMA database_list")}
        assert any(name.startswith("cutover_fill_") for name in attached), attached
    assert _parts(tmp_path) == []
    with engine.connect() as conn:
        attached = {r[1] for r in conn.exec_driver_sql("PRAGMA database_list")}
        count = conn.execute(sa.select(sa.func.count()).select_from(_table("t"))).scalar_one()
    assert not any(name.startswith("cutover_fill_") for name in attached), attached
    assert count == 40


def test_an_open_transaction_keeps_the_fill_in_one_statement(
    engine: sa.Engine, split: None, tmp_path: Path
) -> None:
    """A worker reads what is committed: a row this connection has not committed yet would be
    missing from the parts, so the fill is not split."""
    _source(engine)
    with engine.connect() as conn:
        conn.execute(SRC.insert(), {"pos": 99, "raw": "late", "day": "20200101"})
        with capture_logs() as logs:
            done = recreate_filled(conn, _table("t"), NAMES, SELECT, split_on=SRC.c.pos)
        positions = conn.execute(sa.select(_table("t").c._pos)).scalars().all()
        conn.commit()
    assert done is None
    assert not [e for e in logs if e["event"] == "fill_split"]
    assert 99 in positions
    assert len(positions) == 41
    assert _parts(tmp_path) == []


def test_a_database_in_memory_is_never_split(split: None) -> None:
    memory = sa.create_engine("sqlite://")
    try:
        _source(memory)
        with memory.connect() as conn:
            assert recreate_filled(conn, _table("t"), NAMES, SELECT, split_on=SRC.c.pos) is None
            conn.commit()
            assert conn.execute(sa.select(sa.func.count()).select_from(_table("t"))).scalar() == 40
    finally:
        memory.dispose()


Outputs = dict[str, list[tuple[tuple[str, Any], ...]]]


def _whole_and_split(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fill: Callable[[sa.Engine], None],
    project: MappingProject,
    target: sa.MetaData,
) -> tuple[Outputs, Outputs, list[dict[str, Any]]]:
    """Every ``xf_`` table (working tables aside) after a transform in one statement per fill,
    and after one with every fill split; and the split run's ``fill_split`` events."""
    outputs: list[Outputs] = []
    events: list[dict[str, Any]] = []
    for name in ("whole", "split"):
        if name == "split":
            _split_every_fill(monkeypatch)
        engine = sa.create_engine(f"sqlite:///{tmp_path / name}.db")
        try:
            fill(engine)
            with capture_logs() as logs:
                run_transform(project, engine, target, "run-1")
            tables = sa.inspect(engine).get_table_names()
            outputs.append(
                {
                    t: sorted(tuple(sorted(r.items())) for r in rows(engine, t))
                    for t in tables
                    if t.startswith("xf_") and not t.startswith("xf__work")
                }
            )
        finally:
            engine.dispose()
        split = [e for e in logs if e["event"] == "fill_split"]
        assert bool(split) == (name == "split")
        events = split
    return outputs[0], outputs[1], events


@pytest.mark.parametrize(
    "mapping", [MAPPING_SQL_ONLY, MAPPING], ids=["hash-in-the-fill", "python-column"]
)
def test_a_split_transform_writes_what_a_whole_one_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mapping: str
) -> None:
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "project.yaml").write_text(PROJECT, encoding="utf-8")
    (folder / "out.yaml").write_text(mapping, encoding="utf-8")
    data = [*ROWS, ("007", "S2", "B   ", "x1 ", "20030231", "2Y    ")]

    def fill(engine: sa.Engine) -> None:
        stage(engine, "h", "SRC", COLUMNS, data, key=["ID"])

    whole, split, events = _whole_and_split(
        tmp_path, monkeypatch, fill, load_project(folder), TARGET
    )
    assert split == whole
    assert len(whole["xf_out"]) >= 6
    assert whole["xf__quarantine"]
    [event] = events
    # The row hash (unless a Python function fills a column) and every flag of the mapping:
    # two deferred checks and a missing-value check, decided on the stored rows by the workers.
    flags = ["p_0", "q_0", "q_1"]
    assert event["derived"] == (["_h", *flags] if "fn:" not in mapping else flags)
    # With every flag decided there, the workers wrote xf_out's rows too; a Python function
    # column is computed after the fill, by this process, which then writes them.
    assert event["then"] == ("xf_out" if "fn:" not in mapping else None)
    # Then the working table kept only the flagged rows (here, those quarantined), and the
    # accounting above, the same as the whole run's, read the workers' counts of the rest.
    quarantined = {dict(r)["source_key"] for r in whole["xf__quarantine"]}
    assert event["kept"] == (len(quarantined) if "fn:" not in mapping else None)


def _split_out_project(tmp_path: Path) -> MappingProject:
    """The row-hash mapping without its Python column, batches by institution: two of them."""
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "project.yaml").write_text(PROJECT, encoding="utf-8")
    (folder / "out.yaml").write_text(MAPPING_SQL_ONLY, encoding="utf-8")
    return load_project(folder)


_OUT_ROWS = [
    *ROWS,
    ("007", "S2", "B   ", "x1 ", "20030231", "2Y    "),
    ("008", "S2", "C", "", "", ""),
]


def test_the_workers_count_the_xf_rows_they_wrote_per_batch_for_the_accounting(
    tmp_path: Path, split: None
) -> None:
    """The accounting reads the rows per batch of ``xf_out`` that the workers counted of those
    they wrote; this process only counts the table whole, never grouping it by batch."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'staging.db'}")
    statements: list[str] = []
    try:
        stage(engine, "h", "SRC", COLUMNS, _OUT_ROWS, key=["ID"])
        sa.event.listen(engine, "before_cursor_execute", lambda *a, **_k: statements.append(a[2]))
        run_transform(_split_out_project(tmp_path), engine, TARGET, "run-1")
        written = rows(engine, "xf_out")
        accounted = rows(engine, "xf__accounting")
    finally:
        engine.dispose()
    per_batch = {b: sum(1 for r in written if r["_batch"] == b) for b in ("S1", "S2")}
    assert min(per_batch.values()) > 0
    assert {a["batch"]: a["loaded"] for a in accounted} == per_batch
    grouped = [s for s in statements if "xf_out" in s and "GROUP BY" in s]
    assert grouped == []


def test_an_xf_row_lost_after_the_workers_wrote_it_fails_the_accounting(
    tmp_path: Path, split: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_parts = splitting._copy_parts

    def losing_one(conn: sa.Connection, table: sa.Table, schemas: Any, name: str) -> int:
        copied = copy_parts(conn, table, schemas, name)
        if name == "written":
            conn.exec_driver_sql(f"DELETE FROM {table.name} WHERE rowid = 1")
        return copied

    monkeypatch.setattr(splitting, "_copy_parts", losing_one)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'staging.db'}")
    try:
        stage(engine, "h", "SRC", COLUMNS, _OUT_ROWS, key=["ID"])
        with pytest.raises(ReconciliationError, match="worker processes wrote") as info:
            run_transform(_split_out_project(tmp_path), engine, TARGET, "run-1")
    finally:
        engine.dispose()
    assert info.value.context["table"] == "out"
    assert "xf_out holds" in str(info.value)


@pytest.mark.parametrize("parted", [False, True], ids=["whole", "split"])
def test_a_join_that_multiplies_rows_fails_a_split_run_as_a_whole_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parted: bool
) -> None:
    """The fan-out check and the accounting read the counts the workers took when the
    working table keeps only the flagged rows: a join that gives a source row two rows still
    stops the run, naming the table."""
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "project.yaml").write_text(PROJECT, encoding="utf-8")
    joined = MAPPING_SQL_ONLY.replace(
        "    from: SRC\n",
        "    from: {table: SRC, as: s}\n    join:\n"
        "      - {table: NOTE, as: n, on: {s.ID: n.ID}}\n",
    ).replace("label: {text: LBL}", "label: {text: n.TXT}")
    assert "n.TXT" in joined
    (folder / "out.yaml").write_text(joined, encoding="utf-8")
    if parted:
        _split_every_fill(monkeypatch)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'staging.db'}")
    try:
        stage(engine, "h", "SRC", COLUMNS, ROWS, key=["ID"])
        notes = [("001", "a"), ("002", "b"), ("002", "c"), ("003", "d")]
        stage(engine, "h", "NOTE", {"ID": 3, "TXT": 1}, notes)
        with capture_logs() as logs, pytest.raises(ReconciliationError, match="out") as info:
            run_transform(load_project(folder), engine, TARGET, "run-1")
    finally:
        engine.dispose()
    assert "6 source rows of SRC became 7 rows" in str(info.value)
    assert "many-to-one" in (info.value.hint or "")
    # Split, the working table kept no row (none is flagged): only the workers' counts saw it.
    kept = [e["kept"] for e in logs if e["event"] == "fill_split"]
    assert kept == ([0] if parted else [])


def _dying_part(*_args: Any) -> int:
    """A worker that is killed mid-fill."""
    os._exit(1)


def _fill_through(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch, worker: Callable[..., Any]
) -> tuple[Any, list[Any], int]:
    """The 40 source rows filled into ``t`` by ``worker`` in place of each part's: what the
    fill returned, its log events and the rows the table got."""
    _source(engine)
    monkeypatch.setattr(splitting, "_fill_part", worker)
    with engine.connect() as conn:
        with capture_logs() as logs:
            done = recreate_filled(conn, _table("t"), NAMES, SELECT, split_on=SRC.c.pos)
        count = conn.execute(sa.select(sa.func.count()).select_from(_table("t"))).scalar_one()
        conn.commit()
    return done, logs, count


def test_a_worker_lost_mid_fill_leaves_the_fill_to_this_process(
    engine: sa.Engine, split: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    done, logs, count = _fill_through(engine, monkeypatch, _dying_part)
    assert done is None
    assert count == 40
    assert [e["event"] for e in logs] == ["fill_split_worker_lost"]
    assert _parts(tmp_path) == []


def test_parts_left_by_a_process_that_is_gone_are_deleted(
    engine: sa.Engine, split: None, tmp_path: Path
) -> None:
    finished = subprocess.Popen(["true"])  # a process that has exited
    finished.wait()
    stale = tmp_path / f".staging.db.fill-{finished.pid}-0-0"
    living = tmp_path / f".staging.db.fill-{os.getppid()}-0-0"
    stale.write_bytes(b"")
    living.write_bytes(b"")
    _source(engine)
    with engine.connect() as conn:
        assert recreate_filled(conn, _table("t"), NAMES, SELECT, split_on=SRC.c.pos) is not None
        conn.commit()
    assert not stale.exists()
    assert living.exists()
    assert _parts(tmp_path) == [living]


def test_the_example_project_split_writes_what_it_writes_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every table of the example mappings (parents, orphans, merges, crosswalks) split in two:
    the same xf_ rows, quarantine and accounting as in one statement."""
    whole, split, events = _whole_and_split(
        tmp_path, monkeypatch, stage_example, load_project(EXAMPLE), EXAMPLE_TARGET
    )
    assert split == whole
    assert len(events) > 3
    rules = {dict(r)["rule"] for r in whole["xf__quarantine"]}
    assert "orphan" in rules, rules


def test_flags_decided_in_the_parts_agree_with_an_orphan_check_against_the_own_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parts decide the checks that need only the row (a bad date; a missing value the date
    explains or not); the orphan check against the table's own rows runs after, on the rows
    the parts flagged: a node whose parent was set aside by a check is an orphan too."""
    folder = tmp_path / "m"
    target = node_mappings(folder, born=True)
    data = [
        ("A", "", "20200101"),
        ("B", "A", "20200230"),  # no such day: quarantined by the date check alone
        ("C", "B", "20200102"),  # its parent was set aside
        ("D", "Z", "20200103"),  # no parent
        ("E", "D", "20200104"),  # its parent is an orphan
        ("F", "A", "00000000"),  # the legacy "no date": a missing value
        ("H", "A", ""),  # a blank date: quarantined by the date check, which explains it
        ("G", "A", "20200105"),
    ]

    def fill(engine: sa.Engine) -> None:
        stage(engine, "t", "NODE", {"ID": 2, "PARENT": 2, "BORN": 8}, data, key=["ID"])

    whole, split, events = _whole_and_split(
        tmp_path, monkeypatch, fill, load_project(folder), target
    )
    assert split == whole
    assert {dict(r)["id"] for r in whole["xf_node"]} == {"A", "G"}
    quarantined = {
        (dict(r)["source_key"].strip(), dict(r)["rule"], dict(r)["value"])
        for r in whole["xf__quarantine"]
    }
    assert quarantined == {
        ("B", "invalid_date", "20200230"),
        ("C", "orphan", "B"),
        ("D", "orphan", "Z"),
        ("E", "orphan", "D"),
        ("F", "missing_value", None),
        ("H", "invalid_date", "        "),
    }
    [event] = events
    # Three post-checks (id and born required, parent_id an orphan check against the table):
    # the workers decided the date check and the two missing values, the orphans came after.
    assert event["derived"] == ["_h", "p_0", "p_1", "q_0"]
    assert event["then"] is None  # the orphans are flagged after the parts: this process writes


def _fill_part_noting_pages(*args: Any) -> Any:
    """In a worker: the real part, then its file's page size written beside it."""
    found = splitting._fill_part(*args)
    part = Path(args[5])
    with closing(sqlite3.connect(part)) as conn:
        pages = conn.execute("PRAGMA page_size").fetchone()[0]
    (part.parent / f"pages-{part.name.rsplit('-', 1)[-1]}").write_text(str(pages))
    return found


def test_the_workers_parts_are_written_in_large_pages(
    engine: sa.Engine, split: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    done, _logs, count = _fill_through(engine, monkeypatch, _fill_part_noting_pages)
    assert done is not None
    assert count == 40
    noted = sorted(p.read_text() for p in tmp_path.glob("pages-*"))
    assert noted == [str(PAGE_SIZE)] * 2
    assert _parts(tmp_path) == []
