"""read_table on synthetic department ledgers that reproduce common import faults.

Each fixture is described in tests/fixtures/import/SOURCES.md. The expected
values and notes are those a data steward needs: exact cell text, and for every
changed or withheld cell a note that names its place without its value.
"""

import shutil
import tracemalloc
from pathlib import Path

import pytest

from govchain.errors import ValidationError
from govchain.tabular import ImportNote, TableError, read_table
from govchain.tabular._xlsx import read_xlsx

FIXTURES = Path(__file__).parent.parent / "fixtures" / "import"

#: Values of the fixtures that messages must never contain: names, IDs, phones.
PERSONAL_VALUES = [
    "张三",
    "李四",
    "110101199001020000",
    "1.1010119900102",
    "110101800101999",
    "1.10101E+17",
    "1.38001E+10",
    "13800138000",
]


def _where(note: ImportNote) -> tuple[str, str, int | None, str | None, str | None]:
    return (note.kind, note.severity, note.row, note.column, note.cell)


def _assert_no_personal_values(text: str) -> None:
    for value in PERSONAL_VALUES:
        assert value not in text


# -- An ID number stored as a number ------------------------------------------


def test_id_as_number_xlsx_values() -> None:
    table = read_table(FIXTURES / "ledger.xlsx", strict=False)
    assert table.sheet == "台账"
    assert table.header == ("序号", "姓名", "身份证号", "手机号", "地址")
    assert table.row_numbers == [2, 3, 4, 5]
    assert table.column("身份证号") == [
        None,
        "110105198503129981",
        "110101800101999",
        "11010119900101995X",
    ]
    assert table.column("手机号") == [
        "13800138000",
        "13800138001",
        "13800138002",
        "13800138003",
    ]
    assert table.column("序号") == ["1", "2", "3", "4"]


def test_id_as_number_xlsx_notes() -> None:
    table = read_table(FIXTURES / "ledger.xlsx", strict=False)
    assert [_where(note) for note in table.notes] == [
        ("precision-lost", "error", 2, "身份证号", "C2"),
        ("long-number", "warning", 4, "身份证号", "C4"),
    ]
    assert table.notes[0].sheet == "台账"
    assert "last digits are lost and cannot be recovered" in table.notes[0].message
    assert "format the column as text" in table.notes[0].message
    assert table.notes[1].message.startswith("whole number with 15 digits")
    for note in table.notes:
        _assert_no_personal_values(note.message)


def test_id_as_number_xlsx_strict_raises() -> None:
    with pytest.raises(TableError) as caught:
        read_table(FIXTURES / "ledger.xlsx")
    message = str(caught.value)
    assert message.startswith(
        "ledger.xlsx: 1 cell cannot be imported as it is, fix it in the file "
        "and import it again: ledger.xlsx, sheet '台账', row 2, column "
        "'身份证号', cell C2: number with 16 or more digits"
    )
    assert caught.value.reason == "bad-cells"
    assert [note.cell for note in caught.value.notes] == ["C2"]
    assert caught.value.table.column("身份证号")[1] == "110105198503129981"
    _assert_no_personal_values(message)


def test_id_as_number_csv_values() -> None:
    table = read_table(FIXTURES / "ledger_excel_saved.csv", strict=False)
    assert table.encoding == "gb18030"
    assert table.header == ("序号", "姓名", "身份证号", "手机号", "地址")
    assert table.column("身份证号") == [
        None,
        "110105198503129981",
        "110101198001019971",
        "11010119900101995X",
    ]
    assert table.column("手机号") == ["13800138000", "13800138001", "13800138002", None]


def test_id_as_number_csv_notes() -> None:
    table = read_table(FIXTURES / "ledger_excel_saved.csv", strict=False)
    assert [_where(note) for note in table.notes] == [
        ("scientific-notation", "error", 2, "身份证号", None),
        ("guard-removed", "info", 3, "身份证号", None),
        ("guard-removed", "info", 4, "身份证号", None),
        ("guard-removed", "info", 5, "身份证号", None),
        ("scientific-notation", "error", 5, "手机号", None),
    ]
    assert all(note.sheet is None for note in table.notes)
    assert "all but the first digits are lost" in table.notes[0].message
    for note in table.notes:
        _assert_no_personal_values(note.message)


