"""The `govchain` command: node set-up, status and verification."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from govchain.cli import (
    _archive,
    _catalog,
    _cert,
    _consortium,
    _data,
    _evidence,
    _ledger,
    _lineage,
    _share,
    _token,
    _user,
)
from govchain.cli._context import (
    CliState,
    console,
    err_console,
    passphrase,
    print_json,
    print_raw,
)
from govchain.ledger.verify import verify_ledger
from govchain.node import NodeHome, init_node
from govchain.node._node import behind_checkpoint, behind_message

app = typer.Typer(
    name="govchain",
    help="A permissioned, tamper-evident ledger for sharing government data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(_consortium.app, name="consortium")
app.add_typer(_catalog.app, name="catalog")
app.add_typer(_share.app, name="share")
app.add_typer(_evidence.app, name="evidence")
app.add_typer(_token.app, name="token")
app.add_typer(_data.app, name="data")
app.add_typer(_user.app, name="user")
app.add_typer(_archive.app, name="archive")
app.add_typer(_cert.app, name="cert")
app.command("audit")(_evidence.audit)
app.command("checkpoint")(_evidence.checkpoint)
app.command("compare")(_ledger.compare)
app.command("lineage")(_lineage.lineage)


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            envvar="GOVCHAIN_HOME",
            help="Node home directory (also GOVCHAIN_HOME).",
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log progress at DEBUG.")
    ] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = CliState(home_path=home)


@app.command()
def init(
    ctx: typer.Context,
    consortium: Annotated[
        Path, typer.Option("--consortium", help="Consortium file (TOML).")
    ],
    insecure_dev_keys: Annotated[
        bool,
        typer.Option(
            "--insecure-dev-keys",
            help="Store private keys unencrypted. For throw-away development homes only.",
        ),
    ] = False,
) -> None:
    """Create a node home from a consortium file and write the genesis block."""
    state: CliState = ctx.obj
    home = NodeHome(state.home_path or state.home(need_keys=False).path)
    if insecure_dev_keys:
        err_console.print(
            "[yellow]warning: private keys will be stored UNENCRYPTED; use this home "
            "for development only[/yellow]"
        )
    else:
        home.passphrase = passphrase(confirm=True)
    node = init_node(home, consortium, encrypt=not insecure_dev_keys)
    try:
        header = node.store.header(0)
        assert header is not None
        console.print(f"created node home {home.path}")
        console.print(f"  node         {home.node_id}")
        console.print(f"  origin       {home.origin}")
        console.print(f"  hosts        {', '.join(home.hosts)}")
        console.print(f"  genesis hash {header.hash}")
    finally:
        node.close()


@app.command()
def status(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Show the node's height, log size and latest checkpoint."""
    state: CliState = ctx.obj
    store = state.read_store()
    try:
        height = store.height()
        header = store.header(height)
        latest = store.latest_checkpoint()
        info = {
            "home": str(store.path.parent),
            "height": height,
            "log_size": store.log_size(),
            "last_block_hash": header.hash if header else None,
            "log_root": header.log_root if header else None,
            "checkpoint": latest[1].decode("utf-8") if latest else None,
        }
        behind = behind_checkpoint(store)
        info["behind"] = behind_message(*behind) if behind else None
    finally:
        store.close()
    if as_json:
        print_json(info)
        return
    for key, value in info.items():
        if key not in ("checkpoint", "behind"):
            console.print(f"{key:16} {value}")
    if info["behind"]:
        err_console.print(f"warning: {info['behind']}", highlight=False)
    if info["checkpoint"]:
        console.print("latest checkpoint:")
        print_raw(str(info["checkpoint"]))


@app.command()
def verify(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Re-check every block, signature, Merkle node, checkpoint and state row.

    Exits 0 when the whole ledger verifies, 1 when something does not; the
    first bad block and transaction are named.
    """
    state: CliState = ctx.obj
    store = state.read_store()
    try:
        try:
            total: int | None = store.height() + 1
        except sqlite3.Error:
            total = None  # verify_ledger reports why the file cannot be read
        with Progress(console=err_console, transient=True, disable=as_json) as progress:
            task = progress.add_task("verifying blocks", total=total)
            report = verify_ledger(
                store,
                progress=lambda height, _top: progress.update(
                    task, completed=height + 1
                ),
            )
    finally:
        store.close()
    if as_json:
        print_json(report.to_dict())
    elif report.ok:
        console.print(
            f"ledger verifies: {report.blocks} blocks, {report.transactions} transactions, "
            f"{report.checkpoints} checkpoints, {report.state_rows} state rows"
        )
        console.print(f"log root {report.log_root}")
    else:
        problem = report.problem
        assert problem is not None
        err_console.print(f"[red]ledger does NOT verify[/red]: {problem}", markup=True)
        if problem.height is not None:
            err_console.print(f"  first bad block: {problem.height}")
        if problem.tx_id is not None:
            err_console.print(f"  first bad transaction: {problem.tx_id}")
    if not report.ok:
        raise typer.Exit(1)


@app.command("keys")
def keys(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the trust file here.")
    ] = None,
) -> None:
    """Export the verifier keys of the node and every department as a trust file."""
    state: CliState = ctx.obj
    store = state.read_store()
    try:
        text = _evidence.trust_file_text(store)
    finally:
        store.close()
    if out is None:
        print_raw(text)
    else:
        out.write_text(text, "utf-8")
        console.print(f"wrote trust file {out}")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    tls_cert: Annotated[
        Path | None,
        typer.Option(help="TLS certificate chain (PEM); serve HTTPS with --tls-key."),
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option(help="Private key of --tls-cert (PEM).")
    ] = None,
) -> None:
    """Run the HTTP API (OpenAPI at /docs) as the node's one writer."""
    from govchain.api.server import run_server

    state: CliState = ctx.obj
    run_server(state.home(), host=host, port=port, tls_cert=tls_cert, tls_key=tls_key)


@app.command()
def demo(
    ctx: typer.Context,
    no_serve: Annotated[
        bool,
        typer.Option("--no-serve", help="Exit after the scenarios instead of serving."),
    ] = False,
    port: Annotated[int, typer.Option(help="TCP port of the API.")] = 8000,
) -> None:
    """Build the demo consortium on real open data and play the sharing scenarios."""
    from govchain.demo import run_demo

    state: CliState = ctx.obj
    home_path = state.home_path or Path("demo-home")
    run_demo(home_path, serve=not no_serve, port=port)
