"""The content hash of a dataset held in a Polars frame, without Python rows.

`govchain.datasets.rows_root` hashes rows given as Python lists: each row's
canonical JSON (RFC 8785, a JSON array of strings and nulls) is a leaf of an
RFC 9162 Merkle tree. `frame_rows_root` returns the same root for a frame of
text columns. Polars encodes each row as JSON, and a test checks that its
escaping equals canonical JSON for quotes, backslashes, control characters,
U+2028 and characters outside the BMP. Only the leaf and node hashes run in
Python, one SHA-256 call each.
"""

from __future__ import annotations

import hashlib

import polars as pl

from govchain.ledger import merkle

__all__ = ["frame_rows_root"]

_WRAPPER = "r"


def frame_rows_root(frame: pl.DataFrame) -> str:
    """Return the hex Merkle root over the canonical JSON of each row of `frame`."""
    if frame.height == 0:
        return merkle.root_from_leaf_hashes([]).hex()
    row = pl.concat_list([pl.col(c).cast(pl.String) for c in frame.columns])
    encoded = frame.select(
        pl.struct(row.alias(_WRAPPER))
        .struct.json_encode()
        .str.strip_prefix(f'{{"{_WRAPPER}":')
        .str.strip_suffix("}")
        .alias("json")
    ).to_series()
    prefix = merkle.LEAF_PREFIX
    leaves = [
        hashlib.sha256(prefix + text.encode("utf-8")).digest() for text in encoded
    ]
    return _root(leaves).hex()


def _root(level: list[bytes]) -> bytes:
    """Return the RFC 9162 root of leaf hashes, one tree level at a time.

    The recursive definition splits at the largest power of two below the size.
    Pairing neighbours level by level and carrying an odd last node up gives
    the same root, without recursion over a million leaves.
    """
    node = merkle.NODE_PREFIX
    while len(level) > 1:
        paired = [
            hashlib.sha256(node + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]
