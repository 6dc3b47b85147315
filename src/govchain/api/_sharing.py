"""Sharing routes: requests, decisions, grants, deliveries and receipts."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from govchain.api._context import (
    ApiContext,
    Caller,
    Ctx,
    ReadStore,
    ReceiptTap,
    Writer,
    client_of,
)
from govchain.api._models import AccessRequest, DeliveryPackage, Rejection, Revocation
from govchain.errors import PolicyError, ValidationError
from govchain.ledger.store import LedgerStore
from govchain.sharing import service
from govchain.sharing._handlers import GRANT_NS, REQUEST_NS, grant_status

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["sharing"])


@router.post("/requests", status_code=201)
def request_access(
    body: AccessRequest, caller: Caller, writer: Writer
) -> dict[str, Any]:
    """Request fields of a resource for the caller's department.

    Unconditional resources are granted at once; the response then names the
    grant. Not-shared resources are refused, and the refusal is on the ledger.
    """
    record = service.request_access(
        writer.node,
        caller,
        body.resource,
        fields=body.fields,
        purpose=body.purpose,
        term_days=body.term_days,
    )
    return {"request": record, "receipt": writer.last_receipt()}


@router.get("/requests")
def list_requests(
    store: ReadStore,
    caller: Caller,
    status: Annotated[
        str | None, Query(description="pending, granted or rejected.")
    ] = None,
    department: Annotated[
        str | None, Query(description="Requests this department made or owns.")
    ] = None,
) -> dict[str, Any]:
    """List the sharing requests the caller is party to, oldest id first.

    A department gets the requests it made, those for its resources and those
    it has a step to decide. The platform operator gets every request.
    """
    operator = _operator(store)
    found = [
        r
        for _key, r in store.scan(REQUEST_NS)
        if status in (None, r["status"])
        and department in (None, r["consumer"], r["owner"])
        and _party_to_request(r, caller, operator)
    ]
    return {"count": len(found), "requests": found}


def _operator(store: LedgerStore) -> str:
    config = service.get_record(store, "consortium", "config")
    return str(config["consortium"]["operator"])


def _party_to_request(record: dict[str, Any], caller: str, operator: str) -> bool:
    """Tell whether `caller` made, owns, decides or oversees a request.

    A purpose may describe more of the consumer's work than other departments
    need to know, so requests are shown on a need-to-know basis.
    """
    if caller in (operator, record["consumer"], record["owner"]):
        return True
    return any(step.get("approver") == caller for step in record.get("steps", []))


def _refuse_outsider(kind: str, key: str, caller: str) -> PolicyError:
    return PolicyError(
        f"department {caller!r} is not a party to {kind} {key!r}; ask the "
        "departments it names or the platform operator",
        reason="not-a-party",
    )


@router.get("/requests/overdue")
def list_overdue(store: ReadStore, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """List pending requests whose current step is past its deadline."""
    found = service.overdue_requests(store, ctx.clock())
    return {"count": len(found), "requests": found}


@router.post("/requests/overdue/escalate")
def escalate_overdue(caller: Caller, writer: Writer, ctx: Ctx) -> dict[str, Any]:
    """Escalate every overdue request to the platform operator (operator only)."""
    operator = ctx.read(lambda store: service.get_record(store, "consortium", "config"))
    if caller != operator["consortium"]["operator"]:
        raise PolicyError(
            f"only the platform operator escalates overdue requests, not {caller!r}",
            reason="not-operator",
        )
    receipts = service.escalate_overdue(writer.node, ctx.clock())
    return {
        "escalated": sum(r.applied for r in receipts),
        "receipts": [r.to_dict() for r in receipts],
    }


@router.get("/requests/{request_id}")
def show_request(request_id: str, store: ReadStore, caller: Caller) -> dict[str, Any]:
    """Show one sharing request with its approval steps, to its parties."""
    record = service.get_record(store, REQUEST_NS, request_id)
    if not _party_to_request(record, caller, _operator(store)):
        raise _refuse_outsider("request", request_id, caller)
    return record


@router.post("/requests/{request_id}/approve")
def approve(request_id: str, caller: Caller, writer: Writer) -> dict[str, Any]:
    """Approve the current step of a request, as the department that decides it."""
    record = service.approve(writer.node, caller, request_id)
    return {"request": record, "receipt": writer.last_receipt()}


@router.post("/requests/{request_id}/reject")
def reject(
    request_id: str, body: Rejection, caller: Caller, writer: Writer
) -> dict[str, Any]:
    """Reject a request; the reason is recorded and shown to the consumer."""
    record = service.reject(writer.node, caller, request_id, body.reason)
    return {"request": record, "receipt": writer.last_receipt()}


@router.get("/grants")
def list_grants(store: ReadStore, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """List the grants given to the caller's department, with their status now."""
    found = service.grants_of(store, caller, ctx.clock())
    return {"count": len(found), "grants": found}


