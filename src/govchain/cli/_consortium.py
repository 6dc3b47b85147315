"""`govchain consortium`: membership changes signed by the platform operator.

Each change is checked against the ledger before it is signed, with the checks
its handler runs, so bad input exits with code 2 and a message naming the field
and nothing reaches the ledger.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from govchain.cli._context import CliState, console, print_table
from govchain.cli._remote import ApiClient
from govchain.consortium._membership import check_membership_change
from govchain.errors import PolicyError

app = typer.Typer(
    help="Departments of the consortium: list, admit, suspend, rotate keys.",
    no_args_is_help=True,
)


def _check(ctx: typer.Context, tx_type: str, payload: dict[str, Any]) -> None:
    state: CliState = ctx.obj
    store = state.read_store()
    try:
        check_membership_change(store, tx_type, payload)
    finally:
        store.close()


def _operator_act(
    ctx: typer.Context, tx_type: str, payload: dict[str, Any], *, check: bool = True
) -> None:
    """Check the change, then sign it as the operator and wait for its block.

    `check` is False only for a key rotation sent to a server without a key,
    because the server adds a key it generates.
    """
    if check:
        _check(ctx, tx_type, payload)
    state: CliState = ctx.obj
    node = state.node_or_api()
    if isinstance(node, ApiClient):
        store = state.read_store()
        try:
            config = store.get("consortium", "config")
        finally:
            store.close()
        assert config is not None
        operator = config["consortium"]["operator"]
        done = node.operator_act(operator, tx_type, payload)
        height, tx_id = done["height"], done["tx_id"]
    else:
        try:
            config = node.store.get("consortium", "config")
            assert config is not None
            receipt = node.act(config["consortium"]["operator"], tx_type, payload)
        finally:
            node.close()
        if not receipt.applied:
            raise PolicyError(receipt.message, reason=receipt.reason)
        height, tx_id = receipt.height, receipt.tx_id
    console.print(f"{tx_type} committed in block {height} (tx {tx_id})")


@app.command("list")
def list_departments(ctx: typer.Context) -> None:
    """List member departments with region, level, line and status."""
    state: CliState = ctx.obj
    store = state.read_store()
    try:
        rows = [
            [
                dept_id,
                r["name"],
                r["region"],
                r["level"],
                r["line"],
                r["status"],
                r["kid"],
            ]
            for dept_id, r in store.scan("dept")
        ]
    finally:
        store.close()
    print_table(
        "departments",
        ["id", "name", "region", "level", "line", "status", "key id"],
        rows,
    )


@app.command()
def admit(
    ctx: typer.Context,
    dept_id: Annotated[str, typer.Argument(help="New department id.")],
    name: Annotated[str, typer.Option(help="Department name.")],
    region: Annotated[
        str, typer.Option(help="Region code declared in the consortium.")
    ],
    level: Annotated[str, typer.Option(help="province, city or county.")],
    line: Annotated[str, typer.Option(help="Vertical line, such as health.")],
    public_key: Annotated[
        str, typer.Option(help="The department's Ed25519 public key, base64.")
    ],
) -> None:
    """Admit a department (operator)."""
    _operator_act(
        ctx,
        "consortium.admit",
        {
            "department": {
                "id": dept_id,
                "name": name,
                "region": region,
                "level": level,
                "line": line,
            },
            "public_key": public_key,
        },
    )


@app.command()
def suspend(
    ctx: typer.Context,
    dept_id: str,
    reason: Annotated[str, typer.Option(help="Why the department is suspended.")],
) -> None:
    """Suspend a department: its transactions are rejected from the next block on."""
    _operator_act(ctx, "consortium.suspend", {"department": dept_id, "reason": reason})


@app.command()
def reinstate(ctx: typer.Context, dept_id: str) -> None:
    """Reinstate a suspended department (operator)."""
    _operator_act(ctx, "consortium.reinstate", {"department": dept_id})


@app.command("rotate-key")
def rotate_key(
    ctx: typer.Context,
    dept_id: str,
    public_key: Annotated[
        str | None,
        typer.Option(
            help="The new Ed25519 public key, base64, for a department hosted "
            "elsewhere. Without it, a department hosted here gets a new key."
        ),
    ] = None,
) -> None:
    """Replace a department's signing key (operator)."""
    if public_key is not None:
        _operator_act(
            ctx,
            "consortium.rotate_key",
            {"department": dept_id, "public_key": public_key},
        )
        return
    state: CliState = ctx.obj
    node = state.node_or_api()
    if isinstance(node, ApiClient):
        # The server holds the keys: it generates and stores the new one.
        _operator_act(
            ctx, "consortium.rotate_key", {"department": dept_id}, check=False
        )
        return
    try:
        receipt = node.rotate_hosted_key(dept_id)
        kid = node.dept_keys[dept_id].kid
    finally:
        node.close()
    console.print(f"{dept_id} now signs with key {kid} (block {receipt.height})")
