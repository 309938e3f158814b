"""Administration pages: accounts and the audit log."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from cutover.control import (
    Action,
    count_entries,
    list_entries,
    list_users,
    set_active,
    verify,
)
from cutover.errors import AccessDeniedError, ConfigError
from cutover.web.render import render
from cutover.web.security import Signed, allowed, checked_form, config_of

__all__ = ["AUDIT_PAGE_SIZE", "router"]

router = APIRouter()

AUDIT_PAGE_SIZE = 50


@router.get("/users")
def users_page(
    request: Request, signed: Annotated[Signed, Depends(allowed(Action.MANAGE_USERS))]
) -> Response:
    notice = request.query_params.get("notice")
    subject = request.query_params.get("user", "")
    messages = {
        "disabled": f"Account {subject} disabled; its sessions have ended.",
        "enabled": f"Account {subject} enabled.",
    }
    return render(
        request,
        "users.html",
        {"users": list_users(config_of(request).engine), "notice": messages.get(notice or "")},
        signed=signed,
    )


def _set_active(request: Request, signed: Signed, username: str, *, active: bool) -> Response:
    try:
        set_active(config_of(request).engine, actor=signed.user, username=username, active=active)
    except (AccessDeniedError, ConfigError) as exc:
        return render(
            request,
            "users.html",
            {"users": list_users(config_of(request).engine), "error": exc.message},
            signed=signed,
            status_code=403 if isinstance(exc, AccessDeniedError) else 400,
        )
    notice = "enabled" if active else "disabled"
    return RedirectResponse(f"/users?notice={notice}&user={username}", status_code=303)


@router.post("/users/{username}/disable")
def disable_user(
    request: Request,
    username: str,
    signed: Annotated[Signed, Depends(allowed(Action.MANAGE_USERS))],
    _form: Annotated[FormData, Depends(checked_form)],
) -> Response:
    return _set_active(request, signed, username, active=False)


@router.post("/users/{username}/enable")
def enable_user(
    request: Request,
    username: str,
    signed: Annotated[Signed, Depends(allowed(Action.MANAGE_USERS))],
    _form: Annotated[FormData, Depends(checked_form)],
) -> Response:
    return _set_active(request, signed, username, active=True)


def _int_param(request: Request, name: str) -> int | None:
    value = request.query_params.get(name, "")
    return int(value) if value.isdigit() else None


@router.get("/audit")
def audit_page(
    request: Request, signed: Annotated[Signed, Depends(allowed(Action.READ_AUDIT))]
) -> Response:
    engine = config_of(request).engine
    actor = request.query_params.get("actor") or None
    action = request.query_params.get("action") or None
    before = _int_param(request, "before")
    entries = list_entries(
        engine, limit=AUDIT_PAGE_SIZE + 1, before_seq=before, actor=actor, action=action
    )
    has_older = len(entries) > AUDIT_PAGE_SIZE
    entries = entries[:AUDIT_PAGE_SIZE]
    started = time.perf_counter()
    report = verify(engine)
    return render(
        request,
        "audit.html",
        {
            "entries": entries,
            "total": count_entries(engine),
            "older": entries[-1].seq if has_older and entries else None,
            "paged": before is not None,
            "actor": actor or "",
            "action": action or "",
            "report": report,
            "verify_ms": round((time.perf_counter() - started) * 1000),
        },
        signed=signed,
    )
