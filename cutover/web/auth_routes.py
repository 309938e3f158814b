"""Signing in and out."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from cutover.control import authenticate
from cutover.control.sessions import end_session, start_session
from cutover.errors import AccessDeniedError
from cutover.web.render import render
from cutover.web.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfRejected,
    Signed,
    checked_form,
    config_of,
    set_cookie,
    signed_in,
)

__all__ = ["router", "safe_next"]

router = APIRouter()


def safe_next(value: object) -> str:
    """A local path to return to after sign-in; anything else (another site) becomes ``/``."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return "/"


def _login_page(
    request: Request, *, next_path: str, error: str | None = None, status_code: int = 200
) -> Response:
    config = config_of(request)
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        {
            "login_csrf": token,
            "next_path": next_path,
            "error": error,
            "expired": request.query_params.get("expired") == "1",
            "signed_out": request.query_params.get("signed_out") == "1",
        },
        status_code=status_code,
    )
    set_cookie(response, config, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request, next_path=safe_next(request.query_params.get("next")))


@router.post("/login")
async def login(request: Request) -> Response:
    config = config_of(request)
    form = await request.form()
    sent, expected = form.get("csrf_token"), request.cookies.get(LOGIN_CSRF_COOKIE)
    if not (isinstance(sent, str) and expected) or not secrets.compare_digest(
        sent.encode(), expected.encode()
    ):
        raise CsrfRejected
    username = str(form.get("username") or "").strip().lower()
    password = str(form.get("password") or "")
    next_path = safe_next(form.get("next"))
    try:
        user = await run_in_threadpool(authenticate, config.engine, username, password)
    except AccessDeniedError:
        return _login_page(
            request,
            next_path=next_path,
            error="Invalid username or password, or the account is disabled or locked for a while.",
            status_code=401,
        )
    session = await run_in_threadpool(
        start_session, config.engine, user.username, ttl=config.session_ttl
    )
    response = RedirectResponse(next_path, status_code=303)
    set_cookie(
        response,
        config,
        SESSION_COOKIE,
        session.token,
        max_age=int(config.session_ttl.total_seconds()),
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(
    request: Request,
    signed: Annotated[Signed, Depends(signed_in)],
    _form: Annotated[FormData, Depends(checked_form)],
) -> Response:
    end_session(config_of(request).engine, signed.session.token)
    response = RedirectResponse("/login?signed_out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
