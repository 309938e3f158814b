"""The same-engine copy (SQLite source into SQLite staging) stages exactly what the generic path
stages: the same values, positions, keys, row hashes and checksums, resumable on either path."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Generator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from extract_helpers import staged
from structlog.testing import capture_logs

from cutover.errors import ExtractError
from cutover.pages import PAGE_SIZE
from cutover.settings import Settings
from extract import Checkpoint, Row, Source, Staging, TableInfo, open_source, stage_table
from extract import engine as engine_copy
from extract.engine import open_engine_copy
from extract.hashing import canonical
from extract.snapshot import TableResult, fingerprint

#: Text the canonical serialization must keep or escape exactly as Python's JSON encoder does.
ODD_TEXT = [
    "A     ",
    "",
    "é",
    "日本語",
    "\U0001f600",
    "\u2028\u2029",
    'a"b\\c/d',
    "\x00\x01\x07\x08\x09\x0a\x0b\x0c\x0d\x1b\x1f",
    "\x7f\x80\x9f\xa0",
    "\ufeff\ufffd",
    "  padded  ",
]

#: Table -> (DDL, rows). Every quirk the copy must keep: padding, NULLs, unicode, control
#: characters, floats, huge integers, values of several types in one column, a composite key, a
#: rowid key, keyless tables with exact duplicates and with columns named like what the copy uses.
QUIRKY: dict[str, tuple[str, list[tuple[Any, ...]]]] = {
    "TXT": (
        "CREATE TABLE TXT (ID CHAR(6) NOT NULL PRIMARY KEY, NM VARCHAR(20), NOTE TEXT, N INTEGER)",
        [
            (f"{i:03d}{t[:1]}  ", t, None if i % 3 else t * 2, i if i % 2 else None)
            for i, t in enumerate(ODD_TEXT)
        ],
    ),
    "NUMS": (
        "CREATE TABLE NUMS (ID INTEGER PRIMARY KEY, I INTEGER, R REAL, X NUMERIC, U)",
        [
            (1, 2**62, 0.1 + 0.2, "1.50", "5"),
            (2, -(2**63), 1e16, "007", 5),
            (3, 0, -0.0, "abc", 5.5),
            (4, 1.5, 5, None, None),
            (5, "12a", float("inf"), 1e-7, "x"),
            (6, None, 1.0, 2.5e300, -1),
            (7, 3, 123456789.125, "", 0.1),
        ],
    ),
    "PAIR": (
        "CREATE TABLE PAIR (A CHAR(3) NOT NULL, B INTEGER NOT NULL, V TEXT, PRIMARY KEY (A, B))",
        [(a, b, f"{a}:{b}") for a in ("é  ", "A  ", "a  ", "B|C") for b in (-3, 0, 7, 10)],
    ),
    "LOG": (
        "CREATE TABLE LOG (A CHAR(4), B INTEGER, C REAL, D)",
        [
            ("x   ", 1, 0.5, "d"),
            ("x   ", 1, 0.5, "d"),
            (None, None, None, None),
            ("y   ", 2, 1e20, 3),
            ("x   ", 1, 0.5, "d"),
            ("é   ", -1, -2.25, None),
            ("y   ", 2, 1e20, 3),
            ("a   ", 0, 0.0, 0.1),
        ],
    ),
    "ODD": (
        'CREATE TABLE ODD ("rowid" TEXT, cutover_pos INTEGER, "we""ird name" CHAR(2))',
        [("b", 2, "x "), ("a", 1, None), ("b", 2, "x "), ("a", 3, "y ")],
    ),
    "UNQ": (
        "CREATE TABLE UNQ (K TEXT NOT NULL, V TEXT)",  # unique in fact, but nothing says so
        [(f"k{i:02d}", f"v{i}") for i in range(20)],
    ),
}


def _build(path: Path, tables: dict[str, tuple[str, list[tuple[Any, ...]]]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    try:
        for ddl, rows in tables.values():
            con.execute(ddl)
            name = ddl.split()[2]  # every DDL here is CREATE TABLE <name> (...)
            marks = ", ".join("?" for _ in rows[0])
            con.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)
        con.commit()
    finally:
        con.close()
    return path


class _Generic:
    """The same source, unrecognizable to the engine copy: the generic path does the work."""

    def __init__(self, inner: Source) -> None:
        self.inner = inner
        self.name = inner.name

    def tables(self) -> list[str]:
        return self.inner.tables()

    def describe(self, table: str) -> TableInfo:
        return self.inner.describe(table)

    def read(
        self, table: TableInfo, *, chunk_rows: int, after: Checkpoint | None = None
    ) -> Generator[Sequence[Row], None, None]:
        yield from self.inner.read(table, chunk_rows=chunk_rows, after=after)

    def close(self) -> None:
        self.inner.close()


class _HaltError(Exception):
    """Raised from the progress callback to interrupt a staging between two chunks."""


def _settings(make_workspace: Any, db: Path, **extra: Any) -> Settings:
    settings: Settings = make_workspace(
        {"q": {"kind": "sqlalchemy", "url": f"sqlite:///{db}", **extra}}
    )
    return settings


def _run(
    settings: Settings,
    table: str,
    *,
    generic: bool,
    run_id: str = "r1",
    chunk_rows: int = 3,
    stop_after: int | None = None,
) -> TableResult:
    source: Source = open_source("q", settings.source("q"))
    if generic:
        source = _Generic(source)
    staging = Staging(settings.staging.url.get_secret_value())
    chunks = 0

    def progress(stg_table: str, position: int) -> None:
        nonlocal chunks
        chunks += 1
        if stop_after is not None and chunks >= stop_after:
            raise _HaltError(stg_table)

    try:
        info = source.describe(table)
        return stage_table(
            staging, source, info, run_id=run_id, chunk_rows=chunk_rows, on_progress=progress
        )
    finally:
        staging.dispose()
        source.close()


@pytest.fixture
def quirky_db(tmp_path: Path) -> Path:
    return _build(tmp_path / "legacy" / "quirky.db", QUIRKY)


@pytest.mark.parametrize("chunk_rows", [1, 3, 1000])
@pytest.mark.parametrize("table", ["TXT", "NUMS", "PAIR", "LOG", "ODD"])
def test_engine_and_generic_paths_stage_identical_rows_hashes_and_checksums(
    quirky_db: Path, make_workspace: Any, table: str, chunk_rows: int
) -> None:
    by_engine = _settings(make_workspace, quirky_db)
    by_python = _settings(make_workspace, quirky_db)
    fast = _run(by_engine, table, generic=False, chunk_rows=chunk_rows)
    slow = _run(by_python, table, generic=True, chunk_rows=chunk_rows)
    assert (fast.method, slow.method) == ("engine", "python")
    assert (fast.rows, fast.checksum, fast.status) == (slow.rows, slow.checksum, slow.status)
    assert fast.rows == len(QUIRKY[table][1])
    stg = f"stg_q_{table.lower()}"
    assert staged(by_engine, stg) == staged(by_python, stg)


def test_floats_are_hashed_as_python_writes_them_not_as_sqlite_does(
    quirky_db: Path, make_workspace: Any
) -> None:
    settings = _settings(make_workspace, quirky_db)
    assert _run(settings, "NUMS", generic=False).method == "engine"
    con = sqlite3.connect(quirky_db)
    source = {r[0]: r for r in con.execute("SELECT * FROM NUMS")}
    con.close()
    assert canonical(source[1]) == '[1,4611686018427387904,0.30000000000000004,1.5,"5"]'
    assert canonical(source[5]) == '[5,"12a",Infinity,1e-07,"x"]'
    hashes = {r[0]: r[-1] for r in staged(settings, "stg_q_nums")}
    assert hashes == {
        k: hashlib.blake2b(canonical(row).encode(), digest_size=16).hexdigest()
        for k, row in source.items()
    }


@pytest.mark.parametrize(
    ("table", "extra", "method"),
    [
        pytest.param("UNQ", {"keys": {"UNQ": ["K"]}}, "python", id="key-without-unique-index"),
        pytest.param("PAIR", {"keys": {"PAIR": ["B", "A"]}}, "python", id="key-order-needs-a-sort"),
        pytest.param("BLB", {}, "engine+python", id="blob-values-after-two-chunks"),
    ],
)
def test_a_table_the_engine_cannot_copy_exactly_is_staged_by_the_generic_path(
    tmp_path: Path, make_workspace: Any, table: str, extra: dict[str, Any], method: str
) -> None:
    blobs = {
        "BLB": (
            "CREATE TABLE BLB (ID CHAR(3) PRIMARY KEY, DATA BLOB)",
            [(f"{c}  ", None) for c in "abcdef"] + [("g  ", b"\x00\xff"), ("h  ", b"text")],
        )
    }
    db = _build(tmp_path / "l" / "o.db", {"UNQ": QUIRKY["UNQ"], "PAIR": QUIRKY["PAIR"], **blobs})
    settings = _settings(make_workspace, db, **extra)
    reference = _settings(make_workspace, db, **extra)
    result = _run(settings, table, generic=False)
    expected = _run(reference, table, generic=True)
    assert result.method == method
    assert (result.rows, result.checksum) == (expected.rows, expected.checksum)
    stg = f"stg_q_{table.lower()}"
    assert staged(settings, stg) == staged(reference, stg)


def test_a_null_key_stops_the_extraction_as_on_the_generic_path(
    tmp_path: Path, make_workspace: Any
) -> None:
    db = _build(
        tmp_path / "l" / "n.db",
        {"NK": ("CREATE TABLE NK (ID CHAR(2) PRIMARY KEY, V TEXT)", [("a ", "1"), (None, "2")])},
    )
    with pytest.raises(ExtractError, match="NULL at position 0"):
        _run(_settings(make_workspace, db), "NK", generic=False)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(False, False, id="engine-then-engine"),
        pytest.param(False, True, id="engine-then-generic"),
        pytest.param(True, False, id="generic-then-engine"),
    ],
)
@pytest.mark.parametrize("table", ["PAIR", "LOG", "TXT"])
def test_an_interrupted_staging_resumes_on_either_path_and_ends_identical(
    quirky_db: Path, make_workspace: Any, table: str, first: bool, second: bool
) -> None:
    reference = _settings(make_workspace, quirky_db)
    expected = _run(reference, table, generic=True, run_id="ref")
    settings = _settings(make_workspace, quirky_db)
    with pytest.raises(_HaltError):
        _run(settings, table, generic=first, run_id="first", stop_after=2)
    stg = f"stg_q_{table.lower()}"
    assert len(staged(settings, stg)) == 6  # two chunks of three, each with its checkpoint
    resumed = _run(settings, table, generic=second, run_id="second")
    assert resumed.status == "resumed"
    assert resumed.written == expected.rows - 6
    assert (resumed.rows, resumed.checksum) == (expected.rows, expected.checksum)
    assert staged(settings, stg, meta=False) == staged(reference, stg, meta=False)
    assert [r[-4] for r in staged(settings, stg)] == ["first"] * 6 + ["second"] * (
        expected.rows - 6
    )


@pytest.mark.parametrize("table", ["PAIR", "LOG", "NUMS"])
def test_engine_fingerprints_equal_the_python_ones_for_whole_tables_and_prefixes(
    quirky_db: Path, make_workspace: Any, table: str
) -> None:
    settings = _settings(make_workspace, quirky_db)
    source = open_source("q", settings.source("q"))
    staging = Staging(settings.staging.url.get_secret_value())
    info = source.describe(table)
    try:
        with open_engine_copy(staging, source, info) as engine:
            assert engine is not None
            for limit in (None, 0, 1, 4, len(QUIRKY[table][1]), 100):
                got = engine.fingerprint(limit=limit)
                want = fingerprint(source, info, chunk_rows=3, limit=limit)
                if limit is None:  # the whole table: the last key is not needed
                    want = (want[0], None)
                assert got == want, limit
    finally:
        staging.dispose()
        source.close()


def test_the_source_is_attached_read_only_and_left_untouched(
    quirky_db: Path, make_workspace: Any
) -> None:
    before = (quirky_db.read_bytes(), quirky_db.stat().st_mtime_ns)
    settings = _settings(make_workspace, quirky_db)
    source = open_source("q", settings.source("q"))
    staging = Staging(settings.staging.url.get_secret_value())
    try:
        with open_engine_copy(staging, source, source.describe("TXT")) as engine:
            assert engine is not None
            with pytest.raises(sa.exc.OperationalError, match="readonly"):
                engine._conn.exec_driver_sql("DELETE FROM cutover_source.TXT")
    finally:
        staging.dispose()
        source.close()
    assert _run(settings, "TXT", generic=False).method == "engine"
    assert (quirky_db.read_bytes(), quirky_db.stat().st_mtime_ns) == before
    assert sorted(p.name for p in quirky_db.parent.iterdir()) == ["quirky.db"]


def test_sqlite_json_array_writes_every_character_as_the_canonical_serialization() -> None:
    con = sqlite3.connect(":memory:")
    try:
        points = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
        for start in range(0, len(points), 4096):
            text = "".join(map(chr, points[start : start + 4096]))
            (written,) = con.execute("SELECT json_array(?, ?, ?)", (text, None, 7)).fetchone()
            assert written == canonical((text, None, 7)), hex(points[start])
        for number in (0, -1, 2**63 - 1, -(2**63)):
            (written,) = con.execute("SELECT json_array(?)", (number,)).fetchone()
            assert written == canonical((number,)) == json.dumps([number])
    finally:
        con.close()


def test_text_that_is_not_utf8_is_refused_by_the_engine_as_by_the_generic_path(
    tmp_path: Path, make_workspace: Any
) -> None:
    """The engine hashes text as its bytes; bytes that are not UTF-8 must not be hashed as
    they stand, but fail as reading them as text fails on the generic path."""
    db = tmp_path / "l" / "bad.db"
    db.parent.mkdir()
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE BAD (ID CHAR(3) PRIMARY KEY, NM TEXT)")
    con.executemany("INSERT INTO BAD VALUES (?, ?)", [(f"{c}  ", "é") for c in "abcdef"])
    con.execute("INSERT INTO BAD VALUES ('g  ', CAST(X'41FF42' AS TEXT))")
    con.commit()
    con.close()
    outcomes = []
    for generic in (False, True):
        try:
            result = _run(_settings(make_workspace, db), "BAD", generic=generic)
            outcomes.append((result.rows, result.checksum))
        except Exception as exc:  # noqa: BLE001 - the two paths must fail alike
            outcomes.append((type(exc).__name__, str(exc).split(":")[0]))
    assert outcomes[0] == outcomes[1]


@pytest.fixture
def split(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Share every keyed copy out to ``parts`` processes, however few its rows."""

    def share(parts: int) -> None:
        monkeypatch.setattr(engine_copy, "SPLIT_ROWS", 1)
        monkeypatch.setattr(engine_copy, "worker_count", lambda _limit: parts)

    return share


