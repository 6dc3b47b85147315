"""Ordering: the one interface between submitters and the block committer.

An orderer fixes the order of transactions and cuts them into batches, each
with a block time. The committer applies batches in the order it receives
them and reads no clock of its own, so any node that consumes the same batches
builds the same blocks and state.

`SoloOrderer` runs inside the node's own process and is the embedded default.
A replicated log (NATS JetStream, each department node consuming one stream)
takes its place by implementing the same two methods: `submit` appends to the
stream, and `next_batch` reads up to the next block marker that some node
wrote into the same stream, taking the block time from the marker.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Batch:
    """Transactions to commit as one block, in order, with the block time."""

    time: int
    txs: list[bytes]


class Orderer(Protocol):
    def submit(self, data: bytes) -> None:
        """Append one canonical transaction to the ordered stream."""
        ...

    def next_batch(self, *, after_time: int, timeout: float) -> Batch | None:
        """Return the next batch, or None when none arrived within `timeout` s.

        The batch time is never below `after_time`, the previous block's time.
        """
        ...


class SoloOrderer:
    """An in-process orderer: one queue, batches cut by size or by wait time."""

    def __init__(
        self,
        *,
        max_batch: int = 2000,
        max_wait: float = 0.05,
        clock: Callable[[], int] | None = None,
    ) -> None:
        """`clock` returns unix milliseconds; the default reads the system clock.

        A simulated clock lets the demo and tests play out days of grants and
        deadlines in seconds.
        """
        self.clock = clock or _wall_clock_ms
        self._queue: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self.max_batch = max_batch
        self.max_wait = max_wait

    def submit(self, data: bytes) -> None:
        self._queue.put(data)

    def pending(self) -> int:
        return self._queue.qsize()

    def next_batch(self, *, after_time: int, timeout: float) -> Batch | None:
        with self._lock:
            try:
                first = (
                    self._queue.get(timeout=timeout)
                    if timeout > 0
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                return None
            txs = [first]
            deadline = time.monotonic() + self.max_wait
            while len(txs) < self.max_batch:
                try:
                    txs.append(self._queue.get_nowait())
                except queue.Empty:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or timeout <= 0:
                        break
                    try:
                        txs.append(self._queue.get(timeout=remaining))
                    except queue.Empty:
                        break
            # The orderer is the only place that reads the wall clock: the block
            # time it picks becomes ledger content that validation then uses.
            block_time = max(self.clock(), after_time)
            return Batch(block_time, txs)


def _wall_clock_ms() -> int:
    return int(time.time() * 1000)
