"""`WalCheckpointer` copies the WAL into the database file off the writer's thread."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from govchain.ledger.walcheckpoint import WalCheckpointer


def _writer(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE t (x BLOB)")
    return db


def _wait_for_size(path: Path, size: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.stat().st_size >= size:
            return True
        time.sleep(0.01)
    return False


def test_checkpointer_copies_wal_pages(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    db = _writer(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = path.stat().st_size
    db.execute("INSERT INTO t VALUES (zeroblob(200000))")
    # Without a checkpoint the new pages stay in the WAL.
    assert path.stat().st_size == before
    checkpointer = WalCheckpointer(path, interval=0.01)
    try:
        checkpointer.notify()
        assert _wait_for_size(path, before + 150_000, timeout=10)
        db.execute("INSERT INTO t VALUES (zeroblob(200000))")
        checkpointer.notify()
        assert _wait_for_size(path, before + 350_000, timeout=10)
    finally:
        checkpointer.close()
        db.close()


def test_checkpointer_closes_during_interval(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    db = _writer(path)
    checkpointer = WalCheckpointer(path, interval=600)
    checkpointer.notify()
    time.sleep(0.05)
    start = time.monotonic()
    checkpointer.close()
    db.close()
    assert time.monotonic() - start < 5
