"""Sign-in, sessions and CSRF for the web application, as FastAPI dependencies.

- :func:`signed_in` loads the session from its cookie and the account behind it; without a
  live session it raises :class:`LoginRequired`, which the app turns into a redirect to
  ``/login`` (saying so when the session expired).
- :func:`checked_form` reads a POSTed form and refuses it (:class:`CsrfRejected`, a 403 page)
  unless it carries the session's CSRF token. Every POST route takes it; a test walks the routes
  to prove it.
- :func:`allowed` turns an :class:`~cutover.control.Action` into a dependency that asks the
  shared permission model; a refusal is an :class:`~cutover.errors.AccessDeniedError` (403).

The sign-in form itself is protected by a double-submit token: a random cookie set with the form
and the same value in a hidden field.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from starlette.datastructures import FormData
from starlette.responses import Response

from cutover.control import Action, User, get_user, require
from cutover.control.sessions import WebSession, load_session
from cutover.settings import Settings

__all__ = [
    "LOGIN_CSRF_COOKIE",
    "SESSION_COOKIE",
    "CsrfRejected",
    "LoginRequired",
    "Signed",
    "WebConfig",
    "allowed",
    "checked_form",
    "config_of",
    "set_cookie",
    "signed_in",
]

SESSION_COOKIE = "cutover_session"
LOGIN_CSRF_COOKIE = "cutover_login_csrf"


@dataclass(frozen=True, slots=True)
class WebConfig:
    settings: Settings
    engine: Engine
    workspace_name: str
    session_ttl: timedelta
    idle_timeout: timedelta
    secure_cookies: bool


class LoginRequired(Exception):  # noqa: N818 - a control-flow signal, not an error
    """No live session: send the browser to the sign-in page."""

    def __init__(self, next_path: str, *, expired: bool) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.expired = expired


class CsrfRejected(Exception):  # noqa: N818 - rendered as a 403 page
    """A form came without the CSRF token of the session that showed it."""


@dataclass(frozen=True, slots=True)
class Signed:
    """The signed-in user and their session."""

    user: User
    session: WebSession


def config_of(request: Request) -> WebConfig:
    config: WebConfig = request.app.state.config
    return config


def set_cookie(response: Response, config: WebConfig, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=config.secure_cookies,
    )


def signed_in(request: Request) -> Signed:
    config = config_of(request)
    state = load_session(
        config.engine, request.cookies.get(SESSION_COOKIE), idle=config.idle_timeout
    )
    user = None if state.session is None else get_user(config.engine, state.session.username)
    if state.session is None or user is None or not user.active:
        raise LoginRequired(request.url.path, expired=state.status == "expired")
    signed = Signed(user, state.session)
    request.state.signed = signed  # error pages rendered for this request keep the layout
    return signed


async def checked_form(request: Request, signed: Annotated[Signed, Depends(signed_in)]) -> FormData:
    form = await request.form()
    token = form.get("csrf_token")
    if not isinstance(token, str) or not secrets.compare_digest(
        token.encode(), signed.session.csrf_token.encode()
    ):
        raise CsrfRejected
    return form


def allowed(action: Action) -> Callable[..., Any]:
    """A dependency: the signed-in user, if the permission model lets them do ``action``."""

    def dependency(signed: Annotated[Signed, Depends(signed_in)]) -> Signed:
        require(signed.user, action)
        return signed

    return dependency
