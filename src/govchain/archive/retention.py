"""Retention and disposal: list items past their retention period, dispose of one.

Appraisal lists the anchored items whose `retain_until` date has come. A
disposal is first recorded on the ledger (`archive.dispose`, whose handler
checks the item's leaf, proof and retention date itself), and only then are
the item's copies erased, so no copy disappears without a ledger record.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from govchain.archive.anchoring import unpack_proof
from govchain.archive.metadata import PERMANENT
from govchain.archive.service import Archive
from govchain.errors import ValidationError
from govchain.node import Node

logger = logging.getLogger(__name__)


def appraisal(archive: Archive, as_of: dt.date | None = None) -> list[dict[str, Any]]:
    """Return the anchored items whose retention period ended by `as_of` (today)."""
    day = (as_of or dt.datetime.now(dt.UTC).date()).isoformat()
    return [
        row.summary()
        for row in archive.index.all_items()
        if row.status == "anchored"
        and row.retain_until != PERMANENT
        and row.retain_until <= day
    ]


def dispose(
    archive: Archive, node: Node, reference: str, approval: str
) -> dict[str, Any]:
    """Record the disposal of `reference` on the ledger, then erase its copies.

    `approval` is the reference of the appraisal decision that allows it (it
    goes onto the ledger: no personal names). Raises `ValidationError` or
    `PolicyError` with the ledger's reason when the disposal is rejected,
    for example before the end of the retention period.
    """
    row = archive.item(reference)
    if row.status != "anchored":
        raise ValidationError(
            f"item {reference} is {row.status}; only anchored items can be disposed of",
            reason="not-anchored",
        )
    batch = archive.index.batch(row.batch_seq)
    payload = {
        "batch": batch["ledger_id"],
        "leaf_index": row.leaf_index,
        "leaf": row.leaf.to_dict(),
        "proof": [p.hex() for p in unpack_proof(row.proof)],
        "approval": approval,
    }
    receipt = node.act(archive.config.department, "archive.dispose", payload)
    if not receipt.applied:
        raise ValidationError(
            f"the ledger rejected the disposal of item {reference}: {receipt.message}",
            reason=receipt.reason,
        )
    others = [
        r
        for r in archive.index.all_items()
        if r.sha256 == row.sha256 and r.reference != reference
    ]
    archive.index.mark_disposed(reference, row.sha256, last_user=not others)
    if not others:
        ref = archive.index.object(row.sha256)
        assert ref is not None
        archive.store.blank([ref])
    logger.info(
        "disposed of item in batch %s, tx %s", batch["ledger_id"], receipt.tx_id
    )
    return {"item": reference, "tx_id": receipt.tx_id, "erased": not others}
