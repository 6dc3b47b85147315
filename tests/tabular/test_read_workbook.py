"""read_table on .xlsx and .xls workbooks: cell text, header rows, sheet choice."""

import zipfile
from pathlib import Path

import pytest

import govchain.tabular
from govchain.data import demo_file
from govchain.errors import ValidationError
from govchain.tabular import read_table

FIXTURES = Path(__file__).parent.parent / "fixtures" / "tabular"


def test_tabular_all_is_sorted_and_exported() -> None:
    assert govchain.tabular.__all__ == sorted(govchain.tabular.__all__)
    for name in govchain.tabular.__all__:
        assert hasattr(govchain.tabular, name)


def test_read_table_hong_kong_street_names() -> None:
    table = read_table(demo_file("psi_street_names_20200630.xlsx"))
    assert table.sheet == "PSI"
    assert table.encoding is None
    assert table.header == ("English Name", "Chinese Name", "Dist_Council1")
    assert len(table.rows) == 4553
    # The full-width digit of "麒麟圍１巷" becomes ASCII, with a note.
    assert table.rows[0] == ("1ST LANE KEI LUN WAI", "麒麟圍1巷", "TM")
    assert table.notes[0].kind == "width-normalized"
    assert table.notes[0].row == 2
    assert table.notes[0].column == "Chinese Name"
    assert table.notes[0].cell == "B2"
    assert len(table.notes) == 29
    assert table.row_numbers[0] == 2
    assert table.row_numbers[-1] == 4554
    assert table.rows[-1] == ("ZURICH AVENUE", "蘇黎世大道", "N")


def test_read_table_shandong_drops_empty_edges() -> None:
    table = read_table(
        demo_file("shandong_2022_undergrad_batch1_admission_cutoff.xlsx")
    )
    # Column A is empty in every row, so it is not part of the table.
    assert table.header == (
        "专业代号及名称",
        "院校代号及名称",
        "投档计划数",
        "投档最低位次",
    )
    assert table.header_row == 1
    # Rows 2 to 18287 contain data. Row 18288 is an empty merged footer.
    assert len(table.rows) == 18286
    assert table.row_numbers[-1] == 18287
    assert table.rows[0] == (
        "16文科试验班类(文科基础类专业)",
        "A001北京大学",
        "24",
        "158",
    )
    assert table.rows[-1][1] == "Y018山东科技大学"
    assert table.rows[-1][3] == "100564"


def test_read_table_taoyuan_xls() -> None:
    table = read_table(demo_file("taoyuan_opendata_supply_list_2018.xls"))
    assert table.sheet == "桃園市政府開放資料供應清單"
    assert len(table.header) == 29
    assert table.header[:3] == ("編號", "資料名稱", "資料來源")
    assert len(table.rows) == 1429
    first = dict(zip(table.header, table.rows[0], strict=True))
    assert first["編號"] == "1"
    assert first["資料來源"] == "380120000J 【社會局】"
    assert first["更新頻率"] == "不定期"
    assert first["最後更新時間"] == "2017-08-18 15:37:43"
    assert table.rows[-1][0] == "1429"


def test_read_table_notes_above_header() -> None:
    table = read_table(FIXTURES / "header-row.xlsx")
    assert table.header_row == 9
    assert table.header == ("Columns", "Column A", "Column B", "Column C")
    assert table.rows == [("put data here", "1", "2", "3")]
    assert table.row_numbers == [10]


def test_read_table_table_in_middle() -> None:
    table = read_table(FIXTURES / "temperature-in-middle.xlsx")
    assert table.header_row == 4
    assert table.header == ("label", "value")
    assert table.rows == [("celsius", "22.2222"), ("fahrenheit", "72")]
    assert table.row_numbers == [5, 6]


def test_read_table_dates_and_durations() -> None:
    table = read_table(FIXTURES / "date.xlsx", header_row=0)
    assert table.rows == [
        ("2021-01-01", "15"),
        ("2021-01-02", "16"),
        ("PT255H10M10S", "17"),
    ]


def test_read_table_decimals_without_float_noise() -> None:
    table = read_table(FIXTURES / "decimal-numbers.xlsx")
    assert table.rows == [("28.14",), ("29.02",)]


