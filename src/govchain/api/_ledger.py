"""Ledger routes: status, checkpoints, proofs, verification, audit, evidence and
pre-signed transactions.

Status, the latest checkpoint and proofs are public: they reveal tree heads and
hashes only, and anyone must be able to check the log. A pre-signed
transaction needs no token, because its signature authenticates it. A
presented checkpoint needs a department token like the other write routes: a
valid one can stop this node from committing, so each one is tied to a caller
in the log.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from govchain import audit as audit_trail
from govchain.api._context import (
    ApiContext,
    Caller,
    Ctx,
    ReadStore,
    Writer,
    client_of,
)
from govchain.api._errors import Unauthenticated
from govchain.api._models import PresentedCheckpoint, SignedTransaction
from govchain.crypto.keys import PublicKey
from govchain.errors import ValidationError
from govchain.evidence import export_bundle
from govchain.evidence.keys import ledger_keys
from govchain.evidence.trust import UntrustedCheckpointError
from govchain.governance.personal_data import mask_personal_data
from govchain.ledger import merkle
from govchain.ledger.apply import DEPT_NS
from govchain.ledger.canonical import parse_canonical_json
from govchain.ledger.store import LedgerStore
from govchain.ledger.transaction import Transaction, transaction_from_dict, tx_id
from govchain.ledger.verify import verify_ledger
from govchain.node._node import behind_checkpoint, behind_message
from govchain.node.presented import check_presented_checkpoint

logger = logging.getLogger(__name__)

router = APIRouter(tags=["ledger"])


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@router.get("/healthz", tags=["service"])
def healthz() -> dict[str, str]:
    """Report that the server answers."""
    return {"status": "ok"}


@router.get("/v1/status")
def status(store: ReadStore, ctx: Ctx) -> dict[str, Any]:
    """Show the node id, block height, log size, roots and latest checkpoint.

    `behind` is null unless a presented checkpoint proved that this ledger
    lacks entries. It then gives that checkpoint's size, its node signers and
    what to do, and the node commits no blocks.
    """
    height = store.height()
    header = store.header(height)
    latest = store.latest_checkpoint()
    behind = behind_checkpoint(store)
    return {
        "node": ctx.node.home.node_id,
        "origin": ctx.node.origin,
        "height": height,
        "log_size": store.log_size(),
        "last_block_hash": header.hash if header else None,
        "log_root": header.log_root if header else None,
        "checkpoint": latest[1].decode("utf-8") if latest else None,
        "behind": None
        if behind is None
        else {
            "checkpoint_size": behind[0],
            "signed_by": behind[1],
            "message": behind_message(*behind),
        },
    }


@router.get("/v1/checkpoint")
def latest_checkpoint(store: ReadStore) -> dict[str, Any]:
    """Return the latest signed checkpoint (a C2SP signed note) and its tree size."""
    latest = store.latest_checkpoint()
    if latest is None:
        raise ValidationError(
            "the ledger has no checkpoint yet", reason="unknown-checkpoint"
        )
    return {"size": latest[0], "note": latest[1].decode("utf-8")}


@router.post(
    "/v1/checkpoints",
    responses={400: {"description": "No node or witness key signed the note."}},
)
def present_checkpoint(
    body: PresentedCheckpoint, ctx: Ctx, caller: Caller, request: Request
) -> Any:
    """Check a checkpoint that a peer or witness has seen against this ledger.

    Only node and witness keys count; department keys never do. 200 when
    consistent. 400 (reason `untrusted-checkpoint`) when no node or witness key
    signed it, or when it covers more than this ledger contains and no node key
    signed it; nothing changes then. 409 when a node key signed a checkpoint
    covering more than this ledger holds (the node then stops committing until
    a newer backup is restored) or when the roots differ (the ledgers forked).
    422 when the note is malformed or a node or witness signature fails.
    """
    try:
        size = check_presented_checkpoint(ctx.node, body.note.encode("utf-8"))
    except UntrustedCheckpointError as exc:
        # Rate-limited per client, because any department may send these.
        ctx.refusals.refused(
            client_of(request), "untrusted checkpoint", f"department {caller!r}"
        )
        return JSONResponse(
            {"error": str(exc), "reason": "untrusted-checkpoint"}, status_code=400
        )
    logger.info("checkpoint of size %d presented by %s is consistent", size, caller)
    return {"consistent": True, "size": size}


@router.get("/v1/proofs/inclusion")
def inclusion_proof(
    store: ReadStore,
    index: Annotated[int, Query(ge=0, description="Log index of the entry.")],
    size: Annotated[int, Query(ge=1, description="Tree size to prove against.")],
) -> dict[str, Any]:
    """Prove that log entry `index` is in the tree of `size` entries (RFC 9162).

    Hashes are base64. `checkpoint` is the signed note for `size` when the
    ledger has one, so the root can be checked against a signature.
    """
    _check_size(store, size)
    proof = merkle.inclusion_proof(store, index, size)
    entry = store.tx_by_seq(index)
    return {
        "index": index,
        "size": size,
        "tx_id": entry.id if entry else None,
        "leaf_hash": _b64(store.node(0, index)),
        "root_hash": _b64(merkle.tree_root(store, size)),
        "proof": [_b64(p) for p in proof],
        "checkpoint": _note(store, size),
    }


@router.get("/v1/proofs/consistency")
def consistency_proof(
    store: ReadStore,
    size1: Annotated[int, Query(ge=1, description="Size of the older tree.")],
    size2: Annotated[int, Query(ge=1, description="Size of the newer tree.")],
) -> dict[str, Any]:
    """Prove that the tree of `size2` entries extends the one of `size1` (RFC 9162)."""
    _check_size(store, size2)
    proof = merkle.consistency_proof(store, size1, size2)
    return {
        "size1": size1,
        "size2": size2,
        "root1": _b64(merkle.tree_root(store, size1)),
        "root2": _b64(merkle.tree_root(store, size2)),
        "proof": [_b64(p) for p in proof],
        "checkpoint1": _note(store, size1),
        "checkpoint2": _note(store, size2),
    }


def _check_size(store: LedgerStore, size: int) -> None:
    log_size = store.log_size()
    if size > log_size:
        raise ValidationError(
            f"tree size {size} is beyond the log, which holds {log_size} entries; "
            "ask for a size up to the one in /v1/checkpoint",
            reason="bad-tree-size",
        )


def _note(store: LedgerStore, size: int) -> str | None:
    note = store.checkpoint(size)
    return note.decode("utf-8") if note is not None else None


@router.get("/v1/verify")
async def verify(ctx: Ctx, caller: Caller) -> dict[str, Any]:
    """Re-check every block, signature, Merkle node, checkpoint and state row.

    The replay runs on a worker thread against a snapshot of the ledger, so
    other requests and new blocks go on meanwhile. Requests that arrive while
    one runs wait for it and get its report. `ok` is false and `problem` names
    the first bad block and transaction when the ledger does not verify.
    """
    if ctx.verify_task is None or ctx.verify_task.done():
        ctx.verify_task = asyncio.ensure_future(
            anyio.to_thread.run_sync(_verify_snapshot, ctx)
        )
    # The shield keeps the replay running when the client that started it
    # disconnects, so the clients still waiting get their report.
    return await asyncio.shield(ctx.verify_task)


def _verify_snapshot(ctx: ApiContext) -> dict[str, Any]:
    store = ctx.open_read_store()
    try:
        store.db.execute("BEGIN")
        logger.info(
            "verification of the ledger of node %s started", ctx.node.home.node_id
        )
        report = verify_ledger(store)
    finally:
        store.close()
    logger.info(
        "verification of the ledger of node %s finished: %s",
        ctx.node.home.node_id,
        "ok" if report.ok else report.problem,
    )
    return report.to_dict()


@router.get("/v1/audit", tags=["audit"])
def audit(
    store: ReadStore,
    caller: Caller,
    resource: Annotated[str | None, Query(description="Trail of one resource.")] = None,
    department: Annotated[
        str | None, Query(description="Trail of one department.")
    ] = None,
    since: Annotated[
        str | None, Query(description="From this time, ISO 8601 (UTC when no offset).")
    ] = None,
    until: Annotated[
        str | None, Query(description="Before this time, ISO 8601.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 1000,
) -> dict[str, Any]:
    """List the audit trail, oldest first: every operation, refused ones included."""
    query = audit_trail.TrailQuery(
        resource=resource,
        department=department,
        since=audit_trail.parse_time(since) if since else None,
        until=audit_trail.parse_time(until) if until else None,
        limit=limit,
    )
    if department and store.get(DEPT_NS, department) is None:
        raise ValidationError(
            f"department {mask_personal_data(department[:80])!r} is not a member "
            "department; list them at /v1/consortium/departments",
            reason="unknown-department",
        )
    rows = audit_trail.trail(store, query)
    return {"count": len(rows), "transactions": rows}


@router.get("/v1/evidence/{tx_id}", tags=["audit"])
def evidence(tx_id: str, store: ReadStore, caller: Caller) -> dict[str, Any]:
    """Export the evidence bundle of one transaction.

    The bundle verifies offline with `govchain evidence verify` and a trust
    file of verifier keys (`govchain keys`).
    """
    return export_bundle(store, tx_id, ledger_keys(store))


async def _body_bytes(request: Request) -> bytes:
    return await request.body()


@router.post("/v1/transactions", tags=["transactions"])
def submit_transaction(
    body: SignedTransaction,
    data: Annotated[bytes, Depends(_body_bytes)],
    request: Request,
    store: ReadStore,
    writer: Writer,
    ctx: Ctx,
) -> dict[str, Any]:
    """Submit a transaction signed by any member department; no token is needed.

    The request body must be the transaction's canonical JSON bytes. The
    signature must verify under the department's current key, or the request
    is refused with 401 and nothing reaches the ledger. The node receives the
    body bytes unchanged, so bytes that are not canonical (indented, or with
    needless escapes) are on the ledger as rejected with reason `bad-encoding`.
    A transaction the rules reject is on the ledger, and the response carries
    its receipt.
    """
    tx = transaction_from_dict(body.model_dump())
    # A transaction already on the ledger gets its receipt again, even after
    # its department's key has rotated: resubmitting it changes nothing.
    if store.tx_by_id(tx_id(data)) is None:
        _check_signature(store, tx, ctx, client_of(request))
    request.state.department = tx.dept
    receipt = writer.applied(writer.submit_data([data])[0])
    return {"receipt": receipt.to_dict()}


def _check_signature(
    store: LedgerStore, tx: Transaction, ctx: ApiContext, client: str
) -> None:
    dept = store.get(DEPT_NS, tx.dept)
    if dept is None or dept.get("kid") != tx.kid:
        ctx.refusals.refused(
            client, "unknown signer", f"department {tx.dept!r}, key {tx.kid}"
        )
        raise Unauthenticated(
            f"key {tx.kid} is not the current key of member department {tx.dept!r}; "
            "sign with the key listed in /v1/consortium/departments"
        )
    public = PublicKey.from_b64(str(dept["public_key"]))
    if not public.is_valid_signature(tx.signing_bytes(), tx.signature):
        ctx.refusals.refused(
            client, "bad signature", f"department {tx.dept!r}, key {tx.kid}"
        )
        raise Unauthenticated(
            f"signature of the transaction from {tx.dept!r} does not verify under key "
            f"{tx.kid}; sign the canonical form without the signature field"
        )


@router.get("/v1/transactions/{tx_id}", tags=["transactions"])
def show_transaction(tx_id: str, store: ReadStore, caller: Caller) -> dict[str, Any]:
    """Show a transaction and its outcome (applied or rejected, with the reason)."""
    stored = store.tx_by_id(tx_id)
    if stored is None:
        raise ValidationError(
            f"transaction {tx_id} is not on this ledger", reason="unknown-transaction"
        )
    return {
        "receipt": {
            "tx_id": stored.id,
            "height": stored.height,
            "index": stored.seq,
            "status": stored.status,
            "reason": stored.reason,
            "message": stored.message,
            "block_time": stored.time,
        },
        "transaction": _decoded(stored.data),
    }


def _decoded(data: bytes) -> dict[str, Any] | None:
    # A transaction rejected as `bad-encoding` is kept as it came and may not
    # parse. Its receipt still gives the reason.
    try:
        body = parse_canonical_json(data)
    except ValidationError:
        return None
    return body if isinstance(body, dict) else None
