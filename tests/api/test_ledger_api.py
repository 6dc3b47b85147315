"""Ledger routes: status, checkpoints, proofs, verification, audit, evidence,
pre-signed transactions and membership changes."""

from __future__ import annotations

import base64
import logging
import threading
from typing import Any

import httpx
import pytest
from tests.api.api_support import CONSUMER, OPERATOR, OWNER, Api

from govchain.crypto.keys import SigningKey
from govchain.evidence.keys import historical_keys
from govchain.ledger import merkle
from govchain.ledger.canonical import canonical_json
from govchain.ledger.checkpoint import (
    Checkpoint,
    NoteSigner,
    NoteVerifier,
    open_checkpoint,
    sign_note,
)
from govchain.ledger.store import LedgerStore
from govchain.ledger.transaction import sign_transaction
from govchain.node._node import BEHIND_KEY


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _verifiers(api: Api) -> list[NoteVerifier]:
    store = LedgerStore(api.node.home.ledger_path, readonly=True)
    try:
        return [NoteVerifier(name, key) for name, key in historical_keys(store)]
    finally:
        store.close()


def _signed_register(api: Api, nonce: int, **payload: Any) -> dict[str, Any]:
    tx = sign_transaction(
        type="catalog.register",
        dept=OWNER,
        key=api.node.dept_keys[OWNER],
        nonce=nonce,
        payload=payload,
    )
    return tx.to_dict()


def test_status_reports_log(api: Api) -> None:
    api.register()
    body = api.get("/v1/status").json()
    assert body["node"] == api.node.home.node_id
    assert body["origin"] == api.node.origin
    assert body["height"] == 1
    assert body["log_size"] == 2
    assert body["checkpoint"].startswith(api.node.origin + "\n2\n")


def test_checkpoint_latest_verifies(api: Api) -> None:
    api.register()
    body = api.get("/v1/checkpoint").json()
    checkpoint, signers = open_checkpoint(
        body["note"].encode("utf-8"), _verifiers(api), origin=api.node.origin
    )
    assert checkpoint.size == body["size"] == 2
    assert api.node.home.node_id in signers


def test_inclusion_proof_verifies(api: Api) -> None:
    for _ in range(4):
        api.register()
    for index in range(5):
        response = api.get("/v1/proofs/inclusion", params={"index": index, "size": 5})
        assert response.status_code == 200
        body = response.json()
        proof = [_unb64(p) for p in body["proof"]]
        root = _unb64(body["root_hash"])
        merkle.verify_inclusion(_unb64(body["leaf_hash"]), index, 5, proof, root)
        checkpoint, _ = open_checkpoint(
            body["checkpoint"].encode("utf-8"), _verifiers(api), origin=api.node.origin
        )
        assert checkpoint.root_hash == root


def test_inclusion_proof_bad_index(api: Api) -> None:
    response = api.get("/v1/proofs/inclusion", params={"index": 1, "size": 1})
    assert response.status_code == 422
    assert response.json()["reason"] == "bad-merkle-input"


def test_inclusion_proof_beyond_log(api: Api) -> None:
    response = api.get("/v1/proofs/inclusion", params={"index": 0, "size": 7})
    assert response.status_code == 422
    assert response.json()["reason"] == "bad-tree-size"


def test_consistency_proof_verifies(api: Api) -> None:
    for _ in range(5):
        api.register()
    for size1 in range(1, 7):
        params = {"size1": size1, "size2": 6}
        body = api.get("/v1/proofs/consistency", params=params).json()
        merkle.verify_consistency(
            size1,
            6,
            [_unb64(p) for p in body["proof"]],
            _unb64(body["root1"]),
            _unb64(body["root2"]),
        )


def test_consistency_proof_bad_sizes(api: Api) -> None:
    api.register()
    params = {"size1": 2, "size2": 1}
    response = api.get("/v1/proofs/consistency", params=params)
    assert response.status_code == 422
    assert response.json()["reason"] == "bad-merkle-input"


def test_verify_reports_ok(api: Api) -> None:
    api.grant(api.register())
    response = api.get("/v1/verify", OPERATOR)
    assert response.status_code == 200
    report = response.json()
    assert report["ok"] is True
    assert report["blocks"] == api.get("/v1/status").json()["height"] + 1
    assert "problem" not in report


def test_verify_concurrent_requests(api: Api) -> None:
    api.register()
    reports: list[dict[str, Any]] = []

    def ask() -> None:
        with httpx.Client(base_url=api.url, timeout=60) as client:
            reports.append(client.get("/v1/verify", headers=api.auth(OWNER)).json())

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(reports) == 3
    assert all(r["ok"] for r in reports)


def test_presented_checkpoint_consistent(api: Api) -> None:
    api.register()
    note = api.get("/v1/checkpoint").json()["note"]
    api.register()
    response = api.post("/v1/checkpoints", OPERATOR, json={"note": note})
    assert response.status_code == 200
    assert response.json() == {"consistent": True, "size": 2}


