"""Committing a transaction the way a block from another node arrives."""

from __future__ import annotations

from typing import Any

from govchain.ledger.orderer import Batch
from govchain.node import Node
from govchain.node._node import Receipt, _receipt


def commit_signed(
    node: Node, dept: str, tx_type: str, payload: dict[str, Any]
) -> Receipt:
    """Sign as `dept` and commit in a block of its own, past the node's checks
    on submission, so the ledger's rules alone decide the outcome."""
    tx = node.sign(dept, tx_type, payload)
    node._mark_queued([tx.id])
    last = node.store.header(node.store.height())
    assert last is not None
    node.commit_batch(Batch(last.time + 1, [tx.canonical_bytes()]), last)
    stored = node.store.tx_by_id(tx.id)
    assert stored is not None
    return _receipt(stored)
