"""``cutover extract --verify``: re-read the source and prove staging matches it.

For each table both sides are streamed in extraction order: the source as it is now, and the
staged rows by ``_src_pos``, each staged row re-hashed from its staged values (so a value altered
in staging is caught even if its ``_row_hash`` was not). Counts and checksums are compared per
table, then per range of ``chunk_rows`` positions (the chunk boundaries of the extraction); each
differing range is reported with its positions and the keys at its ends. A staged row whose stored
``_row_hash`` disagrees with its values is counted too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from cutover.logs import get_logger
from cutover.overlap import read_ahead
from cutover.settings import Settings
from extract.base import Row, Source, TableInfo
from extract.hashing import Fingerprint, combine, row_digest, row_hash, to_hex
from extract.retry import RetryPolicy, retrying, translate
from extract.selection import open_plan
from extract.staging import Staging, staged_table_name

__all__ = ["RangeDiff", "TableVerification", "verify_sources", "verify_table"]


@dataclass
class _Bucket:
    rows: int = 0
    checksum: int = 0
    first_key: str | None = None
    last_key: str | None = None


@dataclass(frozen=True)
class RangeDiff:
    """One range of positions ``[first_pos, last_pos]`` where source and staging differ."""

    first_pos: int
    last_pos: int
    source_rows: int
    staged_rows: int
    source_keys: tuple[str | None, str | None]
    staged_keys: tuple[str | None, str | None]


@dataclass(frozen=True)
class TableVerification:
    source: str
    table: str
    stg_table: str
    source_fp: Fingerprint
    staged_fp: Fingerprint
    ranges: list[RangeDiff] = field(default_factory=list)
    #: Staged rows whose stored ``_row_hash`` disagrees with their values.
    bad_row_hashes: int = 0
    #: The staged table is missing or its staging is still under way.
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return (
            self.problem is None
            and self.source_fp == self.staged_fp
            and not self.ranges
            and self.bad_row_hashes == 0
        )


def _key_text(info: TableInfo) -> Callable[[Any, int], str]:
    """A source row's key as staged (``_src_key``): key values joined by ``|``, or the position."""
    indexes = info.key_indexes
    if not indexes:
        return lambda _row, position: str(position)
    return lambda row, _position: "|".join(str(row[i]) for i in indexes)


def _staged_key(key: Any, _position: int) -> str:
    return str(key)


def _source_rows(source: Source, info: TableInfo, chunk_rows: int) -> Iterator[tuple[int, Row]]:
    # The next chunk is read while this thread hashes the current one.
    with read_ahead(lambda: source.read(info, chunk_rows=chunk_rows), name="verify-read") as chunks:
        for chunk in chunks:
            for row in chunk:
                yield row_digest(row), row


def _buckets(
    pairs: Iterator[tuple[int, Any]], chunk_rows: int, key_text: Callable[[Any, int], str]
) -> dict[int, _Bucket]:
    """Rows, checksum and end keys per range of ``chunk_rows`` positions, from ``(digest, what
    the key is made from)`` pairs in position order; keys are made at the ends of ranges only."""
    buckets: dict[int, _Bucket] = {}
    bucket = _Bucket()
    position = -1
    previous: Any = None
    for position, (digest, ref) in enumerate(pairs):
        if position % chunk_rows == 0:
            if position:
                bucket.last_key = key_text(previous, position - 1)
            bucket = buckets[position // chunk_rows] = _Bucket(first_key=key_text(ref, position))
        bucket.rows += 1
        bucket.checksum += digest
        previous = ref
    if position >= 0:
        bucket.last_key = key_text(previous, position)
    for b in buckets.values():
        b.checksum = combine(b.checksum, 0)
    return buckets


def _fp(buckets: dict[int, _Bucket]) -> Fingerprint:
    checksum = 0
    for b in buckets.values():
        checksum = combine(checksum, b.checksum)
    return Fingerprint.of(sum(b.rows for b in buckets.values()), checksum)


def verify_table(
    staging: Staging, source: Source, info: TableInfo, *, chunk_rows: int
) -> TableVerification:
    stg_name = staged_table_name(source.name, info.name)
    state = staging.state(stg_name)
    src_buckets = _buckets(_source_rows(source, info, chunk_rows), chunk_rows, _key_text(info))
    source_fp = _fp(src_buckets)
    if state is None or not staging.exists(stg_name):
        return TableVerification(
            source.name, info.name, stg_name, source_fp, Fingerprint(0, to_hex(0)),
            problem="not staged: run 'cutover extract'",
        )  # fmt: skip
    table = staging.table_for(stg_name, info)
    width = len(info.columns)
    bad = 0

    def staged() -> Iterator[tuple[int, Any]]:
        nonlocal bad
        for chunk in staging.staged_rows(table, chunk_rows=chunk_rows):
            for row in chunk:
                digest, hexed = row_hash(row[:width])
                if hexed != row[width + 3]:
                    bad += 1
                yield digest, row[width + 2]

    stg_buckets = _buckets(staged(), chunk_rows, _staged_key)
    ranges: list[RangeDiff] = []
    for index in sorted(set(src_buckets) | set(stg_buckets)):
        a = src_buckets.get(index, _Bucket())
        b = stg_buckets.get(index, _Bucket())
        if a.rows != b.rows or a.checksum != b.checksum:
            first = index * chunk_rows
            ranges.append(
                RangeDiff(
                    first,
                    first + max(a.rows, b.rows) - 1,
                    a.rows,
                    b.rows,
                    (a.first_key, a.last_key),
                    (b.first_key, b.last_key),
                )
            )
    problem = None
    if state.status == "extracting":
        problem = "staging was interrupted: rerun 'cutover extract' to finish it"
    return TableVerification(
        source.name, info.name, stg_name, source_fp, _fp(stg_buckets), ranges, bad, problem
    )


def _verify_once(
    staging: Staging, source: Source, table_name: str, *, chunk_rows: int
) -> TableVerification:
    try:
        info = source.describe(table_name)
        return verify_table(staging, source, info, chunk_rows=chunk_rows)
    except sa.exc.SQLAlchemyError as exc:  # the staging database's own errors
        raise translate(exc, source="staging", table=table_name, action="read staging") from exc


def verify_sources(
    settings: Settings,
    *,
    sources: Sequence[str] = (),
    tables: Sequence[str] = (),
    policy: RetryPolicy | None = None,
    chunk_rows: int | None = None,
) -> list[TableVerification]:
    """Verify every table of the chosen sources (default all) against its staged copy."""
    policy = policy or RetryPolicy()
    staging = Staging(settings.staging.url.get_secret_value())
    results: list[TableVerification] = []
    try:
        with open_plan(
            settings, sources=sources, tables=tables, policy=policy, chunk_rows=chunk_rows
        ) as plan:
            for planned in plan:
                for table_name in planned.tables:
                    once = functools.partial(
                        _verify_once,
                        staging,
                        planned.source,
                        table_name,
                        chunk_rows=planned.chunk_rows,
                    )
                    what = f"verify {planned.source.name}.{table_name}"
                    result = retrying(once, policy, what=what)
                    get_logger("extract.verify").info(
                        "table_verified",
                        source=result.source,
                        table=result.table,
                        stg_table=result.stg_table,
                        ok=result.ok,
                        source_rows=result.source_fp.rows,
                        staged_rows=result.staged_fp.rows,
                        differing_ranges=len(result.ranges),
                        bad_row_hashes=result.bad_row_hashes,
                    )
                    results.append(result)
    finally:
        staging.dispose()
    return results
