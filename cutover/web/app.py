"""The web application: ``create_app(settings)`` builds it, ``cutover serve`` runs it.

Server-rendered pages (Jinja2) and one stylesheet; no scripts, no build step, nothing loaded from
another site. Every page but the sign-in page needs a session; every POST needs the session's
CSRF token; what a user may see or do is asked of :mod:`cutover.control.permissions`.

Adding pages (batches, discrepancies, sign-off): write an ``APIRouter`` whose routes take
``Depends(allowed(Action.X))`` (or :func:`~cutover.web.security.signed_in` and then
``require(signed.user, Action.SIGN_BATCH, institution)`` for scoped actions), POST routes also
``Depends(checked_form)``; render with :func:`~cutover.web.render.render` and a template that
extends ``base.html``; pass the router to ``create_app(..., routers=[...])``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from cutover.control import open_control
from cutover.errors import AccessDeniedError
from cutover.settings import Settings
from cutover.web import admin_routes, auth_routes, batch_actions, batches, pages
from cutover.web.render import SECURITY_HEADERS, render
from cutover.web.security import CsrfRejected, LoginRequired, WebConfig

__all__ = ["DEFAULT_IDLE_TIMEOUT", "DEFAULT_SESSION_TTL", "create_app"]

DEFAULT_SESSION_TTL = timedelta(hours=8)
DEFAULT_IDLE_TIMEOUT = timedelta(minutes=30)


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login_required(_request: Request, exc: LoginRequired) -> Response:
        target = f"/login?next={quote(exc.next_path, safe='/')}"
        if exc.expired:
            target += "&expired=1"
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(CsrfRejected)
    async def _csrf(request: Request, _exc: CsrfRejected) -> Response:
        return render(
            request,
            "error.html",
            {
                "title": "Form refused",
                "message": "This form was not sent by a page of this site, or the page has "
                "expired (it carried no valid security token). Nothing was changed.",
                "advice": "Go back, reload the page and submit the form again.",
            },
            status_code=403,
        )

    @app.exception_handler(AccessDeniedError)
    async def _denied(request: Request, exc: AccessDeniedError) -> Response:
        return render(
            request,
            "error.html",
            {
                "title": "Not allowed",
                "message": exc.message[:1].upper() + exc.message[1:] + ".",
                "advice": None if not exc.hint else exc.hint[:1].upper() + exc.hint[1:] + ".",
            },
            status_code=403,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Page not found", 405: "Method not allowed"}
        return render(
            request,
            "error.html",
            {
                "title": titles.get(exc.status_code, "Request refused"),
                "message": "There is nothing here." if exc.status_code == 404 else str(exc.detail),
                "advice": None,
            },
            status_code=exc.status_code,
        )


def create_app(
    settings: Settings,
    *,
    session_ttl: timedelta = DEFAULT_SESSION_TTL,
    idle_timeout: timedelta = DEFAULT_IDLE_TIMEOUT,
    secure_cookies: bool = False,
    engine: Engine | None = None,
    routers: Iterable[APIRouter] = (),
) -> FastAPI:
    """The dashboard for ``settings``' workspace.

    ``secure_cookies`` marks cookies Secure: turn it on whenever the app is served over HTTPS
    (behind a TLS-terminating proxy). ``routers`` adds pages built on the same security.
    """
    app = FastAPI(
        title=f"cutover: {settings.name}", docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.config = WebConfig(
        settings=settings,
        engine=engine or open_control(settings),
        workspace_name=settings.name,
        session_ttl=session_ttl,
        idle_timeout=idle_timeout,
        secure_cookies=secure_cookies,
    )

    @app.middleware("http")
    async def _headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    _install_handlers(app)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    #: Every router, so that tests (and a page listing) can walk all routes, extra ones included.
    app.state.routers = (
        auth_routes.router,
        pages.router,
        admin_routes.router,
        batches.router,
        batch_actions.router,
        *routers,
    )
    for router in app.state.routers:
        app.include_router(router)
    return app
