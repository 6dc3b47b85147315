"""Batch anchoring: a Merkle tree over a batch's items, and item proofs.

Each item is a leaf whose data is the canonical JSON of

```
{"format": "govchain-archive-leaf/v1", "sha256": file hash, "size": bytes,
 "metadata_hash": SHA-256 of the canonical metadata JSON,
 "retain_until": "YYYY-MM-DD" or "permanent"}
```

The batch tree hashes leaves and nodes exactly as the ledger's log does (RFC
9162 section 2.1: `SHA-256(0x00 || leaf)` and `SHA-256(0x01 || left || right)`),
so any RFC 9162 verifier checks an item's inclusion in its batch. One
`archive.anchor` transaction records the batch root and size. An item proof
then chains: file → leaf → batch root (inclusion proof) → anchor transaction →
ledger checkpoint (the transaction's evidence bundle).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govchain.errors import VerificationError
from govchain.ledger import merkle
from govchain.ledger.canonical import canonical_json
from govchain.ledger.checkpoint import NoteVerifier, open_checkpoint
from govchain.ledger.entry import entry_tx_bytes
from govchain.ledger.transaction import decode_transaction

LEAF_FORMAT = "govchain-archive-leaf/v1"
PROOF_FORMAT = "govchain-archive-proof/v1"
HASH_SIZE = 32


@dataclass(frozen=True)
class Leaf:
    """The leaf of one item: the values the ledger commits to."""

    sha256: str
    size: int
    metadata_hash: str
    retain_until: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": LEAF_FORMAT,
            "sha256": self.sha256,
            "size": self.size,
            "metadata_hash": self.metadata_hash,
            "retain_until": self.retain_until,
        }

    def leaf_hash(self) -> bytes:
        return merkle.hash_leaf(canonical_json(self.to_dict()))

    @classmethod
    def from_dict(cls, data: Any) -> Leaf:
        """Read a leaf object; raise `VerificationError` when it is malformed."""
        if not isinstance(data, dict) or data.get("format") != LEAF_FORMAT:
            raise VerificationError(f"item leaf is not a {LEAF_FORMAT} object")
        try:
            leaf = cls(
                sha256=str(data["sha256"]),
                size=int(data["size"]),
                metadata_hash=str(data["metadata_hash"]),
                retain_until=str(data["retain_until"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise VerificationError(f"item leaf lacks a field: {exc}") from exc
        if leaf.to_dict() != data:
            raise VerificationError("item leaf has unexpected fields or types")
        return leaf


def tree_levels(leaf_hashes: Sequence[bytes]) -> list[list[bytes]]:
    """Build every level of the batch tree, leaves first, root last.

    A level with an odd number of nodes carries its last node up unchanged,
    which gives the same tree as RFC 9162's split at the largest power of two.
    Precondition: at least one leaf.
    """
    if not leaf_hashes:
        raise ValueError("a batch tree needs at least one leaf")
    levels = [list(leaf_hashes)]
    while len(levels[-1]) > 1:
        below = levels[-1]
        above = [
            merkle.hash_children(below[i], below[i + 1])
            for i in range(0, len(below) - 1, 2)
        ]
        if len(below) % 2:
            above.append(below[-1])
        levels.append(above)
    return levels


def level_proof(levels: list[list[bytes]], index: int) -> list[bytes]:
    """Return the RFC 9162 inclusion proof of leaf `index` from `tree_levels`."""
    proof: list[bytes] = []
    for nodes in levels[:-1]:
        sibling = index ^ 1
        if sibling < len(nodes):
            proof.append(nodes[sibling])
        index //= 2
    return proof


def pack_proof(proof: Sequence[bytes]) -> bytes:
    return b"".join(proof)


def unpack_proof(blob: bytes) -> list[bytes]:
    return [blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)]


def item_proof(
    *,
    reference: str,
    metadata: dict[str, str],
    leaf: Leaf,
    leaf_index: int,
    batch_size: int,
    proof: Sequence[bytes],
    anchor: dict[str, Any],
) -> dict[str, Any]:
    """Assemble the self-contained proof of one item (format `PROOF_FORMAT`).

    `anchor` is the evidence bundle of the batch's anchor transaction.
    """
    return {
        "format": PROOF_FORMAT,
        "item": reference,
        "metadata": metadata,
        "leaf": leaf.to_dict(),
        "leaf_index": leaf_index,
        "batch_size": batch_size,
        "inclusion_proof": [base64.b64encode(p).decode("ascii") for p in proof],
        "anchor": anchor,
    }


def file_sha256(path: Path) -> tuple[str, int]:
    """Return the hex SHA-256 and size of a file, read in large blocks."""
    with open(path, "rb") as fh:
        digest = hashlib.file_digest(fh, "sha256")
        return digest.hexdigest(), fh.tell()


def verify_item_proof(
    proof: dict[str, Any],
    file_hash: str,
    trusted: list[NoteVerifier],
    *,
    min_signatures: int = 1,
    checkpoint: bytes | None = None,
) -> dict[str, Any]:
    """Check that a file with SHA-256 `file_hash` is the item `proof` describes.

    1. The file hash is the leaf's, and the metadata hashes to the leaf's.
    2. The leaf is included in a batch whose root the proof computes.
    3. The anchor transaction records that root and batch size, was applied,
       and its evidence bundle verifies against `trusted` keys.
    4. If `checkpoint` (a signed note) is given, the bundle is for it.

    Raises `VerificationError` naming the check that failed.
    """
    from govchain.evidence.bundle import verify_bundle

    # 1. File and metadata against the leaf.
    if proof.get("format") != PROOF_FORMAT:
        raise VerificationError(
            f"item proof format {proof.get('format')!r} is not {PROOF_FORMAT!r}"
        )
    leaf = Leaf.from_dict(proof.get("leaf"))
    if file_hash != leaf.sha256:
        raise VerificationError(
            f"file SHA-256 {file_hash} differs from the anchored {leaf.sha256}: "
            "the file is not the archived item or was altered"
        )
    metadata = proof.get("metadata")
    if not isinstance(metadata, dict):
        raise VerificationError("item proof has no metadata object")
    computed_meta = hashlib.sha256(canonical_json(metadata)).hexdigest()
    if computed_meta != leaf.metadata_hash:
        raise VerificationError(
            f"metadata hashes to {computed_meta}, not the anchored "
            f"{leaf.metadata_hash}: the description was changed"
        )

    # 2. Inclusion of the leaf in the batch.
    try:
        index, size = int(proof["leaf_index"]), int(proof["batch_size"])
        path = [base64.b64decode(p, validate=True) for p in proof["inclusion_proof"]]
        anchor = proof["anchor"]
    except (KeyError, TypeError, ValueError) as exc:
        raise VerificationError(f"item proof is malformed: {exc}") from exc
    root = merkle.root_from_inclusion_proof(leaf.leaf_hash(), index, size, path)

    # 3. The anchor transaction and its evidence.
    if not isinstance(anchor, dict):
        raise VerificationError("item proof has no anchor evidence bundle")
    if checkpoint is not None:
        _check_same_checkpoint(anchor, checkpoint, trusted, min_signatures)
    anchored = verify_bundle(anchor, trusted, min_signatures=min_signatures)
    tx = decode_transaction(entry_tx_bytes(anchor["entry"]))
    if tx.type != "archive.anchor" or anchored["status"] != "applied":
        raise VerificationError(
            f"anchor evidence is a {tx.type} transaction with status "
            f"{anchored['status']}, not an applied archive.anchor"
        )
    if tx.payload.get("root") != root.hex() or tx.payload.get("size") != size:
        raise VerificationError(
            f"batch root {root.hex()} of size {size} computed from the proof differs "
            f"from the anchored root {tx.payload.get('root')} of size "
            f"{tx.payload.get('size')}"
        )
    return {
        "item": proof.get("item"),
        "sha256": leaf.sha256,
        "size": leaf.size,
        "metadata_hash": leaf.metadata_hash,
        "retain_until": leaf.retain_until,
        "leaf_index": index,
        "batch_size": size,
        "batch_root": root.hex(),
        "anchor_tx": anchored["tx_id"],
        "department": anchored["department"],
        "height": anchored["height"],
        "block_time": anchored["block_time"],
        "tree_size": anchored["tree_size"],
        "checkpoint_signers": anchored["checkpoint_signers"],
    }


def _check_same_checkpoint(
    anchor: dict[str, Any],
    note: bytes,
    trusted: list[NoteVerifier],
    min_signatures: int,
) -> None:
    given, _signers = open_checkpoint(
        note, trusted, origin=str(anchor.get("origin")), min_signatures=min_signatures
    )
    try:
        inside, _ = open_checkpoint(
            str(anchor["checkpoint"]).encode("utf-8"),
            trusted,
            origin=str(anchor.get("origin")),
            min_signatures=min_signatures,
        )
    except KeyError as exc:
        raise VerificationError("anchor evidence has no checkpoint") from exc
    if (inside.size, inside.root_hash) != (given.size, given.root_hash):
        raise VerificationError(
            f"the proof is for the checkpoint of tree size {inside.size} (root "
            f"{inside.root_hash.hex()}), not the given one of size {given.size} "
            f"(root {given.root_hash.hex()}); export a fresh proof with "
            "`govchain archive proof` and check it against the checkpoint it names"
        )
