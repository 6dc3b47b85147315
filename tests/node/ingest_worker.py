"""Submit catalog registrations to a node home until killed.

Usage: `python ingest_worker.py HOME SEED`

`test_crash.py` runs this script as a separate process and kills it with
SIGKILL. The node runs its committer thread, as `govchain serve` does, and two
submitter threads feed it batches of random size. The script writes one line
to stdout per event and flushes each:

- `open HEIGHT`: the node opened with its last block at HEIGHT;
- `commit SIZE`: a batch of SIZE signed transactions is being submitted;
- `ack TXID HEIGHT`: the receipt for TXID came back, so its block is durable.

An `ack` line is written only after `Node.submit` has returned the receipt,
which the committer completes after the block's SQLite transaction committed.
"""

from __future__ import annotations

import logging
import random
import sys
import threading
from pathlib import Path

from govchain.node import Node, NodeHome

#: Batch sizes drawn at random. Sizes above the solo orderer's 2,000 limit
#: span two blocks.
BATCH_SIZES = (1, 3, 20, 150, 800, 1500, 3000)
#: Departments of each submitter thread. They do not overlap, because a
#: department's nonces must reach the orderer in the order they were issued.
SUBMITTERS = (("city-health", "city-cdc"), ("city-market", "tianhe-health"))

_stdout_lock = threading.Lock()
_stopped = threading.Event()


def emit(line: str) -> None:
    with _stdout_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def submit_forever(node: Node, departments: tuple[str, ...], seed: int) -> None:
    try:
        submit_batches(node, departments, seed)
    finally:
        _stopped.set()


def submit_batches(node: Node, departments: tuple[str, ...], seed: int) -> None:
    rng = random.Random(seed)
    serial = 0
    while True:
        size = rng.choice(BATCH_SIZES)
        txs = []
        for _ in range(size):
            serial += 1
            payload = {
                "title": f"crash test resource {seed}-{serial}",
                "level": rng.randint(1, 4),
                "sharing": "unconditional",
            }
            txs.append(node.sign(rng.choice(departments), "catalog.register", payload))
        emit(f"commit {size}")
        for receipt in node.submit(txs):
            emit(f"ack {receipt.tx_id} {receipt.height}")


def run(home: Path, seed: int) -> None:
    node = Node(NodeHome(home))
    emit(f"open {node.store.height()}")
    node.start()
    threads = [
        threading.Thread(
            target=submit_forever, args=(node, departments, seed + i), daemon=True
        )
        for i, departments in enumerate(SUBMITTERS)
    ]
    for thread in threads:
        thread.start()
    # A submitter ends only by an exception, which its thread prints to stderr.
    _stopped.wait()
    sys.exit("a submitter thread failed")


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    run(Path(sys.argv[1]), int(sys.argv[2]))


if __name__ == "__main__":
    main()
