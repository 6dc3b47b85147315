"""Base45 as RFC 9285 defines it: the text layer of a certificate's QR code.

Every two bytes become three characters of a 45-character alphabet (a last odd
byte becomes two), and the alphabet is exactly the QR code's alphanumeric mode,
so the text packs densely into a QR symbol. The space character belongs to the
alphabet, so the decoder strips nothing: trimming a scanner's line end is the
caller's job (`govchain.certs.qrtext.strip_scanner_newline`).

>>> encode(b"AB")
'BB8'
>>> decode("%69 VD92EX0")
b'Hello!!'
"""

from __future__ import annotations

import re
import struct

from govchain.certs.errors import CertificateError

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_INVALID = 0xFF
#: Maps each byte to its base45 value, or to 0xFF for bytes outside the alphabet.
_VALUES = bytes(
    ALPHABET.index(chr(b)) if chr(b) in ALPHABET else _INVALID for b in range(256)
)
#: Every 16-bit value as its three base45 characters, least significant first.
_TRIPLETS = [
    ALPHABET[n % 45] + ALPHABET[(n // 45) % 45] + ALPHABET[n // 2025]
    for n in range(65536)
]


#: Splits text into groups of three characters, newlines included.
_GROUPS = re.compile("...", re.DOTALL)


def encode(data: bytes) -> str:
    """Encode `data` as base45 text."""
    pairs = len(data) // 2
    values = struct.unpack(f">{pairs}H", data[: 2 * pairs])
    text = "".join(map(_TRIPLETS.__getitem__, values))
    if len(data) % 2:
        text += _TRIPLETS[data[-1]][:2]
    return text


_triplet_bytes: dict[str, bytes] = {}


def _decode_table() -> dict[str, bytes]:
    """Map every valid three-character group to its two bytes, built on first use."""
    if not _triplet_bytes:
        _triplet_bytes.update(
            (chars, n.to_bytes(2, "big")) for n, chars in enumerate(_TRIPLETS)
        )
    return _triplet_bytes


def decode(text: str) -> bytes:
    """Decode base45 `text` into bytes.

    Raises `CertificateError` with code `base45` when a character is outside
    the alphabet (lower case, a full-width digit or a line end included) or
    when the length leaves one character over. It also raises when a group
    encodes a value too large for its bytes (a triplet above 65535, a final
    pair above 255).
    """
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError as exc:
        raise _bad(f"character {exc.start + 1} is not in the base45 alphabet") from exc
    values = raw.translate(_VALUES)
    bad = values.find(_INVALID)
    if bad >= 0:
        raise _bad(f"character {bad + 1} is not in the base45 alphabet")
    size = len(values)
    if size % 3 == 1:
        raise _bad(f"the text is {size} characters, and no base45 text has length 3n+1")
    full = size - size % 3
    table = _decode_table()
    try:
        head = b"".join(map(table.__getitem__, _GROUPS.findall(text, 0, full)))
    except KeyError:
        head = b""  # a group above 65535: the loop below names it
    else:
        if full == size:
            return head
        value = values[full] + values[full + 1] * 45
        if value > 0xFF:
            raise _bad(f"the last two characters encode {value}, over 255")
        return head + bytes([value])
    out = bytearray()
    for i in range(0, full, 3):
        value = values[i] + values[i + 1] * 45 + values[i + 2] * 2025
        if value > 0xFFFF:
            raise _bad(f"characters {i + 1} to {i + 3} encode {value}, over 65535")
        out.append(value >> 8)
        out.append(value & 0xFF)
    if full < size:
        value = values[full] + values[full + 1] * 45
        if value > 0xFF:
            raise _bad(f"the last two characters encode {value}, over 255")
        out.append(value)
    return bytes(out)


def _bad(detail: str) -> CertificateError:
    return CertificateError(
        "base45",
        f"the QR text is damaged or not a certificate: {detail}",
    )
