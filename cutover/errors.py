"""One root exception for the whole framework, grouped by phase and by what the caller can do.

Every error carries its context as attributes (run, batch, table, key, column, file, line) and a
``hint`` that says what to do next. Driver errors are translated at the I/O boundary with
``raise ... from exc`` so that a raw driver message never reaches a user on its own.

What a caller can do is a property of the class:

- ``retriable``: the same call may succeed later (a dropped connection, a locked database).
- otherwise the error is fatal for the unit of work; a *row-level* data problem is never raised
  at all: it is quarantined with its reason (see ``transform``).
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AccessDeniedError",
    "ConfigError",
    "CutoverError",
    "ExtractError",
    "LoadError",
    "MappingError",
    "ReconciliationError",
    "RulePackError",
    "SignOffError",
    "SourceUnavailableError",
]


class CutoverError(Exception):
    """Root of every error the framework raises on purpose."""

    retriable: ClassVar[bool] = False
    #: The exit code the command line uses for this class of error.
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, hint: str | None = None, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.context: dict[str, Any] = {k: v for k, v in context.items() if v is not None}

    def __str__(self) -> str:
        where = ", ".join(f"{k}={v}" for k, v in self.context.items())
        text = self.message if not where else f"{self.message} [{where}]"
        return text if not self.hint else f"{text}\n  what to do: {self.hint}"


class ConfigError(CutoverError):
    """The workspace, a setting or a command's arguments are wrong. Fix them and rerun."""

    exit_code = 2


class ExtractError(CutoverError):
    """Reading the legacy source failed for good (bad credentials, missing table, bad layout)."""


class SourceUnavailableError(ExtractError):
    """The legacy source could not be reached just now; the same read may succeed later."""

    retriable = True


class MappingError(CutoverError):
    """Mapping files are invalid. ``problems`` lists every one, each with file and line."""

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.problems = list(problems or [])

    def __str__(self) -> str:
        body = "\n".join(f"  - {p}" for p in self.problems)
        head = super().__str__()
        return head if not body else f"{head}\n{body}"


class LoadError(CutoverError):
    """Writing to the target failed; the batch named in the context was rolled back."""


class ReconciliationError(CutoverError):
    """Row accounting or checksums do not balance: something was lost or changed."""


class RulePackError(CutoverError):
    """A rule pack's parameter file or rule registry is invalid."""

    exit_code = 2


class SignOffError(CutoverError):
    """A sign-off was refused; ``blockers`` lists what stands in the way."""

    def __init__(self, message: str, blockers: list[str] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.blockers = list(blockers or [])


class AccessDeniedError(CutoverError):
    """The acting user's role does not allow this action."""

    exit_code = 3
