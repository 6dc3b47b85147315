"""A running node: submits transactions, commits blocks, signs checkpoints.

One process per node home writes (`node.lock` enforces it). Submitting puts
transactions into the orderer. The committer takes batches out, applies them
and writes the block, Merkle nodes, state and checkpoint in one SQLite
transaction (fsynced). Only then does it complete the submitters' receipts.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govchain._types import BlockHash, TxId
from govchain.crypto.keys import PublicKey, SigningKey, read_key_store, write_key_store
from govchain.errors import ConfigError, IntegrityError, ValidationError
from govchain.governance.personal_data import find_in_transaction, mask_personal_data
from govchain.ledger import merkle
from govchain.ledger.apply import BatchApplier
from govchain.ledger.block import ZERO_HASH, BlockHeader, state_digest
from govchain.ledger.checkpoint import Checkpoint, NoteSigner, sign_note
from govchain.ledger.entry import entry_bytes
from govchain.ledger.gc_pause import gc_paused
from govchain.ledger.orderer import Batch, Orderer, SoloOrderer
from govchain.ledger.store import LedgerStore, StoredTx
from govchain.ledger.transaction import (
    MAX_TX_BYTES,
    Transaction,
    sign_transaction,
    tx_id,
)
from govchain.node.home import HostedKeys, NodeHome
from govchain.statemachine import load_handlers

logger = logging.getLogger(__name__)

#: Meta key holding the log size a presented checkpoint proved this node lacks.
BEHIND_KEY = "behind_checkpoint_size"
#: Meta key holding the comma-separated node keys that signed that checkpoint.
BEHIND_SIGNERS_KEY = "behind_checkpoint_signers"


def behind_checkpoint(store: LedgerStore) -> tuple[int, str] | None:
    """Return the size and signers of a checkpoint this ledger is behind, if any."""
    size = int(store.get_meta(BEHIND_KEY) or 0)
    if size <= store.log_size():
        return None
    return size, store.get_meta(BEHIND_SIGNERS_KEY) or "an unrecorded node key"


def behind_message(size: int, signers: str) -> str:
    """Return the message for a ledger behind a checkpoint, with the next step."""
    return (
        f"this node's ledger is behind a checkpoint of size {size} signed by "
        f"{signers}, so it commits no blocks: restore a newer backup of the node "
        "home and start the node again, because it cannot catch up from a peer "
        "by itself; see docs/operations.md"
    )


class NodeBehindError(IntegrityError):
    """The node rejects writes because its ledger is behind a valid checkpoint."""


@dataclass(frozen=True)
class Receipt:
    """The outcome of a submitted transaction once its block is durable."""

    tx_id: TxId
    height: int
    index: int
    status: str
    reason: str
    message: str
    block_time: int

    @property
    def applied(self) -> bool:
        return self.status == "applied"

    def to_dict(self) -> dict[str, Any]:
        return {
            "tx_id": self.tx_id,
            "height": self.height,
            "index": self.index,
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "block_time": self.block_time,
        }


class _Waiter:
    """The receipt of one submitted transaction, once its block is durable.

    A lock held from creation until `complete` replaces a `threading.Event`,
    which takes about 30 times longer to create (timeit, CPython 3.11), and one
    is created per transaction.
    """

    __slots__ = ("_lock", "receipt")

    def __init__(self) -> None:
        self.receipt: Receipt | None = None
        self._lock = threading.Lock()
        self._lock.acquire()

    def complete(self, receipt: Receipt) -> None:
        """Store the receipt and wake every thread waiting for it; call it once."""
        self.receipt = receipt
        self._lock.release()

    def done(self) -> bool:
        return self.receipt is not None

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for `complete`; return whether it came."""
        if self.receipt is not None:
            return True
        if not self._lock.acquire(timeout=timeout):
            return False
        # Let the next thread waiting for the same transaction through.
        self._lock.release()
        return True


#: Seconds a thread signing for a department waits for another thread's
#: signed transactions of that department to be submitted.
SIGNED_QUEUE_WAIT = 5.0


class NodeLockedError(ConfigError):
    """Another process holds the node home's writer lock."""


