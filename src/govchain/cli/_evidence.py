"""`govchain audit`, `govchain evidence` and `govchain checkpoint`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from govchain import audit as audit_trail
from govchain.cli._archive import verify_bag
from govchain.cli._context import (
    CliState,
    check_output_path,
    console,
    err_console,
    print_json,
    print_raw,
    print_table,
)
from govchain.cli._remote import ApiClient
from govchain.errors import ConfigError
from govchain.evidence import export_bundle, read_trust_file, verify_bundle
from govchain.evidence.bundle import load_bundle
from govchain.evidence.keys import ledger_keys, trust_file_text
from govchain.governance.personal_data import mask_personal_data
from govchain.ledger.apply import DEPT_NS
from govchain.node.presented import check_presented_checkpoint

app = typer.Typer(
    help="Evidence bundles that verify without the platform.", no_args_is_help=True
)

__all__ = ["app", "audit", "checkpoint", "trust_file_text"]


def audit(
    ctx: typer.Context,
    resource: Annotated[str | None, typer.Option(help="Trail of one resource.")] = None,
    department: Annotated[
        str | None, typer.Option(help="Trail of one department.")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="From this time (ISO 8601).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Before this time (ISO 8601).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Most rows shown.")] = 1000,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List the audit trail: every operation, refused ones included."""
    query = audit_trail.TrailQuery(
        resource=resource,
        department=department,
        since=audit_trail.parse_time(since) if since else None,
        until=audit_trail.parse_time(until) if until else None,
        limit=limit,
    )
    state: CliState = ctx.obj
    store = state.read_store()
    try:
        if department and store.get(DEPT_NS, department) is None:
            raise typer.BadParameter(
                f"{mask_personal_data(department[:80])!r} is not a member department; "
                "list them with "
                "`govchain consortium list`",
                param_hint="--department",
            )
        rows = audit_trail.trail(store, query)
    finally:
        store.close()
    if as_json:
        print_json(rows)
        return
    print_table(
        f"audit trail: {len(rows)} transactions",
        [
            "index",
            "time (UTC)",
            "type",
            "department",
            "target",
            "status",
            "reason",
            "tx id",
        ],
        [
            [
                r["index"],
                r["time"],
                r["type"],
                r["department"],
                r["target"],
                r["status"],
                r["reason"],
                r["tx_id"][:16],
            ]
            for r in rows
        ],
    )


@app.command("export")
def export(
    ctx: typer.Context,
    tx_id: Annotated[str, typer.Argument(help="Transaction id (64 hex characters).")],
    out: Annotated[Path, typer.Option(help="Bundle file to write.")],
) -> None:
    """Write the evidence bundle of one transaction."""
    check_output_path(out)
    state: CliState = ctx.obj
    store = state.read_store()
    try:
        bundle = export_bundle(store, tx_id, ledger_keys(store))
    finally:
        store.close()
    text = json.dumps(bundle, ensure_ascii=False, indent=2) + "\n"
    try:
        out.write_text(text, "utf-8")
    except OSError as exc:
        raise ConfigError(
            f"--out {out}: cannot write the bundle: {exc.strerror}", path=str(out)
        ) from exc
    console.print(
        f"wrote evidence bundle {out} (log index {bundle['leaf_index']}, "
        f"tree size {bundle['tree_size']})"
    )


@app.command("verify")
def verify(
    file: Annotated[
        Path,
        typer.Argument(help="Evidence bundle (JSON), or an archive bag directory."),
    ],
    trust: Annotated[
        Path, typer.Option(help="Trust file of verifier keys (`govchain keys`).")
    ],
    min_signatures: Annotated[
        int | None,
        typer.Option(
            help="Witness cosignatures the checkpoint needs besides a node's "
            "signature; default and lowest allowed: the trust file's witness "
            "threshold."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Verify a bundle offline with nothing but the bundle and the trust file.

    The checkpoint counts only when a node key signed it and enough witness
    keys cosigned it; department keys count only for the transaction.
    """
    trusted = read_trust_file(trust)
    if min_signatures is not None and min_signatures < trusted.witness_threshold:
        raise ConfigError(
            f"--min-signatures {min_signatures} is below the witness threshold "
            f"{trusted.witness_threshold} of trust file {trust}; it can only raise "
            "the number of cosignatures required"
        )
    if file.is_dir():
        # A directory can only be a bag; the bag check names what it lacks.
        needed = min_signatures or trusted.witness_threshold
        verify_bag(file, trust, min_signatures=needed, as_json=as_json)
        return
    result = verify_bundle(load_bundle(file), trusted, min_signatures=min_signatures)
    if as_json:
        print_json({"ok": True, **result})
        return
    console.print(f"evidence verifies: transaction {result['tx_id']}")
    console.print(
        f"  {result['type']} by {result['department']}: {result['status']}"
        f" ({result['reason']}) in block {result['height']}"
    )
    console.print(
        f"  included at index {result['leaf_index']} of a tree of {result['tree_size']}"
    )
    console.print(f"  checkpoint signed by {', '.join(result['checkpoint_signers'])}")


def checkpoint(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Argument(help="A checkpoint note to check against this ledger."),
    ] = None,
) -> None:
    """Print the latest checkpoint, or check one presented by a peer or witness.

    Only node and witness keys count. A presented checkpoint larger than the
    local log, signed by a node key, means this home was restored from an older
    backup (or missed blocks): the node then refuses to commit until a newer
    backup is restored.
    """
    state: CliState = ctx.obj
    if file is None:
        store = state.read_store()
        try:
            latest = store.latest_checkpoint()
        finally:
            store.close()
        if latest is None:
            err_console.print("no checkpoint yet")
            raise typer.Exit(1)
        print_raw(latest[1].decode("utf-8"))
        return
    if not file.is_file():
        raise ConfigError(f"checkpoint file {file} does not exist; pass a note file")
    node = state.node_or_api()
    if isinstance(node, ApiClient):
        store = state.read_store()
        try:
            config = store.get("consortium", "config")
        finally:
            store.close()
        assert config is not None
        done = node.call(
            config["consortium"]["operator"],
            "POST",
            "/v1/checkpoints",
            body={"note": file.read_text("utf-8")},
        )
        size = int(done["size"])
    else:
        try:
            size = check_presented_checkpoint(node, file.read_bytes())
        finally:
            node.close()
    console.print(f"checkpoint for tree size {size} is consistent with this ledger")
