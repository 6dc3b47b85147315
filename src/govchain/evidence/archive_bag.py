"""Offline check of an archive bag written by `govchain archive export`.

A bag verifies when:

1. it is a valid BagIt bag (RFC 8493): every payload and tag file matches its
   manifest and nothing unlisted sits in the payload;
2. `govchain/items.json` lists each payload file with its metadata, leaf,
   inclusion proof and the id of its batch's anchor transaction;
3. every item's file and metadata lead, through its proof, to the root that
   its anchor transaction records, and each anchor's evidence bundle verifies
   against the trusted keys.

The keys in the bag (`govchain/trust.txt`) are never trusted by themselves;
the caller passes a trust file obtained through another channel.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from govchain.archive.anchoring import verify_item_proof
from govchain.archive.bagit import BagError, is_bag, read_bag
from govchain.errors import VerificationError
from govchain.ledger.checkpoint import NoteVerifier

ITEMS_FILE = "govchain/items.json"
BAG_FORMAT = "govchain-archive-bag/v1"


def is_archive_bag(path: Path) -> bool:
    """Return True when `path` is a bag directory with a govchain item list."""
    return is_bag(path) and (path / ITEMS_FILE).is_file()


def verify_archive_bag(
    path: Path, trusted: list[NoteVerifier], *, min_signatures: int = 1
) -> dict[str, Any]:
    """Check an exported archive bag offline; return what it proves.

    Raises `VerificationError` naming the bag file or item at fault.
    """
    # 1. BagIt validity.
    try:
        bag = read_bag(path)
    except BagError as exc:
        raise VerificationError(f"bag {path} is not valid: {exc}") from exc

    # 2. The item list.
    try:
        document = json.loads((path / ITEMS_FILE).read_text("utf-8"))
        entries = document["items"]
        anchors = document["anchors"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise VerificationError(f"{path / ITEMS_FILE} is unreadable: {exc}") from exc
    if document.get("format") != BAG_FORMAT:
        raise VerificationError(
            f"{path / ITEMS_FILE} format {document.get('format')!r} is not {BAG_FORMAT!r}"
        )
    if not isinstance(entries, list) or not entries:
        raise VerificationError(f"{path / ITEMS_FILE} lists no items")
    listed = {str(e.get("path", "")).removeprefix("data/") for e in entries}
    extra = sorted(set(bag.payload) - listed)
    if extra:
        raise VerificationError(
            f"bag {path}: payload file data/{extra[0]} is not an archived item"
        )

    # 3. Each item against its anchor.
    verified: list[dict[str, Any]] = []
    signers: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        relative = str(entry.get("path", "")).removeprefix("data/")
        target = bag.payload.get(relative)
        if target is None:
            raise VerificationError(
                f"{ITEMS_FILE}, item {number}: payload file data/{relative} is missing"
            )
        anchor = (
            anchors.get(entry.get("anchor_tx")) if isinstance(anchors, dict) else None
        )
        proof = {k: v for k, v in entry.items() if k not in ("path", "anchor_tx")}
        proof["anchor"] = anchor
        with open(target, "rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        try:
            result = verify_item_proof(
                proof, digest, trusted, min_signatures=min_signatures
            )
        except VerificationError as exc:
            raise VerificationError(
                f"{ITEMS_FILE}, item {number} ({entry.get('item')}): {exc}"
            ) from exc
        signers.update(result["checkpoint_signers"])
        verified.append(result)
    return {
        "bag": str(path),
        "items": [r["item"] for r in verified],
        "anchors": sorted({r["anchor_tx"] for r in verified}),
        "tree_size": max(r["tree_size"] for r in verified),
        "checkpoint_signers": sorted(signers),
    }
