"""Reading a mapping folder into strict models, every problem collected with file and line.

``load_project(folder)`` reads ``project.yaml`` and every other ``*.yaml`` file of the folder
(sorted by name), validates each into the models of :mod:`transform.models` (and a table's
``unpivot:`` into :class:`UnpivotSpec`), parses every expression
(:mod:`transform.expressions`), reads crosswalk CSV files, and raises one
:class:`cutover.errors.MappingError` listing everything wrong. Checks against the staged and
target schemas come later (:mod:`transform.checker`).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from transform import models as m
from transform.expressions import Cond, Expr, parse_condition, parse_expr
from transform.problems import Problems, suggest
from transform.yamlfile import Path_, YamlDoc, read_yaml

__all__ = [
    "CrosswalkDef",
    "DuplicateDef",
    "MappingProject",
    "ReferenceDef",
    "TableDef",
    "UnpivotDef",
    "UnpivotSpec",
    "load_project",
]

PROJECT_FILE = "project.yaml"
_CSV_HEADER = ("institution", "code", "canonical", "rate", "eff_from", "eff_to")


class UnpivotSpec(BaseModel):
    """``unpivot:`` of a table mapping: each source row yields one target row per entry of
    ``rows`` (one legacy row holding several facts side by side, such as the good-conduct and
    the special-project days an infraction revokes).

    Each entry of ``rows`` maps field names to expressions (every entry names the same fields);
    the mapping reads the current entry's fields as ``ALIAS.FIELD`` (``as:`` gives the alias)
    in its ``where``, its columns and its precedence, so ``where`` can drop the entries a row
    does not need (a kind with no days). A source row is the unit of the row accounting: its
    target rows are loaded together, or it is quarantined whole when any of them fails a check,
    or filtered when ``where`` keeps none of them. Its target rows share its lineage
    (``_source_key``) and its batch, so ``batch:`` must not read the fields.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    alias: str = Field(alias="as", min_length=1)
    rows: list[dict[str, Any]] = Field(min_length=1)


@dataclass(frozen=True)
class UnpivotDef:
    """An unpivot with its parsed fields: field name -> one expression per entry of rows."""

    alias: str
    fields: dict[str, tuple[Expr, ...]]
    rows: int
    line: int


@dataclass(frozen=True)
class TableDef:
    """One target table's mapping with its parsed expressions."""

    name: str
    spec: m.TableSpec
    doc: YamlDoc
    path: Path_
    columns: dict[str, Expr]
    where: Cond | None
    batch: Expr | None
    precedence: tuple[tuple[m.PrecedenceSpec, Expr], ...]
    #: Each join's own condition (or None), in join order.
    join_where: tuple[Cond | None, ...] = ()
    unpivot: UnpivotDef | None = None

    def line(self, *sub: str | int) -> int:
        return self.doc.line((*self.path, *sub))

    @property
    def source(self) -> m.FromSpec:
        src = self.spec.source
        return m.FromSpec(table=src) if isinstance(src, str) else src


@dataclass(frozen=True)
class CrosswalkDef:
    name: str
    spec: m.CrosswalkSpec
    doc: YamlDoc
    path: Path_
    entries: tuple[m.CrosswalkEntry, ...]

    @property
    def integral_rates(self) -> bool:
        rates = [e.rate for e in self.entries if e.rate is not None]
        rates += [c["rate"] for c in self.spec.canonical.values()]
        return all(float(r).is_integer() for r in rates)


@dataclass(frozen=True)
class DuplicateDef:
    name: str
    spec: m.DuplicateSpec
    doc: YamlDoc
    path: Path_
    match: tuple[tuple[str, tuple[Expr, ...]], ...]
    survivor_column: Expr | None
    batch: Expr | None


@dataclass(frozen=True)
class ReferenceDef:
    """A reference table read from its CSV file: header and rows as text."""

    name: str
    spec: m.ReferenceSpec
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass
class MappingProject:
    folder: Path
    project: m.ProjectSpec
    project_doc: YamlDoc
    tables: dict[str, TableDef] = field(default_factory=dict)
    crosswalks: dict[str, CrosswalkDef] = field(default_factory=dict)
    duplicates: dict[str, DuplicateDef] = field(default_factory=dict)
    references: dict[str, ReferenceDef] = field(default_factory=dict)
    #: Short digest of every file read, to tell two versions of a folder apart.
    digest: str = ""
    #: Problems found while reading (kept when loaded with ``collect=True``).
    problems: Problems = field(default_factory=Problems)


_KNOWN_KEYS: set[str] = set()
for _model in vars(m).values():
    if isinstance(_model, type) and issubclass(_model, BaseModel) and _model is not BaseModel:
        for _name, _field in _model.model_fields.items():
            _KNOWN_KEYS.add(_field.alias or _name)
