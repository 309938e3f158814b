"""The rule-pack engine: a YAML parameter file plus rule functions registered by name.

A pack file names its rule modules (imported to register their functions), its parameters model,
the ordered steps of the computation and the ordered corrections of the explanation waterfall::

    pack: md_diminution
    modules: [validation.packs.md_diminution]
    parameters_model: md_diminution
    steps: [md.jail_credit, md.term_of_confinement, ...]
    waterfall: {start: md.legacy_state, corrections: [WORK_CREDIT_DURING_SEGREGATION, ...]}
    parameters: {...}

Every problem of a file is reported at once, each with the file and the line. The engine knows
nothing of any jurisdiction: what a step does is the business of the functions a pack names.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cutover.errors import RulePackError
from validation.registry import CORRECTIONS, PACKS, PARAMETER_MODELS, RULES, suggest

__all__ = ["PackFileError", "RulePack", "Step", "load_pack", "resolve_steps"]


class PackFileError(RulePackError):
    """A pack file is invalid; ``problems`` lists every one, each with file and line."""

    def __init__(self, message: str, problems: list[str], **kw: Any) -> None:
        super().__init__(message, **kw)
        self.problems = list(problems)

    def __str__(self) -> str:
        body = "\n".join(f"  - {p}" for p in self.problems)
        return f"{super().__str__()}\n{body}"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _WaterfallSection(_Frozen):
    start: str
    corrections: tuple[str, ...]


class _PackSection(_Frozen):
    pack: str
    title: str
    version: str
    modules: tuple[str, ...] = ()
    parameters_model: str
    steps: tuple[str, ...] = Field(min_length=1)
    waterfall: _WaterfallSection
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Step:
    """One named, registered function of a pack, in the order the pack runs it."""

    name: str
    fn: Callable[..., Any]


@dataclass(frozen=True, slots=True)
class RulePack:
    """A loaded pack: its parameters and its ordered, overridable steps and corrections."""

    name: str
    title: str
    version: str
    path: Path
    params: BaseModel
    steps: tuple[Step, ...]
    waterfall_start: Step
    corrections: tuple[Step, ...]

    def with_steps(self, steps: Sequence[str | Step]) -> RulePack:
        """A copy running ``steps`` (names or ``Step``s) instead of the file's steps."""
        return replace(self, steps=resolve_steps(steps, RULES))

    def with_corrections(self, corrections: Sequence[str | Step]) -> RulePack:
        """A copy running ``corrections`` in the waterfall instead of the file's corrections."""
        return replace(self, corrections=resolve_steps(corrections, CORRECTIONS))

    def describe(self) -> list[str]:
        """The steps and corrections in order, as a reader would list them."""
        lines = [f"{self.name} {self.version}: {self.title}"]
        lines += [f"  step {i}: {s.name}" for i, s in enumerate(self.steps, 1)]
        lines += [f"  waterfall start: {self.waterfall_start.name}"]
        lines += [f"  correction {i}: {s.name}" for i, s in enumerate(self.corrections, 1)]
        return lines


def resolve_steps(items: Sequence[str | Step], registry: Any) -> tuple[Step, ...]:
    """``Step``s for names (looked up in ``registry``) or ready ``Step``s."""
    return tuple(i if isinstance(i, Step) else Step(i, registry.get(i)) for i in items)


def load_pack(name_or_path: str | Path) -> RulePack:
    """Load a pack by registered name (``md_diminution``) or by the path of its YAML file."""
    importlib.import_module("validation.packs")
    text = str(name_or_path)
    if text in PACKS:
        path = PACKS.get(text)
    else:
        path = Path(text)
        if path.suffix not in {".yaml", ".yml"} or not path.is_file():
            raise RulePackError(
                f"rule pack {text!r} is neither a registered pack nor a YAML file",
                hint=suggest(text, PACKS.names()),
                pack=text,
            )
    return _load_file(path.resolve())


@functools.cache
def _load_file(path: Path) -> RulePack:
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except OSError as exc:
        raise RulePackError(f"cannot read rule pack file: {exc}", file=source) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise PackFileError(
            "rule pack file is not valid YAML", [f"{source}:{line}: {exc}"], file=source
        ) from exc
    problems: list[str] = []
    try:
        head = _PackSection.model_validate(data)
    except ValidationError as exc:
        problems += _located(exc, root, source, ())
        raise PackFileError("rule pack file is invalid", problems, file=source) from None
    for module in head.modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            problems.append(f"{source}:{_line(root, ('modules',))}: cannot import {module}: {exc}")
    params: BaseModel | None = None
    if head.parameters_model not in PARAMETER_MODELS:
        line = _line(root, ("parameters_model",))
        problems.append(
            f"{source}:{line}: unknown parameters model {head.parameters_model!r}; "
            + suggest(head.parameters_model, PARAMETER_MODELS.names())
        )
    else:
        try:
            params = PARAMETER_MODELS.get(head.parameters_model).model_validate(head.parameters)
        except ValidationError as exc:
            problems += _located(exc, root, source, ("parameters",))
    problems += _unknown(head.steps, RULES, root, source, ("steps",))
    problems += _unknown(head.waterfall.corrections, CORRECTIONS, root, source, ("waterfall",))
    problems += _unknown((head.waterfall.start,), CORRECTIONS, root, source, ("waterfall",))
    if problems or params is None:
        raise PackFileError("rule pack file is invalid", problems, file=source)
    return RulePack(
        name=head.pack,
        title=head.title,
        version=head.version,
        path=path,
        params=params,
        steps=resolve_steps(head.steps, RULES),
        waterfall_start=Step(head.waterfall.start, CORRECTIONS.get(head.waterfall.start)),
        corrections=resolve_steps(head.waterfall.corrections, CORRECTIONS),
    )


def _unknown(
    names: Sequence[str], registry: Any, root: yaml.Node | None, source: str, at: tuple[Any, ...]
) -> list[str]:
    out = []
    for i, name in enumerate(names):
        if name not in registry:
            line = _line(root, (*at, i)) if at == ("steps",) else _line(root, at)
            out.append(
                f"{source}:{line}: unknown {registry.kind} {name!r}; "
                + suggest(name, registry.names())
            )
    return out


def _located(
    exc: ValidationError, root: yaml.Node | None, source: str, prefix: tuple[Any, ...]
) -> list[str]:
    out = []
    for err in exc.errors():
        loc = (*prefix, *err["loc"])
        where = ".".join(str(p) for p in loc) or "(top)"
        message = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        out.append(f"{source}:{_line(root, loc)}: {where}: {message}")
    return out


def _line(root: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """The 1-based line of the deepest node of ``loc`` found in the YAML tree."""
    node = root
    line = 1 if root is None else root.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = None
            for key, value in node.value:
                if str(key.value) == str(part):
                    found = (key, value)
                    break
            if found is None:
                break
            line = found[0].start_mark.line + 1
            node = found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
