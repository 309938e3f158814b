"""Rendering pages: the shared layout's context and the page headers every response gets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from cutover.control import Action, can
from cutover.web.security import Signed, config_of

__all__ = ["SECURITY_HEADERS", "TEMPLATES", "nav_for", "render"]

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

#: Sent with every response: no scripts at all, no framing, nothing loaded from elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

_NAV: tuple[tuple[str, str, Action], ...] = (
    ("/", "Overview", Action.VIEW),
    ("/readiness", "Readiness", Action.VIEW),
    ("/users", "Users", Action.MANAGE_USERS),
    ("/audit", "Audit log", Action.READ_AUDIT),
    ("/account", "Account", Action.CHANGE_OWN_PASSWORD),
)


def nav_for(signed: Signed | None) -> list[tuple[str, str]]:
    """The navigation links the user may follow (pages they cannot open are not shown)."""
    if signed is None:
        return []
    return [(href, label) for href, label, action in _NAV if can(signed.user, action)]


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    signed: Signed | None = None,
    status_code: int = 200,
) -> Response:
    if signed is None:
        signed = getattr(request.state, "signed", None)
    values: dict[str, Any] = {
        "signed": signed,
        "csrf_token": None if signed is None else signed.session.csrf_token,
        "nav": nav_for(signed),
        "current_path": request.url.path,
        "workspace_name": config_of(request).workspace_name,
    }
    values.update(context or {})
    response = TEMPLATES.TemplateResponse(request, template, values, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response
