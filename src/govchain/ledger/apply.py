"""Apply an ordered batch of transactions to state, deterministically.

Each transaction passes four checks before its handler runs:

1. it decodes as a canonical transaction;
2. its department is a member and is not suspended, and its key id is the
   department's current one;
3. its signature verifies under that key;
4. its nonce exceeds the department's last nonce.

A transaction failing a check, or rejected by its handler, is kept in the log
with status `rejected` and a reason code. The result of every transaction and
every state write feed the block's state digest, so any node that applies the
same batch computes the same digest.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass, field
from typing import Any

from govchain._types import TxId
from govchain.crypto.keys import PublicKey
from govchain.errors import ValidationError, VerificationError
from govchain.ledger.sigcheck import (
    UNCHECKED,
    Check,
    CheckPool,
    CheckWorkerError,
    KeyTable,
    Task,
    ed25519_valid,
    key_table,
)
from govchain.ledger.state import Overlay, StateReader, TxContext, Write, get_handler
from govchain.ledger.transaction import (
    Transaction,
    decode_checked_transaction,
    decode_transaction,
    tx_id,
)

logger = logging.getLogger(__name__)

GENESIS_TYPE = "consortium.genesis"
DEPT_NS = "dept"
NONCE_NS = "nonce"


@dataclass
class TxOutcome:
    """The outcome of one transaction in a batch."""

    id: TxId
    data: bytes
    tx: Transaction | None
    status: str
    reason: str
    message: str = ""
    subjects: list[str] = field(default_factory=list)

    def result(self) -> dict[str, Any]:
        return {"tx": self.id, "status": self.status, "reason": self.reason}


@dataclass
class BatchResult:
    outcomes: list[TxOutcome]
    writes: list[Write]


def _public_key(state: StateReader | Overlay, tx: Transaction) -> PublicKey:
    dept = state.get(DEPT_NS, tx.dept)
    if dept is None:
        raise ValidationError(
            f"department {tx.dept!r} is not a member of the consortium",
            reason="unknown-department",
        )
    if dept.get("status") != "active":
        raise ValidationError(
            f"department {tx.dept!r} is {dept.get('status')}", reason="suspended"
        )
    if dept.get("kid") != tx.kid:
        raise ValidationError(
            f"key id {tx.kid} is not the current key of department {tx.dept!r}",
            reason="wrong-key-id",
        )
    return _key_from_b64(dept["public_key"])


# Every transaction looks up its department's key. Decoding the key and hashing
# its key id once per key, not once per transaction, saves both.
@functools.lru_cache(maxsize=4096)
def _key_from_b64(text: str) -> PublicKey:
    return PublicKey.from_b64(text)


@functools.lru_cache(maxsize=4096)
def _kid_of(key: PublicKey) -> str:
    return key.kid


def _genesis_key(tx: Transaction) -> PublicKey:
    try:
        operator = tx.payload["operator"]
        return PublicKey.from_b64(tx.payload["keys"][operator]["public_key"])
    except (KeyError, TypeError, VerificationError) as exc:
        raise ValidationError(
            "genesis payload lacks the operator's public key", reason="bad-genesis"
        ) from exc


#: Transactions per task sent to a check process.
_CHECK_CHUNK = 500
#: Batches smaller than this are checked on the calling thread, because handing
#: them to processes costs more than it saves (an estimate, not measured).
MIN_POOL_BATCH = 256
#: Failed starts or deaths of the check processes after which they are not
#: started again.
_MAX_POOL_FAILURES = 3
#: Pending checks kept for transactions not yet in a block.
_MAX_PENDING = 200_000


class BatchApplier:
    """Applies batches to a state and checks large ones on worker processes.

    `workers` is the number of check processes (see `govchain.ledger.sigcheck`);
    1 or less checks everything on the calling thread. Batches of fewer than
    `min_pool_batch` transactions are always checked on the calling thread.
    """

    def __init__(
        self, workers: int = 2, *, min_pool_batch: int = MIN_POOL_BATCH
    ) -> None:
        self._checks = CheckPool(workers) if workers > 1 else None
        self._failures = 0
        self._min_pool_batch = max(1, min_pool_batch)
        # Checks started when transactions were submitted: tx id to the task
        # and the transaction's position in it.
        self._pending: dict[str, tuple[Future[list[Check]], int]] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        if self._checks is not None:
            self._checks.close()

    def start_workers(self) -> bool:
        """Start the check processes now and wait until they are ready.

        Without this call they start on the first large batch, and batches are
        checked on the calling thread until the processes are ready. Returns
        whether they became ready (False without check processes).
        """
        checks = self._checks
        if checks is None:
            return False
        try:
            return checks.start()
        except OSError as exc:
            self._pool_failed(checks, exc)
            return False

    def _pool_ready(self, size: int) -> bool:
        checks = self._checks
        if checks is None or size < self._min_pool_batch:
            return False
        try:
            return checks.ready()
        except OSError as exc:
            self._pool_failed(checks, exc)
            return False

    def _pool_failed(self, checks: CheckPool, exc: Exception) -> None:
        # A check process died (killed, out of memory) or could not start. The
        # caller checks on its own thread until the next large batch starts new
        # processes, and for good after a few failures.
        checks.close()
        self._failures += 1
        if self._failures < _MAX_POOL_FAILURES:
            logger.warning("signature check processes failed: %s", exc)
            return
        self._checks = None
        logger.warning(
            "signature check processes failed %d times, so signatures are checked "
            "on the calling thread from now on: %s",
            self._failures,
            exc,
        )

    def precheck(
        self,
        datas: Sequence[bytes],
        keys: Mapping[str, PublicKey],
        ids: Sequence[str] | None = None,
        recorded_valid: Sequence[bool] | None = None,
    ) -> None:
        """Start decoding and verifying submitted transactions ahead of their block.

        The checks run on the worker processes while the committer applies
        earlier blocks. `keys` are the departments' keys now; `apply` checks
        again any transaction whose department's key changes before its block.
        `ids` are the transactions' ids when the caller has them already.
        `recorded_valid` says for each transaction whether the ledger records
        its signature as valid, when replaying one (see `sigcheck`).
        """
        if not self._pool_ready(len(datas)):
            return
        table = key_table(keys)
        with self._lock:
            if len(self._pending) > _MAX_PENDING:
                # Transactions that were never ordered; forget them all.
                self._pending.clear()
        for start in range(0, len(datas), _CHECK_CHUNK):
            chunk = list(datas[start : start + _CHECK_CHUNK])
            chunk_ids = (
                ids[start : start + _CHECK_CHUNK]
                if ids is not None
                else [tx_id(d) for d in chunk]
            )
            future = self._submit(
                chunk,
                table,
                list(recorded_valid[start : start + _CHECK_CHUNK])
                if recorded_valid is not None
                else None,
            )
            if future is None:
                return
            with self._lock:
                for position, txid in enumerate(chunk_ids):
                    self._pending[txid] = (future, position)

    def _submit(
        self,
        datas: list[bytes],
        table: KeyTable,
        recorded_valid: list[bool] | None = None,
    ) -> Future[list[Check]] | None:
        checks = self._checks
        if checks is None:
            return None
        try:
            return checks.submit(datas, table, recorded_valid)
        except (CheckWorkerError, OSError) as exc:
            self._pool_failed(checks, exc)
            return None

    def run_task(self, task: Task) -> Future[Any] | None:
        """Start `task` on a check process; None when none is running."""
        checks = self._checks
        if checks is None or not checks.running():
            return None
        try:
            return checks.run(task)
        except (CheckWorkerError, OSError) as exc:
            self._pool_failed(checks, exc)
            return None

    def _take_prechecks(self, ids: Sequence[str]) -> _Checks:
        with self._lock:
            found = {i: self._pending.pop(i) for i in ids if i in self._pending}
        return _Checks(found)

    def _check_now(
        self, state: StateReader, datas: list[bytes], ids: list[str]
    ) -> dict[str, Check]:
        """Check transactions that no precheck covered, by tx id.

        A large batch goes to the check processes, with every department key in
        `state`. A small one is left to `_authenticate`, which verifies each
        signature on the calling thread, so the result is empty.
        """
        if not self._pool_ready(len(datas)):
            return {}
        table = key_table(_department_keys(state))
        tasks = [
            (
                ids[i : i + _CHECK_CHUNK],
                self._submit(datas[i : i + _CHECK_CHUNK], table),
            )
            for i in range(0, len(datas), _CHECK_CHUNK)
        ]
        checks: dict[str, Check] = {}
        for chunk_ids, future in tasks:
            if future is None:
                continue
            try:
                checks.update(zip(chunk_ids, future.result(), strict=True))
            except (CheckWorkerError, CancelledError) as exc:
                logger.warning("a signature check task failed: %r", exc)
        return checks

    def apply(
        self,
        state: StateReader,
        batch: Sequence[bytes],
        *,
        height: int,
        block_time: int,
        log_start: int,
        ids: Sequence[str] | None = None,
    ) -> BatchResult:
        """Apply `batch` on top of `state` and return outcomes and writes.

        `ids` are the transactions' ids when the caller has them already.
        """
        if ids is None:
            ids = [tx_id(d) for d in batch]
        prechecked = self._take_prechecks(ids)
        todo = [i for i, txid in enumerate(ids) if txid not in prechecked]
        if todo:
            prechecked.now.update(
                self._check_now(state, [batch[i] for i in todo], [ids[i] for i in todo])
            )

        block = Overlay(state, cache_reads=True)
        outcomes: list[TxOutcome] = []
        for i, data in enumerate(batch):
            # A check result that is not None means a worker decoded the bytes.
            check = prechecked.get(ids[i])
            tx: Transaction | None = None
            error: ValidationError | None = None
            try:
                tx = (
                    decode_checked_transaction(data)
                    if check is not None
                    else decode_transaction(data)
                )
            except ValidationError as exc:
                error = exc
            outcome = TxOutcome(TxId(ids[i]), data, tx, "applied", "ok")
            ctx = (
                TxContext(tx, height, block_time, log_start + i, Overlay(block))
                if tx
                else None
            )
            try:
                if tx is None or ctx is None:
                    assert error is not None
                    raise error
                _authenticate(ctx, check or UNCHECKED, height)
                _run_handler(ctx)
                ctx.state.merge_into(block)
                outcome.subjects = ctx.subjects
            except ValidationError as exc:
                outcome.status = "rejected"
                outcome.reason = exc.reason
                outcome.message = str(exc)
                outcome.subjects = ctx.subjects if ctx else []
                logger.debug("transaction %s rejected: %s", outcome.id, exc.reason)
                if ctx is not None and exc.reason not in _UNATTRIBUTED:
                    _consume_nonce(block, ctx.tx)
            outcomes.append(outcome)
        return BatchResult(outcomes, block.writes())


class _Checks:
    """Check results of one batch, each task's read when its first transaction
    is applied.

    Applying the first transactions while the check processes finish the last
    ones keeps the committer from waiting for the whole batch.
    """

    def __init__(self, pending: dict[str, tuple[Future[list[Check]], int]]) -> None:
        self.pending = pending
        #: Results found without a worker task, by transaction id.
        self.now: dict[str, Check] = {}
        # Each task's result is read once: `Future.result` takes a lock per call.
        self._results: dict[Future[list[Check]], list[Check] | None] = {}

    def __contains__(self, txid: object) -> bool:
        return txid in self.pending or txid in self.now

    def get(self, txid: str) -> Check:
        """Return the check of `txid`, waiting for its task; None if it has none."""
        if txid in self.now:
            return self.now[txid]
        entry = self.pending.get(txid)
        if entry is None:
            return None
        future, position = entry
        if future not in self._results:
            try:
                self._results[future] = future.result()
            except (CheckWorkerError, CancelledError) as exc:
                logger.warning("a signature check task failed: %r", exc)
                self._results[future] = None
        results = self._results[future]
        return None if results is None else results[position]


def _department_keys(state: StateReader) -> dict[str, PublicKey]:
    """Return every department's key in `state`, suspended ones included.

    A check under a suspended department's key is harmless: `_authenticate`
    rejects the transaction on the department's status before the signature.
    """
    keys: dict[str, PublicKey] = {}
    for name, record in state.scan(DEPT_NS):
        try:
            keys[name] = _key_from_b64(record["public_key"])
        except (KeyError, TypeError, VerificationError):
            continue
    return keys


def _run_handler(ctx: TxContext) -> None:
    """Run the transaction's handler; a payload it cannot handle is rejected.

    A handler that fails on an unexpected payload shape (a string where a
    number belongs) fails the same way on every node and on replay. Turning the
    failure into a rejection therefore keeps state deterministic, and one bad
    transaction does not stop the rest of its block.
    """
    try:
        get_handler(ctx.tx.type)(ctx)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        logger.warning(
            "handler of %s failed on transaction %s: %s",
            ctx.tx.type,
            ctx.tx.id,
            type(exc).__name__,
        )
        raise ValidationError(
            f"payload of {ctx.tx.type} is malformed ({type(exc).__name__}); check "
            "each field's type against docs/formats.md",
            reason="bad-payload",
        ) from exc


#: Rejections that do not consume the nonce, because the department's signature
#: was not established or the nonce itself was the fault.
_UNATTRIBUTED = {
    "bad-encoding",
    "bad-signature",
    "unknown-department",
    "suspended",
    "wrong-key-id",
    "stale-nonce",
    "bad-genesis",
    "too-large",
}


def _authenticate(ctx: TxContext, checked: tuple[str, bool], height: int) -> None:
    tx = ctx.tx
    state = ctx.state
    if tx.type == GENESIS_TYPE:
        if height != 0:
            raise ValidationError(
                "a genesis transaction is only valid in block 0", reason="bad-genesis"
            )
        key = _genesis_key(tx)
    else:
        key = _public_key(state, tx)
    kid, valid = checked
    if kid != _kid_of(key):
        # Not checked ahead, or checked under a key that has changed since.
        valid = ed25519_valid(key.raw, tx.signing_bytes(), tx.signature)
    if not valid:
        raise ValidationError(
            f"signature of transaction from {tx.dept!r} does not verify under key "
            f"{key.kid}",
            reason="bad-signature",
        )
    last = state.get(NONCE_NS, tx.dept)
    last_nonce = last["last"] if last else 0
    if tx.nonce <= last_nonce:
        raise ValidationError(
            f"nonce {tx.nonce} of department {tx.dept!r} is not above its last "
            f"nonce {last_nonce}; sign the transaction again with a new nonce",
            reason="stale-nonce",
        )
    _consume_nonce(state, tx)


def _consume_nonce(state: Overlay, tx: Transaction) -> None:
    # Written for every transaction, so encoded here rather than by the general
    # encoder: the nonce is a checked integer, and `{"last":N}` is canonical.
    value = {"last": tx.nonce}
    state.put_encoded(NONCE_NS, tx.dept, value, b'{"last":%d}' % tx.nonce)
