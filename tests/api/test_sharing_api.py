"""Sharing over HTTP: requests, decisions, deliveries, receipts and refusals."""

from __future__ import annotations

from typing import Any

import pytest
from tests.api.api_support import CONSUMER, OPERATOR, OTHER, OWNER, Api

from govchain.datasets import rows_root
from govchain.demo.scenarios import DemoClock
from govchain.evidence import verify_bundle
from govchain.evidence.keys import historical_keys
from govchain.ledger.checkpoint import NoteVerifier
from govchain.ledger.store import LedgerStore


def _trusted(api: Api) -> list[NoteVerifier]:
    store = LedgerStore(api.node.home.ledger_path, readonly=True)
    try:
        return [NoteVerifier(name, key) for name, key in historical_keys(store)]
    finally:
        store.close()


def _trail(
    api: Api, resource_id: str | None = None, department: str = CONSUMER
) -> list[dict[str, Any]]:
    params = {"resource": resource_id} if resource_id else {"department": department}
    response = api.get("/v1/audit", OPERATOR, params=params)
    assert response.status_code == 200
    rows: list[dict[str, Any]] = response.json()["transactions"]
    return rows


def test_sharing_full_flow(api: Api) -> None:
    # Level 1: the delivery carries the values as published.
    resource_id = api.register(level=1)
    api.publish(resource_id)
    grant_id = api.grant(resource_id, ["org_code", "beds"])

    # Delivery, asked for with the consumer's token.
    response = api.post(f"/v1/grants/{grant_id}/delivery", CONSUMER)
    assert response.status_code == 200, response.text
    package = response.json()
    assert package["provider"] == OWNER
    assert package["consumer"] == CONSUMER
    assert [f["name"] for f in package["fields"]] == ["org_code", "beds"]
    assert package["rows"] == [["440104001", "120"], ["440106002", "85"]]
    assert rows_root(package["rows"]) == package["content_hash"]

    # Receipt, recorded by the consumer.
    response = api.post(
        f"/v1/deliveries/{package['delivery']}/receipt", CONSUMER, json=package
    )
    assert response.status_code == 200, response.text
    assert response.json()["delivery"]["received"] is not None

    # The audit trail shows both sides.
    trail = _trail(api, resource_id)
    types = [(r["type"], r["status"]) for r in trail]
    assert ("sharing.deliver", "applied") in types
    assert ("sharing.receive", "applied") in types

    # The delivery's evidence verifies offline.
    response = api.get(f"/v1/evidence/{package['delivery_tx']}", OPERATOR)
    assert response.status_code == 200
    result = verify_bundle(response.json(), _trusted(api))
    assert result["tx_id"] == package["delivery_tx"]
    assert result["type"] == "sharing.deliver"
    assert result["department"] == OWNER
    assert result["status"] == "applied"


def test_request_unconditional_granted_at_once(api: Api) -> None:
    resource_id = api.register(sharing="unconditional", level=1)
    response = api.post(
        "/v1/requests",
        CONSUMER,
        json={"resource": resource_id, "fields": ["beds"], "purpose": "planning"},
    )
    assert response.status_code == 201
    record = response.json()["request"]
    assert record["status"] == "granted"
    assert record["grant"].startswith("grant-")


def test_request_not_shared_forbidden(api: Api) -> None:
    resource_id = api.register(sharing="not_shared")
    response = api.post(
        "/v1/requests",
        CONSUMER,
        json={"resource": resource_id, "fields": ["beds"], "purpose": "planning"},
    )
    assert response.status_code == 403
    body = response.json()
    assert body["reason"] == "not-shared"
    assert body["receipt"]["status"] == "rejected"


def test_request_unknown_field_rejected(api: Api) -> None:
    resource_id = api.register()
    response = api.post(
        "/v1/requests",
        CONSUMER,
        json={"resource": resource_id, "fields": ["salary"], "purpose": "x"},
    )
    assert response.status_code == 422
    assert response.json()["reason"] == "unknown-field"


def test_approve_by_consumer_forbidden(api: Api) -> None:
    resource_id = api.register()
    response = api.post(
        "/v1/requests",
        CONSUMER,
        json={"resource": resource_id, "fields": ["beds"], "purpose": "planning"},
    )
    request_id = response.json()["request"]["id"]
    response = api.post(f"/v1/requests/{request_id}/approve", CONSUMER)
    assert response.status_code == 403
    assert response.json()["reason"] == "not-approver"


def test_approve_unknown_request_404(api: Api) -> None:
    response = api.post("/v1/requests/req-missing/approve", OWNER)
    assert response.status_code == 404
    body = response.json()
    assert body["reason"] == "unknown-request"
    assert body["receipt"]["status"] == "rejected"


