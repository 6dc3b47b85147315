"""COSE_Sign1 (RFC 9052 section 4.2) as certificates use it.

A signed certificate is the CBOR array `[protected, unprotected, payload,
signature]`, tagged 18. `protected` is a byte string that contains a CBOR map
with the algorithm (label 1) and usually the key id (label 4). The signature
covers it through the Sig_structure `["Signature1", protected, b"", payload]`.

`Sign1.headers` applies the header rules: the algorithm must be in the
protected map, the key id is taken from the protected map or, only when that
has none, from the unprotected map, and two different key ids are rejected
because the unprotected one is not covered by the signature.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cbor2

from govchain.certs.errors import CertificateError
from govchain.certs.keys import ALGORITHM_IDS, ALGORITHMS, CertSigner

COSE_SIGN1_TAG = 18
ALG = 1
CRIT = 2
CONTENT_TYPE = 3
KID = 4
#: Header labels this parser understands, so `crit` may list them.
UNDERSTOOD = frozenset({ALG, CONTENT_TYPE, KID})
#: The types cbor2 (6.x) decodes a CBOR map into: a dict, or a frozendict
#: inside a tag. A tuple check is much faster than one against `Mapping`.
MAP_TYPES = (dict, cbor2.frozendict)
#: cbor2 (6.x) returns arrays as tuples; its decode errors subclass ValueError.
_CBOR_ERRORS = (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError)


@dataclass(frozen=True)
class Sign1:
    """A COSE_Sign1 split into its parts; `headers` checks them."""

    protected: bytes
    protected_header: Mapping[Any, Any]
    unprotected_header: Mapping[Any, Any]
    payload: bytes
    signature: bytes

    def to_be_signed(self) -> bytes:
        return sig_structure(self.protected, self.payload)

    def headers(self, *, allow_unprotected_alg: bool = False) -> tuple[str, bytes]:
        """Return `(algorithm name, kid)` after checking the header rules.

        Raises `CertificateError` with code `alg_not_protected`, `unknown_alg`,
        `unknown_critical_header`, `missing_kid` or `conflicting_kid`.
        `allow_unprotected_alg` accepts an algorithm found only in the
        unprotected header, as EU DCC verifiers do. The caller must then make
        sure that the key's type fixes the algorithm.
        """
        alg_id = self.protected_header.get(ALG)
        if alg_id is None and allow_unprotected_alg:
            alg_id = self.unprotected_header.get(ALG)
        if alg_id is None:
            where = (
                "only in the unprotected header"
                if ALG in self.unprotected_header
                else "absent"
            )
            raise CertificateError(
                "alg_not_protected",
                f"the signature algorithm is {where}, so the signature does not cover it",
            )
        if alg_id not in ALGORITHMS:
            raise CertificateError(
                "unknown_alg",
                f"COSE algorithm {alg_id!r} is not one of EdDSA (-8), ES256 (-7) or PS256 (-37)",
            )
        _check_crit(self.protected_header.get(CRIT))
        return ALGORITHMS[alg_id], _kid(self.protected_header, self.unprotected_header)


def loads(data: bytes) -> Any:
    """Decode exactly one CBOR item that fills `data`.

    Duplicate map keys, nesting deeper than 16 and bytes after the item are
    rejected: a certificate needs none of them, and each could let two
    readers see two different certificates. (`cbor2.loads` ignores trailing
    bytes, so the decoder reads from a stream whose position is checked.)
    """
    stream = io.BytesIO(data)
    item = cbor2.CBORDecoder(stream, max_depth=16, allow_duplicate_keys=False).decode()
    if stream.tell() != len(data):
        raise cbor2.CBORDecodeError(
            f"{len(data) - stream.tell()} bytes follow the CBOR item"
        )
    return item


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", payload])


def sign1(payload: bytes, signer: CertSigner) -> bytes:
    """Sign `payload` and return the tagged COSE_Sign1 bytes."""
    alg = ALGORITHM_IDS[signer.public.alg]
    protected = cbor2.dumps({ALG: alg, KID: signer.public.kid})
    signature = signer.sign(sig_structure(protected, payload))
    return cbor2.dumps(
        cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature])
    )


def parse_sign1(data: bytes) -> Sign1:
    """Split COSE_Sign1 bytes into their parts.

    Raises `CertificateError` with code `cbor` when the bytes are not CBOR and
    `cose` when they are not a COSE_Sign1 with a map as protected header.
    """
    try:
        item = loads(data)
    except _CBOR_ERRORS as exc:
        raise CertificateError(
            "cbor", f"the certificate data is not valid CBOR: {exc}"
        ) from exc
    if isinstance(item, cbor2.CBORTag):
        if item.tag != COSE_SIGN1_TAG:
            raise CertificateError(
                "cose",
                f"the certificate is CBOR tag {item.tag}, not a COSE_Sign1 (tag 18)",
            )
        item = item.value
    if not (isinstance(item, list | tuple) and len(item) == 4):
        raise CertificateError(
            "cose", "the certificate is not a 4-element COSE_Sign1 array"
        )
    protected, unprotected, payload, signature = item
    if not isinstance(protected, bytes) or not isinstance(unprotected, MAP_TYPES):
        raise CertificateError(
            "cose", "the COSE headers must be a byte string and a map"
        )
    if not isinstance(payload, bytes) or not isinstance(signature, bytes):
        raise CertificateError(
            "cose", "the COSE payload and signature must be byte strings"
        )
    return Sign1(protected, _protected_map(protected), unprotected, payload, signature)


def _protected_map(protected: bytes) -> Mapping[Any, Any]:
    if protected == b"":
        return {}
    try:
        header = loads(protected)
    except _CBOR_ERRORS as exc:
        raise CertificateError(
            "cose", f"the protected header is not valid CBOR: {exc}"
        ) from exc
    if not isinstance(header, MAP_TYPES):
        raise CertificateError("cose", "the protected header is not a CBOR map")
    return header


def _check_crit(crit: Any) -> None:
    if crit is None:
        return
    if not isinstance(crit, list | tuple) or not crit:
        raise CertificateError(
            "cose", "the crit header must be a non-empty list of labels"
        )
    unknown = [label for label in crit if label not in UNDERSTOOD]
    if unknown:
        raise CertificateError(
            "unknown_critical_header",
            f"the certificate marks header {unknown[0]!r} as critical, which this "
            "verifier does not understand",
        )


def _kid(header: Mapping[Any, Any], unprotected: Mapping[Any, Any]) -> bytes:
    protected_kid = header.get(KID)
    unprotected_kid = unprotected.get(KID)
    for value in (protected_kid, unprotected_kid):
        if value is not None and not isinstance(value, bytes):
            raise CertificateError("cose", "the key id header must be a byte string")
    if (
        isinstance(protected_kid, bytes)
        and isinstance(unprotected_kid, bytes)
        and protected_kid != unprotected_kid
    ):
        raise CertificateError(
            "conflicting_kid",
            f"the protected key id {protected_kid.hex()} differs from the "
            f"unprotected key id {unprotected_kid.hex()}",
        )
    kid = protected_kid if protected_kid is not None else unprotected_kid
    if not kid:
        raise CertificateError("missing_kid", "the certificate names no signing key id")
    return bytes(kid)
