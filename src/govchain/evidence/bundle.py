"""Evidence bundles: a log entry, its inclusion proof and a signed checkpoint.

A bundle is a JSON file:

```
{
  "format": "govchain-evidence/v1",
  "origin": checkpoint origin of the ledger,
  "entry": the log entry (transaction, outcome, block height and time),
  "leaf_index": position of the entry in the log,
  "inclusion_proof": [base64 node hashes],
  "checkpoint": signed checkpoint note (C2SP tlog-checkpoint),
  "keys": {name: verifier key} for every key that signed something in the bundle
}
```

`verify_bundle` needs only the bundle and a trust file (`govchain.evidence.trust`).
It never trusts the keys inside the bundle: they name the keys to look for,
and the trust file decides which keys count. A checkpoint counts when a node key
signed it and at least the trust file's witness threshold of witness keys
cosigned it. Department keys count only for the transaction.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from govchain.crypto.keys import PublicKey
from govchain.errors import ValidationError, VerificationError
from govchain.evidence.trust import (
    TrustedKeys,
    open_trusted_checkpoint,
    read_trust_file,
)
from govchain.ledger import merkle
from govchain.ledger.canonical import canonical_json
from govchain.ledger.checkpoint import Checkpoint, NoteVerifier, open_checkpoint
from govchain.ledger.entry import entry_dict, entry_tx_bytes
from govchain.ledger.store import LedgerStore
from govchain.ledger.transaction import decode_transaction

logger = logging.getLogger(__name__)

__all__ = [
    "BUNDLE_FORMAT",
    "export_bundle",
    "load_bundle",
    "read_trust_file",
    "verify_bundle",
]

BUNDLE_FORMAT = "govchain-evidence/v1"


def export_bundle(
    store: LedgerStore, tx_id: str, keys: dict[str, PublicKey]
) -> dict[str, Any]:
    """Build the evidence bundle of transaction `tx_id` against the latest checkpoint.

    `keys` maps verifier names (node and department ids) to public keys; the
    bundle lists those that signed the transaction or the checkpoint. Raises
    `ValidationError` when the transaction is unknown.
    """
    full_id = tx_id if len(tx_id) == 64 else store.resolve_tx_id(tx_id)
    tx = store.tx_by_id(full_id) if full_id else None
    if tx is None:
        raise ValidationError(
            f"transaction {tx_id} is not on this ledger; list ids with `govchain audit`",
            reason="unknown-transaction",
        )
    latest = store.latest_checkpoint()
    if latest is None or latest[0] <= tx.seq:
        raise ValidationError(
            f"no checkpoint covers log index {tx.seq} yet; try again after the next block",
            reason="no-checkpoint",
        )
    size, note = latest
    entry = entry_dict(
        tx.data, height=tx.height, time=tx.time, status=tx.status, reason=tx.reason
    )
    proof = merkle.inclusion_proof(store, tx.seq, size)
    named: dict[str, str] = {}
    for name, key in sorted(keys.items()):
        if name == tx.dept or name.startswith("node-") or _signed(note, name):
            named[name] = NoteVerifier(name, key).vkey()
    origin = note.decode("utf-8").split("\n", 1)[0]
    return {
        "format": BUNDLE_FORMAT,
        "origin": origin,
        "tx_id": tx.id,
        "entry": entry,
        "leaf_index": tx.seq,
        "tree_size": size,
        "inclusion_proof": [base64.b64encode(p).decode("ascii") for p in proof],
        "checkpoint": note.decode("utf-8"),
        "keys": named,
    }


def _signed(note: bytes, name: str) -> bool:
    return f"\n\u2014 {name} ".encode() in note


def verify_bundle(
    bundle: dict[str, Any],
    trusted: TrustedKeys | Sequence[NoteVerifier],
    *,
    min_signatures: int | None = None,
) -> dict[str, Any]:
    """Check a bundle against trusted keys and return what it proves.

    1. The checkpoint is signed by a node key and cosigned by at least
       `min_signatures` witness keys. Below the trust file's witness threshold
       `min_signatures` has no effect: it can only raise the requirement.
    2. The entry's leaf hash is included in the checkpoint's tree.
    3. The transaction inside the entry is signed by a department key that the
       trust file lists under the transaction's department.

    `trusted` is normally a `TrustedKeys` from a trust file. A plain list of
    verifiers keeps the rule used before keys had roles: every key in it may
    sign both, and `min_signatures` (default 1) counts all of them.

    Raises `VerificationError` naming the check that failed.
    """
    # 1. The checkpoint, against trusted keys only.
    if bundle.get("format") != BUNDLE_FORMAT:
        raise VerificationError(
            f"bundle format {bundle.get('format')!r} is not {BUNDLE_FORMAT!r}"
        )
    try:
        note = str(bundle["checkpoint"]).encode("utf-8")
        origin = str(bundle["origin"])
        entry = bundle["entry"]
        index = int(bundle["leaf_index"])
        proof = [base64.b64decode(p, validate=True) for p in bundle["inclusion_proof"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise VerificationError(f"bundle is malformed: {exc}") from exc
    if isinstance(trusted, TrustedKeys):
        checkpoint, signers = _check_checkpoint(note, origin, trusted, min_signatures)
        tx_keys = trusted.departments
    else:
        # NOTE: without roles a department key can sign a checkpoint; callers
        # that verify bundles from outside should pass a `TrustedKeys`.
        checkpoint, signers = open_checkpoint(
            note, trusted, origin=origin, min_signatures=min_signatures or 1
        )
        tx_keys = list(trusted)
    if bundle.get("tree_size", checkpoint.size) != checkpoint.size:
        raise VerificationError(
            f"bundle tree_size {bundle.get('tree_size')} differs from its checkpoint's "
            f"size {checkpoint.size}"
        )

    # 2. Inclusion of the entry in the checkpoint's tree.
    try:
        leaf = merkle.hash_leaf(canonical_json(entry))
    except ValidationError as exc:
        raise VerificationError(
            f"bundle entry is not canonical JSON data: {exc}"
        ) from exc
    merkle.verify_inclusion(leaf, index, checkpoint.size, proof, checkpoint.root_hash)

    # 3. The department's signature on the transaction.
    try:
        tx = decode_transaction(entry_tx_bytes(entry))
    except (ValidationError, KeyError, ValueError) as exc:
        raise VerificationError(f"bundle transaction does not decode: {exc}") from exc
    keys = [
        v.public_key
        for v in tx_keys
        if v.name == tx.dept and v.public_key.kid == tx.kid
    ]
    if not keys:
        raise VerificationError(
            f"transaction is signed with key {tx.kid} of {tx.dept!r}, which the trust "
            f"file does not list as a key of {tx.dept!r}"
        )
    tx.verify_signature(keys[0])
    if tx.id != bundle.get("tx_id", tx.id):
        raise VerificationError("bundle tx_id does not match the transaction it holds")
    return {
        "tx_id": tx.id,
        "type": tx.type,
        "department": tx.dept,
        "status": entry["status"],
        "reason": entry["reason"],
        "height": entry["height"],
        "block_time": entry["time"],
        "leaf_index": index,
        "tree_size": checkpoint.size,
        "root": checkpoint.root_hash.hex(),
        "checkpoint_signers": signers,
    }


def _check_checkpoint(
    note: bytes, origin: str, trusted: TrustedKeys, min_signatures: int | None
) -> tuple[Checkpoint, list[str]]:
    """Apply the checkpoint rule of `verify_bundle` and return the names that counted.

    A node key is required because a node signs a checkpoint only when it
    commits the block that reaches that size. Witness keys are department keys
    too, and a department whose key left the node could sign a log it made up.
    """
    if origin != trusted.origin:
        raise VerificationError(
            f"bundle is from the log {origin[:80]!r}, but the trust file is for "
            f"{trusted.origin!r}"
        )
    signatures = open_trusted_checkpoint(note, trusted, origin=origin)
    needed = max(trusted.witness_threshold, min_signatures or 0)
    if not signatures.nodes:
        raise VerificationError(
            "no node key signed the checkpoint, and a checkpoint counts only with a "
            f"node's signature: {signatures.describe()}; node keys: "
            f"{', '.join(sorted({v.name for v in trusted.nodes}))}"
        )
    if len(signatures.witnesses) < needed:
        raise VerificationError(
            f"the checkpoint has {len(signatures.witnesses)} witness cosignatures, "
            f"fewer than the {needed} required (witness threshold "
            f"{trusted.witness_threshold}"
            + (f", requested {min_signatures}" if min_signatures else "")
            + f"): {signatures.describe()}"
        )
    return signatures.checkpoint, [*signatures.nodes, *signatures.witnesses]


def load_bundle(path: Path) -> dict[str, Any]:
    """Read a bundle file; raise `VerificationError` when it is not a JSON object."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise VerificationError(f"evidence bundle {path} is unreadable: {exc}") from exc
    if not isinstance(data, dict):
        raise VerificationError(f"evidence bundle {path} is not a JSON object")
    return data
