"""Create a node home and its genesis block from a consortium file."""

from __future__ import annotations

import logging
from pathlib import Path

from govchain.consortium.config import load_consortium
from govchain.errors import ConfigError
from govchain.ledger.apply import GENESIS_TYPE
from govchain.ledger.orderer import Batch, Orderer
from govchain.ledger.transaction import sign_transaction
from govchain.node._node import Node
from govchain.node.home import NodeHome, create_home_files

logger = logging.getLogger(__name__)


def init_node(
    home: NodeHome,
    consortium_file: Path,
    *,
    encrypt: bool = True,
    genesis_time: int = 0,
    orderer: Orderer | None = None,
) -> Node:
    """Create `home` from `consortium_file` and commit the genesis block.

    The genesis transaction is signed by the platform operator, which must be
    one of the departments the node hosts. It carries the whole consortium
    description and the public keys of the hosted departments and the node, so
    replaying the ledger rebuilds membership without the file. Returns the
    open node. `genesis_time` is the block time in unix milliseconds (0 takes
    the orderer's clock).
    """
    consortium = load_consortium(consortium_file)
    hosts = [str(d) for d in consortium.node.hosts]
    if consortium.operator not in hosts:
        raise ConfigError(
            f"{consortium_file}: the operator {consortium.operator!r} must be hosted "
            "by the node that creates the genesis block; add it to [node] hosts",
            path=str(consortium_file),
        )
    node_id = f"node-{consortium.operator}"
    node_key, dept_keys = create_home_files(
        home,
        consortium_file=consortium_file,
        node_id=node_id,
        origin=consortium.origin,
        hosts=hosts,
        encrypt=encrypt,
    )
    payload = {
        "consortium": consortium.to_dict(),
        "operator": consortium.operator,
        "keys": {
            d: {"public_key": k.public_key.to_b64()} for d, k in dept_keys.items()
        },
        "nodes": {node_id: {"public_key": node_key.public_key.to_b64()}},
    }
    genesis = sign_transaction(
        type=GENESIS_TYPE,
        dept=consortium.operator,
        key=dept_keys[consortium.operator],
        nonce=1,
        payload=payload,
    )
    node = Node(home, orderer=orderer, new_ledger=True)
    try:
        last = None
        if genesis_time:
            node.commit_batch(Batch(genesis_time, [genesis.canonical_bytes()]), last)
        else:
            node.submit_one(genesis)
        stored = node.store.tx_by_id(genesis.id)
        if stored is None or stored.status != "applied":
            reason = stored.message if stored else "not committed"
            raise ConfigError(f"genesis transaction was rejected: {reason}")
    except BaseException:
        node.close()
        raise
    logger.info("node home %s created for consortium %s", home.path, consortium.origin)
    return node
