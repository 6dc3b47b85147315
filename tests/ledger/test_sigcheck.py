"""Signature checks on worker processes, and the shortcuts they rely on."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from tests.torsion import torsion_signature

from govchain.crypto import recheck
from govchain.crypto.keys import SigningKey
from govchain.ledger.apply import BatchApplier
from govchain.ledger.canonical import canonical_json
from govchain.ledger.sigcheck import (
    CHECK_NICENESS,
    UNCHECKED,
    Check,
    CheckPool,
    CheckWorkerError,
    KeyTable,
    check_transactions,
    key_table,
)
from govchain.ledger.transaction import (
    SIGNING_DOMAIN,
    Transaction,
    decode_checked_transaction,
    decode_transaction,
    sign_transaction,
    tx_id,
)
from govchain.ledger.verify import verify_ledger
from govchain.node import Node

KEY = SigningKey(bytes([0x01]) * 32)
OTHER_KEY = SigningKey(bytes([0x02]) * 32)


def signed_bytes(
    nonce: int, *, key: SigningKey = KEY, dept: str = "city-health"
) -> bytes:
    return sign_transaction(
        type="catalog.register",
        dept=dept,
        key=key,
        nonce=nonce,
        payload={"title": f"t{nonce}", "level": 1, "sharing": "unconditional"},
    ).canonical_bytes()


def forged_bytes(nonce: int) -> bytes:
    """Bytes naming KEY's key id but signed by OTHER_KEY."""
    tx = sign_transaction(
        type="catalog.register",
        dept="city-health",
        key=OTHER_KEY,
        nonce=nonce,
        payload={"title": "forged", "level": 1, "sharing": "unconditional"},
    )
    body = tx.to_dict()
    body["kid"] = KEY.kid
    return canonical_json(body)


@pytest.fixture
def pool() -> Iterator[CheckPool]:
    checks = CheckPool(2)
    try:
        assert checks.start(timeout=60)
        yield checks
    finally:
        checks.close()


def test_check_transactions_outcomes() -> None:
    table = key_table({"city-health": KEY.public_key})
    datas = [
        signed_bytes(1),
        forged_bytes(2),
        signed_bytes(3, dept="city-cdc"),
        signed_bytes(4, key=OTHER_KEY),
        b"{not json",
    ]
    checks = check_transactions(datas, table)
    assert checks[0] == (KEY.kid, True)
    assert checks[1] == (KEY.kid, False)
    assert checks[2] == UNCHECKED
    assert checks[3] == UNCHECKED
    assert checks[4] is None


def test_check_pool_matches_inline(pool: CheckPool) -> None:
    table = key_table({"city-health": KEY.public_key})
    datas = [signed_bytes(n) if n % 3 else forged_bytes(n) for n in range(1, 40)]
    futures = [pool.submit(datas[i : i + 10], table) for i in range(0, len(datas), 10)]
    results = [check for future in futures for check in future.result(timeout=60)]
    assert results == check_transactions(datas, table)


def test_check_workers_run_at_lower_priority(pool: CheckPool) -> None:
    own = os.getpriority(os.PRIO_PROCESS, 0)
    for worker in pool._workers:
        niceness = os.getpriority(os.PRIO_PROCESS, worker.process.pid)
        assert niceness == min(own + CHECK_NICENESS, 19)


def test_check_pool_reports_killed_worker(pool: CheckPool) -> None:
    for worker in pool._workers:
        os.kill(worker.process.pid, signal.SIGKILL)
        worker.process.wait()
    table = key_table({"city-health": KEY.public_key})
    # Either the reader thread sees the pipe end first (exit code) or the
    # writer thread fails to send the request (broken pipe).
    with pytest.raises(CheckWorkerError, match=r"exit code|stopped reading"):
        pool.submit([signed_bytes(1)], table).result(timeout=60)


def use_pool(node: Node) -> BatchApplier:
    """Give `node` an applier that sends every batch to check processes."""
    node.applier.close()
    node.applier = BatchApplier(2, min_pool_batch=1)
    assert node.applier.start_workers()
    return node.applier


def mixed_batch(node: Node) -> tuple[list[bytes], list[str]]:
    """Return transactions of every outcome and the status each must get."""
    key = node.dept_keys["city-health"]
    good = [signed_bytes(n, key=key) for n in range(1, 6)]
    bad_signature = sign_transaction(
        type="catalog.register",
        dept="city-health",
        key=OTHER_KEY,
        nonce=9,
        payload={"title": "x", "level": 1, "sharing": "unconditional"},
    ).to_dict()
    bad_signature["kid"] = key.kid
    datas = [
        *good,
        canonical_json(bad_signature),
        signed_bytes(7, key=OTHER_KEY, dept="nobody"),
        b'{"v": 1}',
    ]
    return datas, ["applied"] * 5 + ["rejected"] * 3


def test_pool_commit_matches_expected(node: Node) -> None:
    applier = use_pool(node)
    datas, expected = mixed_batch(node)
    waiters = node.submit_bytes(datas)
    assert len(applier._pending) == len(datas)
    while node.commit_next(timeout=0):
        pass
    receipts = [w.receipt for w in waiters]
    assert [r.status if r else None for r in receipts] == expected
    reasons = [r.reason for r in receipts if r is not None][5:]
    assert reasons == ["bad-signature", "unknown-department", "bad-encoding"]