def _parts_left(settings: Settings) -> list[str]:
    folder = Path(str(settings.staging.url.get_secret_value()).removeprefix("sqlite:///")).parent
    return sorted(p.name for p in folder.iterdir() if ".extract-" in p.name)


@pytest.mark.parametrize("parts", [2, 3])
@pytest.mark.parametrize("chunk_rows", [1, 3, 1000])
@pytest.mark.parametrize("table", ["TXT", "NUMS", "PAIR"])
def test_a_copy_shared_out_to_workers_stages_what_one_process_stages(
    quirky_db: Path,
    make_workspace: Any,
    split: Callable[[int], None],
    table: str,
    chunk_rows: int,
    parts: int,
) -> None:
    """Text keys, a rowid key and a composite key, in ranges staged by worker processes and
    copied in after this process's own: the same rows, positions, hashes and checksum."""
    reference = _settings(make_workspace, quirky_db)
    expected = _run(reference, table, generic=True)
    split(parts)
    settings = _settings(make_workspace, quirky_db)
    with capture_logs() as logs:
        result = _run(settings, table, generic=False, chunk_rows=chunk_rows)
    taken = [e for e in logs if e["event"] == "engine_part_taken"]
    assert len(taken) == parts - 1
    assert sum(e["rows"] for e in taken) > 0
    assert result.method == "engine"
    assert (result.rows, result.checksum) == (expected.rows, expected.checksum)
    stg = f"stg_q_{table.lower()}"
    assert staged(settings, stg) == staged(reference, stg)
    assert _parts_left(settings) == []


