"""Certificate routes: online status and verification, lookup, issuance, lists.

Public (no token): a certificate's status, online verification of QR text or
a QR image against the ledger, and the signed trust and revocation lists.
With a department's token: lookup by ID number (rate-limited per department
and client, and recorded), issuance and status changes by the issuer, the
issuer's signing keys, and the registry (types and issuers) by the operator.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from govchain.api._context import ApiContext, Caller, Ctx, ReadStore, client_of
from govchain.certs import (
    CertificateError,
    CertificateService,
    Holder,
    certificate_status,
    decode_image_bytes,
    trust_from_state,
    verify_text,
)
from govchain.certs._handlers import REASON_CODES, TEMPLATE_NS
from govchain.certs.qrtext import MAX_TEXT_CHARS, strip_scanner_newline
from govchain.certs.service import operator_of
from govchain.certs.verify import Verdict
from govchain.errors import PolicyError, ValidationError
from govchain.ledger.store import LedgerStore
from govchain.node import Node

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/certs", tags=["certificates"])

#: Lookups by ID number each department may make per minute from one client
#: address (GOVCHAIN_CERT_LOOKUPS_PER_MINUTE overrides it).
LOOKUPS_PER_MINUTE = int(os.environ.get("GOVCHAIN_CERT_LOOKUPS_PER_MINUTE", "30"))
MAX_IMAGE_BYTES = 8 * 1024 * 1024

_services: weakref.WeakKeyDictionary[Node, CertificateService] = (
    weakref.WeakKeyDictionary()
)
_services_lock = threading.Lock()


def _service(node: Node) -> CertificateService:
    with _services_lock:
        service = _services.get(node)
        if service is None:
            service = CertificateService(node)
            _services[node] = service
        return service


class RateLimiter:
    """A token bucket per key: `rate` requests a minute, bursts up to `rate`."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.rate), now))
            tokens = min(float(self.rate), tokens + (now - last) * self.rate / 60.0)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1.0, now)
            return True


_lookup_limiter = RateLimiter(LOOKUPS_PER_MINUTE)


def _now(ctx: ApiContext) -> int:
    """Return the API clock (the orderer's unless configured) in unix seconds."""
    return ctx.clock() // 1000


def _not_found(exc: ValidationError) -> JSONResponse:
    return JSONResponse({"error": str(exc), "reason": exc.reason}, status_code=404)


@router.get("/{cert_id}/status", response_model=None)
async def status(cert_id: str, ctx: Ctx) -> dict[str, Any] | JSONResponse:
    """Return a certificate's status: valid, suspended, revoked, expired or not_yet_valid.

    The route runs on the event loop and reads through the node's per-thread
    read-only connection: two indexed point reads cost less than handing the
    request to a worker thread and opening a connection for it.
    """
    try:
        return certificate_status(ctx.node.store, cert_id, now=_now(ctx))
    except ValidationError as exc:
        if exc.reason == "unknown-certificate":
            return _not_found(exc)
        raise


class VerifyText(BaseModel):
    qr_text: str = Field(
        max_length=MAX_TEXT_CHARS + 16, description="The QR code's text."
    )


@router.post("/verify")
def verify(body: VerifyText, store: ReadStore, ctx: Ctx) -> dict[str, Any]:
    """Verify QR text against the ledger's registry and statuses, at the current time."""
    trust = trust_from_state(store)
    text = strip_scanner_newline(body.qr_text)
    return verify_text(text, trust, at=_now(ctx)).to_dict()


@router.post("/verify-image")
async def verify_image(
    image: Annotated[UploadFile, File(description="A photo or scan of the QR code.")],
    ctx: Ctx,
) -> dict[str, Any]:
    """Verify the QR code in an uploaded image, as `/verify` does for text."""
    data = await image.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        verdict = Verdict(code="image", message="the image is larger than 8 MiB")
        return verdict.to_dict()
    try:
        text = decode_image_bytes(data, source="the uploaded image")
    except CertificateError as exc:
        return Verdict(
            code=exc.code, message=str(exc), steps={"image": False}
        ).to_dict()
    trust = ctx.read(trust_from_state)
    return verify_text(text, trust, at=_now(ctx)).to_dict()


class Lookup(BaseModel):
    id_number: str = Field(max_length=32, description="The holder's ID number.")
    id_format: str = Field("cn-resident-id", description="cn-resident-id or cn-uscc.")


@router.post("/lookup", response_model=None)
def lookup(
    body: Lookup, caller: Caller, ctx: Ctx, request: Request
) -> dict[str, Any] | JSONResponse:
    """Find certificates by ID number: masked name, type, issuer and validity only."""
    client = client_of(request)
    if not _lookup_limiter.allow(f"{caller}@{client}"):
        ctx.refusals.refused(client, "lookup rate limit", caller)
        return JSONResponse(
            {
                "error": f"more than {LOOKUPS_PER_MINUTE} lookups a minute from "
                f"{caller}; wait a minute and try again",
                "reason": "rate-limited",
            },
            status_code=429,
        )
    found = _service(ctx.node).lookup(
        body.id_number, requester=caller, client=client, id_format=body.id_format
    )
    now = _now(ctx)
    store = ctx.open_read_store()
    try:
        results = [_with_status(store, entry.to_dict(), now) for entry in found]
    finally:
        store.close()
    return {"certificates": results}


def _with_status(
    store: LedgerStore, record: dict[str, Any], now: int
) -> dict[str, Any]:
    try:
        record["status"] = certificate_status(store, record["id"], now=now)["status"]
    except ValidationError:
        record["status"] = "unknown"
    return record


