"""The Polars fast path for plain CSV files returns what the general reader returns."""

from __future__ import annotations

from pathlib import Path

import pytest

import govchain.tabular._reader as reader
from govchain.errors import ValidationError
from govchain.tabular import Table, read_table
from govchain.tabular._table import FrameRows

FIXTURES = Path(__file__).parent.parent / "fixtures"
TEXT_FILES = sorted(
    p for p in FIXTURES.rglob("*") if p.suffix.lower() in (".csv", ".tsv")
)

#: Files written by the tests: name, bytes, and whether the fast path may take them.
CASES: list[tuple[str, bytes, bool]] = [
    ("plain.csv", "身份证号,姓名,电话\n0110,张三,010-1\n0220,李四,\n".encode(), True),
    ("crlf.csv", b"id,n\r\n001,a\r\n002,b\r\n", True),
    ("no-final-newline.csv", b"id,n\n001,a\n002,b", True),
    ("bom.csv", b"\xef\xbb\xbfid,n\n1,a\n", True),
    ("gbk.csv", "编号,名称\n01,医院\n02,诊所\n".encode("gb18030"), True),
    ("short-rows.csv", b"a,b,c\n1,2\n3,4,5\n", True),
    ("semicolon.csv", b"a;b\n1;2\n3;4\n", True),
    ("tab.tsv", b"a\tb\n1\t2\n", True),
    ("spaces-kept.csv", b"a,b\n x , y\n1,2\n", True),
    ("duplicate-header.csv", b"a,a,c\n1,2,3\n", True),
    ("narrow-header.csv", b"a,a,\n1,2,3\n", False),
    ("quoted.csv", b'a,b\n"1,5",2\n', False),
    ("multiline.csv", b'a,b\n"x\ny",2\n3,4\n', False),
    ("blank-line.csv", b"a,b\n1,2\n\n3,4\n", False),
    ("blank-cells-row.csv", b"a,b\n1,2\n,\n3,4\n", False),
    ("spaces-row.csv", b"a,b\n1,2\n ,  \n3,4\n", False),
    ("title-row.csv", "人口统计\n单位：人\na,b,c\n1,2,3\n4,5,6\n".encode(), False),
    ("full-width.csv", "a,b\n１２,2\n".encode(), False),
    ("scientific.csv", b"id,b\n1.10101E+17,2\n", False),
    ("scientific-lower.csv", b"id,b\n1.10101e+17,2\n", False),
    ("ideographic-space.csv", "a,b\n张\u3000三,2\n".encode(), False),
    ("inner-bom.csv", "a,b\n\ufeffx,2\n".encode(), False),
    ("separator-control.csv", b"a,b\nx\x1ey,2\n", False),
    ("apostrophe.csv", b"id,b\n'0123,2\n", False),
    ("leading-tab.csv", b"id,b\n\t0123,2\n", False),
    ("lone-cr.csv", b"a,b\r1,2\r", False),
    ("wide-row.csv", b"a,b\n1,2,3\n", False),
    ("empty-edge.csv", b",a,b\n,1,2\n", False),
    ("big5.csv", "編號,名稱\n01,醫院\n".encode("big5"), False),
    ("utf16.csv", "a,b\n1,2\n".encode("utf-16"), False),
]


def _read(path: Path, *, fast: bool, monkeypatch: pytest.MonkeyPatch) -> Table | str:
    """Read `path` by one path; return the table, or the error message."""
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(reader, "read_plain_csv", lambda *a, **k: None)
        try:
            return read_table(path, strict=False)
        except ValidationError as exc:
            return f"{type(exc).__name__}: {exc}"


def _same(fast: Table | str, slow: Table | str) -> None:
    if isinstance(slow, str) or isinstance(fast, str):
        assert fast == slow
        return
    assert fast.header == slow.header
    assert [tuple(row) for row in fast.rows] == [tuple(row) for row in slow.rows]
    assert list(fast.row_numbers) == list(slow.row_numbers)
    assert fast.notes == slow.notes
    assert fast.encoding == slow.encoding
    assert (fast.header_row, fast.header_rows) == (slow.header_row, slow.header_rows)
    assert fast.source == slow.source
    assert fast.sheet == slow.sheet


@pytest.mark.parametrize("path", TEXT_FILES, ids=lambda p: p.name)
def test_fast_matches_general_fixture(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _same(
        _read(path, fast=True, monkeypatch=monkeypatch),
        _read(path, fast=False, monkeypatch=monkeypatch),
    )


@pytest.mark.parametrize(("name", "data", "fast"), CASES, ids=[c[0] for c in CASES])
def test_fast_matches_general_case(
    name: str, data: bytes, fast: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    got = _read(path, fast=True, monkeypatch=monkeypatch)
    _same(got, _read(path, fast=False, monkeypatch=monkeypatch))
    took_fast = not isinstance(got, str) and isinstance(got.rows, FrameRows)
    assert took_fast == fast


def test_fast_path_used_by_fixtures(monkeypatch: pytest.MonkeyPatch) -> None:
    tables = [_read(p, fast=True, monkeypatch=monkeypatch) for p in TEXT_FILES]
    fast = [
        t for t in tables if not isinstance(t, str) and isinstance(t.rows, FrameRows)
    ]
    assert len(fast) >= 5


def test_frame_rows_sequence() -> None:
    import polars as pl

    rows = FrameRows(pl.DataFrame({"a": ["1", None], "b": ["x", "y"]}))
    assert len(rows) == 2
    assert rows[1] == (None, "y")
    assert rows[-1] == (None, "y")
    assert rows[:1] == [("1", "x")]
    assert rows == [("1", "x"), (None, "y")]
    assert rows != [("1", "x")]
    with pytest.raises(IndexError):
        rows[2]
