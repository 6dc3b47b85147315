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

import logging
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from govchain._types import TxId
from govchain.crypto.keys import PublicKey
from govchain.errors import ValidationError, VerificationError
from govchain.ledger.state import Overlay, StateReader, TxContext, Write, get_handler
from govchain.ledger.transaction import Transaction, decode_transaction, tx_id

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
    return PublicKey.from_b64(dept["public_key"])


def _genesis_key(tx: Transaction) -> PublicKey:
    try:
        operator = tx.payload["operator"]
        return PublicKey.from_b64(tx.payload["keys"][operator]["public_key"])
    except (KeyError, TypeError, VerificationError) as exc:
        raise ValidationError(
            "genesis payload lacks the operator's public key", reason="bad-genesis"
        ) from exc


def _keys_before(
    state: StateReader, txs: list[Transaction | None]
) -> dict[str, PublicKey | None]:
    """Look up, once per department, the key in force before the block."""
    keys: dict[str, PublicKey | None] = {}
    for tx in txs:
        if tx is None or tx.dept in keys:
            continue
        try:
            keys[tx.dept] = (
                _genesis_key(tx) if tx.type == GENESIS_TYPE else _public_key(state, tx)
            )
        except ValidationError:
            keys[tx.dept] = None
    return keys


def _presign_check(
    keys: dict[str, PublicKey | None], tx: Transaction | None
) -> tuple[str | None, bool]:
    """Verify a signature against the key in force before the block."""
    key = keys.get(tx.dept) if tx is not None else None
    if tx is None or key is None or key.kid != tx.kid:
        return None, False
    return key.kid, key.is_valid_signature(tx.signing_bytes(), tx.signature)


#: Transactions per precheck task on the worker pool.
_PRECHECK_CHUNK = 256
#: Prechecked results kept for transactions not yet in a block.
_MAX_PRECHECKED = 200_000


@dataclass(frozen=True)
class _Precheck:
    tx: Transaction
    kid: str
    valid: bool


class BatchApplier:
    """Applies batches to a state; signatures are checked on worker threads.

    PyNaCl releases the GIL while libsodium verifies, so threads give real
    parallelism for the signature checks, which dominate the cost of a block.
    """

    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers) if workers > 1 else None
        self._workers = workers
        # Results of checks made when transactions were submitted, by tx id.
        self._prechecked: dict[str, _Precheck] = {}
        self._pending: dict[str, Future[None]] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def precheck(self, datas: Sequence[bytes], keys: Mapping[str, PublicKey]) -> None:
        """Decode and verify submitted transactions ahead of their block.

        The checks run on the worker threads while the committer applies earlier
        blocks, so signature verification overlaps the rest of the work. `keys`
        are the departments' keys now; `apply` checks again any transaction
        whose department's key changes before its block.
        """
        if self._pool is None:
            return
        for start in range(0, len(datas), _PRECHECK_CHUNK):
            chunk = list(datas[start : start + _PRECHECK_CHUNK])
            ids = [tx_id(d) for d in chunk]
            future = self._pool.submit(self._precheck_chunk, chunk, ids, keys)
            with self._lock:
                for txid in ids:
                    self._pending[txid] = future

    def _precheck_chunk(
        self, datas: list[bytes], ids: Sequence[str], keys: Mapping[str, PublicKey]
    ) -> None:
        results: dict[str, _Precheck] = {}
        for data, txid in zip(datas, ids, strict=True):
            try:
                tx = decode_transaction(data)
            except ValidationError:
                continue
            key = keys.get(tx.dept)
            if key is None or key.kid != tx.kid:
                continue
            results[txid] = _Precheck(
                tx, key.kid, key.is_valid_signature(tx.signing_bytes(), tx.signature)
            )
        with self._lock:
            if len(self._prechecked) > _MAX_PRECHECKED:
                # Transactions that were never ordered; drop them all.
                self._prechecked.clear()
            self._prechecked.update(results)

    def _take_prechecks(self, ids: Sequence[str]) -> dict[str, _Precheck]:
        with self._lock:
            futures = {self._pending.pop(i) for i in ids if i in self._pending}
        wait(futures)
        with self._lock:
            return {
                i: p for i in ids if (p := self._prechecked.pop(i, None)) is not None
            }

    def _check_signatures(
        self, state: StateReader, txs: list[Transaction | None]
    ) -> list[tuple[str | None, bool]]:
        keys = _keys_before(state, txs)

        def check(chunk: list[Transaction | None]) -> list[tuple[str | None, bool]]:
            return [_presign_check(keys, t) for t in chunk]

        if self._pool is None or len(txs) < 64:
            # Small batches, and batches whose checks mostly ran ahead, are
            # checked here rather than queued behind other work on the pool.
            return check(txs)
        size = -(-len(txs) // self._workers)
        chunks = [txs[i : i + size] for i in range(0, len(txs), size)]
        results: list[tuple[str | None, bool]] = []
        for part in self._pool.map(check, chunks):
            results.extend(part)
        return results

    def apply(
        self,
        state: StateReader,
        batch: Sequence[bytes],
        *,
        height: int,
        block_time: int,
        log_start: int,
    ) -> BatchResult:
        """Apply `batch` on top of `state` and return outcomes and writes."""
        ids = [tx_id(d) for d in batch]
        prechecked = self._take_prechecks(ids)
        decoded: list[Transaction | None] = []
        errors: list[ValidationError | None] = []
        for data, txid in zip(batch, ids, strict=True):
            done = prechecked.get(txid)
            try:
                decoded.append(done.tx if done else decode_transaction(data))
                errors.append(None)
            except ValidationError as exc:
                decoded.append(None)
                errors.append(exc)
        todo = [i for i, txid in enumerate(ids) if txid not in prechecked]
        fresh = iter(self._check_signatures(state, [decoded[i] for i in todo]))
        checked = [
            (prechecked[txid].kid, prechecked[txid].valid)
            if txid in prechecked
            else next(fresh)
            for txid in ids
        ]

        block = Overlay(state, cache_reads=True)
        outcomes: list[TxOutcome] = []
        for i, data in enumerate(batch):
            tx = decoded[i]
            outcome = TxOutcome(ids[i], data, tx, "applied", "ok")
            ctx = (
                TxContext(tx, height, block_time, log_start + i, Overlay(block))
                if tx
                else None
            )
            try:
                if tx is None or ctx is None:
                    assert errors[i] is not None
                    raise errors[i]  # type: ignore[misc]
                _authenticate(ctx, checked[i], height)
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


def _authenticate(
    ctx: TxContext, checked: tuple[str | None, bool], height: int
) -> None:
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
    if kid != key.kid:
        # The key changed inside this block, so check again under the new one.
        valid = key.is_valid_signature(tx.signing_bytes(), tx.signature)
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
