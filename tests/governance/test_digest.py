"""The frame content hash equals the row-list content hash of the dataset store."""

from __future__ import annotations

import random

import polars as pl
import pytest

from govchain.datasets import rows_root
from govchain.governance.digest import frame_rows_root

#: Values whose JSON escaping differs between careless encoders.
TRICKY = [
    "plain",
    '"quoted"',
    "back\\slash",
    "\x00\x01\x1f\x7f",
    "\n\r\t\b\f",
    "中文姓名",
    "\u2028\u2029",
    "😀",
    "/",
    "é",
    "",
    None,
]


@pytest.mark.parametrize("count", [0, 1, 2, 3, 5, 8, 13, 64, 100, 1025])
def test_frame_root_equals_rows_root(count: int) -> None:
    rng = random.Random(count)
    rows: list[list[str | None]] = [
        [rng.choice(TRICKY), str(i), rng.choice(TRICKY)] for i in range(count)
    ]
    frame = pl.DataFrame(
        rows, schema={"a": pl.String, "b": pl.String, "c": pl.String}, orient="row"
    )
    assert frame_rows_root(frame) == rows_root(rows)


def test_frame_root_changes_with_a_cell() -> None:
    frame = pl.DataFrame({"a": ["1", "2"], "b": ["x", "y"]})
    changed = frame.with_columns(pl.Series("b", ["x", "z"]))
    assert frame_rows_root(frame) != frame_rows_root(changed)
