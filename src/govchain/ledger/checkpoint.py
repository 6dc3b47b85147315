"""Signed notes and transparency log checkpoints, as the C2SP specifications define.

A checkpoint (c2sp.org/tlog-checkpoint) states a log's Merkle tree head in
three lines of text, each ending in a newline, optionally followed by extension
lines:

```
registry.example.gov/log
13
<base64 of the 32-byte RFC 9162 root hash>
```

A signed note (c2sp.org/signed-note) is such a text, a blank line, and one or
more signature lines `— <key name> <base64(key hash || signature)>`, where the
dash is U+2014 EM DASH followed by a space. For Ed25519, the only signature type
this module supports, the 4-byte key hash is the start of
`SHA-256(key name || 0x0A || 0x01 || public key)` and the signature is Ed25519
over the note text. A verifier key is written
`<name>+<key hash as 8 hex>+<base64(0x01 || public key)>`.

When a note is opened, signatures by keys the caller does not know are ignored,
as the spec requires, so a log can add witnesses or rotate keys without breaking
old clients. A signature by a known key that fails to verify rejects the whole
note. A caller that trusts n witnesses sets `min_signatures` to k for a
k-of-n policy.

Parsing is strict because a checkpoint is compared byte for byte and signed:
sizes are plain decimal without leading zeros, base64 must be canonical (so no
two encodings of one signature or root exist), and a note must be UTF-8 without
control characters other than newline.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from govchain.crypto.keys import PublicKey, SigningKey
from govchain.errors import ConfigError, VerificationError
from govchain.ledger.merkle import HASH_SIZE

__all__ = [
    "MAX_SIGNATURES",
    "Checkpoint",
    "NoteFormatError",
    "NoteSignatureError",
    "NoteSigner",
    "NoteVerifier",
    "open_checkpoint",
    "open_note",
    "sign_note",
]

logger = logging.getLogger(__name__)

#: Signature type byte of Ed25519 in c2sp.org/signed-note.
ED25519_TYPE = 0x01
KEY_HASH_SIZE = 4
ED25519_SIGNATURE_SIZE = 64
#: Maximum number of signature lines in one note. The spec requires verifiers
#: to accept at least 16, and 100 leaves room for many witnesses.
MAX_SIGNATURES = 100
#: Largest tree size a checkpoint may state: sizes are unsigned 64-bit numbers.
MAX_TREE_SIZE = 2**64 - 1
SIGNATURE_PREFIX = "\u2014 "

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_KEY_HASH_HEX = re.compile(r"[0-9a-fA-F]{8}")


class NoteFormatError(VerificationError):
    """A signed note, checkpoint text or verifier key is malformed."""


class NoteSignatureError(VerificationError):
    """A known key's signature fails, or too few known keys signed a note."""


