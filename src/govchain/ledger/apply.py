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
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
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
    """What happened to one transaction of a batch."""

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


class BatchApplier:
    """Applies batches to a state; signatures are checked on worker threads.

    PyNaCl releases the GIL while libsodium verifies, so threads give real
    parallelism for the signature checks, which dominate the cost of a block.
    """

    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers) if workers > 1 else None
        self._workers = workers

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def _check_signatures(
        self, state: StateReader, txs: list[Transaction | None]
    ) -> list[tuple[str | None, bool]]:
        keys = _keys_before(state, txs)

        def check(chunk: list[Transaction | None]) -> list[tuple[str | None, bool]]:
            return [_presign_check(keys, t) for t in chunk]

        if self._pool is None or len(txs) < 64:
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
        decoded: list[Transaction | None] = []
        errors: list[ValidationError | None] = []
        for data in batch:
            try:
                decoded.append(decode_transaction(data))
                errors.append(None)
            except ValidationError as exc:
                decoded.append(None)
                errors.append(exc)
        checked = self._check_signatures(state, decoded)

        block = Overlay(state, cache_reads=True)
        outcomes: list[TxOutcome] = []
        for i, data in enumerate(batch):
            tx = decoded[i]
            outcome = TxOutcome(tx_id(data), data, tx, "applied", "ok")
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
                get_handler(tx.type)(ctx)
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
    state.put(NONCE_NS, tx.dept, {"last": tx.nonce})
