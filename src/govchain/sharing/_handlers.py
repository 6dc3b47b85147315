"""State handlers of the sharing workflow: requests, approvals, grants, deliveries.

A request names a resource, the fields wanted, a purpose and a term. The
consortium policy picks its approval path from the resource's sharing type and
sensitivity level and from where the consumer sits. Each step carries a
deadline in working days. Unconditional resources are granted at once and
not-shared ones are always refused. Every delivery, and every refused attempt,
is a transaction: refusals stay on the ledger as rejected transactions whose
reason names the rule that refused them.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Any

from govchain.catalog._handlers import get_resource
from govchain.consortium._handlers import consortium_config, operator_of
from govchain.consortium._model import Consortium
from govchain.errors import PolicyError, ValidationError
from govchain.governance.personal_data import check_free_text
from govchain.ledger.apply import DEPT_NS
from govchain.ledger.canonical import canonical_json
from govchain.ledger.state import TxContext, handler
from govchain.sharing.calendar import deadline
from govchain.sharing.policy import approval_path

REQUEST_NS = "request"
GRANT_NS = "grant"
DELIVERY_NS = "delivery"
#: Pending requests by consumer, resource and terms, to refuse repeats.
OPEN_REQUEST_NS = "open-request"

DAY_MS = 86_400_000
#: Maximum term of a grant: ten years.
MAX_TERM_DAYS = 3650
_HEX64_RE = re.compile(r"^[0-9a-f]{64}$")


def _bad(message: str) -> ValidationError:
    return ValidationError(message, reason="bad-payload")


@lru_cache(maxsize=8)
def _parse_consortium(text: bytes) -> Consortium:
    import json

    return Consortium.from_ledger(json.loads(text))


def current_consortium(ctx: TxContext) -> Consortium:
    """Return the consortium as recorded on the ledger now, admitted departments included."""
    config = dict(consortium_config(ctx))
    config["departments"] = [
        {
            "id": dept_id,
            "name": record["name"],
            "region": record["region"],
            "level": record["level"],
            "line": record["line"],
        }
        for dept_id, record in ctx.state.scan(DEPT_NS)
    ]
    return _parse_consortium(canonical_json(config))


def _string(payload: dict[str, Any], name: str, *, limit: int = 1000) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _bad(f"field {name} is required and must be a non-empty string")
    if len(value) > limit:
        raise _bad(f"field {name} is over {limit} characters")
    return value.strip()


def _check_fields(resource: dict[str, Any], wanted: Any) -> list[str]:
    if (
        not isinstance(wanted, list)
        or not wanted
        or not all(isinstance(f, str) for f in wanted)
    ):
        raise _bad("field fields must be a non-empty list of field names")
    known = {f["name"] for f in resource["fields"]}
    unknown = [f for f in wanted if f not in known]
    if unknown:
        raise ValidationError(
            f"resource {resource['id']!r} has no field(s) {unknown}; its fields are "
            f"{sorted(known)}",
            reason="unknown-field",
        )
    return sorted(set(wanted))


def _new_id(prefix: str, ctx: TxContext) -> str:
    return ctx.new_id(prefix)


def _grant(ctx: TxContext, request: dict[str, Any]) -> dict[str, Any]:
    grant = {
        "id": _new_id("grant", ctx),
        "request": request["id"],
        "resource": request["resource"],
        "owner": request["owner"],
        "consumer": request["consumer"],
        "fields": request["fields"],
        "purpose": request["purpose"],
        "granted": ctx.block_time,
        "expires": ctx.block_time + request["term_days"] * DAY_MS,
        "status": "active",
    }
    ctx.state.put(GRANT_NS, grant["id"], grant)
    ctx.add_subject(f"grant:{grant['id']}")
    return grant


@handler("sharing.request")
def request(ctx: TxContext) -> None:
    payload = ctx.tx.payload
    resource = get_resource(ctx, payload.get("resource"))
    consumer = ctx.tx.dept
    ctx.add_subject(f"dept:{consumer}")
    if resource["status"] != "active":
        raise ValidationError(
            f"resource {resource['id']!r} is retired", reason="retired"
        )
    if resource["owner"] == consumer:
        raise PolicyError(
            "a department does not request its own resource", reason="own-resource"
        )
    fields = _check_fields(resource, payload.get("fields"))
    purpose = _string(payload, "purpose")
    check_free_text({"purpose": purpose})
    term = payload.get("term_days")
    if (
        not isinstance(term, int)
        or isinstance(term, bool)
        or not 1 <= term <= MAX_TERM_DAYS
    ):
        raise _bad(f"field term_days must be an integer from 1 to {MAX_TERM_DAYS}")
    open_key = _open_request_key(consumer, resource["id"], fields, purpose, term)
    _refuse_repeat(ctx, open_key)
    consortium = current_consortium(ctx)
    path = approval_path(
        consortium,
        owner_id=resource["owner"],
        consumer_id=consumer,
        sharing=resource["sharing"],
        level=resource["level"],
    )
    if path.refused:
        raise PolicyError(
            f"resource {resource['id']!r} is not shared: {path.reason}",
            reason="not-shared",
        )
    start = ctx.block_time
    steps = []
    for step in path.steps:
        due = deadline(consortium.policy, start, step.working_days)
        approver = (
            resource["owner"] if step.approver == "owner" else consortium.operator
        )
        steps.append(
            {
                "approver": approver,
                "role": step.approver,
                "working_days": step.working_days,
                "due": due,
                "decided": None,
            }
        )
        start = due
    req: dict[str, Any] = {
        "id": _new_id("req", ctx),
        "resource": resource["id"],
        "owner": resource["owner"],
        "consumer": consumer,
        "fields": fields,
        "purpose": purpose,
        "term_days": term,
        "rule": path.rule,
        "steps": steps,
        "step": 0,
        "status": "pending",
        "created": ctx.block_time,
        "escalated": False,
    }
    ctx.add_subject(f"request:{req['id']}")
    if not steps:
        req["status"] = "granted"
        req["grant"] = _grant(ctx, req)["id"]
    else:
        ctx.state.put(OPEN_REQUEST_NS, open_key, {"request": req["id"]})
    ctx.state.put(REQUEST_NS, req["id"], req)


def _open_request_key(
    consumer: str, resource_id: str, fields: list[str], purpose: str, term: int
) -> str:
    """Key of a request's terms, so that the same request made twice is found."""
    terms = canonical_json(
        {"fields": sorted(fields), "purpose": purpose, "term_days": term}
    )
    return f"{consumer}|{resource_id}|{hashlib.sha256(terms).hexdigest()[:32]}"


