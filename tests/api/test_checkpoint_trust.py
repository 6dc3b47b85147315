"""`POST /v1/checkpoints`: only node and witness keys may stop a node."""

from __future__ import annotations

import time

from tests.api.api_support import CONSUMER, OPERATOR, OTHER, Api

from govchain.crypto.keys import SigningKey
from govchain.ledger.checkpoint import Checkpoint, NoteSigner, sign_note
from govchain.node._node import BEHIND_KEY

#: A department admitted after genesis, with a signing key of its own.
OUTSIDER = "tianhe-cdc"


def _admit_outsider(api: Api) -> SigningKey:
    key = SigningKey.generate()
    receipt = api.node.act(
        OPERATOR,
        "consortium.admit",
        {
            "department": {
                "id": OUTSIDER,
                "name": "天河区疾病预防控制中心",
                "region": "440106",
                "level": "county",
                "line": "health",
            },
            "public_key": key.public_key.to_b64(),
        },
    )
    assert receipt.applied, receipt.message
    return key


def _ahead_note(api: Api, signers: list[NoteSigner], extra: int = 5) -> str:
    size = api.get("/v1/status").json()["log_size"] + extra
    body = Checkpoint(api.node.origin, size, b"\x07" * 32).body()
    return sign_note(body, signers).decode("utf-8")


def test_presenting_needs_token(api: Api) -> None:
    note = api.get("/v1/checkpoint").json()["note"]
    response = api.post("/v1/checkpoints", json={"note": note})
    assert response.status_code == 401
    assert response.json()["reason"] == "unauthenticated"


def test_department_key_cannot_stop_node(api: Api) -> None:
    key = _admit_outsider(api)
    note = _ahead_note(api, [NoteSigner(OUTSIDER, key)])
    response = api.post("/v1/checkpoints", CONSUMER, json={"note": note})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["reason"] == "untrusted-checkpoint"
    assert f"{OUTSIDER} (department key: it signs transactions" in body["error"]
    assert "only these keys may sign checkpoints: nodes node-city-bdb" in body["error"]
    assert api.node.store.get_meta(BEHIND_KEY) is None
    assert api.get("/v1/status").json()["behind"] is None
    # Writes still commit at once.
    started = time.monotonic()
    api.register()
    assert time.monotonic() - started < 10


def test_unknown_key_rejected(api: Api) -> None:
    stranger = NoteSigner("node-stranger", SigningKey.generate())
    response = api.post(
        "/v1/checkpoints", CONSUMER, json={"note": _ahead_note(api, [stranger])}
    )
    assert response.status_code == 400
    assert (
        "node-stranger (unknown key: not in the trust file)"
        in (response.json()["error"])
    )
    assert api.node.store.get_meta(BEHIND_KEY) is None


def test_witness_alone_cannot_stop_node(api: Api) -> None:
    witness = NoteSigner(OTHER, api.node.dept_keys[OTHER])
    response = api.post(
        "/v1/checkpoints", CONSUMER, json={"note": _ahead_note(api, [witness])}
    )
    assert response.status_code == 400, response.text
    assert "needs a node key's signature" in response.json()["error"]
    assert api.node.store.get_meta(BEHIND_KEY) is None


def test_witness_checkpoint_consistent(api: Api) -> None:
    api.register()
    size = api.get("/v1/status").json()["log_size"]
    root = api.node.compact.root()
    body = Checkpoint(api.node.origin, size, root).body()
    note = sign_note(body, [NoteSigner(OTHER, api.node.dept_keys[OTHER])])
    response = api.post("/v1/checkpoints", CONSUMER, json={"note": note.decode()})
    assert response.status_code == 200, response.text
    assert response.json() == {"consistent": True, "size": size}


def test_node_checkpoint_stops_writes(api: Api) -> None:
    node_signer = NoteSigner(api.node.home.node_id, api.node.node_key)
    note = _ahead_note(api, [node_signer], extra=7)
    size = api.get("/v1/status").json()["log_size"] + 7
    response = api.post("/v1/checkpoints", OPERATOR, json={"note": note})
    assert response.status_code == 409, response.text
    assert "older backup" in response.json()["error"]
    behind = api.get("/v1/status").json()["behind"]
    assert behind["checkpoint_size"] == size
    assert behind["signed_by"] == "node-city-bdb"
    assert "restore a newer backup" in behind["message"]
    # A write fails at once with the reason, instead of waiting for a block.
    started = time.monotonic()
    refused = api.post(
        "/v1/catalog/resources",
        "city-health",
        json={"title": "t", "fields": [], "level": 1, "sharing": "unconditional"},
    )
    assert time.monotonic() - started < 10
    assert refused.status_code == 503, refused.text
    assert refused.json()["reason"] == "node-behind"
    assert (
        f"this node's ledger is behind a checkpoint of size {size} signed by "
        "node-city-bdb" in refused.json()["error"]
    )