_KNOWN_KEYS |= {"unpivot", *(f.alias or n for n, f in UnpivotSpec.model_fields.items())}


_M = TypeVar("_M", bound=BaseModel)


def _validate(
    model: type[_M], doc: YamlDoc, data: Any, base: Path_, problems: Problems
) -> _M | None:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc: Path_ = (*base, *err["loc"])
            where = ".".join(str(p) for p in loc) or "(document)"
            if err["type"] == "extra_forbidden":
                key = str(err["loc"][-1])
                problems.add(
                    doc.file,
                    doc.line(loc),
                    where,
                    f"unknown key {key!r}",
                    suggest(key, _KNOWN_KEYS),
                )
            else:
                problems.add(doc.file, doc.line(loc), where, err["msg"])
        return None


def load_project(folder: Path | str, *, collect: bool = False) -> MappingProject:
    """Read and validate a mapping folder; raise ``MappingError`` with every problem found.

    With ``collect=True`` the problems of individual files are kept in ``project.problems``
    instead (the parts that are valid are loaded), so that ``compile_project`` can report them
    together with the schema checks' problems; only an unusable ``project.yaml`` still raises.
    """
    folder = Path(folder)
    problems = Problems()
    project_path = folder / PROJECT_FILE
    if not folder.is_dir() or not project_path.is_file():
        problems.add(project_path, 1, "project", f"no {PROJECT_FILE} in {folder}")
        problems.raise_if_any("mapping folder is incomplete")
    digest = hashlib.blake2b(digest_size=8)
    pdoc = read_yaml(project_path, problems)
    project_file = None
    if pdoc is not None:
        project_file = _validate(m.ProjectFile, pdoc, pdoc.data, (), problems)
    files = sorted(
        p for p in (*folder.glob("*.yaml"), *folder.glob("*.yml")) if p.name != PROJECT_FILE
    )
    for path in (project_path, *files):
        digest.update(path.read_bytes())
    parsed: list[tuple[YamlDoc, m.MappingFile, dict[str, Any]]] = []
    for path in files:
        doc = read_yaml(path, problems)
        if doc is None:
            continue
        data, unpivots = _take_unpivots(doc.data)
        model = _validate(m.MappingFile, doc, data, (), problems)
        if model is not None:
            parsed.append((doc, model, unpivots))
    if project_file is None or pdoc is None:
        problems.raise_if_any("mapping files are invalid")
        raise AssertionError("unreachable: a missing project always records a problem")
    proj = MappingProject(folder, project_file.project, pdoc, digest=digest.hexdigest())
    _check_vocabularies(proj, problems)
    seen: dict[tuple[str, str], YamlDoc] = {}
    for doc, model, unpivots in parsed:
        for section, items in (
            ("tables", model.tables),
            ("crosswalks", model.crosswalks),
            ("duplicates", model.duplicates),
            ("references", model.references),
        ):
            for name in items:
                if (section, name) in seen:
                    first = seen[(section, name)]
                    problems.add(
                        doc.file,
                        doc.line((section, name)),
                        f"{section}.{name}",
                        f"already defined in {first.file}:{first.line((section, name))}",
                    )
                seen.setdefault((section, name), doc)
        for tname, tspec in model.tables.items():
            if (t := _table(doc, tname, tspec, unpivots.get(tname), problems)) is not None:
                proj.tables.setdefault(tname, t)
        for xname, xspec in model.crosswalks.items():
            proj.crosswalks.setdefault(xname, _crosswalk(doc, xname, xspec, problems))
        for dname, dspec in model.duplicates.items():
            if (d := _duplicates(doc, dname, dspec, problems)) is not None:
                proj.duplicates.setdefault(dname, d)
        for rname, rspec in model.references.items():
            if (r := _reference(doc, rname, rspec, problems)) is not None:
                digest.update(doc.file.parent.joinpath(rspec.file).read_bytes())
                proj.references.setdefault(rname, r)
    if not collect:
        problems.raise_if_any("mapping files are invalid")
    proj.problems = problems
    return proj


def _check_vocabularies(proj: MappingProject, problems: Problems) -> None:
    spec, doc = proj.project, proj.project_doc
    for kind, name in spec.defaults.items():
        pool = spec.flags if kind == "flag" else spec.sentinels
        if name not in pool:
            problems.add(
                doc.file,
                doc.line(("project", "defaults", kind)),
                f"project.defaults.{kind}",
                f"unknown vocabulary {name!r}",
                suggest(name, pool),
            )


