"""Cells longer than Excel's 32,767 characters, in workbooks and text files.

The workbooks are written here part by part, so that the sheet XML is exactly
what each case needs. The cases include a cell that inflates from a few
kilobytes to millions of characters and a cell of many short rich-text runs.
"""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import pytest

from govchain.errors import ValidationError
from govchain.tabular import read_table
from govchain.tabular._limits import MAX_CELL_CHARS
from govchain.tabular._xlsx_grid import BLOCK_SIZE

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
HEADER_ROW = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>note</t></is></c></row>'
)


def _workbook(
    path: Path, rows: list[bytes | str], strings: list[str] | None = None
) -> Path:
    """Write a one-sheet workbook whose `<sheetData>` is the header and `rows`.

    A row given as bytes is written in blocks, so a large cell is never built
    as one string here either.
    """
    sheet_type = f"{RELATIONS}/worksheet"
    book_relations = (
        f'<Relationship Id="rId1" Type="{sheet_type}" Target="worksheets/sheet1.xml"/>'
    )
    if strings is not None:
        book_relations += (
            f'<Relationship Id="rId2" Type="{RELATIONS}/sharedStrings" '
            'Target="sharedStrings.xml"/>'
        )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            f'<Types xmlns="{TYPES}"><Default Extension="xml" '
            'ContentType="application/xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{PACKAGE}"><Relationship Id="rId1" '
            f'Type="{RELATIONS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{MAIN}" xmlns:r="{RELATIONS}"><sheets>'
            '<sheet name="Register" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{PACKAGE}">{book_relations}</Relationships>',
        )
        if strings is not None:
            items = "".join(f"<si><t>{text}</t></si>" for text in strings)
            archive.writestr(
                "xl/sharedStrings.xml", f'<sst xmlns="{MAIN}">{items}</sst>'
            )
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(f'<worksheet xmlns="{MAIN}"><sheetData>{HEADER_ROW}'.encode())
            for row in rows:
                part.write(row.encode() if isinstance(row, str) else row)
            part.write(b"</sheetData></worksheet>")
    return path


def _inline_row(number: int, text: str) -> str:
    return (
        f'<row r="{number}"><c r="A{number}" t="inlineStr"><is><t>x</t></is></c>'
        f'<c r="B{number}" t="inlineStr"><is><t>{text}</t></is></c></row>'
    )


def _inflating_workbook(path: Path, characters: int) -> Path:
    """Write a workbook with one inline string cell B2 of `characters` letters."""
    start = '<row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c>'
    start += '<c r="B2" t="inlineStr"><is><t>'
    block = b"A" * (1 << 20)
    rows: list[bytes | str] = [start]
    rows += [block] * (characters // len(block))
    rows += [b"A" * (characters % len(block)), "</t></is></c></row>"]
    return _workbook(path, rows)


def _reject(path: Path) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        read_table(path)
    assert caught.value.reason == "cell-too-long"
    return caught.value


def test_inflated_cell_rejected_early(tmp_path: Path) -> None:
    characters = 3 * BLOCK_SIZE
    path = _inflating_workbook(tmp_path / "inflated.xlsx", characters)
    assert path.stat().st_size < 200_000
    tracemalloc.start()
    try:
        error = _reject(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(error).startswith("inflated.xlsx, sheet 'Register', cell B2: ")
    assert "text is longer than 32,767 characters" in str(error)
    assert "shorten the value" in str(error)
    # Reading the cell would take 100 MB as bytes and again as text. The grid
    # reader's buffer for one block of the part is allocated before the read.
    assert peak < BLOCK_SIZE + 8_000_000


def test_inline_cell_at_limit_read(tmp_path: Path) -> None:
    text = "A" * MAX_CELL_CHARS
    path = _workbook(tmp_path / "limit.xlsx", [_inline_row(2, text)])
    table = read_table(path)
    assert table.rows[0][1] == text


def test_inline_cell_over_limit_rejected(tmp_path: Path) -> None:
    text = "A" * (MAX_CELL_CHARS + 1)
    path = _workbook(tmp_path / "over.xlsx", [_inline_row(2, text)])
    error = _reject(path)
    assert str(error).startswith("over.xlsx, sheet 'Register', row 2, cell B2: ")


def test_escaped_cell_over_limit_rejected(tmp_path: Path) -> None:
    # `&amp;` takes five bytes for a character, so the bytes stay under the
    # run limit and the cell is caught once it is text.
    text = "&amp;" * (MAX_CELL_CHARS + 1)
    path = _workbook(tmp_path / "escaped.xlsx", [_inline_row(2, text)])
    error = _reject(path)
    assert "sheet 'Register', row 2, cell B2: " in str(error)


def test_formula_sheet_cell_over_limit_rejected(tmp_path: Path) -> None:
    # A formula sends the sheet to the ElementTree reader.
    text = "A" * (MAX_CELL_CHARS + 1)
    formula = '<row r="2"><c r="A2"><f>1+1</f><v>2</v></c></row>'
    path = _workbook(tmp_path / "formula.xlsx", [formula, _inline_row(3, text)])
    error = _reject(path)
    assert str(error).startswith("formula.xlsx, sheet 'Register', cell B3: ")


def test_rich_text_runs_over_limit_rejected(tmp_path: Path) -> None:
    runs = "<r><t>AAAAAAAAAA</t></r>" * (MAX_CELL_CHARS // 10 + 1)
    row = (
        '<row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c>'
        f'<c r="B2" t="inlineStr"><is>{runs}</is></c></row>'
    )
    path = _workbook(tmp_path / "runs.xlsx", [row])
    error = _reject(path)
    assert str(error).startswith("runs.xlsx, sheet 'Register', cell B2: ")


def test_shared_string_over_limit_rejected(tmp_path: Path) -> None:
    strings = ["x", "A" * (MAX_CELL_CHARS + 1)]
    row = '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>1</v></c></row>'
    path = _workbook(tmp_path / "shared.xlsx", [row], strings)
    error = _reject(path)
    # The shared strings are read before the cells that use them.
    assert str(error).startswith("shared.xlsx, sheet 'Register', shared string 1: ")


@pytest.mark.parametrize(
    ("name", "cell"),
    [
        ("plain.csv", "A" * (MAX_CELL_CHARS + 1)),
        ("quoted.csv", '"' + "A" * (MAX_CELL_CHARS + 1) + '"'),
        ("plain_huge.csv", "A" * 2_000_000),
        ("quoted_huge.csv", '"a,""b",' + "A" * 200_000),
    ],
)
def test_csv_cell_over_limit_rejected(tmp_path: Path, name: str, cell: str) -> None:
    # Without quotes the Polars fast path splits the file, with them the
    # `csv` module, whose own field limit is 131,072 characters.
    path = tmp_path / name
    path.write_text(f"name,note,extra\nx,{cell},y\n", encoding="utf-8")
    error = _reject(path)
    position = 3 if name == "quoted_huge.csv" else 2
    assert str(error).startswith(f"{name}, row 2, column {position}: ")
    assert "field limit" not in str(error)


def test_csv_cell_at_limit_read(tmp_path: Path) -> None:
    text = "A" * MAX_CELL_CHARS
    path = tmp_path / "limit.csv"
    path.write_text(f"name,note\nx,{text}\n", encoding="utf-8")
    assert read_table(path).rows[0][1] == text