def _require_ledger(home: NodeHome) -> None:
    """Raise `ConfigError` unless the home's ledger file exists with a genesis block."""
    path = home.ledger_path
    problem = None
    if not path.is_file():
        problem = "is missing"
    else:
        try:
            with contextlib.closing(
                sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            ) as db:
                if (
                    db.execute("SELECT 1 FROM blocks WHERE height = 0").fetchone()
                    is None
                ):
                    problem = "has no genesis block"
        except sqlite3.Error as exc:
            problem = f"cannot be read ({exc})"
    if problem is not None:
        raise ConfigError(
            f"ledger file {path} {problem}, so the node cannot start: a new ledger "
            "would fork this node's chain. Restore the node home from a backup; "
            "`govchain init` creates a new node in an empty folder",
            path=str(path),
        )


class Node:
    """The writer of one node home."""

    def __init__(
        self,
        home: NodeHome,
        *,
        orderer: Orderer | None = None,
        workers: int = 2,
        lock_timeout: float = 0.0,
        new_ledger: bool = False,
    ) -> None:
        """Open `home` for writing. Only `init_node` passes `new_ledger`: any
        other open of a home without a ledger raises `ConfigError`, because a
        ledger started again would fork the node's own chain."""
        load_handlers()
        self.home = home
        self._lock_file = _acquire_lock(home.lock_path, lock_timeout)
        try:
            if not new_ledger:
                _require_ledger(home)
            self._open(home, orderer, workers)
        except BaseException:
            # A home that cannot be opened (wrong passphrase, damaged ledger)
            # must not stay locked by this process.
            if hasattr(self, "applier"):
                self.applier.close()
            if hasattr(self, "store"):
                self.store.close()
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            os.close(self._lock_file)
            raise

    def _open(self, home: NodeHome, orderer: Orderer | None, workers: int) -> None:
        self.store = LedgerStore(home.ledger_path)
        self.orderer: Orderer = orderer or SoloOrderer()
        self.applier = BatchApplier(workers)
        self.node_key: SigningKey = home.node_key()
        self.dept_keys: HostedKeys = home.dept_keys()
        # Hosted departments cosign each checkpoint as witnesses. Departments
        # hosted later (agencies admitted by a catalog import) do not, so the
        # checkpoint size stays bounded. Homes created before settings listed
        # the witnesses fall back to every hosted department.
        self.witnesses = sorted(
            d
            for d in home.settings().get("witnesses", home.hosts)
            if d in self.dept_keys
        )
        self.origin = home.origin
        self._commit_lock = threading.Lock()
        self._waiters: dict[str, _Waiter] = {}
        self._waiters_lock = threading.Lock()
        self._nonce_lock = threading.Lock()
        self._issued: dict[str, int] = {}
        # Transactions this node signed that have not reached the orderer, by
        # department: tx id to the signing thread and when it signed.
        self._unqueued: dict[str, dict[str, tuple[int, float]]] = {}
        self._unqueued_dept: dict[str, str] = {}
        self._unqueued_changed = threading.Condition()
        self._keys: dict[str, PublicKey] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.compact = merkle.CompactRange.from_nodes(self.store.log_size(), self.store)
        self._check_tail()
        self._finish_rotations()
        self._load_keys()
        logger.info(
            "node %s opened at %s: height %d, log size %d",
            home.node_id,
            home.path,
            self.store.height(),
            self.compact.size,
        )
        behind = behind_checkpoint(self.store)
        if behind is not None:
            logger.warning(
                "node %s has %d log entries: %s",
                home.node_id,
                self.compact.size,
                behind_message(*behind),
            )

    # -- life cycle -----------------------------------------------------------

    def close(self) -> None:
        """Stop the committer and release the node home; closing twice is a no-op."""
        if self._closed:
            return
        self._closed = True
        self.stop()
        self.applier.close()
        self.store.close()
        fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        os.close(self._lock_file)
        logger.info("node %s closed", self.home.node_id)

    def __enter__(self) -> Node:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Run the committer on a background thread until `stop()`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="committer", daemon=True)
        self._thread.start()
        logger.info("committer of node %s started", self.home.node_id)

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        logger.info("committer of node %s stopped", self.home.node_id)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.commit_next(timeout=0.2)
            except Exception:
                # The committer must survive one bad batch; each waiter of the
                # batch gets no receipt and times out with an error.
                logger.exception(
                    "committer of node %s failed on a batch", self.home.node_id
                )

    def _check_tail(self) -> None:
        height = self.store.height()
        if height < 0:
            return
        blocks = self.store.reader.execute("SELECT COUNT(*) FROM blocks").fetchone()[0]
        txs = self.store.reader.execute("SELECT COUNT(*) FROM txs").fetchone()[0]
        if blocks != height + 1 or txs != self.compact.size:
            raise IntegrityError(
                f"ledger {self.store.path} has {blocks} blocks up to height {height} "
                f"and {txs} transactions for a log of {self.compact.size}: blocks or "
                "transactions were removed; run `govchain verify` and restore the home "
                "from a peer",
                height=height,
            )
        header = self.store.header(height)
        if header is None or header.log_size != self.compact.size:
            raise IntegrityError(
                f"ledger {self.store.path} is inconsistent at height {height}: the "
                "block header and the Merkle log disagree; run `govchain verify`",
                height=height,
            )
        if header.log_root != self.compact.root().hex():
            raise IntegrityError(
                f"Merkle log root of {self.store.path} differs from block {height}'s",
                height=height,
            )

    # -- submitting -------------------------------------------------------------

    def host_department(self, dept: str) -> SigningKey:
        """Generate and store a signing key for `dept` and host it on this node.

        The key store is written (encrypted when the home's keys are) before the
        settings list the department, so a crash leaves at most an unused key file.
        """
        if dept in self.dept_keys:
            return self.dept_keys[dept]
        settings = self.home.settings()
        key = SigningKey.generate()
        passphrase = (
            self.home.passphrase if settings.get("encrypted_keys", True) else None
        )
        write_key_store(
            self.home.keys_dir / f"{dept}.json", key, passphrase=passphrase, label=dept
        )
        settings["hosts"] = [*settings["hosts"], dept]
        self.home.write_settings(settings)
        self.dept_keys[dept] = key
        logger.info(
            "node %s now hosts department %s (key %s)", self.home.node_id, dept, key.kid
        )
        return key

    def rotate_hosted_key(self, dept: str) -> Receipt:
        """Give hosted department `dept` a new key, recorded by the operator.

        The new key store is written beside the old one as `<dept>.json.new`
        and replaces it only once the rotation is committed. A crash between the
        two is finished by the next start (`_finish_rotations`), which keeps
        whichever key the ledger names.
        """
        if dept not in self.dept_keys:
            raise ValidationError(
                f"department {mask_personal_data(dept[:80])!r} is not hosted on this "
                "node; pass its new public key instead",
                reason="not-hosted",
            )
        config = self.store.get("consortium", "config")
        assert config is not None
        settings = self.home.settings()
        passphrase = (
            self.home.passphrase if settings.get("encrypted_keys", True) else None
        )
        key = SigningKey.generate()
        pending = self.home.keys_dir / f"{dept}.json.new"
        write_key_store(pending, key, passphrase=passphrase, label=dept)
        receipt = self.act(
            config["consortium"]["operator"],
            "consortium.rotate_key",
            {"department": dept, "public_key": key.public_key.to_b64()},
        )
        if not receipt.applied:
            pending.unlink(missing_ok=True)
            raise ValidationError(receipt.message, reason=receipt.reason)
        os.replace(pending, self.home.keys_dir / f"{dept}.json")
        self.dept_keys[dept] = key
        logger.info("department %s now signs with key %s", dept, key.kid)
        return receipt

    def _finish_rotations(self) -> None:
        """Keep the key the ledger names for each hosted department after a crash."""
        for dept in list(self.dept_keys):
            pending = self.home.keys_dir / f"{dept}.json.new"
            if not pending.exists():
                continue
            record = self.store.get("dept", dept)
            new_key = read_key_store(pending, passphrase=self.home.passphrase)
            if record is not None and record.get("kid") == new_key.kid:
                os.replace(pending, self.home.keys_dir / f"{dept}.json")
                self.dept_keys[dept] = new_key
                logger.warning("finished the key rotation of %s left by a crash", dept)
            else:
                pending.unlink()
                logger.warning("discarded an uncommitted new key of %s", dept)

    def sign(self, dept: str, tx_type: str, payload: dict[str, Any]) -> Transaction:
        """Sign a transaction as hosted department `dept` with a fresh nonce."""
        key = self.dept_keys.get(dept)
        if key is None:
            raise ValidationError(
                f"department {mask_personal_data(dept[:80])!r} is not hosted on this "
                "node, so it cannot sign "
                f"here; hosted: {', '.join(sorted(self.dept_keys))}",
                reason="not-hosted",
            )
        # Nonces must reach the orderer in the order they were issued, or the
        # lower one is rejected as stale. So a thread signing for a department
        # waits until the transactions other threads signed for it are queued.
        # One thread may sign several before queueing them, as imports do.
        me = threading.get_ident()
        with self._unqueued_changed:
            self._wait_for_other_signers(dept, me)
            tx = sign_transaction(
                type=tx_type,
                dept=dept,
                key=key,
                nonce=self._bump_nonce(dept),
                payload=payload,
            )
            self._unqueued.setdefault(dept, {})[tx.id] = (me, time.monotonic())
            self._unqueued_dept[tx.id] = dept
        return tx

    def _wait_for_other_signers(self, dept: str, me: int) -> None:
        """Wait until no other thread has an unqueued transaction of `dept`.

        Called with `_unqueued_changed` held. A transaction signed but not
        queued within `SIGNED_QUEUE_WAIT` seconds was dropped by its caller,
        so it is forgotten.
        """
        deadline = time.monotonic() + SIGNED_QUEUE_WAIT
        while True:
            pending = self._unqueued.get(dept, {})
            others = [t for t, (thread, _at) in pending.items() if thread != me]
            if not others:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                for txid in others:
                    del pending[txid]
                    self._unqueued_dept.pop(txid, None)
                logger.warning(
                    "%d transaction(s) of %s were signed but not submitted within "
                    "%.0f s; signing goes on",
                    len(others),
                    dept,
                    SIGNED_QUEUE_WAIT,
                )
                return
            self._unqueued_changed.wait(remaining)

    def _mark_queued(self, txids: Iterable[str]) -> None:
        with self._unqueued_changed:
            changed = False
            for txid in txids:
                dept = self._unqueued_dept.pop(txid, None)
                if dept is not None:
                    self._unqueued[dept].pop(txid, None)
                    changed = True
            if changed:
                self._unqueued_changed.notify_all()

    def _bump_nonce(self, dept: str) -> int:
        with self._nonce_lock:
            state = self.store.get("nonce", dept)
            committed = state["last"] if state else 0
            nonce = max(committed, self._issued.get(dept, 0)) + 1
            self._issued[dept] = nonce
            return nonce

    def _load_keys(self) -> None:
        """Rebuild the department keys used to check submissions ahead of blocks.

        Called by the committer after a block changes a department, so the dict
        is replaced whole and submitting threads read it without a lock.
        """
        self._keys = {
            dept: PublicKey.from_b64(record["public_key"])
            for dept, record in self.store.scan("dept")
            if record.get("public_key")
        }

    def submit_bytes(self, datas: Iterable[bytes]) -> list[_Waiter]:
        """Queue canonical transactions for ordering and return one waiter each.

        Raises `ValidationError` (reason `too-large`), submitting nothing, when
        any is over `MAX_TX_BYTES`: recording it as a rejection would store all
        of its bytes on the ledger, so the limit would not limit storage.
        """
        items = [(tx_id(data), data) for data in datas]
        for index, (_txid, data) in enumerate(items):
            if len(data) > MAX_TX_BYTES:
                raise ValidationError(
                    f"transaction {index + 1} of {len(items)} is {len(data):,} bytes, "
                    f"over the limit of {MAX_TX_BYTES:,}; nothing was submitted, so "
                    "split its payload or store large content as a dataset version",
                    reason="too-large",
                )
            # A rejected transaction keeps its bytes on the ledger, so one
            # holding personal data is refused before it is ordered.
            personal = find_in_transaction(data)
            if personal is not None:
                where, kind = personal
                raise ValidationError(
                    f"transaction {index + 1} of {len(items)}: {where} contains a "
                    f"{kind}; personal data must not be recorded on the ledger, so "
                    "nothing was submitted. Remove it and sign the transaction again",
                    reason="personal-data",
                )
        stored = self.store.stored_ids(txid for txid, _data in items)
        waiters: list[_Waiter] = []
        fresh: list[bytes] = []
        fresh_ids: list[str] = []
        for txid, data in items:
            with self._waiters_lock:
                waiter = self._waiters.get(txid)
                if waiter is None:
                    waiter = _Waiter()
                    found = self.store.tx_by_id(txid) if txid in stored else None
                    if found is not None:
                        waiter.complete(_receipt(found))
                    else:
                        self._waiters[txid] = waiter
                        fresh.append(data)
                        fresh_ids.append(txid)
            waiters.append(waiter)
        # Checks start before the transactions reach the orderer, so a committer
        # that takes them at once finds the checks already queued.
        self.applier.precheck(fresh, self._keys, fresh_ids)
        for data in fresh:
            self.orderer.submit(data)
        if self._unqueued_dept:
            self._mark_queued(txid for txid, _data in items)
        return waiters

    def submit(
        self, txs: Iterable[Transaction], *, timeout: float = 30.0
    ) -> list[Receipt]:
        """Submit transactions and wait until each is in a durable block.

        A transaction submitted twice is applied once: the second submission
        returns the first one's receipt. Without a running committer the calling
        thread commits the pending batches itself.
        """
        return self.submit_data([tx.canonical_bytes() for tx in txs], timeout=timeout)

    def submit_data(
        self, datas: list[bytes], *, timeout: float = 30.0
    ) -> list[Receipt]:
        """Submit transaction bytes as received and wait for their receipts.

        The committer decodes the bytes, so bytes that are not canonical are
        recorded as rejected with reason `bad-encoding`. Raises
        `NodeBehindError` before queueing anything when the ledger is behind a
        presented checkpoint, because no block would commit them.
        """
        behind = behind_checkpoint(self.store)
        if behind is not None:
            raise NodeBehindError(behind_message(*behind))
        waiters = self.submit_bytes(datas)
        if self._thread is None:
            while any(not w.done() for w in waiters):
                if not self.commit_next(timeout=0):
                    break
        receipts: list[Receipt] = []
        for waiter in waiters:
            if not waiter.wait(timeout) or waiter.receipt is None:
                message = f"no block committed the transaction within {timeout} s"
                behind = behind_checkpoint(self.store)
                if behind is not None:
                    message += f": {behind_message(*behind)}"
                raise TimeoutError(message)
            receipts.append(waiter.receipt)
        return receipts

    def mark_behind(self, size: int, signers: list[str]) -> None:
        """Record that a checkpoint signed by `signers` proves the log reached `size`.

        The node commits no block until its log reaches `size`.
        """
        self.store.set_meta(BEHIND_SIGNERS_KEY, ", ".join(signers))
        self.store.set_meta(BEHIND_KEY, str(size))

    def submit_one(self, tx: Transaction) -> Receipt:
        return self.submit([tx])[0]

    def act(self, dept: str, tx_type: str, payload: dict[str, Any]) -> Receipt:
        """Sign as hosted department `dept`, submit, and wait for the receipt."""
        return self.submit_one(self.sign(dept, tx_type, payload))

    # -- committing -------------------------------------------------------------

    def commit_next(self, *, timeout: float) -> bool:
        """Commit the next batch from the orderer; return False when none came."""
        with self._commit_lock:
            last = self.store.header(self.store.height())
            after = last.time if last else 0
            batch = self.orderer.next_batch(after_time=after, timeout=timeout)
            if batch is None:
                return False
            self.commit_batch(batch, last)
            return True

    def commit_batch(self, batch: Batch, last: BlockHeader | None) -> None:
        """Apply `batch` as the block after `last`, write it, complete receipts."""
        with gc_paused():
            self._commit_batch(batch, last)

    def _commit_batch(self, batch: Batch, last: BlockHeader | None) -> None:
        height = 0 if last is None else last.height + 1
        prev = ZERO_HASH if last is None else BlockHash(last.hash)
        log_start = self.compact.size
        with self.store.snapshot():
            datas, ids = self._new_transactions(batch.txs)
            if not datas:
                return
            behind = behind_checkpoint(self.store)
            if behind is not None:
                raise NodeBehindError(
                    f"node {self.home.node_id} has {self.compact.size} log entries: "
                    f"{behind_message(*behind)}"
                )
            result = self.applier.apply(
                self.store,
                datas,
                height=height,
                block_time=batch.time,
                log_start=log_start,
                ids=ids,
            )
        leaves = [
            merkle.hash_leaf(
                entry_bytes(
                    o.data,
                    height=height,
                    time=batch.time,
                    status=o.status,
                    reason=o.reason,
                    tx_is_canonical=o.tx is not None,
                )
            )
            for o in result.outcomes
        ]
        compact = copy.deepcopy(self.compact)
        nodes: list[tuple[int, int, bytes]] = []
        for leaf in leaves:
            nodes.extend(compact.append(leaf))
        results = [o.result() for o in result.outcomes]
        header = BlockHeader(
            chain=self.origin,
            height=height,
            prev_hash=prev,
            tx_root=merkle.root_from_leaf_hashes(leaves).hex(),
            tx_count=len(datas),
            log_size=compact.size,
            log_root=compact.root().hex(),
            state_digest=state_digest(results, result.writes),
            time=batch.time,
            committer=self.home.node_id,
            committer_kid=self.node_key.kid,
        ).signed(self.node_key)
        stored = [
            StoredTx(
                seq=log_start + i,
                id=o.id,
                height=height,
                type=o.tx.type if o.tx else "",
                dept=o.tx.dept if o.tx else "",
                status=o.status,
                reason=o.reason,
                message=o.message,
                time=batch.time,
                data=o.data,
            )
            for i, o in enumerate(result.outcomes)
        ]
        subjects = [
            (subject, log_start + i)
            for i, o in enumerate(result.outcomes)
            for subject in o.subjects
        ]
        note = self._checkpoint_note(compact.size, compact.root())
        self.store.write_block(
            header,
            results,
            stored,
            subjects,
            nodes,
            result.writes,
            (compact.size, note),
        )
        self.compact = compact
        if any(w.ns == "dept" for w in result.writes):
            self._load_keys()
        logger.debug("block %d committed with %d transactions", height, len(datas))
        self._complete(stored)

    def _new_transactions(self, datas: list[bytes]) -> tuple[list[bytes], list[str]]:
        """Drop repeats within the batch and transactions already committed.

        Returns the transactions left and their ids.
        """
        ids = [tx_id(data) for data in datas]
        stored = self.store.stored_ids(set(ids))
        for txid in stored:
            found = self.store.tx_by_id(txid)
            if found is not None:
                self._complete([found])
        seen: set[str] = set()
        fresh: list[bytes] = []
        fresh_ids: list[str] = []
        for data, txid in zip(datas, ids, strict=True):
            if txid in seen or txid in stored:
                continue
            seen.add(txid)
            fresh.append(data)
            fresh_ids.append(txid)
        return fresh, fresh_ids

    def _complete(self, stored: list[StoredTx]) -> None:
        with self._waiters_lock:
            for tx in stored:
                waiter = self._waiters.pop(tx.id, None)
                if waiter is not None:
                    waiter.complete(_receipt(tx))

    def _checkpoint_note(self, size: int, root: bytes) -> bytes:
        body = Checkpoint(self.origin, size, root).body()
        signers = [NoteSigner(self.home.node_id, self.node_key)]
        signers += [NoteSigner(d, self.dept_keys[d]) for d in self.witnesses]
        return sign_note(body, signers)


def _receipt(tx: StoredTx) -> Receipt:
    return Receipt(
        tx_id=TxId(tx.id),
        height=tx.height,
        index=tx.seq,
        status=tx.status,
        reason=tx.reason,
        message=tx.message,
        block_time=tx.time,
    )


def _acquire_lock(path: Path, timeout: float) -> int:
    """Take the node home's writer lock, waiting up to `timeout` seconds for it.

    A home served by `govchain serve` (it has `api.json`) is not waited for:
    the caller should send its command through the API instead.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError as exc:
            served = (path.parent / "api.json").exists()
            if served or time.monotonic() >= deadline:
                os.close(fd)
                hint = (
                    "a running `govchain serve` holds it; send the command through "
                    "its API"
                    if served
                    else f"another govchain command still writes to it after "
                    f"{timeout:g} s; wait for it to finish and try again"
                )
                raise NodeLockedError(
                    f"node home {path.parent} is in use: {hint}",
                    path=str(path.parent),
                ) from exc
            time.sleep(0.05)
