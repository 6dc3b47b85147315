"""Checkpoints presented from outside: catching a restored or forked ledger.

A peer node or a witness can present the newest checkpoint it has seen. When
that checkpoint covers more of the log than this node holds, the node was
restored from an older backup or missed blocks: it records the size it must
reach and refuses to commit blocks of its own until then, so it cannot fork
the history others have already seen. When it covers no more than this node
holds, its root must equal this node's root at that size, or the two ledgers
have diverged.
"""

from __future__ import annotations

import logging

from govchain.errors import IntegrityError
from govchain.evidence.keys import historical_keys
from govchain.ledger import merkle
from govchain.ledger.checkpoint import NoteVerifier, open_checkpoint
from govchain.node._node import BEHIND_KEY, Node

logger = logging.getLogger(__name__)


def check_presented_checkpoint(node: Node, note: bytes) -> int:
    """Check a presented checkpoint note against this node's ledger.

    Returns the checkpoint's tree size when it is consistent. Raises
    `VerificationError` when no ledger key signed it, and `IntegrityError`
    when the ledger is behind it or disagrees with its root.
    """
    verifiers = [NoteVerifier(name, key) for name, key in historical_keys(node.store)]
    checkpoint, signers = open_checkpoint(
        note, verifiers, origin=node.origin, min_signatures=1
    )
    local = node.compact.size
    if checkpoint.size > local:
        node.store.set_meta(BEHIND_KEY, str(checkpoint.size))
        logger.warning(
            "checkpoint of size %d signed by %s is ahead of the local log of size %d",
            checkpoint.size,
            ", ".join(signers),
            local,
        )
        raise IntegrityError(
            f"this ledger holds {local} log entries but a checkpoint signed by "
            f"{', '.join(signers)} covers {checkpoint.size}: the node home was restored "
            "from an older backup or missed blocks; it will not commit blocks until it "
            "has caught up from a peer"
        )
    root = merkle.tree_root(node.store, checkpoint.size)
    if root != checkpoint.root_hash:
        logger.warning(
            "checkpoint of size %d disagrees with the local log", checkpoint.size
        )
        raise IntegrityError(
            f"the ledger's root at tree size {checkpoint.size} is {root.hex()}, the "
            f"checkpoint signed by {', '.join(signers)} says "
            f"{checkpoint.root_hash.hex()}: the ledgers have forked"
        )
    return checkpoint.size
