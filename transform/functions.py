"""Registered Python functions: the fallback for what SQL cannot say.

``@register_function("name", returns="text")`` makes a function callable from a mapping as
``{fn: name, args: [...]}``. The engine evaluates the arguments in SQL, then calls the function
row by row in bounded chunks, so it is visibly slower than an expression: prefer expressions.
A function signals bad input by raising :class:`ValueError`; the row is quarantined with rule
``function_error`` and the message. Built-ins register through the same decorator.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from cutover.errors import MappingError
from transform.problems import suggest

__all__ = ["RegisteredFunction", "ReturnType", "get_function", "register_function", "registered"]

ReturnType = Literal["text", "int", "number", "date", "bool"]


@dataclass(frozen=True)
class RegisteredFunction:
    name: str
    func: Callable[..., Any]
    returns: ReturnType
    arity: int | None


_REGISTRY: dict[str, RegisteredFunction] = {}


def register_function(
    name: str, *, returns: ReturnType, arity: int | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``func`` under ``name`` for mappings; ``arity`` None means any number of args."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        if name in _REGISTRY and _REGISTRY[name].func is not func:
            raise MappingError(
                f"a function named {name!r} is already registered",
                hint="choose another name for the new function",
            )
        _REGISTRY[name] = RegisteredFunction(name, func, returns, arity)
        return func

    return decorate


def registered() -> dict[str, RegisteredFunction]:
    """Every registered function by name."""
    return dict(_REGISTRY)


def get_function(name: str) -> RegisteredFunction:
    try:
        return _REGISTRY[name]
    except KeyError:
        close = suggest(name, _REGISTRY)
        known = ", ".join(sorted(_REGISTRY))
        raise MappingError(
            f"unknown function {name!r}",
            hint=f"did you mean {close}?" if close else f"registered functions: {known}",
        ) from None


_SPACES = re.compile(r"\s+")


@register_function("title_name", returns="text", arity=1)
def title_name(value: str | None) -> str | None:
    """A padded upper-case legacy name as a person would write it: ``O'BRIEN  `` -> ``O'Brien``."""
    if value is None or not value.strip():
        return None
    words = _SPACES.sub(" ", value.strip()).lower()
    return re.sub(r"(^|[\s'\-])([a-z])", lambda m: m.group(1) + m.group(2).upper(), words)


@register_function("ascii_fold", returns="text", arity=1)
def ascii_fold(value: str | None) -> str | None:
    """Accents removed (``José`` -> ``Jose``); text that cannot be folded raises ``ValueError``."""
    if value is None:
        return None
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    if value.strip() and not folded.strip():
        raise ValueError("nothing left after removing accents")
    return folded


@register_function("regex_int", returns="int", arity=2)
def regex_int(value: str | None, pattern: str | None) -> int | None:
    """The whole number in ``pattern``'s first group (``'5Y 3M 0D'``, ``'(\\d+)M'`` -> 3);
    ``None`` when the value is blank or does not match; a bad pattern raises ``ValueError``."""
    if value is None or not value.strip() or pattern is None:
        return None
    try:
        found = re.search(pattern, value)
    except re.error as exc:
        raise ValueError(f"invalid pattern {pattern!r}: {exc}") from None
    if found is None:
        return None
    try:
        return int(found.group(1))
    except (IndexError, ValueError):
        raise ValueError(f"pattern {pattern!r} has no group 1 holding a number") from None
