"""Checkpoints presented from outside: catching a restored or forked ledger.

A peer node or a witness can present the newest checkpoint it has seen. When
that checkpoint covers more of the log than this node holds, the node was
restored from an older backup or missed blocks: it records the size it must
reach and refuses to commit blocks of its own until then, so it cannot fork
the history others have already seen. When it covers no more than this node
holds, its root must equal this node's root at that size, or the two ledgers
have diverged.

Only checkpoint keys count: the consortium's node keys and the witnesses'
keys, current and past (`govchain.evidence.keys`). A note that none of them
signed is rejected and changes nothing.
"""

from __future__ import annotations

import logging

from govchain.errors import IntegrityError
from govchain.evidence.keys import trusted_keys
from govchain.evidence.trust import UntrustedCheckpointError, open_trusted_checkpoint
from govchain.ledger import merkle
from govchain.node._node import Node

logger = logging.getLogger(__name__)


def check_presented_checkpoint(node: Node, note: bytes) -> int:
    """Check a presented checkpoint note against this node's ledger.

    Returns the checkpoint's tree size when it is consistent. Raises
    `UntrustedCheckpointError` when no node or witness key signed it, or when
    it claims more entries than the ledger contains without a node key's
    signature. Raises `VerificationError` when the note is malformed or a
    checkpoint key's signature fails, and `IntegrityError` when the ledger is
    behind it or disagrees with its root.
    """
    keys = trusted_keys(node.store)
    signatures = open_trusted_checkpoint(note, keys, origin=node.origin)
    signers = [*signatures.nodes, *signatures.witnesses]
    checkpoint = signatures.checkpoint
    local = node.compact.size
    if checkpoint.size > local:
        # One node key's signature is enough to stop this node. A node signs a
        # checkpoint only in the SQLite transaction that commits the block
        # reaching its size (`Node._checkpoint_note`), so the signature proves
        # that a node of the consortium committed that much of the log. The
        # witnesses' keys are department keys and may have left the node (a
        # rotation can install a key the department keeps itself), so a witness
        # cosignature alone does not prove it and is not accepted here.
        if not signatures.nodes:
            raise UntrustedCheckpointError(
                f"a checkpoint for tree size {checkpoint.size}, more than the "
                f"{local} entries of this ledger, needs a node key's signature to "
                f"stop this node from committing; {signatures.describe()}"
            )
        node.mark_behind(checkpoint.size, signatures.nodes)
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
            "is restored from a newer backup"
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
