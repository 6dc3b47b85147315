"""Sharing operations: request, decide, revoke, deliver and receive.

A delivery is a package of rows signed by the provider department. The
provider records the delivery (or the rejected attempt) on the ledger before
the package leaves. The consumer checks the signature and the content hash
against that record and then records the receipt, so both sides are on the
ledger.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from govchain.catalog._handlers import RESOURCE_NS
from govchain.crypto.keys import PublicKey, b64, unb64
from govchain.datasets import Dataset, DatasetStore, rows_root
from govchain.errors import PolicyError, ValidationError, VerificationError
from govchain.governance.personal_data import check_free_text
from govchain.ledger.apply import DEPT_NS
from govchain.ledger.canonical import canonical_json
from govchain.ledger.state import StateReader, object_id
from govchain.node._node import Node, Receipt
from govchain.sharing._handlers import DELIVERY_NS, GRANT_NS, REQUEST_NS, grant_status
from govchain.sharing.desensitized import desensitize

logger = logging.getLogger(__name__)

PACKAGE_FORMAT = "govchain-delivery/v1"
PACKAGE_DOMAIN = b"govchain/delivery/v1\n"


def _applied(receipt: Receipt) -> Receipt:
    if not receipt.applied:
        raise PolicyError(receipt.message, reason=receipt.reason)
    return receipt


def request_access(
    node: Node,
    consumer: str,
    resource_id: str,
    *,
    fields: list[str],
    purpose: str,
    term_days: int,
) -> dict[str, Any]:
    """Submit a sharing request and return the request record.

    Raises `PolicyError` with the ledger's reason when the request is refused
    (not shared, unknown field, own resource); the refusal stays on the ledger.
    A purpose holding an ID or mobile number is refused before anything is
    signed, because a rejected transaction keeps its payload on the ledger.
    """
    check_free_text({"purpose": purpose})
    tx = node.sign(
        consumer,
        "sharing.request",
        {
            "resource": resource_id,
            "fields": fields,
            "purpose": purpose,
            "term_days": term_days,
        },
    )
    receipt = _applied(node.submit_one(tx))
    record = node.store.get(REQUEST_NS, object_id("req", receipt.index))
    assert record is not None
    return record


def approve(node: Node, approver: str, request_id: str) -> dict[str, Any]:
    _applied(node.act(approver, "sharing.approve", {"request": request_id}))
    return get_record(node.store, REQUEST_NS, request_id)


def reject(node: Node, approver: str, request_id: str, reason: str) -> dict[str, Any]:
    check_free_text({"reason": reason})
    _applied(
        node.act(approver, "sharing.reject", {"request": request_id, "reason": reason})
    )
    return get_record(node.store, REQUEST_NS, request_id)


def revoke(node: Node, dept: str, grant_id: str, reason: str) -> dict[str, Any]:
    check_free_text({"reason": reason})
    _applied(node.act(dept, "sharing.revoke", {"grant": grant_id, "reason": reason}))
    return get_record(node.store, GRANT_NS, grant_id)


def get_record(state: StateReader, ns: str, key: str) -> dict[str, Any]:
    record = state.get(ns, key)
    if record is None:
        raise ValidationError(f"{ns} {key!r} is unknown", reason=f"unknown-{ns}")
    return record


@dataclass(frozen=True)
class Delivery:
    """A signed package of delivered rows and the ledger receipt that records it."""

    package: dict[str, Any]
    receipt: Receipt


def deliver(
    node: Node,
    datasets: DatasetStore,
    consumer: str,
    *,
    grant_id: str | None,
    resource_id: str,
) -> Delivery:
    """Deliver the latest version of a resource to `consumer` under a grant.

    The provider's node records every attempt. A refused one (no grant, expired,
    revoked, not shared, wrong consumer) is a rejected transaction, and this
    function raises `PolicyError` with its reason.
    """
    resource = get_record(node.store, RESOURCE_NS, resource_id)
    owner = resource["owner"]
    payload: dict[str, Any] = {"consumer": consumer, "resource": resource_id}
    grant = node.store.get(GRANT_NS, grant_id) if grant_id else None
    if grant_id:
        payload["grant"] = grant_id
    dataset: Dataset | None = None
    if (
        grant is not None
        and grant["resource"] == resource_id
        and resource.get("latest_version")
        and resource["sharing"] != "not_shared"
    ):
        version = get_record(node.store, "version", resource["latest_version"])
        granted = datasets.get(version["content_hash"]).project(grant["fields"])
        view = desensitize(granted, resource, grant, node.dept_keys[owner])
        if view.k_anonymity is not None:
            payload["k_anonymity"] = view.k_anonymity
        if view.k_anonymity is None or view.k_anonymity["met"]:
            dataset = view.dataset
            payload.update(
                version=version["id"],
                fields=dataset.field_names,
                content_hash=dataset.content_hash,
                row_count=len(dataset.rows),
                policy=view.policy_ref,
            )
    # Without a matching grant, a version and a shared resource the payload
    # names no content, and the ledger rejects the attempt with the reason (no
    # grant, wrong resource, no version, not shared), which is raised below.
    receipt = node.act(owner, "sharing.deliver", payload)
    if not receipt.applied:
        logger.info(
            "delivery of %s to %s rejected: %s", resource_id, consumer, receipt.reason
        )
        raise PolicyError(receipt.message, reason=receipt.reason)
    if dataset is None:
        raise ValidationError(
            f"resource {resource_id!r} has no published version to deliver",
            reason="no-version",
        )
    package = {
        "format": PACKAGE_FORMAT,
        "delivery": object_id("dlv", receipt.index),
        "delivery_tx": receipt.tx_id,
        "grant": grant_id,
        "resource": resource_id,
        "version": payload["version"],
        "provider": owner,
        "consumer": consumer,
        "fields": dataset.fields,
        "rows": dataset.rows,
        "content_hash": dataset.content_hash,
    }
    key = node.dept_keys[owner]
    package["kid"] = key.kid
    package["signature"] = b64(key.sign(PACKAGE_DOMAIN + canonical_json(package)))
    return Delivery(package, receipt)


def check_package(state: StateReader, package: dict[str, Any]) -> dict[str, Any]:
    """Check a delivered package against the ledger and return its delivery record.

    1. The provider's signature verifies under its current key on the ledger.
    2. The rows hash to the content hash in the package.
    3. The ledger's delivery record names the same hash, consumer and fields.
    """
    # 1. Signature.
    body = {k: v for k, v in package.items() if k != "signature"}
    provider = state.get(DEPT_NS, str(package.get("provider")))
    if provider is None or provider["kid"] != package.get("kid"):
        raise VerificationError("package provider or key id is unknown on the ledger")
    PublicKey.from_b64(provider["public_key"]).verify(
        PACKAGE_DOMAIN + canonical_json(body),
        unb64(str(package.get("signature")), field="signature"),
    )

    # 2. Content hash.
    if rows_root(package["rows"]) != package["content_hash"]:
        raise VerificationError("package rows do not hash to its content hash")

    # 3. The ledger's record.
    record = state.get(DELIVERY_NS, str(package["delivery"]))
    if record is None:
        raise VerificationError(
            f"delivery {package['delivery']!r} is not on the ledger"
        )
    if (
        record["content_hash"] != package["content_hash"]
        or record["consumer"] != package["consumer"]
    ):
        raise VerificationError(
            "package differs from the delivery recorded on the ledger"
        )
    return record


def receive(node: Node, package: dict[str, Any]) -> Receipt:
    """Check a package as its consumer and record the receipt on the ledger."""
    check_package(node.store, package)
    return _applied(
        node.act(
            str(package["consumer"]),
            "sharing.receive",
            {"delivery": package["delivery"], "content_hash": package["content_hash"]},
        )
    )


def overdue_requests(state: StateReader, now_ms: int) -> list[dict[str, Any]]:
    """Return pending requests whose current step is past its deadline at `now_ms`."""
    overdue = []
    for _key, req in state.scan(REQUEST_NS):
        if req["status"] == "pending" and req["steps"][req["step"]]["due"] < now_ms:
            overdue.append(req)
    return overdue


def escalate_overdue(node: Node, now_ms: int) -> list[Receipt]:
    """Escalate each overdue request to the operator; return the receipts."""
    config = node.store.get("consortium", "config")
    assert config is not None
    operator = config["consortium"]["operator"]
    receipts = []
    for req in overdue_requests(node.store, now_ms):
        if not req.get("escalated"):
            receipts.append(
                node.act(operator, "sharing.escalate", {"request": req["id"]})
            )
    return receipts


def grants_of(state: StateReader, consumer: str, now_ms: int) -> list[dict[str, Any]]:
    out = []
    for _key, grant in state.scan(GRANT_NS):
        if grant["consumer"] == consumer:
            out.append({**grant, "status": grant_status(grant, now_ms)})
    return out
