"""The dashboard: a server-rendered web application over the control store."""

from cutover.web.app import DEFAULT_IDLE_TIMEOUT, DEFAULT_SESSION_TTL, create_app
from cutover.web.render import render
from cutover.web.security import Signed, allowed, checked_form, signed_in

__all__ = [
    "DEFAULT_IDLE_TIMEOUT",
    "DEFAULT_SESSION_TTL",
    "Signed",
    "allowed",
    "checked_form",
    "create_app",
    "render",
    "signed_in",
]
