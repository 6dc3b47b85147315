"""The one place where errors become HTTP responses.

Every error response is a JSON object `{"error": message, "reason": code}`.
A refusal that became a ledger transaction adds `"receipt"`: the rejected
transaction is on the ledger, and can be audited and exported as evidence like
any other. The status follows the error:

| error                                                          | status |
|----------------------------------------------------------------|--------|
| missing or unknown API token; bad signature on a transaction   | 401    |
| unknown id: resource, request, grant, delivery, transaction    | 404    |
| a rule's refusal, such as `not-owner`, `revoked`, `not-shared` | 403    |
| other `ValidationError`, malformed request, failed proof       | 422    |
| `ConfigError`                                                  | 400    |
| `IntegrityError`: the ledger disagrees with itself or a peer   | 409    |
| no block committed in time; node behind a newer checkpoint     | 503    |

A rejected transaction's reason decides between 403, 404 and 422. An error
raised before any transaction decides by its class: `PolicyError` is 403.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from govchain.errors import (
    ConfigError,
    GovchainError,
    IntegrityError,
    PolicyError,
    ValidationError,
    VerificationError,
)
from govchain.governance.personal_data import mask_personal_data
from govchain.node import Receipt
from govchain.node._node import NodeBehindError

logger = logging.getLogger(__name__)

#: Reasons that name an id (or a checkpoint) the ledger does not have.
NOT_FOUND_REASONS = frozenset(
    {
        "unknown-checkpoint",
        "unknown-delivery",
        "unknown-department",
        "unknown-grant",
        "unknown-request",
        "unknown-resource",
        "unknown-transaction",
        "unknown-version",
    }
)

#: Reasons of the consortium's rules refusing a well-formed request. Services
#: of the catalog raise these as plain `ValidationError`, so the reason decides.
POLICY_REASONS = frozenset(
    {
        "bad-signature",
        "expired",
        "no-grant",
        "not-allowed",
        "not-approver",
        "not-operator",
        "not-owner",
        "not-shared",
        "own-resource",
        "revoked",
        "suspended",
        "wrong-consumer",
        "wrong-fields",
        "wrong-key-id",
        "wrong-resource",
    }
)


class Unauthenticated(GovchainError):
    """A request without a valid API token, or a transaction whose signature fails."""

    reason = "unauthenticated"


class TransactionRejected(ValidationError):
    """A transaction the ledger recorded as rejected; `receipt` names it."""

    def __init__(self, receipt: Receipt) -> None:
        super().__init__(receipt.message, reason=receipt.reason)
        self.receipt = receipt


def status_for(exc: GovchainError, receipt: Receipt | None = None) -> int:
    """Return the HTTP status of a govchain error; see the module docstring.

    With the `receipt` of the rejected transaction behind the error, its reason
    alone decides, because the sharing services raise every rejection as a
    `PolicyError`, an unknown field included.
    """
    if isinstance(exc, Unauthenticated):
        return 401
    if isinstance(exc, ValidationError):
        policy = exc.reason in POLICY_REASONS
        if receipt is None and isinstance(exc, PolicyError):
            policy = True
        if exc.reason in NOT_FOUND_REASONS:
            return 404
        return 403 if policy else 422
    if isinstance(exc, ConfigError):
        return 400
    if isinstance(exc, NodeBehindError):
        # The node is healthy but will not write until an operator restores it.
        return 503
    if isinstance(exc, IntegrityError):
        return 409
    if isinstance(exc, VerificationError):
        return 422
    return 500


def reason_for(exc: GovchainError) -> str:
    """Return the short reason code of an error for the response body."""
    if isinstance(exc, ValidationError):
        return exc.reason
    if isinstance(exc, Unauthenticated):
        return Unauthenticated.reason
    if isinstance(exc, ConfigError):
        return "config-error"
    if isinstance(exc, NodeBehindError):
        return "node-behind"
    if isinstance(exc, IntegrityError):
        return "integrity-error"
    if isinstance(exc, VerificationError):
        return "verification-failed"
    return "error"


def _rejected_receipt(request: Request, exc: GovchainError) -> Receipt | None:
    """Return the receipt of the rejected transaction that caused `exc`, if any.

    Services raise a plain error for a rejected receipt; the request's
    `ReceiptTap` kept the receipt, and the reason ties the two together.
    """
    if isinstance(exc, TransactionRejected):
        return exc.receipt
    receipts: list[Receipt] = getattr(request.state, "receipts", [])
    if (
        receipts
        and isinstance(exc, ValidationError)
        and receipts[-1].status == "rejected"
        and receipts[-1].reason == exc.reason
    ):
        return receipts[-1]
    return None


async def _govchain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GovchainError)
    receipt = _rejected_receipt(request, exc)
    status = status_for(exc, receipt)
    body: dict[str, Any] = {"error": str(exc), "reason": reason_for(exc)}
    if receipt is not None:
        body["receipt"] = receipt.to_dict()
    # A 403 that never became a transaction (a department acting for another,
    # say) is a security event. A rejected transaction is on the ledger already,
    # and the authentication dependency logs 401s itself, rate-limited.
    if status != 401:
        forbidden = status == 403 and receipt is None
        logger.log(
            logging.WARNING if forbidden else logging.INFO,
            "%s %s by %s refused with %d: %s (tx %s)",
            request.method,
            mask_personal_data(request.url.path),
            getattr(request.state, "department", "an unauthenticated client"),
            status,
            body["reason"],
            receipt.tx_id if receipt else "none",
        )
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


async def _request_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # The rejected input is left out on purpose: a row or a query may hold
    # personal data, and the location and message are enough to fix it.
    problems = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    summary = "; ".join(
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in problems
    )
    return JSONResponse(
        {"error": f"request is invalid: {summary}", "reason": "bad-request"}
        | {"problems": problems},
        status_code=422,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    reason = {404: "not-found", 405: "method-not-allowed"}.get(
        exc.status_code, "http-error"
    )
    return JSONResponse(
        {"error": str(exc.detail).lower(), "reason": reason},
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def _timeout(request: Request, exc: Exception) -> JSONResponse:
    logger.warning(
        "%s %s timed out waiting for a block: %s",
        request.method,
        mask_personal_data(request.url.path),
        exc,
    )
    return JSONResponse(
        {
            "error": f"{exc}; the transaction may still commit, so look it up by id "
            "before submitting it again",
            "reason": "timeout",
        },
        status_code=503,
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Starlette raises the exception again after this response is sent, and
    # uvicorn logs it with its traceback; the client sees no traceback.
    return JSONResponse(
        {
            "error": "internal server error; the server log has details",
            "reason": "internal",
        },
        status_code=500,
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn errors into the JSON responses above."""
    app.add_exception_handler(GovchainError, _govchain_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(TimeoutError, _timeout)
    app.add_exception_handler(Exception, _unexpected)