def test_reject_records_reason(api: Api) -> None:
    resource_id = api.register()
    response = api.post(
        "/v1/requests",
        CONSUMER,
        json={"resource": resource_id, "fields": ["beds"], "purpose": "planning"},
    )
    request_id = response.json()["request"]["id"]
    response = api.post(
        f"/v1/requests/{request_id}/reject", OWNER, json={"reason": "purpose unclear"}
    )
    assert response.status_code == 200
    record = response.json()["request"]
    assert record["status"] == "rejected"
    assert record["reason"] == "purpose unclear"
    shown = api.get(f"/v1/requests/{request_id}", CONSUMER).json()
    assert shown["status"] == "rejected"


def test_list_requests_filters(api: Api) -> None:
    resource_id = api.register()
    api.grant(resource_id)
    api.post(
        "/v1/requests",
        CONSUMER,
        json={"resource": resource_id, "fields": ["beds"], "purpose": "again"},
    )
    every = api.get("/v1/requests", OPERATOR).json()
    pending = api.get("/v1/requests", OPERATOR, params={"status": "pending"}).json()
    other = api.get("/v1/requests", OPERATOR, params={"department": OTHER}).json()
    assert every["count"] == 2
    assert pending["count"] == 1
    assert other["count"] == 0
    assert api.get("/v1/requests", CONSUMER).json()["count"] == 2


def test_requests_shown_to_parties_only(api: Api) -> None:
    resource_id = api.register()
    response = api.post(
        "/v1/requests",
        CONSUMER,
        json={"resource": resource_id, "fields": ["beds"], "purpose": "planning"},
    )
    request_id = response.json()["request"]["id"]
    assert api.get("/v1/requests", OTHER).json()["count"] == 0
    refused = api.get(f"/v1/requests/{request_id}", OTHER)
    assert refused.status_code == 403
    assert refused.json()["reason"] == "not-a-party"
    assert api.get(f"/v1/requests/{request_id}", OWNER).status_code == 200


def test_grants_of_caller(api: Api) -> None:
    resource_id = api.register()
    grant_id = api.grant(resource_id)
    mine = api.get("/v1/grants", CONSUMER).json()["grants"]
    assert [g["id"] for g in mine] == [grant_id]
    assert mine[0]["status"] == "active"
    assert api.get("/v1/grants", OTHER).json()["count"] == 0
    shown = api.get(f"/v1/grants/{grant_id}", OWNER).json()
    assert shown["consumer"] == CONSUMER
    assert api.get(f"/v1/grants/{grant_id}", OTHER).status_code == 403


def _assert_refused(
    api: Api,
    response: Any,
    resource_id: str | None,
    reason: str,
    consumer: str = CONSUMER,
) -> None:
    """Check a 403 whose refused attempt the provider recorded on the ledger.

    The attempt is in the requesting department's trail, and in the resource's
    trail when `resource_id` is given.
    """
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["reason"] == reason
    receipt = body["receipt"]
    assert receipt["status"] == "rejected"
    trails = [_trail(api, department=consumer)]
    if resource_id:
        trails.append(_trail(api, resource_id))
    for trail in trails:
        rows = [r for r in trail if r["tx_id"] == receipt["tx_id"]]
        assert len(rows) == 1
        assert rows[0]["type"] == "sharing.deliver"
        assert rows[0]["department"] == OWNER
        assert rows[0]["status"] == "rejected"
        assert rows[0]["reason"] == reason


def test_delivery_without_grant_refused(api: Api) -> None:
    resource_id = api.register()
    api.publish(resource_id)
    response = api.post(f"/v1/catalog/resources/{resource_id}/delivery", CONSUMER)
    _assert_refused(api, response, resource_id, "no-grant")


def test_delivery_unknown_grant_refused(api: Api) -> None:
    resource_id = api.register()
    response = api.post(
        "/v1/grants/grant-missing/delivery",
        CONSUMER,
        params={"resource": resource_id},
    )
    # NOTE: the ledger rejects an unknown grant before it names the resource,
    # so the attempt is in the consumer's trail only.
    _assert_refused(api, response, None, "no-grant")


def test_delivery_unknown_grant_no_resource_404(api: Api) -> None:
    response = api.post("/v1/grants/grant-missing/delivery", CONSUMER)
    assert response.status_code == 404
    assert response.json()["reason"] == "unknown-grant"


def test_delivery_revoked_grant_refused(api: Api) -> None:
    resource_id = api.register()
    api.publish(resource_id)
    grant_id = api.grant(resource_id)
    response = api.post(
        f"/v1/grants/{grant_id}/revoke", OWNER, json={"reason": "purpose fulfilled"}
    )
    assert response.status_code == 200
    assert response.json()["grant"]["status"] == "revoked"
    response = api.post(f"/v1/grants/{grant_id}/delivery", CONSUMER)
    _assert_refused(api, response, resource_id, "revoked")


