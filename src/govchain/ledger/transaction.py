"""Signed transactions and their canonical encoding.

A transaction is a department's signed statement that something happened: a
catalog entry registered, a request approved, a delivery refused. Its canonical
bytes are the RFC 8785 JSON of all its fields, signature included, so the
transaction id (SHA-256 of those bytes) names exactly one signed statement. The
signature covers the same object without `signature`, behind the domain prefix
`govchain/tx/v1` and a newline so a transaction signature can never be replayed
as a block or checkpoint signature. docs/formats.md gives the byte layout.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import orjson

from govchain._types import DeptId, KeyId, TxId
from govchain.crypto.keys import (
    ALGORITHM,
    KeyFormatError,
    PublicKey,
    SigningKey,
    b64,
    unb64,
)
from govchain.errors import ValidationError, VerificationError
from govchain.ledger.canonical import canonical_json, parse_canonical_json

VERSION = 1
SIGNING_DOMAIN = b"govchain/tx/v1\n"
#: A transaction larger than this is rejected before it is parsed.
MAX_TX_BYTES = 1 << 20

_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_FIELDS = {"v", "type", "dept", "kid", "alg", "nonce", "payload", "signature"}
#: The type of each field but the signature, which is checked on its own.
_FIELD_TYPES: dict[str, type] = {
    "v": int,
    "type": str,
    "dept": str,
    "kid": str,
    "alg": str,
    "nonce": int,
    "payload": dict,
}


@dataclass(frozen=True)
class Transaction:
    """A signed transaction.

    `nonce` is a positive integer that must exceed every nonce the department
    used before, so an old transaction cannot be submitted again as new.
    """

    type: str
    dept: DeptId
    kid: KeyId
    nonce: int
    payload: dict[str, Any]
    signature: bytes
    alg: str = ALGORITHM

    def unsigned_dict(self) -> dict[str, Any]:
        return {
            "v": VERSION,
            "type": self.type,
            "dept": self.dept,
            "kid": self.kid,
            "alg": self.alg,
            "nonce": self.nonce,
            "payload": self.payload,
        }

    def signing_bytes(self) -> bytes:
        return self._signing

    @cached_property
    def _signing(self) -> bytes:
        return _signing_bytes_of(self.canonical_bytes(), self)

    def to_dict(self) -> dict[str, Any]:
        body = self.unsigned_dict()
        body["signature"] = b64(self.signature)
        return body

    def canonical_bytes(self) -> bytes:
        return self._encoded

    @cached_property
    def _encoded(self) -> bytes:
        # Cached on the instance: a transaction is encoded for its id, for the
        # orderer and for the log, and the fields never change.
        return canonical_json(self.to_dict())

    @cached_property
    def id(self) -> TxId:
        return tx_id(self.canonical_bytes())

    def verify_signature(self, public_key: PublicKey) -> None:
        """Raise `VerificationError` unless the signature verifies under the key."""
        if public_key.kid != self.kid:
            raise VerificationError(
                f"transaction names key {self.kid} but the key given is {public_key.kid}"
            )
        public_key.verify(self.signing_bytes(), self.signature)


def _decoded(body: dict[str, Any], signature: bytes, data: bytes) -> Transaction:
    """Build a transaction from checked decoded fields and its canonical bytes.

    Skips the dataclass constructor, whose frozen fields cost one
    `object.__setattr__` each (1.3 us of the 4 a decoded transaction took).
    """
    tx = object.__new__(Transaction)
    tx.__dict__.update(
        type=body["type"],
        dept=body["dept"],
        kid=body["kid"],
        nonce=body["nonce"],
        payload=body["payload"],
        signature=signature,
        alg=body["alg"],
        _encoded=data,
    )
    return tx


def tx_id(canonical_bytes: bytes) -> TxId:
    return TxId(hashlib.sha256(canonical_bytes).hexdigest())


def sign_transaction(
    *, type: str, dept: str, key: SigningKey, nonce: int, payload: dict[str, Any]
) -> Transaction:
    """Build and sign a transaction for `dept` with `key`."""
    unsigned = Transaction(
        type=type,
        dept=DeptId(dept),
        kid=key.kid,
        nonce=nonce,
        payload=payload,
        signature=b"",
    )
    check_shape(unsigned.unsigned_dict())
    signature = key.sign(unsigned.signing_bytes())
    return Transaction(
        type=type,
        dept=DeptId(dept),
        kid=key.kid,
        nonce=nonce,
        payload=payload,
        signature=signature,
    )


def decode_transaction(data: bytes) -> Transaction:
    """Parse canonical transaction bytes, checking form but not the signature.

    Raises `ValidationError` with reason `bad-encoding` when the bytes are not
    canonical JSON or a field is missing, unknown or of the wrong type.
    """
    if len(data) > MAX_TX_BYTES:
        raise ValidationError(
            f"transaction is {len(data)} bytes, over the limit of {MAX_TX_BYTES}",
            reason="too-large",
        )
    body = parse_canonical_json(data)
    # The bytes were checked to be canonical, so they are the encoding.
    return _decoded(body, _checked_signature(body), data)


def decode_checked_transaction(data: bytes) -> Transaction:
    """Parse bytes that `decode_transaction` has already accepted.

    A worker process that checked the signature has also checked the encoding,
    so this skips the canonical-form and field checks. Bytes that did not pass
    them must never reach it.
    """
    body = orjson.loads(data)
    return _decoded(body, base64.b64decode(body["signature"]), data)


def _signing_bytes_of(data: bytes, tx: Transaction) -> bytes:
    """Cut the signing bytes out of canonical transaction bytes.

    The canonical object without `signature` is the same text with the member
    `,"signature":"..."` removed. Sorted keys put it just before the two members
    `type` (a checked `family.action` name, which needs no escapes) and `v`, so it
    is found from the end of the bytes without parsing the payload again.
    """
    tail = b',"type":"%s","v":%d}' % (tx.type.encode("ascii"), VERSION)
    member = b',"signature":"' + b64(tx.signature).encode("ascii") + b'"'
    if not data.endswith(member + tail):
        return SIGNING_DOMAIN + canonical_json(tx.unsigned_dict())
    return SIGNING_DOMAIN + data[: -len(member) - len(tail)] + tail


def transaction_from_dict(body: Any) -> Transaction:
    """Build a transaction from its JSON object form, checking every field."""
    signature = _checked_signature(body)
    return Transaction(
        type=body["type"],
        dept=DeptId(body["dept"]),
        kid=KeyId(body["kid"]),
        nonce=body["nonce"],
        payload=body["payload"],
        signature=signature,
        alg=body["alg"],
    )


def _checked_signature(body: Any) -> bytes:
    """Check every field of a transaction object and return its signature bytes."""
    if not isinstance(body, dict):
        raise ValidationError(
            "transaction must be a JSON object", reason="bad-encoding"
        )
    check_shape(body)
    signature_text = body.get("signature")
    if not isinstance(signature_text, str):
        raise ValidationError(
            "transaction field signature is missing or not a string",
            reason="bad-encoding",
        )
    try:
        signature = unb64(signature_text, field="signature")
    except KeyFormatError as exc:
        raise ValidationError(str(exc), reason="bad-encoding") from exc
    if b64(signature) != signature_text:
        # Base64 with stray padding bits decodes to the same bytes, which would
        # give one signed transaction two encodings and two ids.
        raise ValidationError(
            "signature is not in canonical base64 (RFC 4648 with padding, unused "
            "bits zero)",
            reason="bad-encoding",
        )
    if len(signature) != 64:
        raise ValidationError(
            f"signature is {len(signature)} bytes; Ed25519 signatures are 64",
            reason="bad-encoding",
        )
    return signature


def check_shape(body: dict[str, Any]) -> None:
    """Check field names and types of a transaction object (signature aside)."""
    unknown = set(body) - _FIELDS
    if unknown:
        raise ValidationError(
            f"transaction has unknown fields {sorted(unknown)}", reason="bad-encoding"
        )
    for name, kind in _FIELD_TYPES.items():
        value = body.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValidationError(
                f"transaction field {name} is missing or not a {kind.__name__}",
                reason="bad-encoding",
            )
    if body["v"] != VERSION:
        raise ValidationError(
            f"transaction version {body['v']} is not supported; expected {VERSION}",
            reason="bad-encoding",
        )
    if body["alg"] != ALGORITHM:
        raise ValidationError(
            f"signature algorithm {body['alg']!r} is not supported; expected "
            f"{ALGORITHM!r}",
            reason="bad-encoding",
        )
    if not _TYPE_RE.match(body["type"]):
        raise ValidationError(
            f"transaction type {body['type']!r} is not of the form family.action",
            reason="bad-encoding",
        )
    if body["nonce"] <= 0:
        raise ValidationError("transaction nonce must be positive", reason="bad-nonce")
