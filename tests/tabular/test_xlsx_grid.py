"""The Polars grid path for plain workbooks returns what the general reader returns."""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

import govchain.data
import govchain.tabular._reader as reader
import govchain.tabular._xlsx_grid as xlsx_grid
from govchain.errors import ValidationError
from govchain.tabular import Table, read_table
from govchain.tabular._table import FrameRows

ROOTS = [
    Path(__file__).parent.parent / "fixtures",
    Path(govchain.data.__file__).parent,
]
WORKBOOKS = sorted(
    p
    for root in ROOTS
    for p in root.rglob("*")
    if p.suffix.lower() in (".xlsx", ".xlsm")
)

_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.'
        'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        '<sheet name="登记" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def _inline(text: str, reference: str = "") -> str:
    ref = f' r="{reference}"' if reference else ""
    return f'<c{ref} t="inlineStr"><is><t>{escape(text)}</t></is></c>'


def _workbook(
    path: Path, rows: list[str], tail: str = "", strings: str | None = None
) -> Path:
    """Write a one-sheet workbook whose `<sheetData>` contains `rows` as given.

    `tail` is written after `</sheetData>`, where merged ranges go. `strings`,
    when given, is the content of the shared strings part.
    """
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
        'openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        + "".join(rows)
        + "</sheetData>"
        + tail
        + "</worksheet>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in _PARTS.items():
            if strings is not None and name == "xl/_rels/workbook.xml.rels":
                text = text.replace("</Relationships>", _STRINGS_RELATION)
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        if strings is not None:
            archive.writestr(
                "xl/sharedStrings.xml",
                '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
                'openxmlformats.org/spreadsheetml/2006/main">' + strings + "</sst>",
            )
    return path


_STRINGS_RELATION = (
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)


def _shared_grid(*table: list[str]) -> tuple[list[str], str]:
    """Return rows of shared string cells, as Excel writes them, and the table."""
    index: dict[str, int] = {}
    rows = []
    for number, cells in enumerate(table, start=1):
        row = "".join(
            f'<c r="{chr(ord("A") + column)}{number}" s="1" t="s">'
            f"<v>{index.setdefault(cell, len(index))}</v></c>"
            for column, cell in enumerate(cells)
        )
        rows.append(f'<row r="{number}" spans="1:{len(cells)}">{row}</row>')
    strings = "".join(f"<si><t>{escape(text)}</t></si>" for text in index)
    return rows, strings


def _grid(*table: list[str]) -> list[str]:
    return [
        f'<row r="{number}">' + "".join(_inline(cell) for cell in cells) + "</row>"
        for number, cells in enumerate(table, start=1)
    ]


#: Sheets written by the tests: name, rows, and whether the grid path may take them.
CASES: list[tuple[str, list[str], bool]] = [
    ("plain", _grid(["身份证号", "姓名"], ["0110", "张三"], ["0220", "李四"]), True),
    ("spaces-kept", _grid(["a", "b"], [" x ", "y "], ["1", "2"]), True),
    ("empty-cell", _grid(["a", "b", "c"], ["1", "", "3"], ["4", "5", "6"]), True),
    ("newline", _grid(["a", "b"], ["x\ny", "2"], ["3", "4"]), True),
    ("duplicate-header", _grid(["a", "a"], ["1", "2"]), True),
    (
        "references",
        [
            '<row r="1" spans="1:2">' + _inline("a", "A1") + _inline("b", "B1"),
            '</row><row r="2">' + _inline("1", "A2") + _inline("2", "B2") + "</row>",
        ],
        True,
    ),
    ("entity", _grid(["a", "b"], ["x & y", "2"]), False),
    ("header-only", _grid(["a", "b"]), False),
    (
        "gap",
        [*_grid(["a", "b"], ["1", "2"]), _grid(["3", "4"])[0].replace("1", "4")],
        False,
    ),
    ("ragged", _grid(["a", "b"], ["1", "2", "3"]), False),
    (
        "skipped-column",
        [
            '<row r="1">' + _inline("a", "A1") + _inline("b", "C1") + "</row>",
            '<row r="2">' + _inline("1", "A2") + _inline("2", "C2") + "</row>",
        ],
        False,
    ),
    ("blank-row", _grid(["a", "b"], ["1", "2"], [" ", ""], ["3", "4"]), False),
    ("title-row", _grid(["人口统计", ""], ["a", "b"], ["1", "2"], ["3", "4"]), False),
    ("full-width", _grid(["a", "b"], ["１２", "2"]), False),
    ("scientific", _grid(["id", "b"], ["1.10101E+17", "2"]), False),
    ("escape", _grid(["a", "b"], ["_x0041_", "2"]), False),
    ("apostrophe", _grid(["id", "b"], ["'0123", "2"]), False),
    ("carriage-return", _grid(["a", "b"], ["x\ry", "2"]), False),
    ("bom", _grid(["a", "b"], ["\ufeffx", "2"]), False),
    ("empty-edge", _grid(["", "a"], ["", "1"]), False),
    (
        "hidden-row",
        [
            '<row r="1" hidden="1">' + _inline("a") + "</row>",
            '<row r="2">' + _inline("1") + "</row>",
        ],
        False,
    ),
    (
        "number",
        ['<row r="1">' + _inline("a") + "</row>", '<row r="2"><c><v>12</v></c></row>'],
        False,
    ),
]


