"""Reading the certificate registry from ledger state: trust, status, revocations."""

from __future__ import annotations

from typing import Any

from govchain.certs._handlers import (
    CERT_NS,
    ISSUER_NS,
    KEY_NS,
    REVOCATION_NS,
    TEMPLATE_NS,
)
from govchain.certs.trust import RevocationEntry, TrustStore, store_from_records
from govchain.errors import ConfigError, ValidationError
from govchain.ledger.state import StateReader


def registry_records(state: StateReader) -> dict[str, Any]:
    """Return the keys, templates and issuers of the registry as plain records."""
    keys = []
    for kid, record in state.scan(KEY_NS):
        keys.append(
            {
                "kid": kid,
                "issuer": record["issuer"],
                "alg": record["alg"],
                "public_key": record["public_key"],
                "not_before": record["not_before"],
                "not_after": record["not_after"],
                "status": record["status"],
                "revoked_at": record.get("revoked_at"),
            }
        )
    templates = {
        template_id: {"current": record["current"], "versions": record["versions"]}
        for template_id, record in state.scan(TEMPLATE_NS)
    }
    issuers = {
        dept: {"types": record["types"]}
        for dept, record in state.scan(ISSUER_NS)
        if record["types"]
    }
    return {"keys": keys, "templates": templates, "issuers": issuers}


def operator_key_of(state: StateReader) -> tuple[str, str]:
    """Return the operator department and its current base64 public key."""
    config = state.get("consortium", "config")
    operator = None if config is None else config["consortium"]["operator"]
    record = None if operator is None else state.get("dept", operator)
    if record is None or not record.get("public_key"):
        raise ConfigError(
            "the ledger names no operator with a public key; the node home has no "
            "genesis yet"
        )
    return str(operator), str(record["public_key"])


def trust_from_state(state: StateReader) -> TrustStore:
    """Build the `TrustStore` of the ledger as it stands, revocations included."""
    store = store_from_records(registry_records(state), source="ledger")
    store.apply_revocations(revocation_entries(state))
    return store


def revocation_entries(state: StateReader, since: int = 0) -> list[RevocationEntry]:
    """Return the revocation list entries with sequence number `since` or later."""
    return [
        RevocationEntry(
            seq=record["seq"],
            cert_hash=record["cert_hash"],
            status=record["status"],
            at=record["at"],
            reason=record["reason"],
        )
        for _key, record in state.scan(REVOCATION_NS)
        if record["seq"] >= since
    ]


def get_certificate(state: StateReader, cert_id: str) -> dict[str, Any]:
    """Return the ledger record of a certificate, or raise `ValidationError`."""
    record = state.get(CERT_NS, cert_id.lower())
    if record is None:
        raise ValidationError(
            f"certificate {cert_id} is not on the ledger; check the id on the card",
            reason="unknown-certificate",
        )
    return record


def certificate_status(state: StateReader, cert_id: str, *, now: int) -> dict[str, Any]:
    """Return a certificate's status at unix time `now` (seconds) with its record.

    The status is `revoked` or `suspended` as the issuer set it, `revoked` too
    when its signing key was revoked, `expired` after its expiry and
    `not_yet_valid` before its issued-at time, else `valid`.
    """
    record = get_certificate(state, cert_id)
    key = state.get(KEY_NS, record["kid"]) or {}
    status = record["status"]
    reason = record.get("status_reason")
    if status == "valid" and key.get("status") == "revoked":
        status, reason = "revoked", "key-revoked"
    elif status == "valid" and now > record["exp"]:
        status = "expired"
    elif status == "valid" and now < record["iat"]:
        status = "not_yet_valid"
    return {
        "id": record["id"],
        "status": status,
        "reason": reason,
        "type": record["type"],
        "issuer": record["issuer"],
        "issued_at": record["iat"],
        "expires_at": record["exp"],
        "hash": record["hash"],
    }