def test_a_part_whose_worker_fails_is_dropped_and_its_rows_go_the_generic_way(
    tmp_path: Path, make_workspace: Any, split: Callable[[int], None]
) -> None:
    """A BLOB in the worker's range: the worker fails, this process copies that range itself,
    meets the BLOB and hands the rest to the generic path, as without workers."""
    rows = [(f"{c}  ", None) for c in "abcdefgh"] + [("i  ", b"\x00\xff"), ("j  ", None)]
    db = _build(
        tmp_path / "l" / "b.db",
        {"BLB": ("CREATE TABLE BLB (ID CHAR(3) PRIMARY KEY, D BLOB)", rows)},
    )
    reference = _settings(make_workspace, db)
    expected = _run(reference, "BLB", generic=True)
    split(2)
    settings = _settings(make_workspace, db)
    with capture_logs() as logs:
        result = _run(settings, "BLB", generic=False)
    dropped = [e for e in logs if e["event"] == "engine_part_dropped"]
    assert [e["reason"] for e in dropped] == ["OperationalError"]
    assert result.method == "engine+python"
    assert (result.rows, result.checksum) == (expected.rows, expected.checksum)
    assert staged(settings, "stg_q_blb") == staged(reference, "stg_q_blb")
    assert _parts_left(settings) == []