def _take_unpivots(data: Any) -> tuple[Any, dict[str, Any]]:
    """The file's data without the tables' ``unpivot:`` entries, and those entries by table
    (validated on their own into :class:`UnpivotSpec`)."""
    tables = data.get("tables") if isinstance(data, dict) else None
    if not isinstance(tables, dict):
        return data, {}
    found = {
        name: spec["unpivot"]
        for name, spec in tables.items()
        if isinstance(spec, dict) and "unpivot" in spec
    }
    if not found:
        return data, {}
    kept = {
        name: {k: v for k, v in spec.items() if k != "unpivot"} if name in found else spec
        for name, spec in tables.items()
    }
    return {**data, "tables": kept}, found


def _unpivot(doc: YamlDoc, name: str, raw: Any, problems: Problems) -> UnpivotDef | None:
    base: Path_ = ("tables", name, "unpivot")
    spec = _validate(UnpivotSpec, doc, raw, base, problems)
    if spec is None:
        return None
    before = len(problems)
    names = list(spec.rows[0])
    fields: dict[str, list[Expr]] = {f: [] for f in names}
    if not names:
        problems.add(
            doc.file, doc.line((*base, "rows", 0)), f"{name}.unpivot", "a row names no field"
        )
    for i, row in enumerate(spec.rows):
        if set(row) != set(names):
            problems.add(
                doc.file,
                doc.line((*base, "rows", i)),
                f"{name}.unpivot",
                f"every row names the same fields ({', '.join(names)}); "
                f"this one names {', '.join(row) or 'none'}",
            )
            continue
        for field_name in names:
            path = (*base, "rows", i, field_name)
            e = parse_expr(doc, path, row[field_name], f"{name}.unpivot.{field_name}", problems)
            if e is not None:
                fields[field_name].append(e)
    if len(problems) > before:
        return None
    return UnpivotDef(
        spec.alias, {f: tuple(v) for f, v in fields.items()}, len(spec.rows), doc.line(base)
    )


def _table(
    doc: YamlDoc, name: str, spec: m.TableSpec, unpivot_raw: Any, problems: Problems
) -> TableDef | None:
    base: Path_ = ("tables", name)
    before = len(problems)
    unpivot = None if unpivot_raw is None else _unpivot(doc, name, unpivot_raw, problems)
    columns: dict[str, Expr] = {}
    for col, raw in spec.columns.items():
        e = parse_expr(doc, (*base, "columns", col), raw, f"{name}.{col}", problems)
        if e is not None:
            columns[col] = e
    where = (
        None
        if spec.where is None
        else parse_condition(doc, (*base, "where"), spec.where, f"{name}.where", problems)
    )
    batch = (
        None
        if spec.batch is None
        else parse_expr(doc, (*base, "batch"), spec.batch, f"{name}.batch", problems)
    )
    prec: list[tuple[m.PrecedenceSpec, Expr]] = []
    for i, p in enumerate(spec.precedence):
        ppath = (*base, "precedence", i, "primary")
        e = parse_expr(doc, ppath, p.primary, f"{name}.{p.column}", problems)
        if e is not None:
            prec.append((p, e))
    if len(problems) > before:
        return None
    join_where = tuple(
        None
        if j.where is None
        else parse_condition(doc, (*base, "join", i, "where"), j.where, f"{name}.join", problems)
        for i, j in enumerate(spec.join)
    )
    if len(problems) > before:
        return None
    return TableDef(name, spec, doc, base, columns, where, batch, tuple(prec), join_where, unpivot)


def _duplicates(
    doc: YamlDoc, name: str, spec: m.DuplicateSpec, problems: Problems
) -> DuplicateDef | None:
    base: Path_ = ("duplicates", name)
    before = len(problems)
    rules: list[tuple[str, tuple[Expr, ...]]] = []
    for i, rule in enumerate(spec.match):
        exprs = []
        for j, raw in enumerate(rule.columns):
            where = f"duplicates.{name}.{rule.name}"
            e = parse_expr(doc, (*base, "match", i, "columns", j), raw, where, problems)
            if e is not None:
                exprs.append(e)
        rules.append((rule.name, tuple(exprs)))
    survivor = None
    if spec.survivor.rule == "latest":
        if spec.survivor.column is None:
            problems.add(
                doc.file,
                doc.line((*base, "survivor")),
                f"duplicates.{name}.survivor",
                "rule latest needs column: (the value whose largest row survives)",
            )
        else:
            survivor = parse_expr(
                doc,
                (*base, "survivor", "column"),
                spec.survivor.column,
                f"duplicates.{name}.survivor",
                problems,
            )
    batch = (
        None
        if spec.batch is None
        else parse_expr(doc, (*base, "batch"), spec.batch, f"duplicates.{name}.batch", problems)
    )
    if len(problems) > before:
        return None
    return DuplicateDef(name, spec, doc, base, tuple(rules), survivor, batch)


