"""The public surface, the registry, and the hashing contract staging promises to readers."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Generator, Sequence
from decimal import Decimal
from hashlib import blake2b

import pytest
from extract_helpers import staged

import extract
from cutover.errors import ConfigError
from cutover.runs import start_run
from cutover.settings import Settings, SourceSettings
from extract import (
    Checkpoint,
    Column,
    Row,
    Source,
    TableInfo,
    canonical,
    extract_sources,
    open_source,
    register_source,
    row_digest,
    source_kinds,
    staged_table_name,
    to_hex,
)
from extract.hashing import combine, row_hash


def test_public_surface_is_pinned() -> None:
    assert set(extract.__all__) >= {
        "Source",
        "register_source",
        "open_source",
        "extract_sources",
        "verify_sources",
        "profile_table",
        "staged_table_name",
        "TABLES_TABLE",
        "CHECKPOINTS_TABLE",
    }
    assert all(hasattr(extract, name) for name in extract.__all__)


def test_builtin_kinds_are_registered_by_name() -> None:
    assert {"sqlalchemy", "odbc", "delimited", "fixed_width"} <= set(source_kinds())


class _Static:
    """A plugin source with two rows in memory; it honours chunk size and checkpoints."""

    def __init__(self, name: str, settings: SourceSettings) -> None:
        self.name = name
        self.table = settings.table or "T"
        self.rows: list[Row] = [("a", 1), ("b", 2), ("c", 3)]

    def tables(self) -> list[str]:
        return [self.table]

    def describe(self, table: str) -> TableInfo:
        assert table == self.table
        return TableInfo(table, (Column("C"), Column("N", "integer")), ("C",))

    def read(
        self, table: TableInfo, *, chunk_rows: int, after: Checkpoint | None = None
    ) -> Generator[Sequence[Row], None, None]:
        rows = [r for r in self.rows if after is None or after.key is None or r[0] > after.key[0]]
        for start in range(0, len(rows), chunk_rows):
            yield rows[start : start + chunk_rows]
        assert table.name == self.table

    def close(self) -> None:
        self.rows = []


def test_a_plugin_registers_through_the_same_call_as_the_builtins(
    make_workspace: Callable[..., Settings],
) -> None:
    register_source("static-test", _Static, replace=True)
    settings = make_workspace({"s": {"kind": "static-test", "table": "MEM", "chunk_rows": 2}})
    source = open_source("s", settings.source("s"))
    assert isinstance(source, Source)
    assert source.tables() == ["MEM"]
    with start_run(settings, "extract", actor="tester") as run:
        (result,) = extract_sources(settings, run=run)
    assert (result.stg_table, result.rows, result.status) == ("stg_s_mem", 3, "new")
    assert [r[:2] for r in staged(settings, "stg_s_mem", meta=False)] == source.rows
    with pytest.raises(ConfigError, match="already registered"):
        register_source("static-test", _Static)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(("5",), (5,), id="text-vs-integer"),
        pytest.param(("5",), ("5 ",), id="padding-matters"),
        pytest.param(("",), (None,), id="blank-vs-null"),
        pytest.param(("a", "b"), ("a,b",), id="no-separator-collision"),
        pytest.param((dt.date(2020, 1, 2),), ("2020-01-02",), id="date-vs-text"),
        pytest.param((Decimal("1.5"),), (1.5,), id="decimal-vs-float"),
    ],
)
def test_row_hash_tells_apart_values_a_careless_serialization_would_merge(a: Row, b: Row) -> None:
    assert row_digest(a) != row_digest(b)


def test_row_hash_is_blake2b_128_of_the_documented_canonical_json() -> None:
    row = ("000123456", "SMITH   ", None, 5, dt.date(2001, 2, 3), b"\x01")
    text = canonical(row)
    assert text == '["000123456","SMITH   ",null,5,{"$date":"2001-02-03"},{"$hex":"01"}]'
    assert to_hex(row_digest(row)) == blake2b(text.encode(), digest_size=16).hexdigest()


def test_table_checksum_ignores_order_but_counts_duplicates() -> None:
    rows = [("a",), ("b",), ("c",)]
    forward = backward = 0
    for row in rows:
        forward = combine(forward, row_digest(row))
    for row in reversed(rows):
        backward = combine(backward, row_digest(row))
    assert forward == backward
    doubled = combine(combine(forward, row_digest(("a",))), row_digest(("a",)))
    assert doubled != forward


@pytest.mark.parametrize(
    ("source", "table", "expected"),
    [
        pytest.param("obscis", "OFFNDR", "stg_obscis_offndr", id="lower-case"),
        pytest.param("documents", "DOC_IDX", "stg_documents_doc_idx", id="underscore-kept"),
        pytest.param("My Source", "CR-TXN", "stg_my_source_cr_txn", id="other-characters"),
    ],
)
def test_staged_table_name_follows_the_contract(source: str, table: str, expected: str) -> None:
    assert staged_table_name(source, table) == expected


def _documented_tag(value: object) -> object:
    """The tags the hashing contract documents, written out here independently."""
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value.normalize())}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$hex": bytes(value).hex()}
    raise TypeError(type(value).__name__)


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(("A  ", "", "é日本\U0001f600", "\u2028", 'q"b\\s/'), id="text"),
        pytest.param(("\x00\x01\x08\t\n\x0b\x0c\r\x1f\x7f\x80",), id="control-characters"),
        pytest.param((0, -1, 2**63 - 1, -(2**63), 10**30, True, False, None), id="integers"),
        pytest.param((0.1 + 0.2, 1e16, 1e-7, -0.0, 5.0, 2.5e300), id="floats"),
        pytest.param((float("inf"), float("-inf"), float("nan")), id="non-finite-floats"),
        pytest.param(
            (
                dt.date(2001, 2, 3),
                dt.datetime(2001, 2, 3, 4, 5, 6, 7, tzinfo=dt.UTC),
                dt.time(23, 59),
            ),
            id="dates-and-times",
        ),
        pytest.param((Decimal("1.50"), Decimal("-0"), Decimal("1E+3")), id="decimals"),
        pytest.param((b"", b"\x00\xff", bytearray(b"ab"), memoryview(b"cd")), id="binary"),
    ],
)
def test_canonical_is_the_documented_json_dumps_of_the_row(row: Row) -> None:
    reference = json.dumps(
        list(row), ensure_ascii=False, separators=(",", ":"), default=_documented_tag
    )
    assert canonical(row) == reference
    assert canonical(list(row)) == canonical(iter(row)) == reference
    digest, hexed = row_hash(row)
    expected = blake2b(reference.encode(), digest_size=16)
    assert (digest, hexed) == (int(expected.hexdigest(), 16), expected.hexdigest())
    assert (row_digest(row), to_hex(row_digest(row))) == (digest, hexed)


def test_an_unserializable_value_is_refused_not_guessed() -> None:
    with pytest.raises(TypeError, match="complex"):
        canonical((1j,))
