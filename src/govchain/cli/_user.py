"""`govchain user`: console users of this node, their roles and passwords.

Users live in HOME/console.sqlite (see `govchain.console.users`). The commands
work while `govchain serve` runs: a new password or a disabled user takes
effect at the user's next request.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from govchain.cli._context import CliState, console, print_table
from govchain.console.users import MIN_PASSWORD_LENGTH, ROLES, UserStore
from govchain.errors import ConfigError, ValidationError

#: Environment variable a script sets to give a password without a prompt.
PASSWORD_ENV = "GOVCHAIN_USER_PASSWORD"

app = typer.Typer(
    help="Console users: add, list, set a password, disable.",
    no_args_is_help=True,
)


def _store(state: CliState) -> tuple[UserStore, list[str]]:
    home = state.home(need_keys=False)
    if not home.exists():
        raise ConfigError(
            f"{home.path} is not a node home; create one with `govchain init`",
            path=str(home.path),
        )
    return UserStore.of_home(home.path), list(home.hosts)


def _password(*, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    if not sys.stdin.isatty():
        raise ConfigError(
            f"no password given: set {PASSWORD_ENV}, pass --password-stdin, or run "
            "the command in a terminal to be asked"
        )
    entered: str = typer.prompt(
        f"Password (at least {MIN_PASSWORD_LENGTH} characters)",
        hide_input=True,
        confirmation_prompt=True,
    )
    return entered


PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help=f"Read the password from the first line of standard input "
        f"(else {PASSWORD_ENV} or a prompt).",
    ),
]


@app.command()
def add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name, such as li.wei.")],
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(ROLES)}.")],
    department: Annotated[
        str,
        typer.Option(
            "--department",
            help="Department hosted on this node that the user acts for.",
        ),
    ],
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a console user with a role in a hosted department."""
    store, hosts = _store(ctx.obj)
    if department not in hosts:
        raise ValidationError(
            f"department {department!r} is not hosted on this node, so its key cannot "
            f"sign for the user; hosted: {', '.join(sorted(hosts))}",
            reason="not-hosted",
        )
    user = store.add(username, _password(from_stdin=password_stdin), role, department)
    console.print(f"user {user.username} added as {user.role} of {user.department}")


@app.command("list")
def list_users(ctx: typer.Context) -> None:
    """List the console users with their role, department and status."""
    store, _hosts = _store(ctx.obj)
    rows: list[list[object]] = [
        [
            u.username,
            u.id,
            u.role,
            u.department,
            "disabled" if u.disabled else "active",
        ]
        for u in store.list()
    ]
    print_table("console users", ["login", "id", "role", "department", "status"], rows)


@app.command("set-password")
def set_password(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name.")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a user's password; the user's open sessions end."""
    store, _hosts = _store(ctx.obj)
    user = store.set_password(username, _password(from_stdin=password_stdin))
    console.print(f"password of {user.username} changed; its sessions were closed")


@app.command()
def disable(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name.")],
) -> None:
    """Disable a user: no more logins, and the open sessions end."""
    store, _hosts = _store(ctx.obj)
    user = store.disable(username)
    console.print(f"user {user.username} disabled")
