"""Several threads signing for one hosted department: no stale nonces."""

from __future__ import annotations

import threading

import pytest

import govchain.node._node as node_module
from govchain.ledger.orderer import SoloOrderer
from govchain.node import Node, NodeHome


def test_concurrent_acts_all_applied(node: Node) -> None:
    home: NodeHome = node.home
    node.close()
    # A real committer thread and a short batching wait, as `govchain serve` runs.
    with Node(home, orderer=SoloOrderer(max_wait=0.002)) as served:
        served.start()
        statuses: list[str] = []
        lock = threading.Lock()

        def register(worker: int) -> None:
            for i in range(15):
                receipt = served.act(
                    "city-health",
                    "catalog.register",
                    {
                        "title": f"w{worker} r{i}",
                        "level": 1,
                        "sharing": "unconditional",
                    },
                )
                with lock:
                    statuses.append(f"{receipt.status}/{receipt.reason}")

        threads = [threading.Thread(target=register, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert statuses == ["applied/ok"] * 60


def test_signed_but_unsubmitted_does_not_block(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(node_module, "SIGNED_QUEUE_WAIT", 0.2)
    # A thread signs and never submits: another thread's signing waits
    # briefly, then goes on.
    thread = threading.Thread(
        target=node.sign, args=("city-health", "catalog.register", {"title": "x"})
    )
    thread.start()
    thread.join()
    receipt = node.act(
        "city-health",
        "catalog.register",
        {"title": "after", "level": 1, "sharing": "unconditional"},
    )
    assert receipt.status == "applied"
