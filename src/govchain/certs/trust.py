"""What a verifier trusts: issuer keys, templates, authorizations and revocations.

A `TrustStore` is built from one of three sources:

- a trust list exported from the ledger and signed by the consortium operator
  (`read_trust_list`), optionally with signed revocation lists
  (`govchain.certs.revocation`);
- the ledger state itself, for online verification on a node
  (`govchain.certs.registry.trust_from_state`);
- X.509 certificates or public keys given one by one (`add_foreign_key`), as
  for EU DCC test files. Such keys name no issuer, so the template check is
  skipped for what they sign.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field
from typing import Any

from govchain.certs.keys import PublicCertKey, Verifier, key_from_spki_der
from govchain.crypto.keys import KeyFormatError, PublicKey, SigningKey, b64, unb64
from govchain.errors import VerificationError
from govchain.ledger.canonical import canonical_json

logger = logging.getLogger(__name__)

TRUST_LIST_FORMAT = "govchain-cert-trust-list/1"
TRUST_LIST_DOMAIN = b"govchain/cert-trust-list/v1\n"


@dataclass
class TrustedKey:
    """An issuer key and the window in which it may sign (unix seconds, inclusive).

    `revoked_at` is set once the key is revoked; everything it signed fails.
    """

    key: PublicCertKey
    verifier: Verifier
    issuer: str | None = None
    not_before: int | None = None
    not_after: int | None = None
    revoked_at: int | None = None
    #: Accept an algorithm given only in the unprotected header (EU DCC signers).
    allow_unprotected_alg: bool = False


@dataclass(frozen=True)
class RevocationEntry:
    """One status change of a certificate, named by its hashed id.

    `status` is `revoked`, `suspended` or `valid` (a reinstatement); `at` is
    unix milliseconds of the block that recorded it.
    """

    seq: int
    cert_hash: str
    status: str
    at: int
    reason: str


@dataclass
class TrustStore:
    """Keys by kid, templates by type and version, issuers' types, revocations."""

    keys: dict[bytes, TrustedKey] = field(default_factory=dict)
    templates: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    issuers: dict[str, set[str]] = field(default_factory=dict)
    #: Latest status per hashed certificate id, from revocation lists.
    revocations: dict[str, RevocationEntry] = field(default_factory=dict)
    #: Sequence number after the last revocation entry applied.
    revocations_until: int = 0
    #: Whether a revocation source was applied; without one the verifier skips
    #: the status step, since it cannot tell a revoked certificate from a valid one.
    revocations_known: bool = False
    source: str = ""

    def add_foreign_key(
        self,
        key: PublicCertKey,
        *,
        not_before: int | None = None,
        not_after: int | None = None,
        allow_unprotected_alg: bool = False,
    ) -> None:
        """Trust `key` for signatures without naming an issuer (no template check)."""
        self.keys[key.kid] = TrustedKey(
            key,
            key.verifier(),
            None,
            not_before,
            not_after,
            allow_unprotected_alg=allow_unprotected_alg,
        )

    def apply_revocations(self, entries: list[RevocationEntry]) -> None:
        """Apply revocation entries in order; entries already applied are skipped.

        An empty list still counts as a revocation source: it states that
        nothing was revoked up to its end.
        """
        self.revocations_known = True
        for entry in sorted(entries, key=lambda e: e.seq):
            if entry.seq < self.revocations_until:
                continue
            self.revocations_until = entry.seq + 1
            if entry.status == "valid":
                self.revocations.pop(entry.cert_hash, None)
            else:
                self.revocations[entry.cert_hash] = entry


def trust_list_body(store_state: dict[str, Any]) -> dict[str, Any]:
    """Return the unsigned body of a trust list from registry records."""
    return {"format": TRUST_LIST_FORMAT, **store_state}


def sign_document(
    body: dict[str, Any], *, signer_dept: str, key: SigningKey, domain: bytes
) -> dict[str, Any]:
    """Return `body` with a `signer` and an Ed25519 `signature` over its canonical JSON."""
    signed = dict(body)
    signed["signer"] = {
        "department": signer_dept,
        "kid": key.kid,
        "public_key": key.public_key.to_b64(),
    }
    signed["signature"] = b64(key.sign(domain + canonical_json(signed)))
    return signed


def check_document(
    document: Any, *, domain: bytes, expected_format: str, operator_key: str | None
) -> dict[str, Any]:
    """Check the signature of a signed trust or revocation list and return it.

    `operator_key` is the base64 Ed25519 public key the signer must have. It
    must come from outside the document: the key embedded in the document only
    proves that someone signed it, so `None` raises `VerificationError`.
    """
    if not isinstance(document, dict) or document.get("format") != expected_format:
        raise VerificationError(f"the file is not a {expected_format} document")
    try:
        signer = document["signer"]
        signature = unb64(document["signature"], field="signature")
        public = PublicKey.from_b64(signer["public_key"])
    except (KeyError, TypeError, KeyFormatError) as exc:
        raise VerificationError(
            f"the {expected_format} document has no valid signer or signature"
        ) from exc
    if operator_key is None:
        raise VerificationError(
            f"the {expected_format} document was not checked: no operator key was "
            "given, and the key embedded in the document cannot vouch for itself"
        )
    try:
        pinned = PublicKey.from_b64(operator_key)
    except KeyFormatError as exc:
        raise VerificationError(
            f"the operator key given to check the {expected_format} document is not "
            "a base64 Ed25519 public key"
        ) from exc
    if pinned.to_b64() != public.to_b64():
        raise VerificationError(
            f"the {expected_format} document is signed by key {public.kid}, not by "
            f"the operator key {pinned.kid}; it was not issued by this consortium's "
            "operator or the operator key changed"
        )
    body = {k: v for k, v in document.items() if k != "signature"}
    public.verify(domain + canonical_json(body), signature)
    return document


def read_trust_list(document: Any, *, operator_key: str | None) -> TrustStore:
    """Build a `TrustStore` from a signed trust list after checking its signature."""
    checked = check_document(
        document,
        domain=TRUST_LIST_DOMAIN,
        expected_format=TRUST_LIST_FORMAT,
        operator_key=operator_key,
    )
    return store_from_records(
        checked, source=f"trust list of {checked.get('origin', '?')}"
    )


def store_from_records(records: dict[str, Any], *, source: str) -> TrustStore:
    """Build a `TrustStore` from `keys`, `templates` and `issuers` records."""
    store = TrustStore(source=source)
    for record in records.get("keys", []):
        try:
            key = key_from_spki_der(base64.b64decode(record["public_key"]))
        except ValueError as exc:
            raise VerificationError(
                f"key {record.get('kid')} in the {source} is not usable: {exc}"
            ) from exc
        if key.kid.hex() != record["kid"]:
            raise VerificationError(
                f"key {record['kid']} in the {source} does not match its public key"
            )
        store.keys[key.kid] = TrustedKey(
            key=key,
            verifier=key.verifier(),
            issuer=record["issuer"],
            not_before=record["not_before"],
            not_after=record["not_after"],
            revoked_at=record.get("revoked_at"),
        )
    for template_id, record in records.get("templates", {}).items():
        store.templates[template_id] = {
            int(version): body for version, body in record["versions"].items()
        }
    for dept, record in records.get("issuers", {}).items():
        store.issuers[dept] = set(record["types"])
    return store
