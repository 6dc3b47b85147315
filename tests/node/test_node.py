"""The embedded node: genesis, submission, nonces, membership, restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from govchain.crypto.keys import SigningKey
from govchain.errors import ConfigError, ValidationError
from govchain.ledger.transaction import sign_transaction
from govchain.node import Node, NodeHome, NodeLockedError, init_node


def test_genesis_creates_block_zero(node: Node) -> None:
    assert node.store.height() == 0
    header = node.store.header(0)
    assert header is not None
    assert header.prev_hash == "0" * 64
    assert header.log_size == 1
    dept = node.store.get("dept", "city-health")
    assert dept is not None
    assert dept["status"] == "active"


def test_genesis_refuses_existing_home(node: Node, demo_consortium: Path) -> None:
    with pytest.raises(ConfigError, match="already holds a node home"):
        init_node(node.home, demo_consortium, encrypt=False)


def test_encrypted_home_needs_passphrase(tmp_path: Path, demo_consortium: Path) -> None:
    with pytest.raises(ConfigError, match="passphrase"):
        init_node(NodeHome(tmp_path / "h"), demo_consortium, encrypt=True)
    assert not (tmp_path / "h").exists()


def test_second_writer_is_locked_out(node: Node) -> None:
    with pytest.raises(NodeLockedError, match="is in use"):
        Node(node.home)


def test_duplicate_submission_applied_once(node: Node) -> None:
    tx = node.sign(
        "city-health",
        "catalog.register",
        {"title": "床位", "level": 1, "sharing": "unconditional"},
    )
    first = node.submit_one(tx)
    second = node.submit_one(tx)
    assert first.applied
    assert second == first
    assert node.store.log_size() == 2


def test_stale_nonce_rejected(node: Node) -> None:
    key = node.dept_keys["city-health"]
    payload = {"title": "t1", "level": 1, "sharing": "unconditional"}
    ok = node.submit_one(
        sign_transaction(
            type="catalog.register",
            dept="city-health",
            key=key,
            nonce=50,
            payload=payload,
        )
    )
    stale = node.submit_one(
        sign_transaction(
            type="catalog.register",
            dept="city-health",
            key=key,
            nonce=50,
            payload={**payload, "title": "t2"},
        )
    )
    assert ok.applied
    assert stale.status == "rejected"
    assert stale.reason == "stale-nonce"


def test_bad_signature_rejected(node: Node) -> None:
    impostor = SigningKey.generate()
    tx = sign_transaction(
        type="catalog.register",
        dept="city-health",
        key=impostor,
        nonce=99,
        payload={"title": "x", "level": 1, "sharing": "unconditional"},
    )
    receipt = node.submit_one(tx)
    assert receipt.reason == "wrong-key-id"


def test_unknown_department_rejected(node: Node) -> None:
    key = SigningKey.generate()
    tx = sign_transaction(
        type="catalog.register", dept="nobody", key=key, nonce=1, payload={}
    )
    assert node.submit_one(tx).reason == "unknown-department"


def test_suspended_department_rejected(node: Node) -> None:
    suspend = node.act(
        "city-bdb",
        "consortium.suspend",
        {"department": "city-market", "reason": "audit"},
    )
    assert suspend.applied
    after = node.act(
        "city-market",
        "catalog.register",
        {"title": "x", "level": 1, "sharing": "unconditional"},
    )
    assert after.status == "rejected"
    assert after.reason == "suspended"
    node.act("city-bdb", "consortium.reinstate", {"department": "city-market"})
    again = node.act(
        "city-market",
        "catalog.register",
        {"title": "x", "level": 1, "sharing": "unconditional"},
    )
    assert again.applied


def test_only_operator_suspends(node: Node) -> None:
    receipt = node.act(
        "city-health",
        "consortium.suspend",
        {"department": "city-market", "reason": "x"},
    )
    assert receipt.reason == "not-operator"


def test_rotated_key_replaces_old(node: Node) -> None:
    new_key = SigningKey.generate()
    rotated = node.act(
        "city-bdb",
        "consortium.rotate_key",
        {"department": "city-health", "public_key": new_key.public_key.to_b64()},
    )
    assert rotated.applied
    old = node.act(
        "city-health",
        "catalog.register",
        {"title": "x", "level": 1, "sharing": "unconditional"},
    )
    assert old.reason == "wrong-key-id"
    fresh = sign_transaction(
        type="catalog.register",
        dept="city-health",
        key=new_key,
        nonce=1000,
        payload={"title": "y", "level": 1, "sharing": "unconditional"},
    )
    assert node.submit_one(fresh).applied


def test_admit_new_department(node: Node) -> None:
    key = SigningKey.generate()
    receipt = node.act(
        "city-bdb",
        "consortium.admit",
        {
            "department": {
                "id": "yuexiu-market",
                "name": "越秀区市场监管局",
                "region": "440104",
                "level": "county",
                "line": "market-regulation",
            },
            "public_key": key.public_key.to_b64(),
        },
    )
    assert receipt.applied
    record = node.store.get("dept", "yuexiu-market")
    assert record is not None
    assert record["kid"] == key.kid


def test_restart_resumes_chain(node: Node) -> None:
    node.act(
        "city-health",
        "catalog.register",
        {"title": "x", "level": 1, "sharing": "unconditional"},
    )
    home, size = node.home, node.store.log_size()
    node.close()
    reopened = Node(home)
    try:
        assert reopened.compact.size == size
        receipt = reopened.act(
            "city-health",
            "catalog.register",
            {"title": "y", "level": 1, "sharing": "unconditional"},
        )
        assert receipt.applied
        assert reopened.store.height() == 2
    finally:
        reopened.close()


def test_malformed_payload_rejected_not_fatal(node: Node) -> None:
    # A list where the region code belongs makes the set lookup raise TypeError.
    bad = node.sign(
        "city-bdb", "consortium.admit", {"department": {"id": "abcd", "region": ["x"]}}
    )
    good = node.sign(
        "city-health",
        "catalog.register",
        {"title": "x", "level": 1, "sharing": "unconditional"},
    )
    receipts = node.submit([bad, good])
    assert (receipts[0].status, receipts[0].reason) == ("rejected", "bad-payload")
    assert receipts[1].applied


def test_hosted_key_rotation(node: Node) -> None:
    old_kid = node.dept_keys["city-health"].kid
    node.rotate_hosted_key("city-health")
    assert node.dept_keys["city-health"].kid != old_kid
    assert node.act(
        "city-health",
        "catalog.register",
        {"title": "x", "level": 1, "sharing": "unconditional"},
    ).applied
    home = node.home
    node.close()
    reopened = Node(home)
    try:
        assert reopened.dept_keys["city-health"].kid != old_kid
        assert not (home.keys_dir / "city-health.json.new").exists()
    finally:
        reopened.close()


def test_second_writer_waits_for_lock(node: Node) -> None:
    import threading

    home = node.home
    releaser = threading.Timer(0.3, node.close)
    releaser.start()
    second = Node(home, lock_timeout=10)
    try:
        assert second.store.height() == 0
    finally:
        second.close()
        releaser.join()


def test_failed_open_releases_lock(node: Node) -> None:
    home = node.home
    node.close()
    (home.keys_dir / "node.json").write_text("{}")
    with pytest.raises(ConfigError, match="malformed"):
        Node(home)
    # Had the first attempt kept the lock, this would fail with "is in use".
    with pytest.raises(ConfigError, match="malformed"):
        Node(home)


def test_hosted_keys_decrypted_on_first_use(node: Node) -> None:
    # A damaged key store of one department does not stop the node from
    # opening, or another department from signing.
    # Departments hosted after genesis do not cosign checkpoints, so nothing
    # reads this one's key unless it signs.
    unused = "extra-agency"
    node.host_department(unused)
    home = node.home
    node.close()
    (home.keys_dir / f"{unused}.json").write_text("{}", encoding="utf-8")
    with Node(home) as reopened:
        assert unused in reopened.dept_keys
        assert unused not in reopened.witnesses
        receipt = reopened.act(
            "city-health",
            "catalog.register",
            {"title": "beds", "level": 1, "sharing": "unconditional"},
        )
        assert receipt.applied
        with pytest.raises(ConfigError, match=f"{unused}.json is malformed"):
            reopened.dept_keys[unused]


def test_oversized_transaction_not_stored(node: Node) -> None:
    size = node.store.log_size()
    tx = node.sign(
        "city-health",
        "catalog.register",
        {"title": "t", "description": "x" * 1_100_000, "level": 1, "sharing": "x"},
    )
    with pytest.raises(ValidationError, match="over the limit") as caught:
        node.submit_one(tx)
    assert caught.value.reason == "too-large"
    assert node.store.log_size() == size
