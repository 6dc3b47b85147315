"""Certificate signing keys: algorithms, key ids and public keys from files.

Our issuers sign with Ed25519 (COSE algorithm -8, EdDSA). The verifier also
accepts ECDSA P-256 with SHA-256 (ES256, -7) and RSASSA-PSS with SHA-256
(PS256, -37), the algorithms of EU Digital COVID Certificates.

A key id (kid) is the first 8 bytes of the SHA-256 of the key's DER encoding:
of its X.509 certificate when the key came in one (as the EU DCC does), else
of its SubjectPublicKeyInfo.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.signing
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from govchain.crypto.keys import SigningKey
from govchain.errors import ConfigError

#: COSE algorithm identifiers (RFC 9053) and their names.
ALGORITHMS: dict[int, str] = {-8: "EdDSA", -7: "ES256", -37: "PS256"}
ALGORITHM_IDS = {name: number for number, name in ALGORITHMS.items()}
#: DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), before the 32 key bytes.
_ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")
KID_BYTES = 8


def kid_of(der: bytes) -> bytes:
    """Return the key id of a DER certificate or SubjectPublicKeyInfo."""
    return hashlib.sha256(der).digest()[:KID_BYTES]


def ed25519_spki(raw: bytes) -> bytes:
    """Return the SubjectPublicKeyInfo DER of a raw 32-byte Ed25519 public key."""
    return _ED25519_SPKI_PREFIX + raw


@dataclass(frozen=True)
class PublicCertKey:
    """A public key that verifies certificate signatures, with its kid and algorithm.

    `spki` is the SubjectPublicKeyInfo DER; `alg` is a name from `ALGORITHMS`.
    """

    kid: bytes
    alg: str
    spki: bytes

    def verifier(self) -> Verifier:
        return Verifier(self)


class Verifier:
    """Checks signatures under one public key; built once and reused."""

    def __init__(self, key: PublicCertKey) -> None:
        self.key = key
        loaded = serialization.load_der_public_key(key.spki)
        self._ed25519: nacl.signing.VerifyKey | None = None
        self._ec: ec.EllipticCurvePublicKey | None = None
        self._rsa: rsa.RSAPublicKey | None = None
        if key.alg == "EdDSA" and isinstance(loaded, ed25519.Ed25519PublicKey):
            self._ed25519 = nacl.signing.VerifyKey(loaded.public_bytes_raw())
        elif key.alg == "ES256" and isinstance(loaded, ec.EllipticCurvePublicKey):
            self._ec = loaded
        elif key.alg == "PS256" and isinstance(loaded, rsa.RSAPublicKey):
            self._rsa = loaded
        else:
            raise ConfigError(
                f"key {key.kid.hex()} is a {type(loaded).__name__}, which cannot "
                f"verify {key.alg} signatures"
            )

    def is_valid(self, message: bytes, signature: bytes) -> bool:
        """Return True when `signature` over `message` verifies under the key."""
        if self._ed25519 is not None:
            try:
                self._ed25519.verify(message, signature)
            except (nacl.exceptions.BadSignatureError, ValueError):
                return False
            return True
        try:
            if self._ec is not None:
                if len(signature) != 64:
                    return False
                r = int.from_bytes(signature[:32], "big")
                s = int.from_bytes(signature[32:], "big")
                der = encode_dss_signature(r, s)
                self._ec.verify(der, message, ec.ECDSA(hashes.SHA256()))
            elif self._rsa is not None:
                pss = padding.PSS(
                    mgf=padding.MGF1(hashes.SHA256()),
                    salt_length=padding.PSS.DIGEST_LENGTH,
                )
                self._rsa.verify(signature, message, pss, hashes.SHA256())
        except InvalidSignature:
            return False
        return True


class CertSigner:
    """An issuer's Ed25519 certificate signing key. Its secret is never shown."""

    __slots__ = ("_key", "public")

    def __init__(self, key: SigningKey) -> None:
        self._key = key
        spki = ed25519_spki(key.public_key.raw)
        self.public = PublicCertKey(kid=kid_of(spki), alg="EdDSA", spki=spki)

    @property
    def signing_key(self) -> SigningKey:
        return self._key

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"CertSigner(kid={self.public.kid.hex()!r})"


def _algorithm_of(key: object) -> str:
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1":
        return "ES256"
    if isinstance(key, rsa.RSAPublicKey):
        return "PS256"
    raise ConfigError(
        f"a {type(key).__name__} cannot sign certificates; use an Ed25519, "
        "P-256 or RSA key"
    )


def _spki(key: object) -> bytes:
    assert isinstance(
        key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
    )
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_from_certificate_der(der: bytes) -> PublicCertKey:
    """Return the key of a DER X.509 certificate, with the certificate's kid."""
    cert = x509.load_der_x509_certificate(der)
    public = cert.public_key()
    return PublicCertKey(kid=kid_of(der), alg=_algorithm_of(public), spki=_spki(public))


def key_from_spki_der(spki: bytes) -> PublicCertKey:
    """Return the key of a DER SubjectPublicKeyInfo.

    Raises `ValueError` for bytes that are not one, or for a key of a type that
    cannot sign certificates, so a ledger handler rejects the transaction.
    """
    try:
        public = serialization.load_der_public_key(spki)
    except UnsupportedAlgorithm as exc:
        raise ValueError(f"public key of an unsupported type: {exc}") from exc
    try:
        algorithm = _algorithm_of(public)
    except ConfigError as exc:
        raise ValueError(str(exc)) from exc
    spki = _spki(public)
    return PublicCertKey(kid=kid_of(spki), alg=algorithm, spki=spki)


def load_trust_file(path: Path) -> PublicCertKey:
    """Read an X.509 certificate or a public key, PEM or DER, from `path`.

    A file of only base64 text is read as DER in base64, the way the EU
    DCC test files give signer certificates. Raises `ConfigError` naming the
    file when it contains none of these.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"trust file {path} is unreadable: {exc}", path=str(path)
        ) from exc
    return load_trust_bytes(data, source=str(path))


def load_trust_bytes(data: bytes, *, source: str) -> PublicCertKey:
    """Read a certificate or public key from PEM, DER or base64 DER bytes."""
    candidates = [data]
    if b"-----BEGIN" not in data:
        with contextlib.suppress(ValueError):
            candidates.append(base64.b64decode(b"".join(data.split()), validate=True))
    for blob in candidates:
        if b"-----BEGIN CERTIFICATE" in blob:
            cert = x509.load_pem_x509_certificate(blob)
            return key_from_certificate_der(
                cert.public_bytes(serialization.Encoding.DER)
            )
        if b"-----BEGIN PUBLIC KEY" in blob:
            public = serialization.load_pem_public_key(blob)
            return key_from_spki_der(_spki(public))
        for loader in (key_from_certificate_der, key_from_spki_der):
            try:
                return loader(blob)
            except (ValueError, TypeError, AssertionError):
                continue
    raise ConfigError(
        f"{source} contains no X.509 certificate or public key (PEM, DER or base64 "
        "DER); export the issuer's signer certificate again",
        path=source,
    )