def _note(api: Api, size: int, root: bytes) -> str:
    body = Checkpoint(api.node.origin, size, root).body()
    signer = NoteSigner(api.node.home.node_id, api.node.node_key)
    return sign_note(body, [signer]).decode("utf-8")


def test_presented_checkpoint_forked(api: Api) -> None:
    api.register()
    response = api.post(
        "/v1/checkpoints", OPERATOR, json={"note": _note(api, 2, b"\x07" * 32)}
    )
    assert response.status_code == 409
    body = response.json()
    assert body["reason"] == "integrity-error"
    assert "forked" in body["error"]


def test_presented_checkpoint_ahead(api: Api) -> None:
    response = api.post(
        "/v1/checkpoints", OPERATOR, json={"note": _note(api, 9, b"\x07" * 32)}
    )
    assert response.status_code == 409
    assert "older backup" in response.json()["error"]
    assert api.node.store.get_meta(BEHIND_KEY) == "9"


def test_presented_checkpoint_unknown_signer(api: Api) -> None:
    body = Checkpoint(api.node.origin, 1, b"\x07" * 32).body()
    stranger = NoteSigner("node-stranger", SigningKey.generate())
    note = sign_note(body, [stranger]).decode("utf-8")
    response = api.post("/v1/checkpoints", OPERATOR, json={"note": note})
    assert response.status_code == 400
    assert response.json()["reason"] == "untrusted-checkpoint"


def test_audit_time_filters(api: Api) -> None:
    api.register()
    every = api.get("/v1/audit", OPERATOR).json()
    later = api.get("/v1/audit", OPERATOR, params={"since": "2100-01-01"}).json()
    earlier = api.get("/v1/audit", OPERATOR, params={"until": "2000-01-01"}).json()
    assert every["count"] == 2
    assert later["count"] == 0
    assert earlier["count"] == 0


def test_audit_bad_time_rejected(api: Api) -> None:
    response = api.get("/v1/audit", OPERATOR, params={"since": "yesterday"})
    assert response.status_code == 422
    assert "ISO 8601" in response.json()["error"]


def test_evidence_unknown_transaction_404(api: Api) -> None:
    response = api.get("/v1/evidence/" + "0" * 64, OPERATOR)
    assert response.status_code == 404
    assert response.json()["reason"] == "unknown-transaction"


def _post_canonical(api: Api, body: dict[str, Any]) -> httpx.Response:
    # The route takes the canonical bytes; httpx's json= adds whitespace.
    return api.client.post(
        "/v1/transactions",
        content=canonical_json(body),
        headers={"Content-Type": "application/json"},
    )


def test_presigned_transaction_applied(api: Api) -> None:
    body = _signed_register(api, 1000, title="床位", level=1, sharing="unconditional")
    response = _post_canonical(api, body)
    assert response.status_code == 200, response.text
    receipt = response.json()["receipt"]
    assert receipt["status"] == "applied"
    shown = api.get(f"/v1/transactions/{receipt['tx_id']}", CONSUMER).json()
    assert shown["receipt"] == receipt
    assert shown["transaction"] == body


def test_presigned_transaction_rejected_on_ledger(api: Api) -> None:
    body = _signed_register(api, 1000, title="床位", level=1)
    response = _post_canonical(api, body)
    assert response.status_code == 422
    result = response.json()
    assert result["reason"] == "bad-payload"
    receipt = result["receipt"]
    assert receipt["status"] == "rejected"
    shown = api.get(f"/v1/transactions/{receipt['tx_id']}", CONSUMER).json()
    assert shown["receipt"]["status"] == "rejected"


def test_presigned_transaction_bad_signature(api: Api) -> None:
    body = _signed_register(api, 1000, title="床位", level=1, sharing="unconditional")
    body["payload"]["title"] = "改过的标题"
    size = api.get("/v1/status").json()["log_size"]
    response = api.post("/v1/transactions", json=body)
    assert response.status_code == 401
    assert "does not verify" in response.json()["error"]
    assert api.get("/v1/status").json()["log_size"] == size


def test_presigned_transaction_unknown_key(api: Api) -> None:
    tx = sign_transaction(
        type="catalog.register",
        dept=OWNER,
        key=SigningKey.generate(),
        nonce=1000,
        payload={"title": "t", "level": 1, "sharing": "unconditional"},
    )
    response = api.post("/v1/transactions", json=tx.to_dict())
    assert response.status_code == 401
    assert "not the current key" in response.json()["error"]


def test_presigned_transaction_malformed(api: Api) -> None:
    body = _signed_register(api, 1000, title="t", level=1, sharing="unconditional")
    body["nonce"] = "1000"
    response = api.post("/v1/transactions", json=body)
    assert response.status_code == 422
    assert response.json()["reason"] == "bad-request"


def test_transaction_unknown_id_404(api: Api) -> None:
    response = api.get("/v1/transactions/" + "0" * 64, OWNER)
    assert response.status_code == 404


def test_departments_listed(api: Api) -> None:
    body = api.get("/v1/consortium/departments", CONSUMER).json()
    ids = {d["id"] for d in body["departments"]}
    assert {OPERATOR, OWNER, CONSUMER} <= ids
    assert all(d["status"] == "active" for d in body["departments"])