def _read(path: Path, *, grid: bool, monkeypatch: pytest.MonkeyPatch) -> Table | str:
    """Read `path` by one path; return the table, or the error message."""
    with monkeypatch.context() as patch:
        if not grid:
            patch.setattr(reader, "read_plain_workbook", lambda *a, **k: None)
        try:
            return read_table(path, strict=False)
        except ValidationError as exc:
            return f"{type(exc).__name__}: {exc}"


def _same(grid: Table | str, general: Table | str) -> None:
    if isinstance(grid, str) or isinstance(general, str):
        assert grid == general
        return
    assert grid.header == general.header
    assert [tuple(row) for row in grid.rows] == [tuple(row) for row in general.rows]
    assert list(grid.row_numbers) == list(general.row_numbers)
    assert grid.notes == general.notes
    assert grid.encoding == general.encoding
    assert (grid.header_row, grid.header_rows) == (
        general.header_row,
        general.header_rows,
    )
    assert grid.source == general.source
    assert grid.sheet == general.sheet


@pytest.mark.parametrize("path", WORKBOOKS, ids=lambda p: p.name)
def test_grid_matches_general_fixture(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _same(
        _read(path, grid=True, monkeypatch=monkeypatch),
        _read(path, grid=False, monkeypatch=monkeypatch),
    )


@pytest.mark.parametrize(("name", "rows", "grid"), CASES, ids=[c[0] for c in CASES])
def test_grid_matches_general_case(
    name: str,
    rows: list[str],
    grid: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = _workbook(tmp_path / f"{name}.xlsx", rows)
    got = _read(path, grid=True, monkeypatch=monkeypatch)
    _same(got, _read(path, grid=False, monkeypatch=monkeypatch))
    took_grid = not isinstance(got, str) and isinstance(got.rows, FrameRows)
    assert took_grid == grid


#: Shared string sheets: name, rows, strings part, and whether the grid path may take them.
_SHARED_PLAIN = _shared_grid(["身份证号", "姓名"], ["0110", "张三"], ["0220", "张三"])
SHARED_CASES: list[tuple[str, list[str], str, bool]] = [
    ("shared-plain", *_SHARED_PLAIN, True),
    (
        "shared-empty",
        *_shared_grid(["a", "b", "c"], ["1", "", "3"], ["4", "5", "6"]),
        True,
    ),
    (
        "shared-preserve",
        _SHARED_PLAIN[0],
        _SHARED_PLAIN[1].replace("<t>张三", '<t xml:space="preserve">张三 '),
        True,
    ),
    ("shared-entity", *_shared_grid(["a", "b"], ["x & y", "2"]), False),
    (
        "shared-rich-text",
        _SHARED_PLAIN[0],
        _SHARED_PLAIN[1].replace(
            "<si><t>张三</t></si>", "<si><r><t>张</t></r><r><t>三</t></r></si>"
        ),
        False,
    ),
    (
        "shared-past-end",
        _SHARED_PLAIN[0],
        _SHARED_PLAIN[1].replace("<si><t>张三</t></si>", ""),
        False,
    ),
    (
        "shared-and-inline",
        [_SHARED_PLAIN[0][0], *_grid(["x", "y"], ["0110", "张三"])[1:]],
        _SHARED_PLAIN[1],
        False,
    ),
]


@pytest.mark.parametrize(
    ("name", "rows", "strings", "grid"), SHARED_CASES, ids=[c[0] for c in SHARED_CASES]
)
def test_grid_shared_strings_match_general(
    name: str,
    rows: list[str],
    strings: str,
    grid: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = _workbook(tmp_path / f"{name}.xlsx", rows, strings=strings)
    got = _read(path, grid=True, monkeypatch=monkeypatch)
    _same(got, _read(path, grid=False, monkeypatch=monkeypatch))
    took_grid = not isinstance(got, str) and isinstance(got.rows, FrameRows)
    assert took_grid == grid


@pytest.mark.parametrize("block_size", [7, 40, 200])
def test_grid_blocks_split_rows(
    block_size: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = [["编号", "姓名"], *([f"{n:04d}", f"名{n}"] for n in range(30))]
    path = _workbook(tmp_path / "blocks.xlsx", _grid(*table))
    general = _read(path, grid=False, monkeypatch=monkeypatch)
    monkeypatch.setattr(xlsx_grid, "BLOCK_SIZE", block_size)
    got = _read(path, grid=True, monkeypatch=monkeypatch)
    _same(got, general)
    assert not isinstance(got, str)
    assert isinstance(got.rows, FrameRows)


@pytest.mark.parametrize("block_size", [40, 1 << 25])
def test_grid_merged_cells_general(
    block_size: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    merged = '<mergeCells count="1"><mergeCell ref="A2:A3"/></mergeCells>'
    rows = _grid(["a", "b"], ["1", "2"], ["", "3"])
    path = _workbook(tmp_path / "merged.xlsx", rows, merged)
    general = _read(path, grid=False, monkeypatch=monkeypatch)
    monkeypatch.setattr(xlsx_grid, "BLOCK_SIZE", block_size)
    got = _read(path, grid=True, monkeypatch=monkeypatch)
    _same(got, general)
    assert not isinstance(got, str)
    assert not isinstance(got.rows, FrameRows)
