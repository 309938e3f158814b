"""The ``delimited`` and ``fixed_width`` sources: one flat file, one staged table.

Values are staged raw, as text exactly as in the file (quotes removed by the CSV dialect, padding
kept), in file order; ``_src_pos`` is the record's ordinal and resuming skips that many records.

Layout file (required for ``fixed_width``, optional for ``delimited``): a CSV file with the header
``name,start,length,type``, one line per field::

    name,start,length,type
    OFF_ID,1,9,text
    TERM_DYS,10,3,integer

- ``start`` is the 1-based character position of the field, ``length`` its width in characters
  (both ignored, and may be blank, for delimited files, whose fields are matched by order);
- ``type`` is ``text`` (the default when blank: the raw characters, padding kept) or
  ``integer`` (surrounding spaces removed, converted; a blank field becomes NULL and anything else
  that is not an integer stops the extraction with the file, record and field named).

In a fixed-width file, a line is a record; an empty line (no characters at all) is not one.
For a delimited file without a header line the layout also names the columns; with a header and
no layout every column is text.
"""

from __future__ import annotations

import csv
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from cutover.errors import ConfigError, ExtractError
from cutover.settings import SourceSettings
from extract.base import Checkpoint, Column, ColumnKind, Row, TableInfo, register_source
from extract.selection import pick_key

__all__ = ["DelimitedSource", "FixedWidthSource", "LayoutField", "read_layout"]

_TYPES: dict[str, ColumnKind] = {"": "text", "text": "text", "integer": "integer"}


@dataclass(frozen=True)
class LayoutField:
    name: str
    start: int
    length: int
    kind: ColumnKind


def read_layout(path: Path, *, widths: bool) -> list[LayoutField]:
    """Parse a layout file; every problem is reported at once with its line number."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            records = list(csv.DictReader(fh))
    except OSError as exc:
        raise ConfigError(
            f"cannot read layout file {path}: {exc.strerror}", file=str(path)
        ) from exc
    fields: list[LayoutField] = []
    problems: list[str] = []
    for line, rec in enumerate(records, start=2):
        name = (rec.get("name") or "").strip()
        kind = (rec.get("type") or "").strip().lower()
        start_text = (rec.get("start") or "").strip()
        length_text = (rec.get("length") or "").strip()
        if not name:
            problems.append(f"line {line}: name is empty")
        if kind not in _TYPES:
            problems.append(f"line {line}: type {kind!r} is not one of text, integer")
        start = length = 0
        if widths or start_text or length_text:
            if not (start_text.isdigit() and length_text.isdigit()):
                problems.append(f"line {line}: start and length must be positive whole numbers")
            else:
                start, length = int(start_text), int(length_text)
                if start < 1 or length < 1:
                    problems.append(f"line {line}: start and length must be at least 1")
        fields.append(LayoutField(name, start, length, _TYPES.get(kind, "text")))
    if not fields and not problems:
        problems.append("the layout lists no fields (header must be name,start,length,type)")
    names = [f.name for f in fields]
    problems.extend(
        f"field {n!r} is listed twice" for n in sorted({n for n in names if names.count(n) > 1})
    )
    if problems:
        raise ConfigError(
            f"layout file {path} is invalid:\n  - " + "\n  - ".join(problems),
            hint="fix every line listed; the header is name,start,length,type",
            file=str(path),
        )
    return fields


def _to_integer(path: Path, record: int, column: str) -> Callable[[str], int | None]:
    def convert(text: str) -> int | None:
        stripped = text.strip()
        if not stripped:
            return None
        try:
            return int(stripped)
        except ValueError:
            raise ExtractError(
                f"{path}: record {record}, field {column!r} is not an integer",
                hint="the layout declares it integer; declare it text to stage it raw",
                file=str(path),
                column=column,
            ) from None

    return convert


class _FileSource(ABC):
    """What both file sources share: one table, file order, resume by position."""

    widths = False

    def __init__(self, name: str, settings: SourceSettings) -> None:
        if settings.path is None:
            raise ConfigError(
                f"source {name!r} of kind {settings.kind!r} needs a path",
                hint=f"set path in [sources.{name}]",
            )
        self.name = name
        self.settings = settings
        self.path: Path = settings.path
        self.table_name = settings.table or self.path.stem.upper()
        self.layout = read_layout(settings.layout, widths=self.widths) if settings.layout else None

    def tables(self) -> list[str]:
        return [self.table_name]

    def _check_table(self, table: str) -> None:
        if table.lower() != self.table_name.lower():
            raise ExtractError(
                f"source {self.name!r} is the file {self.path.name} and holds only the table "
                f"{self.table_name!r}, not {table!r}",
                hint=f"set table in [sources.{self.name}] to name it",
                source=self.name,
                table=table,
            )

    def _open(self) -> TextIO:
        try:
            return self.path.open(encoding=self.settings.encoding, newline="")
        except OSError as exc:
            raise ExtractError(
                f"cannot open {self.path}: {exc.strerror}",
                hint=f"check path in [sources.{self.name}] and that the file is readable",
                source=self.name,
                file=str(self.path),
            ) from exc

    def _info(self, columns: Sequence[Column]) -> TableInfo:
        names = [c.name for c in columns]
        key = pick_key(self.name, self.table_name, names, (), self.settings.keys)
        return TableInfo(self.table_name, tuple(columns), key)

    @abstractmethod
    def _records(self, fh: TextIO) -> Iterator[list[str]]:
        """The file's records as lists of raw field texts, in file order."""

    def _convert(self, columns: Sequence[Column], number: int, values: list[str]) -> Row:
        out: list[Any] = list(values)
        for i, col in enumerate(columns):
            if col.kind == "integer":
                out[i] = _to_integer(self.path, number, col.name)(values[i])
        return tuple(out)

    @contextmanager
    def _decoding(self) -> Iterator[None]:
        try:
            yield
        except UnicodeDecodeError as exc:
            raise ExtractError(
                f"{self.path} is not valid {self.settings.encoding}: {exc.reason}",
                hint=f"set encoding in [sources.{self.name}] (e.g. cp1252, latin-1)",
                source=self.name,
                file=str(self.path),
            ) from exc

    def read(
        self, table: TableInfo, *, chunk_rows: int, after: Checkpoint | None = None
    ) -> Generator[Sequence[Row], None, None]:
        self._check_table(table.name)
        skip = after.position if after is not None else 0
        typed = any(c.kind != "text" for c in table.columns)
        chunk: list[Row] = []
        with self._open() as fh, self._decoding():
            for number, values in enumerate(self._records(fh), start=1):
                if number <= skip:
                    continue
                chunk.append(
                    self._convert(table.columns, number, values) if typed else tuple(values)
                )
                if len(chunk) >= chunk_rows:
                    yield chunk
                    chunk = []
        if chunk:
            yield chunk

    def close(self) -> None:  # noqa: B027 - a file source keeps nothing open between reads
        """Nothing to release: each read opens the file and closes it when done."""


