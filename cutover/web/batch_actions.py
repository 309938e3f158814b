"""The batch forms: sign off, revoke, explain or accept a discrepancy, triage quarantine.

Every route takes the session's CSRF token (:func:`~cutover.web.security.checked_form`) and
asks the shared permission model through the :mod:`cutover.batches` functions it calls, which
record the change in the audit log. A refused sign-off shows the batch page again with every
blocker listed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from cutover.batches import add_explanation, revoke, sign, triage_quarantine
from cutover.batches.decisions import DecisionKind
from cutover.errors import ConfigError, SignOffError
from cutover.web.batches import batch_context, control_engine
from cutover.web.render import render
from cutover.web.security import Signed, checked_form, signed_in

__all__ = ["router"]

router = APIRouter()


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _back(batch: str, notice: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/batches/{batch}?notice={notice}{anchor}", status_code=303)


def _refused(
    request: Request, signed: Signed, batch: str, error: str, blocking: list[str], status: int
) -> Response:
    with control_engine(request).connect() as conn:
        context = batch_context(conn, signed, batch)
    context.update({"error": error, "refused_blockers": blocking})
    return render(request, "batch.html", context, signed=signed, status_code=status)


def _message(exc: ConfigError | SignOffError) -> str:
    text = exc.message[:1].upper() + exc.message[1:] + "."
    return text + (f" {exc.hint[:1].upper()}{exc.hint[1:]}." if exc.hint else "")


async def _act(
    request: Request,
    signed: Signed,
    batch: str,
    action: Callable[[], object],
    notice: str,
    anchor: str,
) -> Response:
    """Run a state change off the event loop; on refusal show the batch page with the reason."""
    try:
        await run_in_threadpool(action)
    except SignOffError as exc:
        return _refused(request, signed, batch, _message(exc), exc.blockers, 409)
    except ConfigError as exc:
        return _refused(request, signed, batch, _message(exc), [], 400)
    return _back(batch, notice, anchor)


Form = Annotated[FormData, Depends(checked_form)]
User = Annotated[Signed, Depends(signed_in)]


@router.post("/batches/{batch}/sign")
async def sign_batch(request: Request, batch: str, signed: User, form: Form) -> Response:
    def action() -> object:
        return sign(
            control_engine(request),
            actor=signed.user,
            batch=batch,
            statement=_field(form, "statement"),
            expected_hash=_field(form, "evidence_hash") or None,
        )

    return await _act(request, signed, batch, action, "signed", "#signoff")


@router.post("/batches/{batch}/revoke")
async def revoke_signoff(request: Request, batch: str, signed: User, form: Form) -> Response:
    def action() -> object:
        return revoke(
            control_engine(request), actor=signed.user, batch=batch, reason=_field(form, "reason")
        )

    return await _act(request, signed, batch, action, "revoked", "#signoff")


@router.post("/batches/{batch}/explanations")
async def explain(request: Request, batch: str, signed: User, form: Form) -> Response:
    kind: DecisionKind = (
        "accepted_variance" if _field(form, "kind") == "accepted_variance" else "explanation"
    )

    def action() -> object:
        return add_explanation(
            control_engine(request),
            actor=signed.user,
            batch=batch,
            person_id=_field(form, "person_id"),
            code=_field(form, "code"),
            kind=kind,
            reason=_field(form, "reason"),
        )

    return await _act(request, signed, batch, action, "explained", "#register")


@router.post("/batches/{batch}/triage")
async def triage(request: Request, batch: str, signed: User, form: Form) -> Response:
    def action() -> object:
        return triage_quarantine(
            control_engine(request),
            actor=signed.user,
            batch=batch,
            group=_field(form, "group"),
            reason=_field(form, "reason"),
        )

    return await _act(request, signed, batch, action, "triaged", "#quarantine")
