"""Registries by name for rule functions, parameter models, waterfall corrections and packs.

Built-in packs register through the same public decorators a plugin uses. Looking up an unknown
name raises ``RulePackError`` listing the valid names and suggesting the closest one.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from cutover.errors import RulePackError

__all__ = [
    "CORRECTIONS",
    "PACKS",
    "PARAMETER_MODELS",
    "RULES",
    "Registry",
    "register_correction",
    "register_pack",
    "register_parameters",
    "register_rule",
    "suggest",
]

T = TypeVar("T")


def suggest(name: str, known: list[str]) -> str:
    """A sentence naming the closest known names (or listing them all when none is close)."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    return "valid names: " + (", ".join(sorted(known)) or "(none registered)")


class Registry(Generic[T]):
    """Named entries of one kind; re-registering a name with a different object is an error."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        """Register ``entry`` under ``name``."""
        current = self._entries.get(name)
        if current is not None and current is not entry:
            raise RulePackError(
                f"{self.kind} {name!r} is already registered",
                hint="choose another name; names are global across packs (prefix them)",
                name=name,
            )
        self._entries[name] = entry
        return entry

    def get(self, name: str) -> T:
        """The entry registered under ``name``; an unknown name suggests the closest."""
        try:
            return self._entries[name]
        except KeyError:
            raise RulePackError(
                f"unknown {self.kind} {name!r}", hint=suggest(name, self.names()), name=name
            ) from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


#: Rule functions: the steps of a pack's computation.
RULES: Registry[Callable[..., Any]] = Registry("rule")
#: Waterfall corrections, by the code they attribute days to (and the legacy-state builders).
CORRECTIONS: Registry[Callable[..., Any]] = Registry("correction")
#: Pydantic models of a pack's ``parameters`` section.
PARAMETER_MODELS: Registry[type[BaseModel]] = Registry("parameters model")
#: Pack files by pack name.
PACKS: Registry[Path] = Registry("rule pack")

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=type[BaseModel])


def register_rule(name: str) -> Callable[[F], F]:
    """Decorator: register a rule function under ``name``."""

    def wrap(fn: F) -> F:
        RULES.add(name, fn)
        return fn

    return wrap


def register_correction(name: str) -> Callable[[F], F]:
    """Decorator: register a waterfall correction (or legacy-state builder) under ``name``."""

    def wrap(fn: F) -> F:
        CORRECTIONS.add(name, fn)
        return fn

    return wrap


def register_parameters(name: str) -> Callable[[M], M]:
    """Decorator: register a pack's parameters model under ``name``."""

    def wrap(model: M) -> M:
        PARAMETER_MODELS.add(name, model)
        return model

    return wrap


def register_pack(name: str, path: Path) -> Path:
    """Register a pack file under ``name`` so that settings can name the pack."""
    return PACKS.add(name, path.resolve())
