"""Collecting every problem of a mapping folder before raising them all at once.

A :class:`Problem` names the file, the line, where in the mapping it is (``table.column``) and
what is wrong, with a suggestion for a misspelt name. :class:`Problems` gathers them across files;
``raise_if_any`` turns them into one :class:`cutover.errors.MappingError`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cutover.errors import MappingError

__all__ = ["Problem", "Problems", "suggest"]


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to ``name`` (case-insensitive), if any is close enough."""
    pool = list(candidates)
    by_fold = {c.casefold(): c for c in pool}
    if name.casefold() in by_fold:
        return by_fold[name.casefold()]
    found = difflib.get_close_matches(name.casefold(), list(by_fold), n=1, cutoff=0.6)
    return by_fold[found[0]] if found else None


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a mapping file."""

    file: str
    line: int
    where: str
    message: str
    suggestion: str | None = None

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}: {self.where}: {self.message}"
        return text if self.suggestion is None else f"{text} (did you mean {self.suggestion}?)"


@dataclass
class Problems:
    """An ordered collection of problems; nothing is raised until ``raise_if_any``."""

    items: list[Problem] = field(default_factory=list)

    def add(
        self,
        file: Path | str,
        line: int,
        where: str,
        message: str,
        suggestion: str | None = None,
    ) -> None:
        self.items.append(Problem(str(file), line, where, message, suggestion))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def raise_if_any(self, what: str) -> None:
        if not self.items:
            return
        ordered = sorted(set(self.items), key=lambda p: (p.file, p.line, p.where, p.message))
        raise MappingError(
            f"{what}: {len(ordered)} problem(s)",
            problems=[str(p) for p in ordered],
            hint="fix every problem listed (file:line), then rerun 'cutover mappings check'",
        )