def _admission(dept_id: str) -> dict[str, str]:
    return {
        "id": dept_id,
        "name": "广州市海珠区卫生健康局",
        "region": "440100",
        "level": "county",
        "line": "health",
        "public_key": SigningKey.generate().public_key.to_b64(),
    }


def test_admit_by_operator(api: Api) -> None:
    response = api.post(
        "/v1/consortium/departments", OPERATOR, json=_admission("haizhu-health")
    )
    assert response.status_code == 201, response.text
    assert response.json()["receipt"]["status"] == "applied"
    body = api.get("/v1/consortium/departments", OWNER).json()
    assert "haizhu-health" in {d["id"] for d in body["departments"]}


def test_admit_by_other_forbidden(api: Api) -> None:
    response = api.post(
        "/v1/consortium/departments", OWNER, json=_admission("haizhu-health")
    )
    assert response.status_code == 403
    body = response.json()
    assert body["reason"] == "not-operator"
    trail = api.get("/v1/audit", OPERATOR, params={"department": OWNER}).json()
    rows = [r for r in trail["transactions"] if r["type"] == "consortium.admit"]
    assert [r["status"] for r in rows] == ["rejected"]


def test_suspend_and_reinstate(api: Api) -> None:
    path = f"/v1/consortium/departments/{CONSUMER}"
    response = api.post(f"{path}/suspend", OPERATOR, json={"reason": "audit"})
    assert response.status_code == 200
    response = api.post(
        "/v1/requests",
        CONSUMER,
        json={"resource": api.register(), "fields": ["beds"], "purpose": "x"},
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "suspended"
    response = api.post(f"{path}/reinstate", OPERATOR)
    assert response.status_code == 200
    listed = api.get("/v1/consortium/departments", OWNER).json()["departments"]
    assert {d["id"]: d["status"] for d in listed}[CONSUMER] == "active"


def test_suspend_unknown_department_404(api: Api) -> None:
    response = api.post(
        "/v1/consortium/departments/nobody/suspend", OPERATOR, json={"reason": "x"}
    )
    assert response.status_code == 404
    assert response.json()["reason"] == "unknown-department"


def test_rotate_key_changes_kid(api: Api) -> None:
    key = SigningKey.generate()
    response = api.post(
        "/v1/consortium/departments/tianhe-market/rotate-key",
        OPERATOR,
        json={"public_key": key.public_key.to_b64()},
    )
    assert response.status_code == 200
    listed = api.get("/v1/consortium/departments", OWNER).json()["departments"]
    assert {d["id"]: d["kid"] for d in listed}["tianhe-market"] == key.kid


def test_audit_empty_range_rejected(api: Api) -> None:
    params = {"since": "2026-03-02", "until": "2026-03-01"}
    response = api.get("/v1/audit", OPERATOR, params=params)
    assert response.status_code == 422
    assert "is not before until" in response.json()["error"]


def test_resubmission_after_rotation_returns_receipt(api: Api) -> None:
    body = _signed_register(api, 1000, title="床位", level=1, sharing="unconditional")
    first = _post_canonical(api, body)
    assert first.status_code == 200, first.text
    rotated = api.post(
        f"/v1/consortium/departments/{OWNER}/rotate-key",
        OPERATOR,
        json={"public_key": SigningKey.generate().public_key.to_b64()},
    )
    assert rotated.status_code == 200, rotated.text
    again = _post_canonical(api, body)
    assert again.status_code == 200, again.text
    assert again.json()["receipt"] == first.json()["receipt"]


def test_audit_unknown_department_rejected(api: Api) -> None:
    response = api.get("/v1/audit", OPERATOR, params={"department": "nosuch"})
    assert response.status_code == 404
    assert response.json()["reason"] == "unknown-department"


def test_mistyped_id_number_masked(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    from govchain.api.server import PathOnlyFilter
    from govchain.identifiers.cn import ric

    number = "44010419850612345" + ric.calc_check_char("44010419850612345")
    path = f"/v1/consortium/departments/{number}/rotate-key"
    caplog.set_level(logging.INFO, logger="govchain.api._errors")
    response = api.post(path, OPERATOR, json={})
    assert response.status_code in (404, 422)
    assert number not in response.text
    assert all(number not in r.getMessage() for r in caplog.records)
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        "%s %s %s %s %d",
        ("127.0.0.1:1", "POST", path + "?x=1", "1.1", 404),
        None,
    )
    PathOnlyFilter().filter(record)
    assert number not in record.getMessage()
    assert "<ID number>" in record.getMessage()


def test_presigned_personal_data_never_stored(api: Api) -> None:
    body = _signed_register(
        api,
        1000,
        title="holder 11010519491231002X",
        description="call 13800138000",
        level=1,
        sharing="unconditional",
    )
    size = api.node.store.log_size()
    response = _post_canonical(api, body)
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["reason"] == "personal-data"
    assert "payload.description contains a mobile number" in error["error"]
    assert "13800138000" not in response.text
    assert "11010519491231002X" not in response.text
    assert api.node.store.log_size() == size
