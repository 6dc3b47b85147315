"""The reasons a certificate fails, as codes and as words for an inspector.

Every check of the verifier raises `CertificateError` with one code from
`REASONS`, so the CLI, the API and the console can show the same explanation
and scripts can act on the code. The message of an error adds the specifics
(the expiry date, the key id) to the general words.
"""

from __future__ import annotations

from govchain.errors import VerificationError

#: Each failure code and what it means to the person holding the scanner.
REASONS: dict[str, str] = {
    "image": "no QR code could be read from the image",
    "prefix": "the QR code is not a certificate this verifier knows",
    "base45": "the QR text is damaged",
    "compression": "the certificate data is damaged",
    "too_large": "the QR code holds far more data than a certificate",
    "cbor": "the certificate data is not well formed",
    "cose": "the certificate's signature block is not well formed",
    "alg_not_protected": "the signature's algorithm is not covered by the signature",
    "unknown_alg": "the certificate uses a signature algorithm this verifier does not accept",
    "unknown_critical_header": "the certificate requires a feature this verifier does not support",
    "missing_kid": "the certificate does not name the key that signed it",
    "conflicting_kid": "the certificate names two different signing keys",
    "unknown_kid": "the certificate was signed by a key that is not on the trust list",
    "key_not_valid": "the issuer's key was not valid when the certificate was issued",
    "key_revoked": "the issuer's signing key has been revoked",
    "signature": "the signature does not match: the certificate was altered or forged",
    "claims": "the certificate's contents are not well formed",
    "not_yet_valid": "the certificate is not valid yet",
    "expired": "the certificate has expired",
    "unknown_template": "the certificate type is not on the trust list",
    "issuer_not_authorized": "the issuer is not authorized to issue this type of certificate",
    "template_mismatch": "the certificate's contents do not match its type",
    "revoked": "the issuer has revoked this certificate",
    "suspended": "the issuer has suspended this certificate",
    "unknown_certificate": "the ledger has no record of this certificate",
}


class CertificateError(VerificationError):
    """A certificate failed one check; `code` is a key of `REASONS`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        if code not in REASONS:
            raise ValueError(f"certificate failure code {code!r} is not defined")
        self.code = code

    @property
    def summary(self) -> str:
        """The general meaning of the code, without specifics."""
        return REASONS[self.code]