def test_id_as_number_csv_strict_names_both_cells() -> None:
    with pytest.raises(TableError) as caught:
        read_table(FIXTURES / "ledger_excel_saved.csv")
    message = str(caught.value)
    assert "2 cells cannot be imported" in message
    assert (
        "ledger_excel_saved.csv, row 2, column '身份证号': value is a long" in message
    )
    assert "ledger_excel_saved.csv, row 5, column '手机号': value is a long" in message
    _assert_no_personal_values(message)


def test_id_as_number_csv_as_utf8_fails() -> None:
    with pytest.raises(
        ValidationError,
        match=r"invalid utf-8 byte sequence d0 at byte offset 0 \(line 1\)",
    ) as caught:
        read_table(FIXTURES / "ledger_excel_saved.csv", encoding="utf-8")
    assert caught.value.reason == "bad-encoding"


def test_leading_zero_codes_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    path.write_text("区划代码,电话\n0101,010-12345678\n0012,01012345678\n", "utf-8")
    table = read_table(path)
    assert table.rows == [("0101", "010-12345678"), ("0012", "01012345678")]
    assert table.notes == ()


# -- GB18030 names outside GBK ------------------------------------------------


RARE_NAMES = ["张三", "李䶮", "王㒲", "赵𠈌"]


def test_gb18030_rare_names_detected() -> None:
    table = read_table(FIXTURES / "ledger_gb18030.csv")
    assert table.encoding == "gb18030"
    assert table.header == ("序号", "姓名", "身份证号", "备注")
    assert table.column("姓名") == RARE_NAMES
    assert [len(name or "") for name in table.column("姓名")] == [2, 2, 2, 2]
    assert table.column("身份证号")[3] == "110105197905059926"
    assert table.notes == ()


@pytest.mark.parametrize("declared", ["gbk", "GB2312", "cp936", "gb18030"])
def test_gb18030_declared_subset_upgraded(declared: str) -> None:
    table = read_table(FIXTURES / "ledger_gb18030.csv", encoding=declared)
    assert table.encoding == "gb18030"
    assert table.column("姓名") == RARE_NAMES


def test_gb18030_as_big5_fails_without_replacing() -> None:
    with pytest.raises(ValidationError, match="invalid cp950 byte sequence") as caught:
        read_table(FIXTURES / "ledger_gb18030.csv", encoding="cp950")
    assert "\ufffd" not in str(caught.value)


# -- UTF-8 with BOM and UTF-16 exports ----------------------------------------

LEDGER_HEADER = ("姓名", "身份证号", "手机号")
LEDGER_ROWS = [
    ("张三", "110101199001019992", "13800138000"),
    ("李四", "110105198511119943", "13800138001"),
]


def test_utf8_bom_not_in_header() -> None:
    table = read_table(FIXTURES / "ledger_utf8_bom.csv")
    assert table.encoding == "utf-8-sig"
    assert table.header == LEDGER_HEADER
    assert table.header[0] == "姓名"
    assert table.rows == LEDGER_ROWS


def test_utf16_text_export_as_tsv(tmp_path: Path) -> None:
    path = tmp_path / "ledger_unicode_text.tsv"
    shutil.copyfile(FIXTURES / "ledger_unicode_text.txt", path)
    table = read_table(path)
    assert table.encoding == "utf-16"
    assert table.header == LEDGER_HEADER
    assert table.rows == LEDGER_ROWS


