"""Figures computed from the whole ledger state, reused until the log grows.

The overview and the catalog's filter lists read every resource. On a small
ledger that is quick and each request computes fresh figures. Once one
computation takes longer than `SLOW_S`, a request after new transactions gets
the previous figures at once and a background thread computes new ones, so
the page stays fast and lags the ledger by at most one computation.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from govchain.api._context import ApiContext
from govchain.ledger.store import LedgerStore

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    """Figures, the log size they were computed at, and when."""

    value: T
    log_size: int
    computed_at: float
    seconds: float


class LedgerCache(Generic[T]):
    """The latest `Snapshot` of one computation over the ledger state."""

    #: A computation slower than this is refreshed in the background.
    SLOW_S = 0.2

    def __init__(self, name: str, compute: Callable[[LedgerStore], T]) -> None:
        self.name = name
        self._compute = compute
        self._lock = threading.Lock()
        self._latest: Snapshot[T] | None = None
        self._refreshing = False

    def get(self, api: ApiContext) -> Snapshot[T]:
        size = api.read(lambda store: store.log_size())
        with self._lock:
            latest = self._latest
            if latest is not None and latest.log_size == size:
                return latest
            slow = latest is not None and latest.seconds > self.SLOW_S
            if slow and not self._refreshing:
                self._refreshing = True
                threading.Thread(
                    target=self._refresh,
                    args=(api,),
                    name=f"refresh-{self.name}",
                    daemon=True,
                ).start()
        if latest is not None and slow:
            return latest
        return self._store(api)

    def _store(self, api: ApiContext) -> Snapshot[T]:
        start = time.perf_counter()

        def compute(store: LedgerStore) -> tuple[T, int]:
            store.db.execute("BEGIN")
            return self._compute(store), store.log_size()

        value, size = api.read(compute)
        snapshot = Snapshot(value, size, time.time(), time.perf_counter() - start)
        with self._lock:
            if self._latest is None or self._latest.log_size <= size:
                self._latest = snapshot
        return snapshot

    def _refresh(self, api: ApiContext) -> None:
        try:
            snapshot = self._store(api)
            logger.debug(
                "%s refreshed at log size %d in %.2f s",
                self.name,
                snapshot.log_size,
                snapshot.seconds,
            )
        except Exception:
            logger.exception("refreshing %s failed", self.name)
        finally:
            with self._lock:
                self._refreshing = False
