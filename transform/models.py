"""The mapping file format, as frozen pydantic models (unknown keys are errors).

A mapping folder (``mappings/<legacy-system>/``) holds:

- ``project.yaml`` with one top-level key ``project`` (:class:`ProjectSpec`): the source system's
  name, the default staged source, the mapping version, and the sentinel and flag vocabularies;
- any number of other ``*.yaml`` files, each with any of the top-level keys ``tables``
  (:class:`TableSpec` per target table), ``crosswalks`` (:class:`CrosswalkSpec`),
  ``duplicates`` (:class:`DuplicateSpec`) and ``references`` (:class:`ReferenceSpec`);
- crosswalk and reference CSV files referenced by ``file:``.

Expressions (column values, conditions) are kept as written here and parsed with their lines by
:mod:`transform.expressions`. ``tests/transform/fixtures/example/`` is a commented example.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CrosswalkEntry",
    "CrosswalkSpec",
    "DuplicateSpec",
    "FromSpec",
    "JoinSpec",
    "MappingFile",
    "MatchRule",
    "MergeRecordSpec",
    "PrecedenceSpec",
    "ProjectFile",
    "ProjectSpec",
    "ReferenceSpec",
    "RepointSpec",
    "SurvivorSpec",
    "TableSpec",
]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


SentinelValue = dt.date | bool | None


class ProjectSpec(_Strict):
    """``project.yaml``: what the whole folder shares."""

    #: Written to every row's ``_source_system``.
    source_system: str
    #: Staged source of a table named without ``source.`` (staged name ``stg_<source>_<table>``).
    default_source: str
    #: Written to every row's ``_mapping_version``; bump it when a mapping changes meaning.
    version: str
    #: ``_batch`` of a row whose batch expression gives nothing (e.g. an orphan).
    unknown_batch: str = "_UNASSIGNED"
    #: Named vocabularies for ``date``/``month``: trimmed raw value -> ``null`` or a date.
    sentinels: dict[str, dict[str, dt.date | None]] = Field(default_factory=dict)
    #: Named vocabularies for ``flag``: trimmed, upper-cased raw value -> true, false or null.
    flags: dict[str, dict[str, bool | None]] = Field(default_factory=dict)
    #: Vocabulary used when an expression names none: keys ``date``, ``month``, ``flag``.
    defaults: dict[Literal["date", "month", "flag"], str] = Field(default_factory=dict)


class ProjectFile(_Strict):
    project: ProjectSpec


class FromSpec(_Strict):
    table: str
    alias: str | None = Field(default=None, alias="as")


class JoinSpec(_Strict):
    """A many-to-one lookup, always a LEFT JOIN (a join never drops a source row).

    ``on`` maps a column of an earlier table (``alias.COL``) to a column of this one; values are
    compared as stored. ``where`` is a condition that a row of this table must meet to match
    (e.g. one document type), written like a table's ``where``.
    """

    table: str
    alias: str | None = Field(default=None, alias="as")
    on: dict[str, str]
    where: Any = None


class PrecedenceSpec(_Strict):
    """Source precedence for one fact: ``primary`` wins where it has a value; the column's own
    expression is the secondary. Where both have a value and differ, a disagreement is recorded.

    ``mode: record`` keeps the column's own value and only records the disagreements: for a
    column that must stay as the legacy system held it (a value its own dates were computed
    from) while the primary file is migrated elsewhere and applied downstream.
    """

    fact: str
    column: str
    primary: Any
    mode: Literal["apply", "record"] = "apply"


class TableSpec(_Strict):
    """How one target table is filled."""

    source: FromSpec | str = Field(alias="from")
    join: list[JoinSpec] = Field(default_factory=list)
    where: Any = None
    #: ``_batch`` expression; omitted means ``_GLOBAL`` (catalogue rows).
    batch: Any = None
    #: A ``duplicates`` rule: rows it merges into a survivor are counted as merged, not loaded.
    dedupe: str | None = None
    columns: dict[str, Any]
    #: Target columns left empty on purpose (otherwise an unfilled column is an error).
    unfilled: list[str] = Field(default_factory=list)
    #: Extra orphan checks: target column -> ``table.column`` of another mapped target table.
    references: dict[str, str] = Field(default_factory=dict)
    precedence: list[PrecedenceSpec] = Field(default_factory=list)


class CrosswalkEntry(_Strict):
    code: str
    canonical: str
    institution: str | None = None
    rate: float | None = None
    eff_from: dt.date | None = None
    eff_to: dt.date | None = None


class CrosswalkSpec(_Strict):
    """Legacy code -> canonical code, global or per institution, effective-dated.

    ``rate_policy``: ``keep`` returns each entry's own rate, ``harmonize`` the canonical code's
    rate from ``canonical``. Entries come inline or from ``file`` (CSV beside the mapping with
    the header ``institution,code,canonical,rate,eff_from,eff_to``; blank cells are empty).
    """

    per_institution: bool = False
    rate_policy: Literal["keep", "harmonize"] = "keep"
    canonical: dict[str, dict[Literal["rate"], float]] = Field(default_factory=dict)
    entries: list[CrosswalkEntry] = Field(default_factory=list)
    file: str | None = None


class MatchRule(_Strict):
    """Two master rows are one when every expression is equal and non-null on both."""

    name: str
    columns: list[Any] = Field(min_length=1)


class SurvivorSpec(_Strict):
    """``lowest_key``: the smallest trimmed key survives. ``latest``: the largest ``column``
    value survives (ties: the smallest key)."""

    rule: Literal["lowest_key", "latest"]
    column: Any = None


class MergeRecordSpec(_Strict):
    """The target table recording each merge; ``columns`` maps a target column to ``survivor``,
    ``merged`` (trimmed keys), ``rule`` (the match rule's name) or ``run_id`` (the run's)."""

    table: str
    columns: dict[str, Literal["survivor", "merged", "rule", "run_id"]]
    unfilled: list[str] = Field(default_factory=list)


class RepointSpec(_Strict):
    """A staged column holding a master key; its merged keys read as the survivor's."""

    table: str
    column: str


class DuplicateSpec(_Strict):
    table: str
    key: str
    match: list[MatchRule] = Field(min_length=1)
    survivor: SurvivorSpec
    record: MergeRecordSpec
    batch: Any = None
    repoint: list[RepointSpec] = Field(default_factory=list)


class ReferenceSpec(_Strict):
    """A reference table the legacy system never held (a catalogue the new system needs, such
    as canonical tasks or roles), kept as a CSV file beside the mapping.

    The engine stages it like a legacy table, as ``stg_ref_<name>`` (source ``ref``; columns
    from the CSV header, values as text, untrimmed), so a table mapping reads it with
    ``from: ref.NAME`` and its rows are accounted for like any other. ``key`` names the
    columns that identify a row (``_src_key``); they must be unique and non-blank.
    """

    file: str
    key: list[str] = Field(min_length=1)


class MappingFile(_Strict):
    tables: dict[str, TableSpec] = Field(default_factory=dict)
    crosswalks: dict[str, CrosswalkSpec] = Field(default_factory=dict)
    duplicates: dict[str, DuplicateSpec] = Field(default_factory=dict)
    references: dict[str, ReferenceSpec] = Field(default_factory=dict)
