"""`govchain token`: API tokens of the departments hosted on this node."""

from __future__ import annotations

from typing import Annotated

import typer

from govchain.api.auth import create_token
from govchain.cli._context import CliState, console

app = typer.Typer(
    help="API tokens: one per hosted department, for `govchain serve`.",
    no_args_is_help=True,
)


@app.callback()
def token() -> None:
    # A callback keeps `create` a subcommand even while it is the only one.
    pass


@app.command()
def create(
    ctx: typer.Context,
    as_dept: Annotated[
        str, typer.Option("--as", help="Hosted department the token acts for.")
    ],
) -> None:
    """Create a new API token for a department, replacing its old one.

    The token is written to HOME/tokens/DEPT.token, readable only by you; the
    node home keeps only its hash. A running server accepts it at once and
    stops accepting the old one.
    """
    state: CliState = ctx.obj
    issued = create_token(state.home(need_keys=False), as_dept)
    console.print(f"API token of {issued.dept} written to {issued.path}")
