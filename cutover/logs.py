"""Logging, configured once at the entry point.

structlog renders JSON when standard error is not a terminal and a readable console otherwise.
Every event carries the ``run_id`` (and ``table`` / ``batch`` where bound) through contextvars.
A last line of defence drops any field whose name says it holds a person's identity: the code
never logs names, dates of birth or SSNs, and this processor makes a mistake visible instead of
leaking it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

__all__ = ["SENSITIVE_FIELDS", "bind", "configure_logging", "get_logger", "redact_sensitive"]

#: Field names (lower case) that must never reach a log line.
SENSITIVE_FIELDS = frozenset(
    {
        "name",
        "last_name",
        "first_name",
        "middle_initial",
        "last_nm",
        "frst_nm",
        "mid_init",
        "dob",
        "birth_date",
        "date_of_birth",
        "ssn",
        "social_security_number",
        "usr_nm",
        "password",
        "password_hash",
    }
)


def redact_sensitive(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace the value of any sensitive field with a marker that names the mistake."""
    for key in list(event_dict):
        if key.lower() in SENSITIVE_FIELDS:
            event_dict[key] = "[redacted: sensitive field must not be logged]"
    return event_dict


class _StderrLogger:
    """Writes each rendered event to whatever ``sys.stderr`` is at the time of the call.

    Resolving the stream late keeps logging working when a test runner or a server swaps
    standard error after logging was configured.
    """

    def msg(self, message: str) -> None:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()

    log = debug = info = warn = warning = error = critical = exception = fatal = msg


def _stderr_logger_factory(*_args: Any) -> _StderrLogger:
    return _StderrLogger()


def configure_logging(*, level: str = "INFO", json: bool | None = None) -> None:
    """Configure structlog for the process. Call once, from the command line's entry point."""
    use_json = (not sys.stderr.isatty()) if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_sensitive,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=_stderr_logger_factory,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str | None = None) -> Any:
    """A lazy structlog logger; ``name`` becomes the ``component`` field.

    Lazy: the configuration is looked up at the first event, so module-level loggers created
    before ``configure_logging`` runs still obey it.
    """
    return structlog.get_logger(component=name) if name else structlog.get_logger()


def bind(**values: Any) -> None:
    """Bind context (``run_id``, ``table``, ``batch``) to every later event of this task."""
    structlog.contextvars.bind_contextvars(**values)