def test_pool_failure_falls_back(node: Node) -> None:
    applier = use_pool(node)
    assert applier._checks is not None
    for worker in applier._checks._workers:
        os.kill(worker.process.pid, signal.SIGKILL)
        worker.process.wait()
    datas, expected = mixed_batch(node)
    waiters = node.submit_bytes(datas)
    while node.commit_next(timeout=0):
        pass
    assert [w.receipt.status if w.receipt else None for w in waiters] == expected


@pytest.mark.parametrize(
    "payload",
    [
        {"title": "床位", "level": 1},
        {"signature": "x", "type": "a.b", "v": 1, "z": {"signature": "y"}},
        {"text": 'quote " and ,"signature":"' + "A" * 88 + '"'},
    ],
)
def test_signing_bytes_cut_from_encoding(payload: dict[str, Any]) -> None:
    tx = sign_transaction(
        type="catalog.register", dept="city-health", key=KEY, nonce=1, payload=payload
    )
    data = tx.canonical_bytes()
    expected = SIGNING_DOMAIN + canonical_json(tx.unsigned_dict())
    decoded = decode_transaction(data)
    checked = decode_checked_transaction(data)
    assert decoded.signing_bytes() == expected
    assert checked.signing_bytes() == expected
    assert checked == decoded
    assert checked.canonical_bytes() == data
    assert KEY.public_key.is_valid_signature(expected, checked.signature)


def test_pool_checks_unsubmitted_batch(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that reaches the orderer without `submit_bytes` (as one from a
    replicated log would) is checked on the processes when it is applied."""
    applier = use_pool(node)
    assert applier._checks is not None
    sent: list[int] = []
    submit = applier._checks.submit

    def counting_submit(
        datas: list[bytes], keys: KeyTable, recorded_valid: list[bool] | None = None
    ) -> Future[list[Check]]:
        sent.append(len(datas))
        return submit(datas, keys, recorded_valid)

    monkeypatch.setattr(applier._checks, "submit", counting_submit)
    datas, expected = mixed_batch(node)
    for data in datas:
        node.orderer.submit(data)
    while node.commit_next(timeout=0):
        pass
    assert sum(sent) == len(datas)
    statuses = []
    for data in datas:
        stored = node.store.tx_by_id(tx_id(data))
        statuses.append(stored.status if stored else None)
    assert statuses == expected


def test_pool_start_failure_gives_up(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    node.applier.close()
    node.applier = BatchApplier(2, min_pool_batch=1)
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    key = node.dept_keys["city-health"]
    for nonce in range(1, 5):
        waiters = node.submit_bytes([signed_bytes(nonce, key=key)])
        while node.commit_next(timeout=0):
            pass
        receipt = waiters[0].receipt
        assert receipt is not None
        assert receipt.applied
    assert node.applier._checks is None


def torsion_bytes(nonce: int, key: SigningKey = KEY) -> bytes:
    """A transaction whose signature has a small-order part (see tests.torsion)."""
    unsigned = sign_transaction(
        type="catalog.register",
        dept="city-health",
        key=key,
        nonce=nonce,
        payload={"title": "torsion", "level": 1, "sharing": "unconditional"},
    )
    signature = torsion_signature(key, unsigned.signing_bytes())
    return Transaction(
        type=unsigned.type,
        dept=unsigned.dept,
        kid=unsigned.kid,
        nonce=nonce,
        payload=unsigned.payload,
        signature=signature,
    ).canonical_bytes()


needs_recheck = pytest.mark.skipif(
    not recheck.AVAILABLE, reason="py-ed25519-zebra-bindings is not installed"
)


@needs_recheck
def test_recorded_validity_chooses_the_check() -> None:
    table = key_table({"city-health": KEY.public_key})
    datas = [torsion_bytes(1), forged_bytes(2), signed_bytes(3)]
    # libsodium rejects the torsion signature; the cofactored check accepts it,
    # and a forged signature fails both.
    assert check_transactions(datas, table) == [
        (KEY.kid, False),
        (KEY.kid, False),
        (KEY.kid, True),
    ]
    assert check_transactions(datas, table, [True, True, True]) == [
        (KEY.kid, True),
        (KEY.kid, False),
        (KEY.kid, True),
    ]
    assert check_transactions(datas, table, [False, False, False]) == (
        check_transactions(datas, table)
    )


@needs_recheck
def test_verify_agrees_on_torsion_signature(node: Node) -> None:
    """The committer rejects a torsion signature, and verify, checking the
    transactions recorded as valid with the cofactored check, agrees."""
    key = node.dept_keys["city-health"]
    node.submit_bytes([signed_bytes(1, key=key)])
    while node.commit_next(timeout=0):
        pass
    # A block of at least MIN_POOL_BATCH transactions after the first, so
    # verify checks it on the worker processes.
    datas = [signed_bytes(n, key=key) for n in range(2, 302)]
    datas[100] = torsion_bytes(102, key=key)
    waiters = node.submit_bytes(datas)
    while node.commit_next(timeout=0):
        pass
    receipts = [w.receipt for w in waiters]
    assert receipts[100] is not None
    assert (receipts[100].status, receipts[100].reason) == ("rejected", "bad-signature")
    assert all(r is not None and r.applied for i, r in enumerate(receipts) if i != 100)
    assert node.store.height() >= 2
    report = verify_ledger(node.store, workers=2)
    assert report.ok, report.problem