def test_utf16_tab_detected_in_csv(tmp_path: Path) -> None:
    path = tmp_path / "ledger_unicode_text.csv"
    shutil.copyfile(FIXTURES / "ledger_unicode_text.txt", path)
    table = read_table(path)
    assert table.header == LEDGER_HEADER
    assert table.rows == LEDGER_ROWS


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_detected(tmp_path: Path, codec: str) -> None:
    text = (FIXTURES / "ledger_unicode_text.txt").read_bytes().decode("utf-16")
    path = tmp_path / "no_bom.csv"
    path.write_bytes(text.encode(codec))
    table = read_table(path)
    assert table.encoding == codec
    assert table.header == LEDGER_HEADER
    assert table.rows == LEDGER_ROWS


def test_bom_inside_value_flagged(tmp_path: Path) -> None:
    path = tmp_path / "inner_bom.csv"
    path.write_bytes("姓名,身份证号\r\n张\ufeff三,110101199001019992\r\n".encode())
    table = read_table(path)
    assert table.rows == [("张\ufeff三", "110101199001019992")]
    assert [_where(note) for note in table.notes] == [
        ("bom-in-value", "warning", 2, "姓名", None)
    ]


# -- Excel serial dates -------------------------------------------------------


def test_serial_dates_1900_values() -> None:
    table = read_table(FIXTURES / "dates_1900_system.xlsx", strict=False)
    assert table.header == ("序号", "姓名", "登记日期", "说明")
    assert table.column("登记日期") == [
        "1900-02-28",
        None,
        "1900-03-01",
        None,
        "2024-02-29",
        "1990-01-01",
        "1990-01-01",
        None,
    ]


def test_serial_dates_1900_notes() -> None:
    table = read_table(FIXTURES / "dates_1900_system.xlsx", strict=False)
    assert [_where(note) for note in table.notes] == [
        ("early-date", "warning", 2, "登记日期", "C2"),
        ("phantom-date", "error", 3, "登记日期", "C3"),
        ("number-in-date-column", "error", 5, "登记日期", "C5"),
        ("date-normalized", "info", 7, "登记日期", "C7"),
        ("date-normalized", "info", 8, "登记日期", "C8"),
        ("ambiguous-date", "error", 9, "登记日期", "C9"),
    ]
    assert table.notes[1].message.startswith(
        "date serial 60 is 1900-02-29, a day that does not exist"
    )
    assert "day first or month first" in table.notes[5].message


def test_serial_dates_1900_strict_raises() -> None:
    with pytest.raises(TableError, match="3 cells cannot be imported") as caught:
        read_table(FIXTURES / "dates_1900_system.xlsx")
    assert [note.row for note in caught.value.notes] == [3, 5, 9]
    assert "sheet '台账', row 3, column '登记日期', cell C3" in str(caught.value)


def test_serial_dates_1904_system() -> None:
    table = read_table(FIXTURES / "dates_1904_system.xlsx")
    assert table.rows == [("1", "张三", "1990-01-01")]
    assert table.notes == ()


# -- Merged cells and a header over two rows ----------------------------------

MERGED_HEADER = (
    "序号",
    "基本信息/姓名",
    "基本信息/身份证号",
    "联系方式/手机号",
    "联系方式/地址",
    "所属街道",
)


def test_merged_header_detected() -> None:
    table = read_table(FIXTURES / "ledger_merged.xlsx")
    assert table.header == MERGED_HEADER
    assert table.header_row == 1
    assert table.header_rows == 2
    assert table.row_numbers == [3, 4, 5]
    assert table.column("所属街道") == ["东华门街道"] * 3
    assert table.column("基本信息/姓名") == ["张三", "李四", "王五"]


def test_merged_header_fill_noted() -> None:
    table = read_table(FIXTURES / "ledger_merged.xlsx")
    assert [_where(note) for note in table.notes] == [
        ("merged-fill", "info", 4, "所属街道", "F4"),
        ("merged-fill", "info", 5, "所属街道", "F5"),
    ]
    assert table.notes[0].message == (
        "value copied from cell F3, the first cell of the merged range F3:F5"
    )