def _refuse_repeat(ctx: TxContext, open_key: str) -> None:
    """Refuse a request identical to one of the consumer's still pending.

    A form sent twice, or a retried call, would otherwise put two requests in
    the owner's inbox. The index entry stays after a decision; it counts only
    while the request it names is pending.
    """
    entry = ctx.state.get(OPEN_REQUEST_NS, open_key)
    if entry is None:
        return
    earlier = ctx.state.get(REQUEST_NS, entry["request"])
    if earlier is not None and earlier["status"] == "pending":
        raise PolicyError(
            f"request {earlier['id']!r} with the same fields, purpose and term is "
            "still pending; wait for its decision instead of asking again",
            reason="duplicate-request",
        )


def _pending_request(ctx: TxContext) -> dict[str, Any]:
    request_id = ctx.tx.payload.get("request")
    if not isinstance(request_id, str):
        raise _bad("field request is missing or not a string")
    req = ctx.state.get(REQUEST_NS, request_id)
    if req is None:
        raise ValidationError(
            f"request {request_id!r} is unknown", reason="unknown-request"
        )
    ctx.add_subject(f"request:{request_id}")
    ctx.add_subject(f"resource:{req['resource']}")
    if req["status"] != "pending":
        raise ValidationError(
            f"request {request_id!r} is already {req['status']}", reason="not-pending"
        )
    step = req["steps"][req["step"]]
    if step["approver"] != ctx.tx.dept:
        raise PolicyError(
            f"step {req['step'] + 1} of request {request_id!r} is for {step['approver']!r} "
            f"to decide, not {ctx.tx.dept!r}",
            reason="not-approver",
        )
    return req