def _crosswalk(doc: YamlDoc, name: str, spec: m.CrosswalkSpec, problems: Problems) -> CrosswalkDef:
    base: Path_ = ("crosswalks", name)
    where = f"crosswalks.{name}"
    entries: list[m.CrosswalkEntry] = list(spec.entries)
    if spec.file is not None:
        entries += _read_csv(
            doc, doc.file.parent / spec.file, where, problems, doc.line((*base, "file"))
        )
    for i, entry in enumerate(entries):
        line = doc.line((*base, "entries", i)) if i < len(spec.entries) else doc.line(base)
        if not spec.per_institution and entry.institution is not None:
            problems.add(
                doc.file,
                line,
                where,
                f"entry {entry.code!r} names an institution but "
                "the crosswalk is global (set per_institution: true)",
            )
        if spec.rate_policy == "harmonize" and entry.canonical not in spec.canonical:
            problems.add(
                doc.file,
                line,
                where,
                f"rate_policy harmonize: canonical code "
                f"{entry.canonical!r} has no rate under canonical:",
                suggest(entry.canonical, spec.canonical),
            )
    _check_overlaps(doc, base, where, entries, problems)
    return CrosswalkDef(name, spec, doc, base, tuple(entries))


def _reference(
    doc: YamlDoc, name: str, spec: m.ReferenceSpec, problems: Problems
) -> ReferenceDef | None:
    where = f"references.{name}"
    line = doc.line(("references", name, "file"))
    path = doc.file.parent / spec.file
    if not name.replace("_", "").isalnum():
        problems.add(doc.file, doc.line(("references", name)), where, "name letters, digits, _")
        return None
    if not path.is_file():
        problems.add(
            doc.file, line, where, f"reference file {path.name} not found in {path.parent}"
        )
        return None
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = tuple(next(reader, ()))
        rows = [tuple(r) for r in reader if r]
    before = len(problems)
    if not header or len(set(header)) != len(header) or any(not h.strip() for h in header):
        problems.add(path, 1, where, "the header must name every column once")
    missing = [k for k in spec.key if k not in header]
    if missing:
        problems.add(
            doc.file, line, where, f"key column(s) {', '.join(missing)} not in {path.name}"
        )
    if len(problems) > before:
        return None
    seen: dict[tuple[str, ...], int] = {}
    at = [header.index(k) for k in spec.key]
    for n, row in enumerate(rows, start=2):
        if len(row) != len(header):
            problems.add(path, n, where, f"{len(row)} values for {len(header)} columns")
            continue
        key = tuple(row[i] for i in at)
        if any(not k.strip() for k in key):
            problems.add(path, n, where, f"blank key ({', '.join(spec.key)})")
        elif key in seen:
            problems.add(path, n, where, f"key {'|'.join(key)} repeats line {seen[key]}")
        seen.setdefault(key, n)
    return ReferenceDef(name, spec, header, tuple(rows))


def _check_overlaps(
    doc: YamlDoc, base: Path_, where: str, entries: list[m.CrosswalkEntry], problems: Problems
) -> None:
    by_key: dict[tuple[str | None, str], list[m.CrosswalkEntry]] = {}
    for e in entries:
        by_key.setdefault((e.institution, e.code), []).append(e)
    low, high = dt.date.min, dt.date.max
    for (inst, code), group in by_key.items():
        group.sort(key=lambda e: e.eff_from or low)
        for a, b in itertools.pairwise(group):
            if (a.eff_to or high) >= (b.eff_from or low):
                problems.add(
                    doc.file,
                    doc.line(base),
                    where,
                    f"entries for code {code!r} (institution {inst or 'any'}) overlap "
                    "in time; give each an eff_from/eff_to that do not overlap",
                )


def _read_csv(
    doc: YamlDoc, path: Path, where: str, problems: Problems, line: int
) -> list[m.CrosswalkEntry]:
    if not path.is_file():
        problems.add(
            doc.file, line, where, f"crosswalk file {path.name} not found in {path.parent}"
        )
        return []
    out: list[m.CrosswalkEntry] = []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = tuple(reader.fieldnames or ())
        if set(header) - set(_CSV_HEADER) or not {"code", "canonical"} <= set(header):
            problems.add(
                path,
                1,
                where,
                f"header must be {','.join(_CSV_HEADER)} "
                f"(code and canonical required), got {','.join(header)}",
            )
            return []
        for row in reader:
            values = {k: (v if v and v.strip() else None) for k, v in row.items() if k}
            try:
                out.append(m.CrosswalkEntry.model_validate(values))
            except ValidationError as exc:
                for err in exc.errors():
                    problems.add(path, reader.line_num, f"{where}.{err['loc'][0]}", err["msg"])
    return out
