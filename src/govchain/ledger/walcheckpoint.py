"""Copying SQLite's write-ahead log into the ledger file on a background thread.

These are SQLite's WAL checkpoints, not the signed checkpoints of the Merkle log
(`checkpoint.py`). With automatic checkpoints, the commit that brings the WAL
to `wal_autocheckpoint` pages also copies them all into the database file and
fsyncs it. At 1,000,000 transactions that was about one block of 2,000 in 27,
on the committing thread. A PASSIVE checkpoint on another connection copies the pages
while the committer goes on: SQLite lets one checkpoint run beside the writer,
and Python's sqlite3 module releases the GIL while SQLite works.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

logger = logging.getLogger(__name__)

#: Seconds between two background checkpoints of a ledger that is being written.
#: NOTE: a guess, not tuned. Longer intervals copy a page dirtied by several
#: blocks fewer times, and shorter ones keep the WAL smaller.
WAL_CHECKPOINT_INTERVAL = 1.0


class WalCheckpointer:
    """A thread that runs `PRAGMA wal_checkpoint(PASSIVE)` on its own connection.

    The writer calls `notify` after each committed transaction. The thread then
    checkpoints, and waits `interval` seconds before it checkpoints again.
    """

    def __init__(self, path: Path, interval: float = WAL_CHECKPOINT_INTERVAL) -> None:
        self.path = path
        self.interval = interval
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="wal-checkpoint", daemon=True
        )
        self._thread.start()

    def notify(self) -> None:
        """Request a checkpoint, because the WAL has new pages."""
        self._wake.set()

    def close(self) -> None:
        """Stop the thread after any checkpoint in progress finishes."""
        self._stopping.set()
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None)
        try:
            while True:
                self._wake.wait()
                if self._stopping.is_set():
                    return
                self._wake.clear()
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:
                    # The writer's own automatic checkpoints still bound the WAL.
                    logger.warning("WAL checkpoint of %s failed: %s", self.path, exc)
                if self._stopping.wait(self.interval):
                    return
        finally:
            connection.close()
