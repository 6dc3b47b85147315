"""Consortium routes: the member list and membership changes.

Membership changes are signed by the caller's department, and the ledger's
rules accept them from the platform operator only. Each change is first checked
against the ledger with its handler's checks, so a malformed one gets 422 (404
for an unknown department) and is never signed: a rejected transaction would
keep its payload, personal data included, on the ledger. A well-formed change
from another department's token gets 403, and its attempt is on the ledger as
a rejected transaction with reason `not-operator`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from govchain.api._context import Caller, ReadStore, ReceiptTap, Writer
from govchain.api._models import Admission, KeyRotation, Suspension
from govchain.consortium._membership import check_membership_change
from govchain.crypto.keys import SigningKey
from govchain.ledger.apply import DEPT_NS

router = APIRouter(prefix="/v1/consortium", tags=["consortium"])


@router.get("/departments")
def list_departments(store: ReadStore, caller: Caller) -> dict[str, Any]:
    """List member departments with region, level, line, status and key."""
    found = [{"id": dept_id, **record} for dept_id, record in store.scan(DEPT_NS)]
    return {"count": len(found), "departments": found}


def _act(
    writer: ReceiptTap,
    store: ReadStore,
    caller: str,
    tx_type: str,
    payload: dict[str, Any],
) -> dict[str, Any]:
    check_membership_change(store, tx_type, payload)
    receipt = writer.applied(writer.act(caller, tx_type, payload))
    return {"receipt": receipt.to_dict()}


@router.post("/departments", status_code=201)
def admit(
    body: Admission, caller: Caller, writer: Writer, store: ReadStore
) -> dict[str, Any]:
    """Admit a department with its public key (operator only)."""
    department = body.model_dump(exclude={"public_key"})
    payload = {"department": department, "public_key": body.public_key}
    return _act(writer, store, caller, "consortium.admit", payload)


@router.post("/departments/{dept_id}/suspend")
def suspend(
    dept_id: str, body: Suspension, caller: Caller, writer: Writer, store: ReadStore
) -> dict[str, Any]:
    """Suspend a department: its transactions are rejected from the next block on."""
    payload = {"department": dept_id, "reason": body.reason}
    return _act(writer, store, caller, "consortium.suspend", payload)


@router.post("/departments/{dept_id}/reinstate")
def reinstate(
    dept_id: str, caller: Caller, writer: Writer, store: ReadStore
) -> dict[str, Any]:
    """Reinstate a suspended department (operator only)."""
    payload = {"department": dept_id}
    return _act(writer, store, caller, "consortium.reinstate", payload)


@router.post("/departments/{dept_id}/rotate-key")
def rotate_key(
    dept_id: str,
    body: KeyRotation,
    caller: Caller,
    writer: Writer,
    store: ReadStore,
) -> dict[str, Any]:
    """Replace a department's signing key (operator only).

    Without a public key in the body, a department hosted on this node gets a
    new key pair, generated and stored encrypted here.
    """
    if body.public_key is not None:
        payload = {"department": dept_id, "public_key": body.public_key}
        return _act(writer, store, caller, "consortium.rotate_key", payload)
    config = store.get("consortium", "config")
    assert config is not None
    if caller != config["consortium"]["operator"]:
        # Submitted as the caller, so the refusal is on the ledger with
        # reason not-operator; the throwaway key is never stored.
        throwaway = SigningKey.generate().public_key.to_b64()
        payload = {"department": dept_id, "public_key": throwaway}
        return _act(writer, store, caller, "consortium.rotate_key", payload)
    receipt = writer.node.rotate_hosted_key(dept_id)
    return {"receipt": receipt.to_dict()}
