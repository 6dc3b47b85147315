"""Offline verification of a certificate's QR text against a `TrustStore`.

`verify_text` runs the checks in order and stops at the first failure:

1. prefix: `GC1:` (govchain) or `HC1:` (EU DCC);
2. base45: the text decodes (RFC 9285);
3. compression: the bytes inflate with zlib, within a size cap;
4. cose: a COSE_Sign1 with well-formed headers, and a CWT payload;
5. signature: the key id is trusted, the signature verifies, the key was not
   revoked and was valid when the certificate was issued;
6. validity: the clock lies between issued-at and expiry, each widened by the
   clock-skew allowance;
7. template: the type is known, the issuer may issue it, the claims fit it
   (skipped for keys given without an issuer, such as EU DCC signers);
8. status: the certificate is not on the revocation list as revoked or suspended
   (skipped, and listed in `Verdict.skipped`, when the trust store has no
   revocation source or the certificate has no id).

It returns a `Verdict` and never raises for a bad certificate.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from govchain.certs import base45, qrtext
from govchain.certs.cose import Sign1, parse_sign1
from govchain.certs.cwt import CertificateClaims, cert_id_hash, decode_claims
from govchain.certs.errors import REASONS, CertificateError
from govchain.certs.templates import check_claims
from govchain.certs.trust import TrustStore

logger = logging.getLogger(__name__)

STEPS = (
    "prefix",
    "base45",
    "compression",
    "cose",
    "signature",
    "validity",
    "template",
    "status",
)
#: Default clock-skew allowance in seconds between issuer and verifier clocks.
DEFAULT_SKEW_S = 300


@dataclass
class Verdict:
    """The outcome of verifying one certificate.

    `steps` maps each step that ran to True (passed) or False (failed); steps
    after a failure are absent. `code` and `message` explain a failure.
    """

    valid: bool = False
    code: str = ""
    message: str = ""
    steps: dict[str, bool] = field(default_factory=dict)
    scheme: str = ""
    kid: str = ""
    claims: CertificateClaims | None = None
    skipped: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return REASONS.get(self.code, "")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "valid": self.valid,
            "code": self.code or None,
            "summary": self.summary or None,
            "message": self.message or None,
            "steps": self.steps,
            "skipped": self.skipped,
            "scheme": self.scheme,
            "kid": self.kid or None,
        }
        if self.claims is not None:
            c = self.claims
            out["certificate"] = {
                "id": c.id or None,
                "type": c.type or None,
                "issuer": c.issuer,
                "issued_at": iso_time(c.issued_at),
                "expires_at": iso_time(c.expires_at),
                "subject": c.subject or None,
                "claims": c.claims if c.foreign is None else None,
            }
        return out


def iso_time(seconds: int) -> str:
    """Format unix seconds as an ISO 8601 UTC time."""
    try:
        moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return f"{seconds} (unix seconds)"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def verify_text(
    text: str, trust: TrustStore, *, at: int, skew: int = DEFAULT_SKEW_S
) -> Verdict:
    """Verify QR text at unix time `at` (seconds); see the module docstring."""
    verdict = Verdict()
    step = "prefix"
    try:
        # 1. Prefix.
        prefix, body = qrtext.split_prefix(text)
        verdict.scheme = "govchain" if prefix == qrtext.PREFIX else "eu-dcc"
        verdict.steps[step] = True

        # 2. Base45.
        step = "base45"
        compressed = base45.decode(body)
        verdict.steps[step] = True

        # 3. Compression.
        step = "compression"
        cose_bytes = qrtext.decompress(compressed)
        verdict.steps[step] = True

        # 4. COSE structure and claims.
        step = "cose"
        sign1 = parse_sign1(cose_bytes)
        claims = decode_claims(sign1.payload)
        verdict.steps[step] = True

        # 5. Signature.
        step = "signature"
        issuer_checked = _check_signature(sign1, claims, trust, verdict)
        verdict.claims = claims
        verdict.steps[step] = True

        # 6. Validity window.
        step = "validity"
        _check_window(claims, at, skew)
        verdict.steps[step] = True

        # 7. Template.
        step = "template"
        if issuer_checked and claims.foreign is None:
            _check_template(claims, trust)
            verdict.steps[step] = True
        else:
            verdict.skipped.append(step)

        # 8. Revocation list.
        step = "status"
        if claims.cert_id and trust.revocations_known:
            _check_revocations(claims, trust)
            verdict.steps[step] = True
        else:
            verdict.skipped.append(step)
    except CertificateError as exc:
        verdict.steps[step] = False
        verdict.code = exc.code
        verdict.message = str(exc)
        logger.debug("certificate rejected at step %s: %s", step, exc.code)
        return verdict
    verdict.valid = True
    return verdict


def _check_signature(
    sign1: Sign1, claims: CertificateClaims, trust: TrustStore, verdict: Verdict
) -> bool:
    """Check headers, key and signature; return whether the key names an issuer."""
    alg, kid = sign1.headers(allow_unprotected_alg=True)
    verdict.kid = kid.hex()
    trusted = trust.keys.get(kid)
    if trusted is None:
        raise CertificateError(
            "unknown_kid",
            f"key {kid.hex()} is not on the trust list ({trust.source or 'no source'})",
        )
    if not trusted.allow_unprotected_alg:
        sign1.headers()
    if trusted.key.alg != alg:
        raise CertificateError(
            "signature",
            f"the certificate says {alg} but key {kid.hex()} is a {trusted.key.alg} key",
        )
    if not trusted.verifier.is_valid(sign1.to_be_signed(), sign1.signature):
        raise CertificateError(
            "signature",
            f"the signature does not verify under key {kid.hex()}: the certificate "
            "was altered or not signed by that key",
        )
    if trusted.revoked_at is not None:
        raise CertificateError(
            "key_revoked",
            f"key {kid.hex()} of {trusted.issuer or 'the issuer'} was revoked on "
            f"{iso_time(trusted.revoked_at)}",
        )
    if trusted.issuer is not None and claims.issuer != trusted.issuer:
        raise CertificateError(
            "signature",
            f"the certificate names issuer {claims.issuer!r} but key {kid.hex()} "
            f"belongs to {trusted.issuer!r}",
        )
    too_early = trusted.not_before is not None and claims.issued_at < trusted.not_before
    too_late = trusted.not_after is not None and claims.issued_at > trusted.not_after
    if too_early or too_late:
        window = (
            f"{_maybe_time(trusted.not_before)} to {_maybe_time(trusted.not_after)}"
        )
        raise CertificateError(
            "key_not_valid",
            f"the certificate was issued on {iso_time(claims.issued_at)}, outside the "
            f"validity of key {kid.hex()} ({window})",
        )
    return trusted.issuer is not None


def _maybe_time(seconds: int | None) -> str:
    return "open" if seconds is None else iso_time(seconds)


def _check_window(claims: CertificateClaims, at: int, skew: int) -> None:
    if at + skew < claims.issued_at:
        raise CertificateError(
            "not_yet_valid",
            f"this certificate is not valid yet: issued {iso_time(claims.issued_at)}, "
            f"checked at {iso_time(at)}",
        )
    if at - skew > claims.expires_at:
        raise CertificateError(
            "expired",
            f"this certificate has expired: valid until {iso_time(claims.expires_at)}",
        )


def _check_template(claims: CertificateClaims, trust: TrustStore) -> None:
    versions = trust.templates.get(claims.type)
    template = None if versions is None else versions.get(claims.template_version)
    if template is None:
        raise CertificateError(
            "unknown_template",
            f"certificate type {claims.type} version {claims.template_version} is not "
            "on the trust list; fetch a newer trust list",
        )
    if claims.type not in trust.issuers.get(claims.issuer, set()):
        raise CertificateError(
            "issuer_not_authorized",
            f"{claims.issuer} is not authorized to issue {claims.type} certificates",
        )
    longest = template["validity_days"] * 86_400
    if claims.expires_at - claims.issued_at > longest:
        raise CertificateError(
            "template_mismatch",
            f"the certificate is valid for longer than the {template['validity_days']} "
            f"days its type allows (certificate type {claims.type})",
        )
    check_claims(template, claims.claims)


def _check_revocations(claims: CertificateClaims, trust: TrustStore) -> None:
    entry = trust.revocations.get(cert_id_hash(claims.cert_id))
    if entry is None:
        return
    code = "revoked" if entry.status == "revoked" else "suspended"
    raise CertificateError(
        code,
        f"the issuer {entry.status} this certificate on {iso_time(entry.at // 1000)} "
        f"(reason: {entry.reason})",
    )
