"""Durability under SIGKILL: a node process killed mid-ingest loses nothing it
acknowledged and never leaves half a block.

Each test starts `ingest_worker.py` as a real process on a node home, kills it
with SIGKILL at random moments, some of them while a batch of 1,500 or more
transactions is being committed, and inspects the home between runs. The
kill moments come from a seed that the test prints. Set GOVCHAIN_CRASH_SEED
to replay one.

NOTE: SIGKILL ends the process but not the operating system, so writes that
reached the page cache survive. These tests show that a block is atomic and
that a receipt is only given for a committed block. They cannot show that
fsync reaches the disk: that needs power loss, and SQLite's
`synchronous=FULL` in WAL mode is what the ledger relies on for it.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from govchain.ledger.block import BlockHeader
from govchain.ledger.store import LedgerStore
from govchain.ledger.verify import verify_ledger
from govchain.node import NodeHome, init_node

WORKER = Path(__file__).with_name("ingest_worker.py")
SEED_ENV = "GOVCHAIN_CRASH_SEED"
#: A `commit` line at least this large marks a heavy batch worth killing in.
HEAVY_BATCH = 1500
#: Seconds to wait for the worker to reach a heavy batch before giving up.
HEAVY_TIMEOUT = 30.0

pytestmark = pytest.mark.slow


class Worker:
    """One run of the ingest worker, its stdout parsed on a reader thread."""

    def __init__(self, home: Path, seed: int, log: Path) -> None:
        self.log = log
        with log.open("ab") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, str(WORKER), str(home), str(seed)],
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        self.opened_at: int | None = None
        self.acked: list[tuple[str, int]] = []
        self.heavy = threading.Event()
        self.first_ack = threading.Event()
        assert self.proc.stdout is not None
        self._reader = threading.Thread(
            target=self._read, args=(self.proc.stdout,), daemon=True
        )
        self._reader.start()

    def _read(self, stdout: IO[str]) -> None:
        for line in stdout:
            kind, *fields = line.split()
            if kind == "open":
                self.opened_at = int(fields[0])
            elif kind == "commit" and int(fields[0]) >= HEAVY_BATCH:
                self.heavy.set()
            elif kind == "ack":
                self.acked.append((fields[0], int(fields[1])))
                self.first_ack.set()

    def kill(self) -> None:
        """Send SIGKILL, then collect every line written before it."""
        if self.proc.poll() is not None:
            pytest.fail(
                f"ingest worker exited by itself with code {self.proc.returncode}; "
                f"its stderr is in {self.log}:\n{self.log.read_text()[-3000:]}"
            )
        self.proc.send_signal(signal.SIGKILL)
        assert self.proc.wait(timeout=10) == -signal.SIGKILL
        self._reader.join(timeout=10)
        assert not self._reader.is_alive()
        assert self.proc.stdout is not None
        self.proc.stdout.close()


def crash_seed() -> int:
    seed = int(os.environ.get(SEED_ENV, "0")) or random.SystemRandom().randrange(
        1, 2**31
    )
    print(f"crash seed {seed}; rerun with {SEED_ENV}={seed}")
    return seed


def new_home(tmp_path: Path, demo_consortium: Path) -> Path:
    home = NodeHome(tmp_path / "home")
    init_node(home, demo_consortium, encrypt=False).close()
    return home.path


def run_and_kill(
    home: Path,
    log: Path,
    rng: random.Random,
    *,
    heavy: bool,
) -> Worker:
    """Run one worker and kill it at a random moment. A heavy kill first waits
    until a batch of `HEAVY_BATCH` or more transactions starts committing, and
    on a machine too slow to commit a block in the random delay also until the
    run has acknowledged one transaction, so that later runs resume its blocks.
    """
    worker = Worker(home, rng.randrange(2**31), log)
    if heavy:
        assert worker.heavy.wait(HEAVY_TIMEOUT), "the worker reached no heavy batch"
        time.sleep(rng.uniform(0.0, 0.4))
        assert worker.first_ack.wait(HEAVY_TIMEOUT), "the worker committed no block"
    else:
        # Short delays kill the worker before it has opened the node.
        time.sleep(rng.uniform(0.05, 1.5))
    worker.kill()
    return worker


def kill_repeatedly(
    tmp_path: Path,
    demo_consortium: Path,
    plan: list[bool],
    check: Callable[[LedgerStore, Worker], None],
) -> None:
    """Kill a worker once per entry of `plan` (True: in a heavy batch) and call
    `check` on the reopened ledger after each kill.
    """
    home = new_home(tmp_path, demo_consortium)
    rng = random.Random(crash_seed())
    for number, heavy in enumerate(plan, 1):
        worker = run_and_kill(home, tmp_path / "worker.log", rng, heavy=heavy)
        print(
            f"kill {number} ({'heavy batch' if heavy else 'timed'}): opened at "
            f"height {worker.opened_at}, {len(worker.acked)} acknowledged"
        )
        # The CLI opens a ledger read-only, so that must work on a crashed one
        # too. It runs first, before a writer has recovered the WAL.
        reader = LedgerStore(home / "ledger.sqlite", readonly=True)
        try:
            read_only_height = reader.height()
        finally:
            reader.close()
        store = LedgerStore(home / "ledger.sqlite")
        try:
            assert store.height() == read_only_height
            check(store, worker)
        finally:
            store.close()


def test_crash_keeps_acknowledged(tmp_path: Path, demo_consortium: Path) -> None:
    acked: list[str] = []
    heights = [0]
    resumed_runs = 0

    def check(store: LedgerStore, worker: Worker) -> None:
        nonlocal resumed_runs
        report = verify_ledger(store)
        assert report.ok, report.problem

        if worker.opened_at is not None:
            # The worker opened at the last block that the previous run left.
            assert worker.opened_at == heights[-1]
        for _txid, height in worker.acked:
            assert height > heights[-1]
        if worker.acked and heights[-1] > 0:
            resumed_runs += 1
        acked.extend(txid for txid, _height in worker.acked)

        missing = []
        not_applied = []
        for txid in acked:
            stored = store.tx_by_id(txid)
            if stored is None:
                missing.append(txid)
            elif stored.status != "applied":
                not_applied.append(txid)
        assert missing == [], f"{len(missing)} acknowledged transactions lost"
        assert not_applied == []
        assert store.height() >= heights[-1]
        heights.append(store.height())

    plan = [False, True, False, True, False, True, False]
    kill_repeatedly(tmp_path, demo_consortium, plan, check)
    # Some runs must have added blocks after blocks of an earlier run.
    assert resumed_runs >= 2


def test_crash_leaves_whole_blocks(tmp_path: Path, demo_consortium: Path) -> None:
    def check(store: LedgerStore, worker: Worker) -> None:
        counts = dict(
            store.db.execute("SELECT height, COUNT(*) FROM txs GROUP BY height")
        )
        log_size = 0
        for height, _hash, header_bytes, _results in store.block_rows():
            header = BlockHeader.from_dict(json.loads(header_bytes))
            assert counts.pop(height, 0) == header.tx_count, f"block {height}"
            log_size += header.tx_count
            assert header.log_size == log_size, f"block {height}"
        assert counts == {}, "transactions stored outside any block"
        assert store.log_size() == log_size
        leaves = store.db.execute(
            "SELECT COUNT(*) FROM merkle_nodes WHERE level = 0"
        ).fetchone()[0]
        assert leaves == log_size
        latest = store.latest_checkpoint()
        assert latest is not None
        assert latest[0] == log_size

    kill_repeatedly(tmp_path, demo_consortium, [True] * 10, check)
