"""The content hash of a dataset held in a Polars frame, without Python rows.

`govchain.datasets.rows_root` hashes rows given as Python lists: each row's
canonical JSON (RFC 8785, a JSON array of strings and nulls) is a leaf of an
RFC 9162 Merkle tree. `frame_rows_root` returns the same root for a frame of
text columns. Polars writes each row's canonical JSON with string
expressions (a test compares it with `canonical_json` for quotes,
backslashes, control characters, U+2028 and characters outside the BMP), and
`govchain.crypto.bulk` hashes the leaves and the tree in one call each.
"""

from __future__ import annotations

import polars as pl

from govchain.crypto import bulk
from govchain.ledger import merkle

__all__ = ["frame_rows_root"]


def frame_rows_root(frame: pl.DataFrame) -> str:
    """Return the hex Merkle root over the canonical JSON of each row of `frame`."""
    if frame.height == 0:
        return merkle.root_from_leaf_hashes([]).hex()
    escaped = _columns_to_escape(frame)
    cells: list[pl.Expr] = []
    for name in frame.columns:
        text = pl.col(name).cast(pl.String)
        if name in escaped:
            text = text.str.replace_many(_ESCAPED, _ESCAPES)
        quoted = pl.concat_str(pl.lit('"'), text, pl.lit('"'))
        cells += [
            pl.lit(","),
            pl.when(text.is_null()).then(pl.lit("null")).otherwise(quoted),
        ]
    cells[0] = pl.lit("[")
    rows = frame.select(pl.concat_str([*cells, pl.lit("]")]).alias("row")).to_series()
    data, lengths, gap = bulk.column_messages(rows)
    leaves = bulk.sha256_each(data, lengths, gap, prefix=merkle.LEAF_PREFIX)
    return bulk.merkle_root(leaves).hex()


#: Characters that RFC 8785 escapes in strings, and their escapes: quote,
#: backslash, the two-character forms of five controls, `\u00xx` for the rest.
_SHORT_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPED = ['"', "\\", *[chr(c) for c in range(0x20)]]
_ESCAPES = [
    '\\"',
    "\\\\",
    *[_SHORT_ESCAPES.get(chr(c), f"\\u{c:04x}") for c in range(0x20)],
]


def _columns_to_escape(frame: pl.DataFrame) -> set[str]:
    """Return the columns that contain a character JSON must escape.

    Most registers contain none, and one scan per column costs less than the
    replacement it saves.
    """
    found = frame.select(
        pl.col(name).cast(pl.String).str.contains(r'["\\\x00-\x1f]').any()
        for name in frame.columns
    ).row(0)
    return {name for name, hit in zip(frame.columns, found, strict=True) if hit}
