"""Administration commands: ``user``, ``audit`` and ``serve``.

Acting user: commands that change or reveal protected state act as a named account, given by
``--as USER`` or ``$CUTOVER_USER``. Its password is read from ``$CUTOVER_PASSWORD`` when set (for
scripts; keep it out of shell history and files) or else prompted for without echo. It is checked
exactly as the web's sign-in checks it, and the same permission model then decides, so the command
line grants nothing the web would refuse. There is no trusted local mode: anyone who can write to
the control database can bypass any application, which is what the audit chain is there to
reveal.

The one exception is the first administrator: ``cutover init --admin USER`` creates it, and so does
``cutover user add USER --role admin`` without ``--as`` while the control store has no account at
all. Passwords of new accounts come from ``$CUTOVER_NEW_PASSWORD`` or a confirmed prompt.

``cutover audit verify`` exits with code 4 when the chain is broken, naming the first broken seq.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine

from cutover.commands.common import WorkspaceOption, settings_for
from cutover.control import (
    Action,
    AuditChainError,
    User,
    authenticate,
    change_password,
    create_first_admin,
    create_user,
    list_entries,
    list_users,
    open_control,
    require,
    set_active,
    verify,
)
from cutover.control.store import users as users_table
from cutover.errors import AccessDeniedError

__all__ = ["AsUserOption", "acting_user", "new_password", "register"]

AsUserOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Act as this account (password from $CUTOVER_PASSWORD or a prompt).",
        envvar="CUTOVER_USER",
        show_envvar=True,
    ),
]

_console = Console()


def _password_for(username: str) -> str:
    from_env = os.environ.get("CUTOVER_PASSWORD")
    if from_env is not None:
        return from_env
    return str(typer.prompt(f"Password for {username}", hide_input=True))


def _sign_in(engine: Engine, as_user: str | None) -> tuple[User, str]:
    if not as_user:
        raise AccessDeniedError(
            "this command acts as a named account",
            hint="pass --as USER or set CUTOVER_USER; the password comes from "
            "CUTOVER_PASSWORD or a prompt",
        )
    password = _password_for(as_user)
    return authenticate(engine, as_user, password), password


def acting_user(engine: Engine, as_user: str | None) -> User:
    """The signed-in account a command acts as (see the module docstring)."""
    return _sign_in(engine, as_user)[0]


def new_password(env_name: str, label: str) -> str:
    """A new password from ``$env_name`` or a confirmed, hidden prompt."""
    from_env = os.environ.get(env_name)
    if from_env is not None:
        return from_env
    return str(typer.prompt(label, hide_input=True, confirmation_prompt=True))


def _plain(value: object) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _has_accounts(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(sa.select(sa.func.count()).select_from(users_table)).scalar())


def _register_user(app: typer.Typer) -> None:
    user_app = typer.Typer(help="Accounts and roles.", no_args_is_help=True)
    app.add_typer(user_app, name="user")

    @user_app.command("add")
    def add(
        username: Annotated[str, typer.Argument(help="Login name (lower case).")],
        role: Annotated[str, typer.Option(help="admin, engineer, validator or viewer.")],
        institution: Annotated[
            list[str] | None,
            typer.Option(help="An institution a validator signs for; repeat for several."),
        ] = None,
        as_user: AsUserOption = None,
        workspace: WorkspaceOption = Path(),
    ) -> None:
        """Create an account (the password comes from $CUTOVER_NEW_PASSWORD or a prompt)."""
        engine = open_control(settings_for(workspace))
        try:
            if not as_user and not _has_accounts(engine) and role == "admin" and not institution:
                password = new_password("CUTOVER_NEW_PASSWORD", f"Password for {username}")
                created = create_first_admin(engine, username=username, password=password)
            else:
                actor = acting_user(engine, as_user)
                require(actor, Action.MANAGE_USERS)
                password = new_password("CUTOVER_NEW_PASSWORD", f"Password for {username}")
                created = create_user(
                    engine,
                    actor=actor,
                    username=username,
                    role=role,
                    password=password,
                    institutions=institution or (),
                )
        finally:
            engine.dispose()
        scope = f" for {', '.join(sorted(created.institutions))}" if created.institutions else ""
        _console.print(f"[green]created[/green] {created.username} ({created.role.value}{scope})")

    @user_app.command("list")
    def list_(as_user: AsUserOption = None, workspace: WorkspaceOption = Path()) -> None:
        """List the accounts."""
        engine = open_control(settings_for(workspace))
        try:
            require(acting_user(engine, as_user), Action.MANAGE_USERS)
            accounts = list_users(engine)
        finally:
            engine.dispose()
        table = Table("user", "role", "institutions", "status", "created", "created by")
        for u in accounts:
            table.add_row(
                u.username,
                u.role.value,
                ", ".join(sorted(u.institutions)) or "-",
                "active" if u.active else "[red]disabled[/red]",
                u.created_at.strftime("%Y-%m-%d %H:%M"),
                u.created_by,
            )
        _console.print(table)

    def _toggle(username: str, as_user: str | None, workspace: Path, *, active: bool) -> None:
        engine = open_control(settings_for(workspace))
        try:
            set_active(engine, actor=acting_user(engine, as_user), username=username, active=active)
        finally:
            engine.dispose()
        _console.print(f"[green]{'enabled' if active else 'disabled'}[/green] {username}")

    @user_app.command("disable")
    def disable(
        username: Annotated[str, typer.Argument(help="The account to disable.")],
        as_user: AsUserOption = None,
        workspace: WorkspaceOption = Path(),
    ) -> None:
        """Disable an account; its web sessions end at once."""
        _toggle(username, as_user, workspace, active=False)

    @user_app.command("enable")
    def enable(
        username: Annotated[str, typer.Argument(help="The account to enable.")],
        as_user: AsUserOption = None,
        workspace: WorkspaceOption = Path(),
    ) -> None:
        """Enable a disabled account."""
        _toggle(username, as_user, workspace, active=True)

    @user_app.command("passwd")
    def passwd(
        username: Annotated[
            str | None, typer.Argument(help="Whose password (default: your own).")
        ] = None,
        as_user: AsUserOption = None,
        workspace: WorkspaceOption = Path(),
    ) -> None:
        """Change your password, or (administrators) reset another account's."""
        engine = open_control(settings_for(workspace))
        try:
            actor, current = _sign_in(engine, as_user)
            whose = username or actor.username
            require(
                actor,
                Action.CHANGE_OWN_PASSWORD if whose == actor.username else Action.MANAGE_USERS,
            )
            change_password(
                engine,
                actor=actor,
                username=whose,
                new_password=new_password("CUTOVER_NEW_PASSWORD", f"New password for {whose}"),
                current_password=current if whose == actor.username else None,
            )
        finally:
            engine.dispose()
        _console.print(f"[green]password changed[/green] for {whose}; its web sessions ended")


