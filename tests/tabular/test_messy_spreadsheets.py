"""read_table on test workbooks of other spreadsheet readers, against their upstream
expectations.

tests/fixtures/import/SOURCES.md names each file's project and what that project
expects. Where govchain deliberately differs, the test states how and why.
"""

from pathlib import Path

import pytest

from govchain.errors import ValidationError
from govchain.tabular import read_table

IMPORT = Path(__file__).parent.parent / "fixtures" / "import"
TABULAR = Path(__file__).parent.parent / "fixtures" / "tabular"


def test_merged_cells_filled_without_header() -> None:
    table = read_table(IMPORT / "merged-cells.xlsx", header_row=0)
    assert table.header == ("column_1", "column_2")
    assert table.rows == [("data", "data")] * 3
    assert [note.cell for note in table.notes] == ["B1", "A2", "B2", "A3", "B3"]
    assert {note.kind for note in table.notes} == {"merged-fill"}


def test_merged_cells_left_empty_without_fill() -> None:
    table = read_table(IMPORT / "merged-cells.xlsx", header_row=0, fill_merged=False)
    assert table.header == ("column_1", "column_2")
    assert table.rows == [("data", None)]
    assert table.notes[0].kind == "merged-cell"
    assert table.notes[0].cell == "B1"
    assert table.notes[0].column == "column_2"


def test_multiline_headers_detected() -> None:
    # Upstream joins the labels of a column with a space.
    table = read_table(IMPORT / "multiline-headers.xlsx", header_separator=" ")
    assert table.header == (
        "Region",
        "Caloric contribution (%)",
        "Cumulative impact of changes on cost of food basket from previous quarter",
        "Cumulative impact of changes on cost of food basket from baseline (%)",
    )
    assert table.header_row == 1
    assert table.header_rows == 5
    assert table.rows == [("A", "B", "C", "D")]
    assert table.row_numbers == [6]
    assert table.notes == ()


def test_multiline_headers_declared() -> None:
    table = read_table(IMPORT / "multiline-headers.xlsx", header_row=1, header_rows=5)
    assert table.header[1] == "Caloric contribution/(%)"
    assert table.rows == [("A", "B", "C", "D")]


def test_number_format_stored_values() -> None:
    # Upstream can render the display format (4.5, -9.032, 15.8). govchain keeps
    # the stored number, because the display rounds away digits.
    table = read_table(IMPORT / "number-format-multicode.xlsx")
    assert table.header == ("col1",)
    assert table.rows == [
        ("4.51119775197299",),
        ("-9.03233986479077",),
        ("15.7929464439101",),
    ]


def test_merge_cells_every_range_filled() -> None:
    table = read_table(IMPORT / "merge_cells.xlsx", header_row=0)
    assert table.rows == [
        ("Row Merge", "Row Merge", "Not Merged", None),
        ("Column Merge", "Chunk Merged", "Chunk Merged", "Chunk Merged"),
        ("Column Merge", "Chunk Merged", "Chunk Merged", "Chunk Merged"),
        ("Column Merge", "Chunk Merged", "Chunk Merged", "Chunk Merged"),
    ]
    assert len(table.notes) == 11


def test_merged_range_header_over_two_rows() -> None:
    table = read_table(IMPORT / "merged_range.xlsx")
    assert table.sheet == "Sheet1"
    assert table.header_rows == 2
    # C1 is merged over C1:D2, so columns C and D share its label.
    assert table.header == ("A1", "B1", "C1", "C1_2", "E1", "F1", "G1", "H1")
    assert table.rows == [
        ("A3", "B3", "C3", "C3", "E3", "F3", "G3", "H3"),
        ("A4", "B4", "C4", "C4", "E4", "F4", "G4", "H4"),
    ]
    kinds = [(note.kind, note.cell) for note in table.notes]
    assert kinds == [
        ("merged-header", "C1"),
        ("merged-fill", "D3"),
        ("merged-fill", "D4"),
    ]


def test_date_1904_system() -> None:
    table = read_table(IMPORT / "date_1904.xlsx", header_row=0)
    assert table.rows == [
        ("2021-01-01", "15"),
        ("2021-01-02", "16"),
        ("PT255H10M10S", "17"),
    ]


def test_date_1900_system_same_values() -> None:
    table = read_table(TABULAR / "date.xlsx", header_row=0)
    assert table.rows == read_table(IMPORT / "date_1904.xlsx", header_row=0).rows


def test_errors_sheet_reads_as_empty() -> None:
    with pytest.raises(
        ValidationError,
        match=r"errors\.xlsx, sheet 'Feuil1' contains no data, every row is empty; "
        r"7 cells hold spreadsheet errors such as #N/A",
    ) as caught:
        read_table(IMPORT / "errors.xlsx")
    assert caught.value.reason == "empty-table"


def test_error_cell_noted() -> None:
    table = read_table(TABULAR / "sheet-with-na.xlsx")
    assert table.rows == [("A", None), ("B", "100")]
    assert len(table.notes) == 1
    note = table.notes[0]
    assert (note.kind, note.severity, note.row, note.column, note.cell) == (
        "cell-error",
        "warning",
        2,
        "Amount",
        "B2",
    )
    assert note.message.startswith("cell holds the spreadsheet error #N/A")


def test_escaped_carriage_return() -> None:
    table = read_table(IMPORT / "has_x000D_.xlsx", header_row=0)
    assert table.rows == [("ABC\r\nDEF",)]


def test_changing_header_location_sheet1() -> None:
    table = read_table(IMPORT / "fixture-changing-header-location.xlsx")
    assert table.sheet == "Sheet1"
    assert table.header_row == 2
    assert table.header == ("Month", "Year")
    assert table.rows == [("1", "2019"), ("2", "2020")]


def test_changing_header_location_sheet3() -> None:
    path = IMPORT / "fixture-changing-header-location.xlsx"
    table = read_table(path, sheet="Sheet3")
    assert table.header_row == 12
    assert table.header == ("Month", "Year")
    assert table.row_numbers == [13, 14]


def test_changing_header_location_no_header() -> None:
    path = IMPORT / "fixture-changing-header-location.xlsx"
    table = read_table(path, sheet="Sheet2", header_row=0)
    assert table.rows == [("1", "3", "5"), ("2", "4", "6")]


def test_type_errors_mixed_column_as_text() -> None:
    table = read_table(IMPORT / "fixture-type-errors.xlsx")
    assert table.header == ("Column",)
    # Row 2 is blank. Numbers, booleans, dates and times all become text.
    assert table.row_numbers[0] == 3
    assert table.column("Column") == [
        "foo",
        "-1",
        "0",
        "1",
        "0",
        "1",
        "1.1",
        "-1",
        "0",
        "1",
        "1.1",
        "TRUE",
        "FALSE",
        "2023-07-21",
        "2023-07-21T12:20:00",
        "12:20:00",
        "07/21/2023",
        "7/21/2023  12:20:00 PM",
        "July 23rd",
        "12:20:00",
        "0.1",
    ]
    # Too few cells are dates for this to count as a date column.
    assert table.notes == ()


def test_duplicated_columns_renamed() -> None:
    # Upstream names the copies col_1 and col_2; govchain counts from _2.
    table = read_table(IMPORT / "fixture-single-sheet-duplicated-columns.xlsx")
    assert table.sheet == "January"
    assert table.header == ("col", "col_2", "col_3")
    assert table.rows == [
        ("1", "2019", "2019-02-01T00:01:02"),
        ("2", "2020", "2014-01-02T06:01:02"),
    ]