@handler("sharing.approve")
def approve(ctx: TxContext) -> None:
    req = _pending_request(ctx)
    step = req["steps"][req["step"]]
    step["decided"] = ctx.block_time
    step["decision"] = "approved"
    req["step"] += 1
    if req["step"] == len(req["steps"]):
        req["status"] = "granted"
        req["grant"] = _grant(ctx, req)["id"]
    ctx.state.put(REQUEST_NS, req["id"], req)


@handler("sharing.reject")
def reject(ctx: TxContext) -> None:
    reason = ctx.tx.payload.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError(
            "a rejection needs a reason for the requesting department",
            reason="reason-required",
        )
    check_free_text({"reason": reason})
    req = _pending_request(ctx)
    step = req["steps"][req["step"]]
    step["decided"] = ctx.block_time
    step["decision"] = "rejected"
    req["status"] = "rejected"
    req["reason"] = reason.strip()[:1000]
    ctx.state.put(REQUEST_NS, req["id"], req)


@handler("sharing.escalate")
def escalate(ctx: TxContext) -> None:
    config = consortium_config(ctx)
    req = ctx.state.get(REQUEST_NS, str(ctx.tx.payload.get("request")))
    if req is None:
        raise ValidationError(
            "request to escalate is unknown", reason="unknown-request"
        )
    ctx.add_subject(f"request:{req['id']}")
    ctx.add_subject(f"resource:{req['resource']}")
    if ctx.tx.dept != operator_of(config):
        raise PolicyError(
            "only the platform operator escalates requests", reason="not-operator"
        )
    if req["status"] != "pending":
        raise ValidationError(
            f"request {req['id']!r} is {req['status']}", reason="not-pending"
        )
    due = req["steps"][req["step"]]["due"]
    if ctx.block_time <= due:
        raise ValidationError(
            f"request {req['id']!r} is not overdue: its step is due at {due}",
            reason="not-overdue",
        )
    req["escalated"] = True
    req["escalated_at"] = ctx.block_time
    ctx.state.put(REQUEST_NS, req["id"], req)


def grant_status(grant: dict[str, Any], block_time: int) -> str:
    """Return active, expired or revoked for `grant` at `block_time`."""
    if grant["status"] == "revoked":
        return "revoked"
    if block_time >= grant["expires"]:
        return "expired"
    return "active"


def _grant_of(ctx: TxContext) -> dict[str, Any]:
    grant_id = ctx.tx.payload.get("grant")
    if not isinstance(grant_id, str):
        raise ValidationError("the delivery names no grant", reason="no-grant")
    grant = ctx.state.get(GRANT_NS, grant_id)
    if grant is None:
        raise ValidationError(f"grant {grant_id!r} does not exist", reason="no-grant")
    ctx.add_subject(f"grant:{grant_id}")
    ctx.add_subject(f"resource:{grant['resource']}")
    return grant


@handler("sharing.revoke")
def revoke(ctx: TxContext) -> None:
    grant = _grant_of(ctx)
    config = consortium_config(ctx)
    if ctx.tx.dept not in (grant["owner"], operator_of(config)):
        raise PolicyError(
            f"only the owner {grant['owner']!r} or the operator may revoke a grant",
            reason="not-owner",
        )
    check_free_text({"reason": _string(ctx.tx.payload, "reason")})
    if grant["status"] == "revoked":
        raise ValidationError(
            f"grant {grant['id']!r} is already revoked", reason="revoked"
        )
    grant["status"] = "revoked"
    grant["revoked"] = ctx.block_time
    ctx.state.put(GRANT_NS, grant["id"], grant)