@pytest.mark.parametrize("table", ["PAIR", "TXT"])
def test_a_shared_out_copy_interrupted_resumes_and_ends_identical(
    quirky_db: Path, make_workspace: Any, split: Callable[[int], None], table: str
) -> None:
    """Stopped after this process's second chunk, while a worker stages a later range: the
    worker ends, its part is deleted; the copy resumes from the checkpoint, shared out again."""
    reference = _settings(make_workspace, quirky_db)
    expected = _run(reference, table, generic=True, run_id="ref")
    split(2)
    settings = _settings(make_workspace, quirky_db)
    with pytest.raises(_HaltError):
        _run(settings, table, generic=False, run_id="first", chunk_rows=1, stop_after=2)
    stg = f"stg_q_{table.lower()}"
    assert len(staged(settings, stg)) == 2
    assert _parts_left(settings) == []
    resumed = _run(settings, table, generic=False, run_id="second", chunk_rows=1)
    assert (resumed.status, resumed.written) == ("resumed", expected.rows - 2)
    assert (resumed.rows, resumed.checksum) == (expected.rows, expected.checksum)
    assert staged(settings, stg, meta=False) == staged(reference, stg, meta=False)
    assert _parts_left(settings) == []


def _killed_part(_job: Any, _sender: Any) -> None:
    os._exit(1)  # a worker killed mid-range: it sends nothing home


