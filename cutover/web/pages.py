"""Pages every signed-in user has: the overview, the runs, and their own account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from cutover.control import Action, allowed_actions, can, change_password, list_entries
from cutover.control.sessions import start_session
from cutover.errors import AccessDeniedError, ConfigError
from cutover.runs import get_run, list_runs, run_steps
from cutover.web.render import render
from cutover.web.security import (
    SESSION_COOKIE,
    Signed,
    allowed,
    checked_form,
    config_of,
    set_cookie,
)

__all__ = ["ACTION_LABELS", "router"]

router = APIRouter()

#: What each action means to the person holding it, as the overview lists it.
ACTION_LABELS: dict[Action, str] = {
    Action.VIEW: "View migration status, batches and reports",
    Action.CHANGE_OWN_PASSWORD: "Change your own password",
    Action.MANAGE_USERS: "Create, disable and enable accounts",
    Action.READ_AUDIT: "Read and verify the audit log",
    Action.RUN_PIPELINE: "Run extract, transform, load and validation",
    Action.EXPLAIN: "Explain release-date discrepancies for your institutions",
    Action.ANNOTATE: "Annotate discrepancies for your institutions",
    Action.SIGN_BATCH: "Sign off batches for your institutions",
}


@router.get("/")
def overview(
    request: Request, signed: Annotated[Signed, Depends(allowed(Action.VIEW))]
) -> Response:
    engine = config_of(request).engine
    everyone = can(signed.user, Action.READ_AUDIT)
    events = list_entries(engine, limit=10, actor=None if everyone else signed.user.username)
    return render(
        request,
        "overview.html",
        {
            "runs": list_runs(config_of(request).settings, limit=10),
            "actions": [(a, ACTION_LABELS[a]) for a in allowed_actions(signed.user)],
            "events": events,
            "events_are_everyone": everyone,
        },
        signed=signed,
    )


@router.get("/runs/{run_id}")
def run_page(
    request: Request, run_id: str, signed: Annotated[Signed, Depends(allowed(Action.VIEW))]
) -> Response:
    settings = config_of(request).settings
    run = get_run(settings, run_id)
    if run is None:
        raise HTTPException(status_code=404)
    return render(
        request, "run.html", {"run": run, "steps": run_steps(settings, run_id)}, signed=signed
    )


@router.get("/account")
def account(
    request: Request,
    signed: Annotated[Signed, Depends(allowed(Action.CHANGE_OWN_PASSWORD))],
) -> Response:
    changed = request.query_params.get("changed") == "1"
    return render(request, "account.html", {"changed": changed}, signed=signed)


@router.post("/account/password")
async def account_password(
    request: Request,
    signed: Annotated[Signed, Depends(allowed(Action.CHANGE_OWN_PASSWORD))],
    form: Annotated[FormData, Depends(checked_form)],
) -> Response:
    config = config_of(request)
    current = str(form.get("current_password") or "")
    new = str(form.get("new_password") or "")
    if new != str(form.get("confirm_password") or ""):
        error = "The new password and its confirmation differ."
    else:
        try:
            await run_in_threadpool(
                change_password,
                config.engine,
                actor=signed.user,
                username=signed.user.username,
                new_password=new,
                current_password=current,
            )
        except (AccessDeniedError, ConfigError) as exc:
            error = exc.message[:1].upper() + exc.message[1:] + "."
            if exc.hint:
                error += f" {exc.hint[:1].upper()}{exc.hint[1:]}."
        else:
            # Changing the password ended every session, this one too: start a fresh one.
            session = await run_in_threadpool(
                start_session, config.engine, signed.user.username, ttl=config.session_ttl
            )
            response = RedirectResponse("/account?changed=1", status_code=303)
            set_cookie(
                response,
                config,
                SESSION_COOKIE,
                session.token,
                max_age=int(config.session_ttl.total_seconds()),
            )
            return response
    return render(request, "account.html", {"error": error}, signed=signed, status_code=400)
