"""The QR text of a certificate: prefix, base45 and zlib around COSE_Sign1 bytes.

`GC1:` + base45(zlib(COSE_Sign1)) is a govchain certificate. `HC1:` is the EU
Digital COVID Certificate's prefix for the same layering, and the verifier
accepts it so that it can check DCC test certificates.
"""

from __future__ import annotations

import zlib

from govchain.certs import base45
from govchain.certs.errors import CertificateError

PREFIX = "GC1:"
DCC_PREFIX = "HC1:"
PREFIXES = (PREFIX, DCC_PREFIX)
#: A QR code stores at most 4,296 alphanumeric characters (version 40, level L).
MAX_TEXT_CHARS = 4296
#: Decompressed certificates above this size are rejected, so a small QR code
#: cannot expand into megabytes (a zlib bomb). A health certificate is about
#: 280 bytes.
MAX_DECOMPRESSED_BYTES = 32 * 1024
_ZLIB_LEVEL = 9
#: A 4 KiB window covers anything a QR code can hold. zlib's default window
#: (32 KiB) and memory level made each call allocate about 256 KiB, which took
#: three times as long as the compression itself (measured: about 100 against
#: 30 us per certificate). Any inflater reads the smaller window.
_ZLIB_WINDOW_BITS = 12
_ZLIB_MEMORY = 4


def strip_scanner_newline(text: str) -> str:
    """Remove one line end that a scanner or a text file adds after the QR text.

    Only a single trailing `\\r\\n`, `\\n` or `\\r` goes; spaces stay, because the
    space is a base45 character.
    """
    for end in ("\r\n", "\n", "\r"):
        if text.endswith(end):
            return text[: -len(end)]
    return text


def pack(cose: bytes, *, prefix: str = PREFIX) -> str:
    """Compress and encode COSE_Sign1 bytes into QR text."""
    deflater = zlib.compressobj(
        _ZLIB_LEVEL, zlib.DEFLATED, _ZLIB_WINDOW_BITS, _ZLIB_MEMORY
    )
    return prefix + base45.encode(deflater.compress(cose) + deflater.flush())


def split_prefix(text: str) -> tuple[str, str]:
    """Return `(prefix, base45 text)`; raise `CertificateError` code `prefix`."""
    if len(text) > MAX_TEXT_CHARS:
        raise CertificateError(
            "too_large",
            f"the QR text is {len(text)} characters, more than a QR code holds "
            f"({MAX_TEXT_CHARS})",
        )
    for prefix in PREFIXES:
        if text.startswith(prefix):
            return prefix, text[len(prefix) :]
    shown = text[:4].encode("unicode_escape").decode("ascii")
    raise CertificateError(
        "prefix",
        f"the QR text starts with {shown!r}, not {PREFIX!r} (govchain) or "
        f"{DCC_PREFIX!r} (EU DCC)",
    )


def decompress(data: bytes) -> bytes:
    """Inflate zlib `data`, refusing output above `MAX_DECOMPRESSED_BYTES`."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_DECOMPRESSED_BYTES + 1)
    except zlib.error as exc:
        raise CertificateError(
            "compression", f"the certificate data does not inflate: {exc}"
        ) from exc
    if len(out) > MAX_DECOMPRESSED_BYTES:
        raise CertificateError(
            "too_large",
            f"the certificate data inflates beyond {MAX_DECOMPRESSED_BYTES} bytes; "
            "it is not a certificate",
        )
    if not inflater.eof:
        raise CertificateError(
            "compression", "the certificate data ends before its compressed stream does"
        )
    if inflater.unused_data:
        raise CertificateError(
            "compression",
            f"{len(inflater.unused_data)} bytes follow the compressed certificate",
        )
    return out
