"""Driver errors translated at the boundary, and retries with backoff for the transient ones.

Every call into a driver (SQLAlchemy, pyodbc, the file system) goes through :func:`translate`,
which turns the driver's exception into the project's own: ``SourceUnavailableError`` when the
same call may succeed later (a locked database, a refused or dropped connection, a timeout),
``ExtractError`` otherwise (a missing table, bad credentials, a bad layout), each naming the
source and table and saying what to do. :func:`retrying` calls a function again with exponential
backoff while it raises a retriable error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from cutover.errors import CutoverError, ExtractError, SourceUnavailableError
from cutover.logs import get_logger

__all__ = ["RetryPolicy", "is_transient_message", "retrying", "translate"]

T = TypeVar("T")


#: Fragments of driver messages (lower case) that mean "try again later".
_TRANSIENT = (
    "database is locked",
    "database table is locked",
    "busy",
    "connection refused",
    "could not connect",
    "connection timed out",
    "timeout expired",
    "server closed the connection",
    "terminating connection",
    "connection reset",
    "connection is closed",
    "the database system is starting up",
    "too many connections",
    "could not receive data",
    "no route to host",
    "communication link failure",
)

#: ODBC SQLSTATE classes that are transient: connection exceptions and timeouts.
_TRANSIENT_SQLSTATES = ("08", "HYT", "40001")

_MISSING = ("no such table", "does not exist", "undefined table", "invalid object name")


def is_transient_message(message: str) -> bool:
    text = message.lower()
    if any(fragment in text for fragment in _TRANSIENT):
        return True
    state = text.lstrip("('[ ").split("'", 1)[0].upper()
    return any(state.startswith(prefix) for prefix in _TRANSIENT_SQLSTATES) and len(state) == 5


def translate(
    exc: BaseException,
    *,
    source: str,
    action: str,
    table: str | None = None,
    hint: str | None = None,
) -> CutoverError:
    """The project's exception for a driver error; ``raise translate(...) from exc``."""
    if isinstance(exc, CutoverError):
        return exc
    detail = _first_line(exc)
    if is_transient_message(detail):
        return SourceUnavailableError(
            f"source {source!r} is unavailable while trying to {action}: {detail}",
            hint=hint or "the source is busy or unreachable; rerun later (progress is kept)",
            source=source,
            table=table,
        )
    if any(fragment in detail.lower() for fragment in _MISSING):
        return ExtractError(
            f"source {source!r} has no table {table!r} ({detail})",
            hint=hint or f"check the tables listed for [sources.{source}] in cutover.toml",
            source=source,
            table=table,
        )
    return ExtractError(
        f"source {source!r} failed to {action}: {detail}",
        hint=hint or f"check [sources.{source}] in cutover.toml and that the source is readable",
        source=source,
        table=table,
    )


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)  # SQLAlchemy wraps the driver's exception
    text = str(orig if orig is not None else exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:300]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a transient failure."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 15.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_delay, self.base_delay * (2**attempt)))


def retrying(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``fn``; on a retriable error wait and call again, up to ``policy.attempts`` times."""
    for attempt in range(policy.attempts):
        try:
            return fn()
        except CutoverError as exc:
            if not exc.retriable or attempt == policy.attempts - 1:
                raise
            wait = policy.delay(attempt)
            get_logger("extract.retry").warning(
                "source_retry",
                what=what,
                attempt=attempt + 1,
                wait_s=wait,
                error=type(exc).__name__,
            )
            sleep(wait)
    raise AssertionError("retrying: attempts must be at least 1")