def test_delivery_not_shared_refused(api: Api) -> None:
    resource_id = api.register(sharing="not_shared")
    api.publish(resource_id)
    response = api.post(f"/v1/catalog/resources/{resource_id}/delivery", CONSUMER)
    _assert_refused(api, response, resource_id, "not-shared")


def test_delivery_after_unsharing_refused(api: Api) -> None:
    resource_id = api.register()
    api.publish(resource_id)
    grant_id = api.grant(resource_id)
    response = api.client.patch(
        f"/v1/catalog/resources/{resource_id}",
        headers=api.auth(OWNER),
        json={"sharing": "not_shared"},
    )
    assert response.status_code == 200
    response = api.post(f"/v1/grants/{grant_id}/delivery", CONSUMER)
    _assert_refused(api, response, resource_id, "not-shared")


def test_delivery_to_other_department_refused(api: Api) -> None:
    resource_id = api.register()
    api.publish(resource_id)
    grant_id = api.grant(resource_id)
    response = api.post(f"/v1/grants/{grant_id}/delivery", OTHER)
    _assert_refused(api, response, resource_id, "wrong-consumer", consumer=OTHER)


def test_delivery_grant_of_other_resource_refused(api: Api) -> None:
    granted = api.register()
    api.publish(granted)
    grant_id = api.grant(granted)
    other = api.register()
    api.publish(other)
    response = api.post(
        f"/v1/grants/{grant_id}/delivery", CONSUMER, params={"resource": other}
    )
    _assert_refused(api, response, other, "wrong-resource")


def test_delivery_expired_grant_refused(api: Api, clock: DemoClock) -> None:
    resource_id = api.register()
    api.publish(resource_id)
    grant_id = api.grant(resource_id)
    clock.advance(31)
    response = api.post(f"/v1/grants/{grant_id}/delivery", CONSUMER)
    _assert_refused(api, response, resource_id, "expired")


def test_receipt_by_other_department_forbidden(api: Api) -> None:
    resource_id = api.register()
    api.publish(resource_id)
    grant_id = api.grant(resource_id)
    package = api.post(f"/v1/grants/{grant_id}/delivery", CONSUMER).json()
    response = api.post(
        f"/v1/deliveries/{package['delivery']}/receipt", OTHER, json=package
    )
    assert response.status_code == 403
    body = response.json()
    assert body["reason"] == "wrong-consumer"
    assert "receipt" not in body


def test_receipt_altered_package_rejected(api: Api) -> None:
    resource_id = api.register()
    api.publish(resource_id)
    grant_id = api.grant(resource_id)
    package = api.post(f"/v1/grants/{grant_id}/delivery", CONSUMER).json()
    package["rows"][0][1] = "999"
    response = api.post(
        f"/v1/deliveries/{package['delivery']}/receipt", CONSUMER, json=package
    )
    assert response.status_code == 422
    assert response.json()["reason"] == "verification-failed"


@pytest.mark.parametrize("missing", ["signature", "rows", "delivery"])
def test_receipt_incomplete_package_rejected(api: Api, missing: str) -> None:
    resource_id = api.register()
    api.publish(resource_id)
    grant_id = api.grant(resource_id)
    package = api.post(f"/v1/grants/{grant_id}/delivery", CONSUMER).json()
    delivery_id = package["delivery"]
    del package[missing]
    response = api.post(f"/v1/deliveries/{delivery_id}/receipt", CONSUMER, json=package)
    assert response.status_code == 422
    assert response.json()["reason"] == "bad-request"


def test_overdue_escalation_operator_only(api: Api, clock: DemoClock) -> None:
    resource_id = api.register()
    response = api.post(
        "/v1/requests",
        CONSUMER,
        json={"resource": resource_id, "fields": ["beds"], "purpose": "planning"},
    )
    request_id = response.json()["request"]["id"]
    clock.advance(30)
    overdue = api.get("/v1/requests/overdue", OPERATOR).json()["requests"]
    assert [r["id"] for r in overdue] == [request_id]

    response = api.post("/v1/requests/overdue/escalate", CONSUMER)
    assert response.status_code == 403
    assert response.json()["reason"] == "not-operator"

    response = api.post("/v1/requests/overdue/escalate", OPERATOR)
    assert response.status_code == 200
    assert response.json()["escalated"] == 1
    assert api.get(f"/v1/requests/{request_id}", OWNER).json()["escalated"] is True


def test_delivery_needs_post(api: Api) -> None:
    resource_id = api.register(level=1)
    api.publish(resource_id)
    grant_id = api.grant(resource_id, ["org_code", "beds"])
    # A delivery is recorded on the ledger, so a GET (which proxies and
    # prefetchers may repeat) must not make one.
    size = api.node.store.log_size()
    response = api.get(f"/v1/grants/{grant_id}/delivery", CONSUMER)
    assert response.status_code == 405
    assert api.node.store.log_size() == size
