"""A node: the process that holds a node home and writes its ledger."""

from govchain.node._node import Node, NodeLockedError, Receipt
from govchain.node.genesis import init_node
from govchain.node.home import HOME_ENV, PASSPHRASE_ENV, NodeHome

__all__ = [
    "HOME_ENV",
    "PASSPHRASE_ENV",
    "Node",
    "NodeHome",
    "NodeLockedError",
    "Receipt",
    "init_node",
]
