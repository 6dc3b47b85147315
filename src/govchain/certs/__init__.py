"""Electronic certificates verified by QR code, in the EU DCC's layering.

A certificate is a CBOR Web Token signed as COSE_Sign1 with the issuer's
Ed25519 key, compressed with zlib and encoded in base45 behind the prefix
`GC1:`. The ledger holds the registry (templates, authorized issuers, signing
keys) and each certificate's hash and status, never its holder's name or ID
number. docs/certificates.md describes the format byte by byte.

- `CertificateService`: issue, change status, look up, export trust and
  revocation lists on a node;
- `verify_text`: offline verification against a `TrustStore`;
- `trust_from_state`, `read_trust_list`, `read_revocation_list`: build one;
- `qr_png`, `qr_svg`, `decode_image_bytes`, `card_pdf`: images and cards.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from govchain.certs.errors import REASONS, CertificateError
from govchain.certs.registry import certificate_status, trust_from_state
from govchain.certs.revocation import read_revocation_list
from govchain.certs.service import CertificateService, Holder, IssuedCertificate
from govchain.certs.trust import TrustStore, read_trust_list
from govchain.certs.verify import Verdict, verify_text

__all__ = [
    "REASONS",
    "CertificateError",
    "CertificateService",
    "Holder",
    "IssuedCertificate",
    "TrustStore",
    "Verdict",
    "card_pdf",
    "certificate_status",
    "decode_image_bytes",
    "decode_image_file",
    "qr_png",
    "qr_svg",
    "read_revocation_list",
    "read_trust_list",
    "trust_from_state",
    "verify_text",
]

# The image and PDF libraries take a noticeable part of a second to import, so
# they load on first use and commands that draw nothing start faster.
_LAZY = {
    "card_pdf": "govchain.certs.card",
    "decode_image_bytes": "govchain.certs.images",
    "decode_image_file": "govchain.certs.images",
    "qr_png": "govchain.certs.images",
    "qr_svg": "govchain.certs.images",
}

if TYPE_CHECKING:
    from govchain.certs.card import card_pdf
    from govchain.certs.images import (
        decode_image_bytes,
        decode_image_file,
        qr_png,
        qr_svg,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
