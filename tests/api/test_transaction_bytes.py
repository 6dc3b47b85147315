"""`POST /v1/transactions` passes the body bytes to the node unchanged."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from tests.api.api_support import CONSUMER, OWNER, Api

from govchain.ledger.transaction import Transaction, sign_transaction

JSON = {"Content-Type": "application/json"}


def _signed(api: Api) -> Transaction:
    return sign_transaction(
        type="catalog.register",
        dept=OWNER,
        key=api.node.dept_keys[OWNER],
        nonce=1000,
        payload={"title": "床位", "level": 1, "sharing": "unconditional"},
    )


def _indented(data: bytes) -> bytes:
    return json.dumps(
        json.loads(data), indent=2, sort_keys=True, ensure_ascii=False
    ).encode("utf-8")


def _escaped(data: bytes) -> bytes:
    return json.dumps(
        json.loads(data), separators=(",", ":"), sort_keys=True, ensure_ascii=True
    ).encode("ascii")


@pytest.mark.parametrize("variant", [_indented, _escaped], ids=["indented", "escaped"])
def test_non_canonical_bytes_rejected(
    api: Api, variant: Callable[[bytes], bytes]
) -> None:
    tx = _signed(api)
    data = variant(tx.canonical_bytes())
    assert data != tx.canonical_bytes()
    response = api.client.post("/v1/transactions", content=data, headers=JSON)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["reason"] == "bad-encoding"
    assert body["receipt"]["status"] == "rejected"
    assert body["receipt"]["tx_id"] != tx.id
    # The canonical form was not applied under its own id.
    missing = api.get(f"/v1/transactions/{tx.id}", CONSUMER)
    assert missing.status_code == 404
    # The canonical bytes still apply afterwards.
    applied = api.client.post(
        "/v1/transactions", content=tx.canonical_bytes(), headers=JSON
    )
    assert applied.status_code == 200, applied.text
    assert applied.json()["receipt"]["tx_id"] == tx.id


def test_canonical_resubmission_same_receipt(api: Api) -> None:
    tx = _signed(api)
    first = api.client.post(
        "/v1/transactions", content=tx.canonical_bytes(), headers=JSON
    )
    assert first.status_code == 200, first.text
    receipt = first.json()["receipt"]
    assert receipt["status"] == "applied"
    assert receipt["tx_id"] == tx.id
    again = api.client.post(
        "/v1/transactions", content=tx.canonical_bytes(), headers=JSON
    )
    assert again.status_code == 200, again.text
    assert again.json()["receipt"] == receipt
    shown = api.get(f"/v1/transactions/{tx.id}", CONSUMER).json()
    assert shown["transaction"] == tx.to_dict()