# ---------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, tree size, root hash and extension lines.

    The constructor raises `NoteFormatError` when a field cannot be written as
    checkpoint text: an empty origin, a size outside 0 to 2**64 - 1, a root hash
    that is not 32 bytes, or an empty extension line.
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "checkpoint origin")
        if isinstance(self.size, bool) or not 0 <= self.size <= MAX_TREE_SIZE:
            raise NoteFormatError(
                f"checkpoint tree size {self.size} is outside 0 to {MAX_TREE_SIZE}"
            )
        if len(self.root_hash) != HASH_SIZE:
            raise NoteFormatError(
                f"checkpoint root hash is {len(self.root_hash)} bytes, "
                f"expected {HASH_SIZE}"
            )
        for number, line in enumerate(self.extensions, start=1):
            _check_line(line, f"checkpoint extension line {number}")

    def body(self) -> bytes:
        """Return the checkpoint text that a signed note carries, UTF-8 encoded."""
        lines = [self.origin, str(self.size), _b64(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines).encode("utf-8")

    @classmethod
    def parse(cls, body: bytes) -> Checkpoint:
        """Parse checkpoint text, rejecting anything `body()` would not write.

        Raises `NoteFormatError` naming the first bad line. Bad lines are: fewer
        than three lines, an empty origin, a size that is not plain decimal or
        has a leading zero, a root hash that is not canonical base64 of 32
        bytes, and an empty extension line.
        """
        text = _decode_text(body, "checkpoint")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise NoteFormatError(
                f"checkpoint has {len(lines)} lines, expected at least 3: "
                f"origin, tree size and root hash"
            )
        origin, size_text, root_text, *extensions = lines
        if not _DECIMAL.fullmatch(size_text):
            raise NoteFormatError(
                f"checkpoint tree size {_excerpt(size_text)} is not a decimal "
                f"number without leading zeros"
            )
        if len(size_text) > len(str(MAX_TREE_SIZE)):
            raise NoteFormatError(
                f"checkpoint tree size {_excerpt(size_text)} is larger than "
                f"{MAX_TREE_SIZE}"
            )
        root_hash = _decode_base64(root_text, "checkpoint root hash")
        return cls(origin, int(size_text), root_hash, tuple(extensions))


# ---------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------


def _key_hash(name: str, public_key: PublicKey) -> bytes:
    material = name.encode("utf-8") + b"\n" + bytes([ED25519_TYPE]) + public_key.raw
    return hashlib.sha256(material).digest()[:KEY_HASH_SIZE]


@dataclass(frozen=True)
class NoteVerifier:
    """A trusted Ed25519 note key: its name, public key and 4-byte key hash.

    Raises `NoteFormatError` when the name is empty or has a space or a `+`.
    """

    name: str
    public_key: PublicKey
    key_hash: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        _check_key_name(self.name)
        object.__setattr__(self, "key_hash", _key_hash(self.name, self.public_key))

    def vkey(self) -> str:
        """Return the verifier key string `<name>+<hash hex>+<base64 key>`."""
        encoded = _b64(bytes([ED25519_TYPE]) + self.public_key.raw)
        return f"{self.name}+{self.key_hash.hex()}+{encoded}"

    @classmethod
    def from_vkey(cls, text: str) -> NoteVerifier:
        """Parse a verifier key string as `vkey()` writes it.

        Raises `NoteFormatError` when a part is missing or malformed, the key
        type is not Ed25519, or the key hash does not match the name and key.
        """
        # Key names have no '+', but the base64 key may contain some.
        parts = text.split("+", 2)
        if len(parts) != 3:
            raise NoteFormatError(
                f"verifier key has {len(parts)} '+'-separated parts, expected 3: "
                f"<name>+<key hash>+<base64 key>"
            )
        name, hash_hex, encoded = parts
        if not _KEY_HASH_HEX.fullmatch(hash_hex):
            raise NoteFormatError(
                f"verifier key {name!r} has key hash {_excerpt(hash_hex)}, "
                f"expected 8 hex digits"
            )
        raw = _decode_base64(encoded, f"verifier key {name!r}")
        if len(raw) != 33 or raw[0] != ED25519_TYPE:
            raise NoteFormatError(
                f"verifier key {name!r} is not an Ed25519 key: expected type byte "
                f"0x01 and 32 key bytes, got {len(raw)} bytes"
            )
        verifier = cls(name, PublicKey(raw[1:]))
        if verifier.key_hash != bytes.fromhex(hash_hex):
            raise NoteFormatError(
                f"verifier key {name!r} states key hash {hash_hex.lower()} but its "
                f"name and key hash to {verifier.key_hash.hex()}"
            )
        return verifier


class NoteSigner:
    """An Ed25519 note signing key under a key name.

    Raises `NoteFormatError` when the name is empty or has a space or a `+`.
    """

    __slots__ = ("_key", "key_hash", "name")

    def __init__(self, name: str, key: SigningKey) -> None:
        _check_key_name(name)
        self.name = name
        self._key = key
        self.key_hash = _key_hash(name, key.public_key)

    def verifier(self) -> NoteVerifier:
        """Return the verifier that checks this signer's signatures."""
        return NoteVerifier(self.name, self._key.public_key)

    def sign(self, body: bytes) -> str:
        """Sign note text and return its signature line, ending in a newline.

        Raises `NoteFormatError` when `body` is not valid note text (see
        `sign_note`).
        """
        _decode_text(body, "note text")
        signature = self._key.sign(body)
        return f"{SIGNATURE_PREFIX}{self.name} {_b64(self.key_hash + signature)}\n"

    def __repr__(self) -> str:
        return f"NoteSigner(name={self.name!r}, key_hash={self.key_hash.hex()!r})"


# ---------------------------------------------------------------------------
# Signing and opening notes
# ---------------------------------------------------------------------------


def sign_note(body: bytes, signers: Iterable[NoteSigner]) -> bytes:
    """Sign `body` with each signer and return the whole signed note.

    `body` must be UTF-8 ending in a newline, without control characters other
    than newline; otherwise `NoteFormatError` is raised. Raises `ConfigError`
    when there is no signer or two signers share a key name and key hash.
    """
    lines: list[str] = []
    seen: set[tuple[str, bytes]] = set()
    for signer in signers:
        if (signer.name, signer.key_hash) in seen:
            raise ConfigError(
                f"two note signers share key name {signer.name!r} and key hash "
                f"{signer.key_hash.hex()}: pass each key once"
            )
        seen.add((signer.name, signer.key_hash))
        lines.append(signer.sign(body))
    if not lines:
        raise ConfigError("a signed note needs at least one signer, got none")
    return body + b"\n" + "".join(lines).encode("utf-8")


def open_note(
    note: bytes, verifiers: Iterable[NoteVerifier], *, min_signatures: int = 1
) -> tuple[bytes, list[str]]:
    """Verify a signed note and return its text and the names that signed it.

    Signatures by keys not in `verifiers` (by key name and key hash) are
    ignored. The names returned are those of the known keys whose signatures
    verified, in note order. Raises:

    - `NoteFormatError` when the note is malformed, has more than
      `MAX_SIGNATURES` signature lines, or has two signatures by one known key;
    - `NoteSignatureError` when a known key's signature fails, or when fewer
      than `min_signatures` distinct known public keys signed;
    - `ConfigError` when `min_signatures` is below 1 or two verifiers share a
      key name and key hash but differ in key.
    """
    if min_signatures < 1:
        raise ConfigError(
            f"min_signatures is {min_signatures}: a note needs at least 1 signature "
            f"by a known key"
        )
    known = _index_verifiers(verifiers)
    body, lines = _split_note(note)

    verified: list[str] = []
    signed_keys: set[bytes] = set()
    seen: set[tuple[str, bytes]] = set()
    for number, line in enumerate(lines, start=1):
        name, key_hash, signature = _parse_signature_line(line, number)
        verifier = known.get((name, key_hash))
        if verifier is None:
            logger.debug(
                "ignoring note signature by unknown key %s+%s", name, key_hash.hex()
            )
            continue
        if (name, key_hash) in seen:
            raise NoteFormatError(
                f"note has two signatures by key {name}+{key_hash.hex()}"
            )
        seen.add((name, key_hash))
        _verify_signature(verifier, body, signature)
        verified.append(name)
        signed_keys.add(verifier.public_key.raw)

    if len(signed_keys) < min_signatures:
        raise NoteSignatureError(
            f"note is signed by {len(signed_keys)} known keys, expected at least "
            f"{min_signatures}: check that the trusted verifier keys are current"
        )
    return body, verified


def open_checkpoint(
    note: bytes,
    verifiers: Iterable[NoteVerifier],
    *,
    origin: str,
    min_signatures: int = 1,
) -> tuple[Checkpoint, list[str]]:
    """Verify a signed checkpoint from the log named `origin`.

    Checks the signatures as `open_note` does, then parses the text with
    `Checkpoint.parse`. Raises `VerificationError` when the checkpoint's origin
    is not `origin`, besides the errors of those two functions.
    """
    body, names = open_note(note, verifiers, min_signatures=min_signatures)
    checkpoint = Checkpoint.parse(body)
    if checkpoint.origin != origin:
        raise VerificationError(
            f"checkpoint origin {_excerpt(checkpoint.origin)} does not match "
            f"expected origin {origin!r}"
        )
    return checkpoint, names


def _index_verifiers(
    verifiers: Iterable[NoteVerifier],
) -> dict[tuple[str, bytes], NoteVerifier]:
    known: dict[tuple[str, bytes], NoteVerifier] = {}
    for verifier in verifiers:
        slot = (verifier.name, verifier.key_hash)
        other = known.setdefault(slot, verifier)
        if other.public_key != verifier.public_key:
            raise ConfigError(
                f"two verifier keys share key name {verifier.name!r} and key hash "
                f"{verifier.key_hash.hex()}: remove one of them"
            )
    return known


def _split_note(note: bytes) -> tuple[bytes, list[bytes]]:
    """Split a note into its text and its signature lines (without newlines)."""
    _decode_text(note, "signed note")
    split = note.rfind(b"\n\n")
    if split < 0:
        raise NoteFormatError(
            "signed note has no blank line between its text and its signatures"
        )
    body, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise NoteFormatError("signed note has no signature lines")
    lines = block[:-1].split(b"\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteFormatError(
            f"signed note has {len(lines)} signature lines, more than the "
            f"{MAX_SIGNATURES} accepted"
        )
    return body, lines


def _parse_signature_line(line: bytes, number: int) -> tuple[str, bytes, bytes]:
    """Split a signature line into key name, key hash and signature."""
    text = line.decode("utf-8")
    if not text.startswith(SIGNATURE_PREFIX):
        raise NoteFormatError(
            f"signature line {number} does not start with an em dash (U+2014) "
            f"and a space"
        )
    parts = text[len(SIGNATURE_PREFIX) :].split(" ")
    if len(parts) != 2:
        raise NoteFormatError(
            f"signature line {number} has {len(parts)} space-separated fields "
            f"after the dash, expected 2: key name and base64 signature"
        )
    name, encoded = parts
    _check_key_name(name)
    raw = _decode_base64(encoded, f"signature line {number}")
    if len(raw) <= KEY_HASH_SIZE:
        raise NoteFormatError(
            f"signature line {number} decodes to {len(raw)} bytes, expected a "
            f"{KEY_HASH_SIZE}-byte key hash followed by a signature"
        )
    return name, raw[:KEY_HASH_SIZE], raw[KEY_HASH_SIZE:]


def _verify_signature(verifier: NoteVerifier, body: bytes, signature: bytes) -> None:
    key = f"{verifier.name}+{verifier.key_hash.hex()}"
    if len(signature) != ED25519_SIGNATURE_SIZE:
        raise NoteSignatureError(
            f"signature by key {key} is {len(signature)} bytes, expected "
            f"{ED25519_SIGNATURE_SIZE} for Ed25519"
        )
    try:
        verifier.public_key.verify(body, signature)
    except VerificationError as exc:
        raise NoteSignatureError(
            f"signature by key {key} does not verify: the note text was changed "
            f"after signing or the signature is damaged"
        ) from exc


# ---------------------------------------------------------------------------
# Text rules shared by notes, checkpoints and keys
# ---------------------------------------------------------------------------


def _decode_text(data: bytes, subject: str) -> str:
    """Decode note text: UTF-8, ending in a newline, no other control characters."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NoteFormatError(
            f"{subject} is not valid UTF-8 (byte {exc.start})"
        ) from exc
    if not text.endswith("\n"):
        raise NoteFormatError(f"{subject} does not end with a newline")
    control = _CONTROL.search(text)
    if control is not None:
        raise NoteFormatError(
            f"{subject} has control character U+{ord(control.group()):04X} at "
            f"offset {control.start()}: only newline (U+000A) is allowed"
        )
    return text


def _check_line(line: str, subject: str) -> None:
    if not line:
        raise NoteFormatError(f"{subject} is empty")
    if "\n" in line or _CONTROL.search(line):
        raise NoteFormatError(f"{subject} contains a newline or control character")


def _check_key_name(name: str) -> None:
    if not name:
        raise NoteFormatError("note key name is empty")
    if "+" in name or any(char.isspace() for char in name):
        raise NoteFormatError(
            f"note key name {_excerpt(name)} contains a space or '+', which the "
            f"signed-note format does not allow"
        )
    if _CONTROL.search(name):
        raise NoteFormatError(
            f"note key name {_excerpt(name)} contains a control character"
        )


def _decode_base64(text: str, subject: str) -> bytes:
    """Decode standard base64, rejecting any encoding but the canonical one."""
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise NoteFormatError(f"{subject} is not valid base64") from exc
    if _b64(raw) != text:
        raise NoteFormatError(
            f"{subject} is not canonical base64: padding or trailing bits differ "
            f"from the standard encoding"
        )
    return raw


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _excerpt(text: str, limit: int = 40) -> str:
    """Quote `text` for a message, cut to `limit` characters."""
    if len(text) <= limit:
        return repr(text)
    return repr(text[:limit]) + "..."