@router.get("/grants/{grant_id}")
def show_grant(
    grant_id: str, store: ReadStore, caller: Caller, ctx: Ctx
) -> dict[str, Any]:
    """Show one grant with its status now (active, expired or revoked)."""
    grant = service.get_record(store, GRANT_NS, grant_id)
    if caller not in (grant["consumer"], grant["owner"], _operator(store)):
        raise _refuse_outsider("grant", grant_id, caller)
    return {**grant, "status": grant_status(grant, ctx.clock())}


@router.post("/grants/{grant_id}/revoke")
def revoke(
    grant_id: str, body: Revocation, caller: Caller, writer: Writer
) -> dict[str, Any]:
    """Revoke a grant, as the resource's owner or the operator."""
    record = service.revoke(writer.node, caller, grant_id, body.reason)
    return {"grant": record, "receipt": writer.last_receipt()}


def deliver_under_grant(
    grant_id: str,
    request: Request,
    caller: Caller,
    writer: Writer,
    ctx: Ctx,
    resource: Annotated[
        str | None, Query(description="Resource id; the grant's when left out.")
    ] = None,
) -> dict[str, Any]:
    """Deliver the latest version of a resource to the caller under a grant.

    Call it with the CONSUMER's token. This node, on the provider's side,
    records the attempt on the ledger whatever the outcome. It returns the
    package signed by the provider, or 403 with the reason the rules rejected
    the attempt (no grant, expired, revoked, not shared, another's grant).
    """
    grant = ctx.read(lambda store: store.get(GRANT_NS, grant_id))
    if resource is None:
        if grant is None:
            raise ValidationError(
                f"grant {grant_id!r} is unknown and no resource was named, so there "
                "is no provider to record the attempt; pass ?resource=ID",
                reason="unknown-grant",
            )
        resource = str(grant["resource"])
    elif grant is not None and grant["resource"] != resource:
        # A grant covers one resource: the rules refuse it for any other with
        # reason wrong-resource, and the provider records the attempt.
        logger.info(
            "delivery of %s asked under grant %s of resource %s by %s",
            resource,
            grant_id,
            grant["resource"],
            client_of(request),
        )
    return _deliver(writer, ctx, caller, grant_id, resource)


def deliver_without_grant(
    resource_id: str, caller: Caller, writer: Writer, ctx: Ctx
) -> dict[str, Any]:
    """Ask for a resource without a grant; the provider records the refused attempt.

    The rules never deliver without a grant, so this returns 403 with reason
    `no-grant` (or `not-shared`), and the attempt is on the ledger.
    """
    return _deliver(writer, ctx, caller, None, resource_id)


def _deliver(
    writer: ReceiptTap,
    ctx: ApiContext,
    consumer: str,
    grant_id: str | None,
    resource_id: str,
) -> dict[str, Any]:
    delivery = service.deliver(
        writer.node,
        ctx.datasets,
        consumer,
        grant_id=grant_id,
        resource_id=resource_id,
    )
    return delivery.package


# POST only: every delivery is recorded on the ledger, and a GET, which a proxy
# or a browser's prefetch may repeat, should change nothing.
router.add_api_route(
    "/grants/{grant_id}/delivery", deliver_under_grant, methods=["POST"]
)
router.add_api_route(
    "/catalog/resources/{resource_id}/delivery", deliver_without_grant, methods=["POST"]
)


@router.post("/deliveries/{delivery_id}/receipt")
def receive(
    delivery_id: str, body: DeliveryPackage, caller: Caller, writer: Writer, ctx: Ctx
) -> dict[str, Any]:
    """Check a delivered package as its consumer and record the receipt.

    The provider's signature, the content hash and the ledger's delivery
    record must all agree with the package, or the response is 422.
    """
    package = body.model_dump()
    if package["delivery"] != delivery_id:
        raise ValidationError(
            f"package is delivery {package['delivery']!r}, not {delivery_id!r}",
            reason="bad-request",
        )
    if package["consumer"] != caller:
        raise PolicyError(
            f"delivery {delivery_id!r} went to {package['consumer']!r}; "
            f"{caller!r} cannot record its receipt",
            reason="wrong-consumer",
        )
    service.receive(writer.node, package)
    record = ctx.read(lambda store: service.get_record(store, "delivery", delivery_id))
    return {"delivery": record, "receipt": writer.last_receipt()}