def test_read_table_empty_cell_is_none() -> None:
    table = read_table(FIXTURES / "sheet-with-na.xlsx")
    assert table.header == ("Title", "Amount")
    assert table.rows == [("A", None), ("B", "100")]


def test_read_table_named_sheet() -> None:
    table = read_table(FIXTURES / "sheet-with-na.xlsx", sheet="Broken refs")
    assert table.sheet == "Broken refs"
    assert table.header == ("numbers",)
    assert table.rows == [("1",)]


def test_read_table_sheet_not_found() -> None:
    with pytest.raises(ValidationError, match="sheet 'Nope' not found") as caught:
        read_table(FIXTURES / "sheet-with-na.xlsx", sheet="Nope")
    assert "'Sheet1', 'Broken refs'" in str(caught.value)


def test_read_table_xls_merged_label_filled() -> None:
    table = read_table(FIXTURES / "19codee.xls")
    assert table.sheet == "Accident"
    assert table.header == ("Field name", "Code", "Description")
    assert table.rows[:3] == [
        ("Severity of Accident", "1", "Fatal"),
        ("Severity of Accident", "2", "Serious"),
        ("Severity of Accident", "3", "Slight"),
    ]
    # Row 5 is a blank spacer row.
    assert table.row_numbers[:4] == [2, 3, 4, 6]
    fill = table.notes[0]
    assert (fill.kind, fill.severity, fill.row, fill.column) == (
        "merged-fill",
        "info",
        3,
        "Field name",
    )
    assert fill.message == (
        "value copied from cell A2, the first cell of the merged range A2:A4"
    )


def test_read_table_xls_merged_label_left_empty() -> None:
    table = read_table(FIXTURES / "19codee.xls", fill_merged=False)
    assert table.rows[:3] == [
        ("Severity of Accident", "1", "Fatal"),
        (None, "2", "Serious"),
        (None, "3", "Slight"),
    ]
    assert table.notes[0].kind == "merged-cell"
    assert table.notes[0].severity == "warning"
    assert table.notes[0].row == 3


def test_read_table_text_export_suffix_hint(tmp_path: Path) -> None:
    path = tmp_path / "export.txt"
    path.write_text("a\tb\n1\t2\n", encoding="utf-16")
    with pytest.raises(ValidationError, match=r"rename a tab-separated text export"):
        read_table(path)


def test_read_table_huge_dimension_costs_real_rows(tmp_path: Path) -> None:
    # The sheet claims the whole grid and has an empty cell far below the data.
    original = demo_file("psi_street_names_20200630.xlsx")
    path = tmp_path / "huge.xlsx"
    sheet_xml = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(original) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == sheet_xml:
                text = data.decode("utf-8")
                text = text.replace('ref="A1:C4554"', 'ref="A1:XFD1048576"')
                text = text.replace(
                    "</sheetData>",
                    '<row r="200000"><c r="A200000" t="inlineStr"><is><t></t></is>'
                    "</c></row></sheetData>",
                )
                data = text.encode("utf-8")
            target.writestr(item, data)
    table = read_table(path)
    assert len(table.rows) == 4553
    assert table.row_numbers[-1] == 4554


def test_read_table_corrupt_workbook(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"this is not a zip archive")
    with pytest.raises(
        ValidationError, match=r"broken\.xlsx: cannot open the workbook"
    ):
        read_table(path)


def test_read_table_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(
        ValidationError, match=r"unsupported file type '\.pdf'"
    ) as caught:
        read_table(path)
    assert ".csv, .ods, .tsv, .xls, .xlsb, .xlsm, .xlsx" in str(caught.value)
    assert "rename" not in str(caught.value)
    assert caught.value.reason == "unsupported-format"


def test_read_table_workbook_error_names_sheet_and_row() -> None:
    path = demo_file("psi_street_names_20200630.xlsx")
    with pytest.raises(
        ValidationError,
        match=r"psi_street_names_20200630\.xlsx, sheet 'PSI', row 5000 is empty",
    ):
        read_table(path, header_row=5000)


def test_table_column_by_name() -> None:
    table = read_table(FIXTURES / "sheet-with-na.xlsx")
    assert table.column("Amount") == [None, "100"]
    with pytest.raises(KeyError):
        table.column("Missing")
