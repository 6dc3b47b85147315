"""The claims of a certificate as a CBOR Web Token (RFC 8392).

| label  | claim | govchain value                                          |
|--------|-------|---------------------------------------------------------|
| 1      | iss   | issuing department id                                   |
| 2      | sub   | pseudonymous subject id (keyed HMAC, never an ID number)|
| 4      | exp   | expiry, unix seconds                                    |
| 6      | iat   | issued at, unix seconds                                 |
| 7      | cti   | certificate id, 16 random bytes                         |
| -70001 | body  | `{"t": type, "v": template version, "c": {claims}}`     |

-70001 lies in the private-use range of CWT claim keys. EU DCC payloads carry
their certificate under -260 instead; the verifier reads their iss, iat and
exp and keeps the -260 map as it is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import cbor2

from govchain.certs.cose import MAP_TYPES, loads
from govchain.certs.errors import CertificateError

ISS, SUB, EXP, IAT, CTI = 1, 2, 4, 6, 7
BODY = -70001
DCC_BODY = -260
CERT_ID_BYTES = 16


@dataclass(frozen=True)
class CertificateClaims:
    """The claims of one certificate. `type` is empty for an EU DCC certificate."""

    issuer: str
    issued_at: int
    expires_at: int
    subject: str = ""
    cert_id: bytes = b""
    type: str = ""
    template_version: int = 0
    claims: dict[str, Any] = field(default_factory=dict)
    foreign: dict[Any, Any] | None = None

    @property
    def id(self) -> str:
        return self.cert_id.hex()


def encode_claims(claims: CertificateClaims) -> bytes:
    """Return the CWT bytes of a govchain certificate."""
    return cbor2.dumps(
        {
            ISS: claims.issuer,
            SUB: claims.subject,
            EXP: claims.expires_at,
            IAT: claims.issued_at,
            CTI: claims.cert_id,
            BODY: {"t": claims.type, "v": claims.template_version, "c": claims.claims},
        }
    )


def cert_id_hash(cert_id: bytes) -> str:
    """Return the hashed certificate id that revocation lists carry."""
    return hashlib.sha256(b"govchain/cert-id/v1\n" + cert_id).hexdigest()


def decode_claims(payload: bytes) -> CertificateClaims:
    """Parse CWT bytes; raise `CertificateError` code `claims` naming the bad claim."""
    try:
        token = loads(payload)
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError) as exc:
        raise CertificateError(
            "cbor", f"the certificate's claims are not valid CBOR: {exc}"
        ) from exc
    if not isinstance(token, MAP_TYPES):
        raise CertificateError("cbor", "the certificate's claims are not a CBOR map")
    issuer = token.get(ISS, "")
    if not isinstance(issuer, str):
        raise _bad("the issuer (iss) is not text")
    issued_at = _time(token, IAT, "issued-at (iat)")
    expires_at = _time(token, EXP, "expiry (exp)")
    if BODY not in token:
        foreign = token.get(DCC_BODY)
        if not isinstance(foreign, MAP_TYPES):
            raise _bad("the certificate carries neither a govchain nor an EU DCC body")
        if not isinstance(foreign.get(1), MAP_TYPES):
            raise CertificateError(
                "cbor", "the EU DCC body (claim -260, key 1) is not a map"
            )
        return CertificateClaims(issuer, issued_at, expires_at, foreign=dict(foreign))
    subject = token.get(SUB)
    cert_id = token.get(CTI)
    body = token[BODY]
    if not isinstance(subject, str) or not subject:
        raise _bad("the subject (sub) is missing")
    if not isinstance(cert_id, bytes) or len(cert_id) != CERT_ID_BYTES:
        raise _bad(f"the certificate id (cti) is not {CERT_ID_BYTES} bytes")
    if not isinstance(body, MAP_TYPES):
        raise _bad("the certificate body is not a map")
    kind, version, values = body.get("t"), body.get("v"), body.get("c")
    if not isinstance(kind, str) or not kind:
        raise _bad("the certificate type is missing")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _bad("the template version is not an integer")
    if not isinstance(values, MAP_TYPES) or not all(isinstance(k, str) for k in values):
        raise _bad("the claims are not a map of named values")
    return CertificateClaims(
        issuer, issued_at, expires_at, subject, cert_id, kind, version, dict(values)
    )


def _time(token: Mapping[Any, Any], label: int, name: str) -> int:
    value = token.get(label)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad(f"the {name} claim is missing or not a number of seconds")
    return value


def _bad(detail: str) -> CertificateError:
    return CertificateError("claims", detail)
