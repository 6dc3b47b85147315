"""State handlers of the certificate registry: templates, issuers, keys, statuses.

The ledger records which department may issue which certificate type, each
issuer's signing keys with their validity, and for every certificate its hash,
type, issuer, key, validity and status. It never records a name or an ID
number: the certificate's contents stay with the holder and the issuer.

State namespaces: `certtpl` (templates with every version), `certissuer`
(authorized types per department), `certkey` (signing keys by hex kid),
`cert` (certificates by hex id) and `certrev` (the revocation list, one entry
per status change, by zero-padded sequence number, with its counter under
`certmeta/revocations`).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from govchain.certs.cwt import CERT_ID_BYTES, cert_id_hash
from govchain.certs.keys import KID_BYTES, key_from_spki_der
from govchain.certs.templates import check_template
from govchain.consortium._handlers import require_operator
from govchain.errors import PolicyError, ValidationError
from govchain.ledger.state import TxContext, handler

TEMPLATE_NS = "certtpl"
ISSUER_NS = "certissuer"
KEY_NS = "certkey"
CERT_NS = "cert"
REVOCATION_NS = "certrev"
META_NS = "certmeta"
#: Certificates one `cert.issue` transaction may record.
MAX_BATCH = 2000
#: How far an issued-at time may lie before or after the block time, in seconds.
ISSUED_AT_LEAD_S = 600
ISSUED_AT_LAG_S = 86_400
MAX_KEY_YEARS = 5
STATUSES = ("valid", "suspended", "revoked")
_HEX_RE = re.compile(r"^[0-9a-f]+$")
#: Reasons of a status change or a key revocation. They are codes, not free
#: text, so no name or diagnosis can reach the ledger through them.
REASON_CODES = (
    "issued-in-error",
    "holder-unfit",
    "under-review",
    "review-cleared",
    "superseded",
    "fraud",
    "key-compromise",
    "key-retired",
    "other",
)


def _bad(message: str) -> ValidationError:
    return ValidationError(message, reason="bad-payload")


def _int(payload: dict[str, Any], name: str) -> int:
    value = payload.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _bad(f"field {name} must be a non-negative integer")
    return value


def _hex(payload: dict[str, Any], name: str, size: int) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or len(value) != 2 * size or not _HEX_RE.match(value):
        raise _bad(f"field {name} must be {2 * size} lower-case hex characters")
    return value


def _reason(payload: dict[str, Any]) -> str:
    reason = payload.get("reason")
    if reason not in REASON_CODES:
        raise _bad(f"field reason {reason!r} is not one of {', '.join(REASON_CODES)}")
    return str(reason)


@handler("cert.define_template")
def define_template(ctx: TxContext) -> None:
    """Define a certificate type, or a new version of it (operator only)."""
    require_operator(ctx)
    template = check_template(ctx.tx.payload.get("template"))
    record = ctx.state.get(TEMPLATE_NS, template["id"]) or {
        "id": template["id"],
        "versions": {},
    }
    version = len(record["versions"]) + 1
    template["version"] = version
    template["defined_at"] = ctx.block_time
    record["versions"][str(version)] = template
    record["current"] = version
    ctx.state.put(TEMPLATE_NS, template["id"], record)
    ctx.add_subject(f"certtype:{template['id']}")


@handler("cert.authorize_issuer")
def authorize_issuer(ctx: TxContext) -> None:
    """Set the certificate types a department may issue (operator only)."""
    require_operator(ctx)
    payload = ctx.tx.payload
    dept = payload.get("department")
    types = payload.get("types")
    if not isinstance(dept, str) or ctx.state.get("dept", dept) is None:
        raise ValidationError(
            f"department {dept!r} is not a member of the consortium",
            reason="unknown-department",
        )
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise _bad("field types must be a list of certificate type ids")
    for kind in types:
        if ctx.state.get(TEMPLATE_NS, kind) is None:
            raise ValidationError(
                f"certificate type {kind!r} is not defined; define its template first",
                reason="unknown-template",
            )
    ctx.state.put(ISSUER_NS, dept, {"department": dept, "types": sorted(set(types))})
    ctx.add_subject(f"dept:{dept}")


def _issuer_types(ctx: TxContext, dept: str) -> list[str]:
    record = ctx.state.get(ISSUER_NS, dept)
    types: list[str] = [] if record is None else record["types"]
    if not types:
        raise PolicyError(
            f"department {dept!r} is not an authorized certificate issuer; the "
            "operator authorizes issuers with `govchain cert issuer authorize`",
            reason="not-issuer",
        )
    return types


@handler("cert.register_key")
def register_key(ctx: TxContext) -> None:
    """Register a signing key of the submitting issuer, possibly replacing one."""
    payload = ctx.tx.payload
    dept = ctx.tx.dept
    _issuer_types(ctx, dept)
    kid = _hex(payload, "kid", KID_BYTES)
    try:
        spki = base64.b64decode(str(payload.get("public_key", "")), validate=True)
        key = key_from_spki_der(spki)
    except (ValueError, binascii.Error, TypeError) as exc:
        raise _bad("field public_key must be a base64 SubjectPublicKeyInfo") from exc
    if key.kid.hex() != kid:
        raise _bad(f"kid {kid} is not the key id of the public key ({key.kid.hex()})")
    if key.alg != "EdDSA":
        raise _bad(f"issuer keys must be Ed25519; this one is {key.alg}")
    if ctx.state.get(KEY_NS, kid) is not None:
        raise ValidationError(f"key {kid} is already registered", reason="duplicate")
    not_before, not_after = _int(payload, "not_before"), _int(payload, "not_after")
    if not not_before < not_after <= not_before + MAX_KEY_YEARS * 366 * 86_400:
        raise _bad(
            f"the key's validity must end after it starts and last at most "
            f"{MAX_KEY_YEARS} years"
        )
    replaces = payload.get("replaces")
    if replaces is not None:
        _retire(ctx, str(replaces), kid, not_before)
    ctx.state.put(
        KEY_NS,
        kid,
        {
            "kid": kid,
            "issuer": dept,
            "alg": key.alg,
            "public_key": base64.b64encode(key.spki).decode("ascii"),
            "not_before": not_before,
            "not_after": not_after,
            "status": "active",
            "registered_at": ctx.block_time,
        },
    )
    ctx.add_subject(f"certkey:{kid}")


def _retire(ctx: TxContext, old_kid: str, new_kid: str, at: int) -> None:
    old = ctx.state.get(KEY_NS, old_kid)
    if old is None or old["issuer"] != ctx.tx.dept:
        raise ValidationError(
            f"key {old_kid} to replace is not a key of {ctx.tx.dept}",
            reason="unknown-key",
        )
    if old["status"] != "active":
        raise ValidationError(f"key {old_kid} is {old['status']}", reason="not-active")
    old["not_after"] = min(old["not_after"], at)
    old["replaced_by"] = new_kid
    ctx.state.put(KEY_NS, old_kid, old)
    ctx.add_subject(f"certkey:{old_kid}")


@handler("cert.revoke_key")
def revoke_key(ctx: TxContext) -> None:
    """Revoke a signing key: every certificate it signed fails verification."""
    payload = ctx.tx.payload
    kid = _hex(payload, "kid", KID_BYTES)
    record = ctx.state.get(KEY_NS, kid)
    if record is None:
        raise ValidationError(f"key {kid} is not registered", reason="unknown-key")
    config = ctx.state.get("consortium", "config")
    operator = config["consortium"]["operator"] if config else None
    if ctx.tx.dept not in (record["issuer"], operator):
        raise PolicyError(
            f"only {record['issuer']} or the operator may revoke key {kid}",
            reason="not-owner",
        )
    if record["status"] == "revoked":
        raise ValidationError(f"key {kid} is already revoked", reason="duplicate")
    record["status"] = "revoked"
    record["revoked_at"] = ctx.block_time // 1000
    record["reason"] = _reason(payload)
    ctx.state.put(KEY_NS, kid, record)
    ctx.add_subject(f"certkey:{kid}")


@handler("cert.issue")
def issue(ctx: TxContext) -> None:
    """Record a batch of issued certificates; the batch is applied whole or not at all."""
    types = _issuer_types(ctx, ctx.tx.dept)
    items = ctx.tx.payload.get("certificates")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        raise _bad(f"field certificates must list 1 to {MAX_BATCH} certificates")
    keys: dict[str, dict[str, Any]] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise _bad(f"certificates[{i}] must be an object")
        record = _issued_record(ctx, item, i, types, keys)
        ctx.state.put(CERT_NS, record["id"], record)
    ctx.add_subject(f"dept:{ctx.tx.dept}")


def _issued_record(
    ctx: TxContext,
    item: dict[str, Any],
    index: int,
    types: list[str],
    keys: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    where = f"certificates[{index}]"
    cert_id = _hex(item, "id", CERT_ID_BYTES)
    digest = _hex(item, "hash", 32)
    kind, kid = item.get("type"), _hex(item, "kid", KID_BYTES)
    iat, exp = _int(item, "iat"), _int(item, "exp")
    if kind not in types:
        raise PolicyError(
            f"{where}: {ctx.tx.dept} may not issue certificates of type {kind!r}",
            reason="not-authorized",
        )
    template = ctx.state.get(TEMPLATE_NS, str(kind))
    assert template is not None
    version = item.get("version")
    spec = template["versions"].get(str(version))
    if spec is None:
        raise _bad(f"{where}: type {kind} has no template version {version!r}")
    if kid not in keys:
        keys[kid] = ctx.state.get(KEY_NS, kid) or {}
    key = keys[kid]
    if key.get("issuer") != ctx.tx.dept or key.get("status") != "active":
        raise PolicyError(
            f"{where}: key {kid} is not an active key of {ctx.tx.dept}",
            reason="bad-key",
        )
    if not key["not_before"] <= iat <= key["not_after"]:
        raise PolicyError(
            f"{where}: issued-at {iat} lies outside the validity of key {kid}",
            reason="bad-key",
        )
    now = ctx.block_time // 1000
    if not now - ISSUED_AT_LAG_S <= iat <= now + ISSUED_AT_LEAD_S:
        raise _bad(
            f"{where}: issued-at {iat} is more than a day before or ten minutes "
            f"after the block time {now}"
        )
    if not iat < exp <= iat + spec["validity_days"] * 86_400:
        raise _bad(
            f"{where}: expiry must follow issued-at by at most "
            f"{spec['validity_days']} days"
        )
    if ctx.state.get(CERT_NS, cert_id) is not None:
        raise ValidationError(
            f"{where}: certificate {cert_id} exists", reason="duplicate"
        )
    return {
        "id": cert_id,
        "hash": digest,
        "type": kind,
        "version": version,
        "issuer": ctx.tx.dept,
        "kid": kid,
        "iat": iat,
        "exp": exp,
        "status": "valid",
        "recorded_at": ctx.block_time,
    }


@handler("cert.set_status")
def set_status(ctx: TxContext) -> None:
    """Suspend, reinstate or revoke a certificate (its issuer only); revoking is final."""
    payload = ctx.tx.payload
    cert_id = _hex(payload, "id", CERT_ID_BYTES)
    status = payload.get("status")
    if status not in STATUSES:
        raise _bad(f"field status must be one of {', '.join(STATUSES)}")
    record = ctx.state.get(CERT_NS, cert_id)
    if record is None:
        raise ValidationError(
            f"certificate {cert_id} is not on the ledger", reason="unknown-certificate"
        )
    if record["issuer"] != ctx.tx.dept:
        raise PolicyError(
            f"only the issuer {record['issuer']} may change certificate {cert_id}",
            reason="not-owner",
        )
    if record["status"] == "revoked":
        raise PolicyError(
            f"certificate {cert_id} is revoked, which is final; issue a new one",
            reason="revoked",
        )
    if record["status"] == status:
        raise ValidationError(
            f"certificate {cert_id} is already {status}", reason="duplicate"
        )
    reason = _reason(payload)
    record.update(status=status, status_reason=reason, status_at=ctx.block_time)
    ctx.state.put(CERT_NS, cert_id, record)
    counter = ctx.state.get(META_NS, "revocations") or {"next": 0}
    seq = counter["next"]
    ctx.state.put(
        REVOCATION_NS,
        f"{seq:010d}",
        {
            "seq": seq,
            "cert_hash": cert_id_hash(bytes.fromhex(cert_id)),
            "status": status,
            "at": ctx.block_time,
            "reason": reason,
        },
    )
    ctx.state.put(META_NS, "revocations", {"next": seq + 1})
    ctx.add_subject(f"cert:{cert_id}")