def test_a_part_whose_worker_is_killed_is_copied_by_this_process(
    quirky_db: Path,
    make_workspace: Any,
    split: Callable[[int], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reference = _settings(make_workspace, quirky_db)
    expected = _run(reference, "PAIR", generic=True)
    split(2)
    monkeypatch.setattr(engine_copy, "_stage_part", _killed_part)
    settings = _settings(make_workspace, quirky_db)
    with capture_logs() as logs:
        result = _run(settings, "PAIR", generic=False)
    dropped = [e["reason"] for e in logs if e["event"] == "engine_part_dropped"]
    assert dropped == ["EngineUnsuitableError"]
    assert result.method == "engine"
    assert (result.rows, result.checksum) == (expected.rows, expected.checksum)
    assert staged(settings, "stg_q_pair") == staged(reference, "stg_q_pair")
    assert _parts_left(settings) == []


def _stage_part_noting_pages(job: Any, sender: Any) -> None:
    """A worker that stages its range as the real one does, and writes the page size of its
    part beside it before sending the part home."""
    found = engine_copy._staged_part(job)
    part = Path(job.path)
    with closing(sqlite3.connect(part)) as conn:
        pages = conn.execute("PRAGMA page_size").fetchone()[0]
    (part.parent / f"pages-{os.getpid()}").write_text(str(pages))
    sender.send((True, found))
    sender.close()


def test_staging_and_the_workers_parts_are_written_in_large_pages(
    quirky_db: Path,
    make_workspace: Any,
    split: Callable[[int], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    split(3)
    monkeypatch.setattr(engine_copy, "_stage_part", _stage_part_noting_pages)
    settings = _settings(make_workspace, quirky_db)
    with capture_logs() as logs:
        result = _run(settings, "PAIR", generic=False)
    assert len([e for e in logs if e["event"] == "engine_part_taken"]) == 2
    assert result.method == "engine"
    database = Path(str(settings.staging.url.get_secret_value()).removeprefix("sqlite:///"))
    noted = sorted(p.read_text() for p in database.parent.glob("pages-*"))
    assert noted == [str(PAGE_SIZE)] * 2
    with closing(sqlite3.connect(database)) as conn:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
    assert _parts_left(settings) == []
