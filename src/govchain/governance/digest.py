"""The content hash of a dataset held in a Polars frame, without Python rows.

`govchain.datasets.rows_root` hashes rows given as Python lists: each row's
canonical JSON (RFC 8785, a JSON array of strings and nulls) is a leaf of an
RFC 9162 Merkle tree. `frame_rows_root` returns the same root for a frame of
text columns. Polars writes each row's canonical JSON with string
expressions (a test compares it with `canonical_json` for quotes,
backslashes, control characters, U+2028 and characters outside the BMP).
Only the leaf and node hashes run in Python, one SHA-256 call each.
"""

from __future__ import annotations

import hashlib
import operator

import polars as pl

from govchain.ledger import merkle

__all__ = ["frame_rows_root"]


def frame_rows_root(frame: pl.DataFrame) -> str:
    """Return the hex Merkle root over the canonical JSON of each row of `frame`."""
    if frame.height == 0:
        return merkle.root_from_leaf_hashes([]).hex()
    cells: list[pl.Expr] = []
    for name in frame.columns:
        text = pl.col(name).cast(pl.String)
        quoted = pl.concat_str(
            pl.lit('"'), text.str.replace_many(_ESCAPED, _ESCAPES), pl.lit('"')
        )
        cells += [
            pl.lit(","),
            pl.when(text.is_null()).then(pl.lit("null")).otherwise(quoted),
        ]
    # The leaf prefix 0x00 is written as a NUL character, so each row arrives
    # in Python as the exact bytes to hash.
    cells[0] = pl.lit("\x00[")
    messages = frame.select(
        pl.concat_str([*cells, pl.lit("]")]).cast(pl.Binary).alias("leaf")
    ).to_series()
    return _root(_sha256_each(messages.to_list())).hex()


#: Characters that RFC 8785 escapes in strings, and their escapes: quote,
#: backslash, the two-character forms of five controls, `\u00xx` for the rest.
_SHORT_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPED = ['"', "\\", *[chr(c) for c in range(0x20)]]
_ESCAPES = [
    '\\"',
    "\\\\",
    *[_SHORT_ESCAPES.get(chr(c), f"\\u{c:04x}") for c in range(0x20)],
]


def _sha256_each(messages: list[bytes]) -> list[bytes]:
    """Return the SHA-256 digest of each message; `map` keeps the loop in C."""
    return list(map(_DIGEST, map(hashlib.sha256, messages)))


_DIGEST = operator.methodcaller("digest")


def _root(level: list[bytes]) -> bytes:
    """Return the RFC 9162 root of leaf hashes, one tree level at a time.

    The recursive definition splits at the largest power of two below the size.
    Pairing neighbours level by level and carrying an odd last node up gives
    the same root, without recursion over a million leaves.
    """
    node = merkle.NODE_PREFIX
    while len(level) > 1:
        messages = [node + level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
        paired = _sha256_each(messages)
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]
