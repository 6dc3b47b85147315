"""SHA-256, HMAC-SHA256 and RFC 9162 roots over many short messages at once.

Also base32 (RFC 4648) over a long buffer: `base64.b32encode` is written in
Python and takes seconds for a million tokens.

The messages arrive laid end to end in one `bytes` object, and their byte
lengths in an `array('I')`. Message i starts `gap` bytes after message i - 1
ends. Polars writes a text column in that shape (`write_csv` with no quoting
puts one newline after each value, so `gap=1`), which keeps a million values
out of Python objects. `column_messages` does that for a Polars series.

The C module `govchain.crypto._bulk` (built from `_bulk.c` when OpenSSL's
headers are present) hashes outside the GIL; without it the same functions
run on hashlib and give the same bytes, several times more slowly.
`NATIVE` is true when the C module is in use.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
from array import array
from collections.abc import Callable

import polars as pl

logger = logging.getLogger(__name__)

__all__ = [
    "NATIVE",
    "b32encode",
    "column_messages",
    "hmac_sha256_each",
    "merkle_root",
    "sha256_each",
]

_DIGEST = 32
_BLOCK = 64


def _split(data: bytes, lengths: array[int], gap: int) -> list[bytes]:
    """Return each message of `data` as its own bytes, checking the lengths."""
    if lengths.itemsize != 4:
        raise ValueError(
            f"lengths contains {lengths.itemsize}-byte values, expected 4; pass "
            "array('I', ...)"
        )
    if gap < 0:
        raise ValueError(f"gap must be 0 or more, got {gap}")
    total = sum(lengths) + gap * len(lengths)
    if total != len(data):
        raise ValueError(
            f"the {len(lengths)} lengths (each followed by {gap} gap bytes) add up "
            f"to {total} bytes but data holds {len(data)}"
        )
    messages = []
    start = 0
    for length in lengths:
        messages.append(data[start : start + length])
        start += length + gap
    return messages


def _check_size(size: int) -> None:
    if not 1 <= size <= _DIGEST:
        raise ValueError(f"size must be between 1 and 32 bytes, got {size}")


def _py_sha256_each(
    data: bytes, lengths: array[int], gap: int = 0, prefix: bytes = b"", size: int = 32
) -> bytes:
    _check_size(size)
    start = hashlib.sha256(prefix)
    digests = []
    for message in _split(data, lengths, gap):
        one = start.copy()
        one.update(message)
        digests.append(one.digest()[:size])
    return b"".join(digests)


def _py_hmac_sha256_each(
    key: bytes, data: bytes, lengths: array[int], gap: int = 0, size: int = 32
) -> bytes:
    _check_size(size)
    # RFC 2104: the two padded-key states are hashed once and copied for
    # each message, which costs less than hmac.digest setting them up again.
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    padded = key.ljust(_BLOCK, b"\0")
    inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in padded))
    outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in padded))
    digests = []
    for message in _split(data, lengths, gap):
        inner_hash = inner.copy()
        inner_hash.update(message)
        outer_hash = outer.copy()
        outer_hash.update(inner_hash.digest())
        digests.append(outer_hash.digest()[:size])
    return b"".join(digests)


def _py_merkle_root(leaf_hashes: bytes) -> bytes:
    if len(leaf_hashes) % _DIGEST:
        raise ValueError(
            f"leaf hashes contain {len(leaf_hashes)} bytes, not a whole number of "
            "32-byte hashes"
        )
    level = [leaf_hashes[i : i + _DIGEST] for i in range(0, len(leaf_hashes), _DIGEST)]
    if not level:
        return hashlib.sha256(b"").digest()
    # Pairing neighbours level by level and carrying an odd last node up
    # gives the root of RFC 9162's recursive split.
    while len(level) > 1:
        paired = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


sha256_each: Callable[..., bytes]
hmac_sha256_each: Callable[..., bytes]
merkle_root: Callable[[bytes], bytes]
b32encode: Callable[[bytes], bytes]

try:
    from govchain.crypto import _bulk
except ImportError:
    NATIVE = False
    sha256_each = _py_sha256_each
    hmac_sha256_each = _py_hmac_sha256_each
    merkle_root = _py_merkle_root
    b32encode = base64.b32encode
    logger.info("govchain.crypto._bulk is not built; bulk hashing runs on hashlib")
else:
    NATIVE = True
    sha256_each = _bulk.sha256_each
    hmac_sha256_each = _bulk.hmac_sha256_each
    merkle_root = _bulk.merkle_root
    b32encode = _bulk.b32encode


def column_messages(series: pl.Series) -> tuple[bytes, array[int], int]:
    """Return `(data, lengths, gap)` for the values of a text series.

    Nulls raise `ValueError`: a null and an empty string would be the same
    message, so drop or replace them first.
    """
    if series.null_count():
        raise ValueError(f"column {series.name!r} has nulls; drop them before hashing")
    text = series.cast(pl.String)
    buffer = io.BytesIO()
    # With no quoting Polars writes each value's UTF-8 bytes unchanged,
    # newlines included, and ends every value with one newline.
    text.to_frame("m").write_csv(
        buffer, include_header=False, quote_style="never", line_terminator="\n"
    )
    lengths = array("I", text.str.len_bytes().to_list())
    return buffer.getvalue(), lengths, 1