class HolderBody(BaseModel):
    holder_id: str = Field(max_length=32)
    name: str = Field(max_length=100)
    claims: dict[str, Any] = Field(default_factory=dict)


class IssueBody(BaseModel):
    type: str
    holders: list[HolderBody] = Field(max_length=10_000)
    valid_days: int | None = None


@router.post("/issue", status_code=201)
def issue(body: IssueBody, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """Issue certificates as the caller's department; returns each QR text.

    `title` and `labels` (claim name to label) come from the type's current
    version, so a client can print cards without reading the registry.
    """
    holders = [Holder(h.holder_id, h.name, h.claims) for h in body.holders]
    issued = _service(ctx.node).issue(
        caller, body.type, holders, now=_now(ctx), valid_days=body.valid_days
    )
    first = issued[0] if issued else None
    return {
        "type": body.type,
        "title": first.title if first else None,
        "labels": first.labels if first else {},
        "certificates": [
            {
                "id": c.id,
                "qr_text": c.qr_text,
                "hash": c.hash,
                "kid": c.kid,
                "issued_at": c.claims.issued_at,
                "expires_at": c.claims.expires_at,
            }
            for c in issued
        ],
    }


class StatusChange(BaseModel):
    status: str = Field(description="suspended, valid (reinstate) or revoked.")
    reason: str = Field(description="A reason code, such as holder-unfit.")


@router.post("/{cert_id}/status", response_model=None)
def change_status(
    cert_id: str, body: StatusChange, caller: Caller, ctx: Ctx
) -> dict[str, Any] | JSONResponse:
    """Suspend, reinstate or revoke a certificate the caller issued."""
    try:
        receipt = _service(ctx.node).set_status(
            caller, cert_id, body.status, body.reason
        )
    except ValidationError as exc:
        if exc.reason == "unknown-certificate":
            return _not_found(exc)
        raise
    record = ctx.read(lambda s: certificate_status(s, cert_id, now=_now(ctx)))
    return {"certificate": record, "receipt": receipt.to_dict()}


def _require_operator(ctx: ApiContext, caller: str, action: str) -> str:
    """Return the operator's id; raise `PolicyError` when the caller is another."""
    operator = operator_of(ctx.node)
    if caller != operator:
        raise PolicyError(
            f"only the operator {operator} may {action}, not {caller}; send the "
            "request with the operator's API token",
            reason="not-operator",
        )
    return operator


class TemplateBody(BaseModel):
    template: dict[str, Any] = Field(
        description="The certificate type as JSON (docs/certificates.md): id, "
        "title, validity_days and claims."
    )


@router.post("/templates", status_code=201)
def define_template(body: TemplateBody, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """Define a certificate type, or its next version, signed by the operator."""
    _require_operator(ctx, caller, "define certificate types")
    version = _service(ctx.node).define_template(body.template)
    record = ctx.read(lambda s: s.get(TEMPLATE_NS, str(body.template["id"])))
    return {"id": body.template["id"], "version": version, "template": record}


class IssuerBody(BaseModel):
    types: list[str] = Field(
        max_length=1000,
        description="Certificate types the department may issue; an empty list "
        "takes every type away.",
    )


@router.put("/issuers/{department}")
def authorize_issuer(
    department: str, body: IssuerBody, caller: Caller, ctx: Ctx
) -> dict[str, Any]:
    """Set the certificate types a department may issue, signed by the operator."""
    _require_operator(ctx, caller, "authorize issuers")
    receipt = _service(ctx.node).authorize_issuer(department, body.types)
    return {
        "department": department,
        "types": body.types,
        "receipt": receipt.to_dict(),
    }


class KeyBody(BaseModel):
    valid_days: int = Field(
        365, ge=1, description="Days the key may sign, from the API's clock on."
    )
    replaces: str | None = Field(
        None,
        max_length=64,
        description="Hex kid of the caller's key that stops signing when this "
        "one starts.",
    )


@router.post("/keys", status_code=201)
def create_key(body: KeyBody, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """Create a certificate signing key of the caller and register it.

    The private key is stored on this node, encrypted like the department
    keys, and never leaves it; the response names the key by its kid.
    """
    kid = _service(ctx.node).create_key(
        caller,
        valid_days=body.valid_days,
        not_before=_now(ctx),
        replaces=body.replaces,
    )
    return {"kid": kid, "issuer": caller}


class KeyRevocation(BaseModel):
    reason: str = Field(description=f"A reason code: {', '.join(REASON_CODES)}.")


@router.post("/keys/{kid}/revoke")
def revoke_key(
    kid: str, body: KeyRevocation, caller: Caller, ctx: Ctx
) -> dict[str, Any]:
    """Revoke one of the caller's signing keys: all it signed fails verification."""
    receipt = _service(ctx.node).revoke_key(caller, kid, body.reason)
    return {"kid": kid, "receipt": receipt.to_dict()}


@router.get("/trust-list")
def trust_list(ctx: Ctx) -> dict[str, Any]:
    """Return the registry as a trust list signed by the operator, for offline verifiers."""
    return _service(ctx.node).trust_list()


@router.get("/revocation-list")
def revocation_list(
    ctx: Ctx,
    since: Annotated[int, Query(ge=0, description="First sequence number.")] = 0,
) -> dict[str, Any]:
    """Return the revocation entries from `since` on, signed by the operator."""
    return _service(ctx.node).revocation_list(since)