@handler("sharing.deliver")
def deliver(ctx: TxContext) -> None:
    """Record a delivery by the provider, or reject the attempt with its reason.

    The provider submits this for every attempt a consumer makes, so a refused
    attempt (no grant, expired, revoked, not shared, wrong fields) is on the
    ledger as a rejected transaction with that reason.
    """
    payload = ctx.tx.payload
    consumer = _string(payload, "consumer", limit=64)
    ctx.add_subject(f"dept:{consumer}")
    if "resource" in payload:
        # Named first, so even an attempt with an unknown grant shows in the
        # resource's audit trail.
        named = get_resource(ctx, payload["resource"])
        if "grant" not in payload and named["sharing"] == "not_shared":
            raise PolicyError(
                f"resource {named['id']!r} is not shared", reason="not-shared"
            )
    grant = _grant_of(ctx)
    if payload.get("resource", grant["resource"]) != grant["resource"]:
        raise PolicyError(
            f"grant {grant['id']!r} is for resource {grant['resource']!r}, not "
            f"{payload['resource']!r}",
            reason="wrong-resource",
        )
    if grant["owner"] != ctx.tx.dept:
        raise PolicyError(
            f"grant {grant['id']!r} is delivered by its owner {grant['owner']!r}",
            reason="not-owner",
        )
    if grant["consumer"] != consumer:
        raise PolicyError(
            f"grant {grant['id']!r} was given to {grant['consumer']!r}, not {consumer!r}",
            reason="wrong-consumer",
        )
    status = grant_status(grant, ctx.block_time)
    if status != "active":
        raise PolicyError(f"grant {grant['id']!r} is {status}", reason=status)
    resource = get_resource(ctx, grant["resource"])
    if resource["sharing"] == "not_shared":
        raise PolicyError(
            f"resource {resource['id']!r} is not shared", reason="not-shared"
        )
    if not resource.get("latest_version"):
        raise ValidationError(
            f"resource {resource['id']!r} has no published version to deliver",
            reason="no-version",
        )
    k_report = payload.get("k_anonymity")
    if isinstance(k_report, dict) and k_report.get("met") is False:
        raise PolicyError(
            f"the delivery of {resource['id']!r} stays below k = "
            f"{k_report.get('target')} after generalization: {k_report.get('reason')}",
            reason="k-anonymity",
        )
    fields = payload.get("fields")
    if not isinstance(fields, list) or not set(fields) <= set(grant["fields"]):
        raise PolicyError(
            f"fields {fields!r} exceed the fields granted {grant['fields']!r}",
            reason="wrong-fields",
        )
    content_hash = payload.get("content_hash")
    if not isinstance(content_hash, str) or not _HEX64_RE.match(content_hash):
        raise _bad("field content_hash must be a 64-character hex SHA-256 digest")
    delivery = {
        "id": _new_id("dlv", ctx),
        "grant": grant["id"],
        "resource": grant["resource"],
        "version": str(payload.get("version", "")),
        "consumer": consumer,
        "fields": sorted(fields),
        "content_hash": content_hash,
        "row_count": int(payload.get("row_count", 0)),
        "purpose": grant["purpose"],
        "policy": str(payload.get("policy", "")),
        "k_anonymity": k_report if isinstance(k_report, dict) else None,
        "delivered": ctx.block_time,
        "received": None,
    }
    ctx.state.put(DELIVERY_NS, delivery["id"], delivery)
    ctx.add_subject(f"delivery:{delivery['id']}")


@handler("sharing.receive")
def receive(ctx: TxContext) -> None:
    """Record that the consumer received a delivery and its content hash matched."""
    delivery_id = _string(ctx.tx.payload, "delivery", limit=64)
    delivery = ctx.state.get(DELIVERY_NS, delivery_id)
    if delivery is None:
        raise ValidationError(
            f"delivery {delivery_id!r} is unknown", reason="unknown-delivery"
        )
    ctx.add_subject(f"delivery:{delivery_id}")
    ctx.add_subject(f"resource:{delivery['resource']}")
    if delivery["consumer"] != ctx.tx.dept:
        raise PolicyError(
            f"delivery {delivery_id!r} went to {delivery['consumer']!r}",
            reason="wrong-consumer",
        )
    if ctx.tx.payload.get("content_hash") != delivery["content_hash"]:
        raise ValidationError(
            "the content hash the consumer computed differs from the one delivered",
            reason="hash-mismatch",
        )
    delivery["received"] = ctx.block_time
    ctx.state.put(DELIVERY_NS, delivery_id, delivery)


def fingerprint(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()
