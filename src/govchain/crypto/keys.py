"""Ed25519 signing keys, key ids and the encrypted key store.

Signatures are made and checked with PyNaCl (libsodium). A key store file holds
one private key encrypted with AES-256-GCM under a key derived from a passphrase
by scrypt. An unencrypted store exists for development only; loading one logs a
warning every time.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import nacl.exceptions
import nacl.signing
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from govchain._types import KeyId
from govchain.errors import ConfigError, VerificationError

logger = logging.getLogger(__name__)

ALGORITHM = "Ed25519"
#: scrypt cost: 2**15 takes about 0.1 s and 32 MiB, the figure RFC 7914 suggests
#: for interactive logins.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1


def key_id(public_key: bytes) -> KeyId:
    """Return the key id: the first 16 hex characters of SHA-256(public key)."""
    return KeyId(hashlib.sha256(public_key).hexdigest()[:16])


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, *, field: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError) as exc:
        raise KeyFormatError(f"{field} is not valid base64") from exc


class KeyFormatError(VerificationError):
    """A key or signature field is malformed."""


@dataclass(frozen=True)
class PublicKey:
    """An Ed25519 public key with its key id."""

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != 32:
            raise KeyFormatError(
                f"Ed25519 public key must be 32 bytes, got {len(self.raw)}"
            )

    @property
    def kid(self) -> KeyId:
        return key_id(self.raw)

    @classmethod
    def from_b64(cls, text: str) -> PublicKey:
        return cls(unb64(text, field="public key"))

    def to_b64(self) -> str:
        return b64(self.raw)

    def verify(self, message: bytes, signature: bytes) -> None:
        """Check `signature` over `message`; raise `VerificationError` if it fails."""
        try:
            nacl.signing.VerifyKey(self.raw).verify(message, signature)
        except (nacl.exceptions.BadSignatureError, ValueError) as exc:
            raise VerificationError(
                f"Ed25519 signature does not verify under key {self.kid}"
            ) from exc

    def is_valid_signature(self, message: bytes, signature: bytes) -> bool:
        try:
            self.verify(message, signature)
        except VerificationError:
            return False
        return True


class SigningKey:
    """An Ed25519 private key. Its bytes are never logged or shown by `repr`."""

    __slots__ = ("_key", "public_key")

    def __init__(self, seed: bytes) -> None:
        if len(seed) != 32:
            raise ConfigError(f"Ed25519 seed must be 32 bytes, got {len(seed)}")
        self._key = nacl.signing.SigningKey(seed)
        self.public_key = PublicKey(bytes(self._key.verify_key))

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(os.urandom(32))

    @property
    def kid(self) -> KeyId:
        return self.public_key.kid

    def sign(self, message: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of `message`."""
        return bytes(self._key.sign(message).signature)

    def seed(self) -> bytes:
        return bytes(self._key)

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r})"


def _derive(passphrase: str, salt: bytes) -> bytes:
    kdf = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return kdf.derive(passphrase.encode("utf-8"))


def write_key_store(
    path: Path, key: SigningKey, *, passphrase: str | None, label: str
) -> None:
    """Write `key` to `path`, encrypted unless `passphrase` is None.

    The file is created with mode 0600 and written whole before it replaces any
    earlier file, so a crash never leaves half a key.
    """
    record: dict[str, object] = {
        "algorithm": ALGORITHM,
        "kid": key.kid,
        "label": label,
        "public_key": key.public_key.to_b64(),
    }
    if passphrase is None:
        record["encryption"] = "none"
        record["seed"] = b64(key.seed())
    else:
        salt = os.urandom(16)
        nonce = os.urandom(12)
        aad = key.kid.encode("ascii")
        ciphertext = AESGCM(_derive(passphrase, salt)).encrypt(nonce, key.seed(), aad)
        record["encryption"] = "scrypt+aes-256-gcm"
        record["scrypt"] = {
            "n": SCRYPT_N,
            "r": SCRYPT_R,
            "p": SCRYPT_P,
            "salt": b64(salt),
        }
        record["nonce"] = b64(nonce)
        record["ciphertext"] = b64(ciphertext)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(record, fh, indent=2)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


_warned_dirs: set[Path] = set()


def _warn_unencrypted(path: Path) -> None:
    # One warning per key folder and process: a home holds a key per department.
    if path.parent not in _warned_dirs:
        _warned_dirs.add(path.parent)
        logger.warning(
            "key stores in %s are not encrypted (development only)", path.parent
        )


def read_key_store(path: Path, *, passphrase: str | None) -> SigningKey:
    """Load the private key in `path`.

    Raises `ConfigError` when the file is missing or malformed, when an encrypted
    store is opened without a passphrase, or when the passphrase is wrong.
    """
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"key store {path} not found", path=str(path)) from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"key store {path} is unreadable: {exc}", path=str(path)
        ) from exc
    try:
        encryption = record["encryption"]
        expected_kid = record["kid"]
        if encryption == "none":
            _warn_unencrypted(path)
            key = SigningKey(unb64(record["seed"], field="seed"))
        elif encryption == "scrypt+aes-256-gcm":
            key = _decrypt(record, passphrase, path)
        else:
            raise ConfigError(
                f"key store {path} uses unknown encryption {encryption!r}",
                path=str(path),
            )
    except (KeyError, TypeError, KeyFormatError) as exc:
        raise ConfigError(
            f"key store {path} is malformed: missing or bad field {exc}", path=str(path)
        ) from exc
    if key.kid != expected_kid:
        raise ConfigError(
            f"key store {path} contains key {key.kid} but its kid field is {expected_kid}",
            path=str(path),
        )
    return key


def _decrypt(
    record: dict[str, object], passphrase: str | None, path: Path
) -> SigningKey:
    if passphrase is None:
        raise ConfigError(
            f"key store {path} is encrypted; set GOVCHAIN_PASSPHRASE or enter the "
            "passphrase when asked",
            path=str(path),
        )
    params = record["scrypt"]
    assert isinstance(params, dict)
    if (params["n"], params["r"], params["p"]) != (SCRYPT_N, SCRYPT_R, SCRYPT_P):
        raise ConfigError(f"key store {path} uses unsupported scrypt parameters")
    salt = unb64(str(params["salt"]), field="scrypt.salt")
    nonce = unb64(str(record["nonce"]), field="nonce")
    ciphertext = unb64(str(record["ciphertext"]), field="ciphertext")
    aad = str(record["kid"]).encode("ascii")
    try:
        seed = AESGCM(_derive(passphrase, salt)).decrypt(nonce, ciphertext, aad)
    except InvalidTag as exc:
        raise ConfigError(
            f"wrong passphrase for key store {path} (or the file was altered)",
            path=str(path),
        ) from exc
    return SigningKey(seed)