def test_merged_header_declared_rows() -> None:
    table = read_table(FIXTURES / "ledger_merged.xlsx", header_row=1, header_rows=2)
    assert table.header == MERGED_HEADER
    assert len(table.rows) == 3


def test_merged_header_separator() -> None:
    table = read_table(FIXTURES / "ledger_merged.xlsx", header_separator=" > ")
    assert table.header[1] == "基本信息 > 姓名"


def test_merged_header_without_fill() -> None:
    table = read_table(FIXTURES / "ledger_merged.xlsx", fill_merged=False)
    assert table.column("所属街道") == ["东华门街道", None, None]
    assert [_where(note) for note in table.notes] == [
        ("merged-cell", "warning", 4, "所属街道", "F4"),
        ("merged-cell", "warning", 5, "所属街道", "F5"),
    ]
    assert "whose value is stored only in cell F3" in table.notes[0].message


def test_merged_header_one_row_declared() -> None:
    table = read_table(FIXTURES / "ledger_merged.xlsx", header_rows=1)
    assert table.header == (
        "序号",
        "基本信息",
        "基本信息_2",
        "联系方式",
        "联系方式_2",
        "所属街道",
    )
    # Row 2 contains the sub-headers; declaring one header row makes it data.
    assert table.row_numbers == [2, 3, 4, 5]


def test_merged_header_rows_zero_rejected() -> None:
    with pytest.raises(ValidationError, match="header_rows 0 is invalid"):
        read_table(FIXTURES / "ledger_merged.xlsx", header_rows=0)


def test_merged_header_rows_without_header_rejected() -> None:
    with pytest.raises(ValidationError, match="header_rows is 2 but header_row is 0"):
        read_table(FIXTURES / "ledger_merged.xlsx", header_row=0, header_rows=2)


# -- A sheet that claims a million rows ---------------------------------------

BOGUS_ROWS = [
    ("1", "张三", "110101199001019992", "13800138000", "北京市东城区测试路1号"),
    ("2", "李四", "110105198511119943", "13800138001", "北京市东城区测试路2号"),
    ("3", "王五", "110101199002029965", "13800138002", "北京市东城区测试路3号"),
]


def test_bogus_dimension_reads_three_records() -> None:
    table = read_table(FIXTURES / "ledger_bogus_dimension.xlsx")
    assert table.header == ("序号", "姓名", "身份证号", "手机号", "地址")
    assert table.rows == BOGUS_ROWS
    assert table.row_numbers == [2, 3, 4]
    assert table.notes == ()


def test_stray_space_in_last_row_skipped() -> None:
    table = read_table(FIXTURES / "ledger_stray_space_last_row.xlsx")
    assert table.rows == BOGUS_ROWS
    assert [_where(note) for note in table.notes] == [
        ("blank-row", "info", 1048576, "地址", "E1048576")
    ]


@pytest.mark.parametrize(
    "name", ["ledger_bogus_dimension.xlsx", "ledger_stray_space_last_row.xlsx"]
)
def test_bogus_dimension_costs_only_real_rows(name: str) -> None:
    tracemalloc.start()
    try:
        raw = read_xlsx(FIXTURES / name, source=name, sheet=None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The header, three records and at most the stray row; never a million rows.
    assert len(raw.rows) <= 5
    assert max(len(cells) for _, cells in raw.rows) == 5
    assert peak < 2_000_000


def test_csv_header_rows_declared(tmp_path: Path) -> None:
    # A text file has no merged cells, so an empty label is not copied.
    path = tmp_path / "two_rows.csv"
    path.write_text(
        "序号,基本信息,,联系方式\n,姓名,身份证号,手机号\n1,张三,110101199001019992,13800138000\n",
        encoding="utf-8",
    )
    table = read_table(path, header_rows=2)
    assert table.header == ("序号", "基本信息/姓名", "身份证号", "联系方式/手机号")
    assert table.header_rows == 2
    assert table.rows == [("1", "张三", "110101199001019992", "13800138000")]