def _register_audit(app: typer.Typer) -> None:
    audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
    app.add_typer(audit_app, name="audit")

    @audit_app.command("verify")
    def verify_(as_user: AsUserOption = None, workspace: WorkspaceOption = Path()) -> None:
        """Check every entry of the audit chain; exit 4 at the first edited or removed one."""
        engine = open_control(settings_for(workspace))
        try:
            require(acting_user(engine, as_user), Action.READ_AUDIT)
            report = verify(engine)
        finally:
            engine.dispose()
        if report.broken is not None:
            b = report.broken
            _console.print(
                f"[red]audit chain broken at seq {b.seq} ({b.kind}):[/red] {b.message}\n"
                f"{report.entries} entries before it are intact."
            )
            raise typer.Exit(AuditChainError.exit_code)
        _console.print(
            f"[green]audit chain intact:[/green] {report.entries} entries; "
            f"head seq {report.head_seq} hash {report.head_hash}"
        )

    @audit_app.command("list")
    def list_(
        limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many entries.")] = 20,
        before: Annotated[int | None, typer.Option(help="Only entries before this seq.")] = None,
        actor: Annotated[str | None, typer.Option(help="Only this actor's entries.")] = None,
        action: Annotated[str | None, typer.Option(help="Only this action.")] = None,
        as_user: AsUserOption = None,
        workspace: WorkspaceOption = Path(),
    ) -> None:
        """Show the latest audit entries, newest first."""
        engine = open_control(settings_for(workspace))
        try:
            require(acting_user(engine, as_user), Action.READ_AUDIT)
            entries = list_entries(
                engine, limit=limit, before_seq=before, actor=actor, action=action
            )
        finally:
            engine.dispose()
        table = Table("seq", "at (UTC)", "actor", "action", "subject", "details")
        for column in table.columns[:4]:
            column.no_wrap = True
        for e in entries:
            details = ", ".join(f"{k}={_plain(v)}" for k, v in sorted(e.details.items()))
            table.add_row(
                str(e.seq), e.at[:19].replace("T", " "), e.actor, e.action, e.subject, details
            )
        _console.print(table)


def _register_serve(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
        session_hours: Annotated[
            float, typer.Option(min=0.05, help="A session's absolute lifetime.")
        ] = 8.0,
        idle_minutes: Annotated[
            float, typer.Option(min=1, help="Sign out after this long without a request.")
        ] = 30.0,
        secure_cookies: Annotated[
            bool, typer.Option(help="Mark cookies Secure (serve behind HTTPS).")
        ] = False,
        workspace: WorkspaceOption = Path(),
    ) -> None:
        """Start the dashboard web application."""
        import uvicorn  # noqa: PLC0415 - only this command needs the server

        from cutover.web import create_app  # noqa: PLC0415 - keeps other commands fast

        settings = settings_for(workspace)
        application = create_app(
            settings,
            session_ttl=timedelta(hours=session_hours),
            idle_timeout=timedelta(minutes=idle_minutes),
            secure_cookies=secure_cookies,
        )
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback and not secure_cookies:
            _console.print(
                "[yellow]warning:[/yellow] listening beyond this machine without --secure-cookies;"
                " put the dashboard behind HTTPS and pass --secure-cookies"
            )
        _console.print(f"dashboard for [bold]{settings.name}[/bold] on http://{host}:{port}/")
        uvicorn.run(application, host=host, port=port, proxy_headers=False)


def register(app: typer.Typer) -> None:
    _register_user(app)
    _register_audit(app)
    _register_serve(app)