class DelimitedSource(_FileSource):
    """A delimited text file (CSV and kin) with or without a header line."""

    def _header(self) -> list[str]:
        with self._open() as fh, self._decoding():
            first = next(csv.reader(fh, delimiter=self.settings.delimiter), None)
        return first or []

    def describe(self, table: str) -> TableInfo:
        self._check_table(table)
        header = self._header() if self.settings.header else []
        if self.layout is not None:
            columns = [Column(f.name, f.kind) for f in self.layout]
            if header and header != [f.name for f in self.layout]:
                raise ExtractError(
                    f"{self.path}: the header does not match the layout's field names",
                    hint="make the layout list the header's columns in the file's order",
                    source=self.name,
                    file=str(self.path),
                )
        elif header:
            columns = [Column(h) for h in header]
        else:
            raise ConfigError(
                f"source {self.name!r}: {self.path.name} has no header and no layout",
                hint="set header = true, or give a layout file naming the columns",
            )
        return self._info(columns)

    def _records(self, fh: TextIO) -> Iterator[list[str]]:
        reader = csv.reader(fh, delimiter=self.settings.delimiter)
        width = len(self.describe(self.table_name).columns)
        if self.settings.header:
            next(reader, None)
        for values in reader:
            if len(values) != width:
                raise ExtractError(
                    f"{self.path}: record at line {reader.line_num} has {len(values)} fields, "
                    f"the header has {width}",
                    hint="fix the file, or check delimiter and quoting in the source settings",
                    source=self.name,
                    file=str(self.path),
                    line=reader.line_num,
                )
            yield values


class FixedWidthSource(_FileSource):
    """A fixed-width text file described by a layout file."""

    widths = True

    def __init__(self, name: str, settings: SourceSettings) -> None:
        super().__init__(name, settings)
        if self.layout is None:
            raise ConfigError(
                f"source {name!r} of kind 'fixed_width' needs a layout file",
                hint="set layout in the source settings (format: see the extract.files module)",
            )
        self._fields = self.layout

    def describe(self, table: str) -> TableInfo:
        self._check_table(table)
        return self._info([Column(f.name, f.kind) for f in self._fields])

    def _records(self, fh: TextIO) -> Iterator[list[str]]:
        spans = [(f.start - 1, f.start - 1 + f.length) for f in self._fields]
        for line in fh:
            text = line.rstrip("\r\n")
            if not text:
                continue
            yield [text[a:b] for a, b in spans]


def _delimited(name: str, settings: SourceSettings) -> DelimitedSource:
    return DelimitedSource(name, settings)


def _fixed_width(name: str, settings: SourceSettings) -> FixedWidthSource:
    return FixedWidthSource(name, settings)


register_source("delimited", _delimited)
register_source("fixed_width", _fixed_width)
