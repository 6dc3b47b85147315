"""read_table on delimited text files: encodings, delimiters, header rows."""

from pathlib import Path

import pytest

from govchain.data import demo_file
from govchain.errors import ValidationError
from govchain.tabular import read_table

FIXTURES = Path(__file__).parent.parent / "fixtures" / "tabular"


def test_read_table_yilan_big5() -> None:
    table = read_table(demo_file("yilan_opendata_catalog_2018-03-20.big5.csv"))
    assert table.source == "yilan_opendata_catalog_2018-03-20.big5.csv"
    assert table.sheet is None
    assert table.encoding == "cp950"
    assert table.header == ("資料集名稱", "資料來源", "聯絡人", "聯絡電話", "資料說明")
    assert table.header_row == 1
    assert len(table.rows) == 356
    assert table.rows[0][:2] == ("宜蘭縣殯葬設施一覽表", "民政處_宗教禮俗科")
    assert table.row_numbers[0] == 2
    assert table.row_numbers[-1] == 360


def test_read_table_multiline_cell_keeps_line_numbers() -> None:
    table = read_table(demo_file("yilan_opendata_catalog_2018-03-20.big5.csv"))
    index = table.row_numbers.index(275)
    description = table.rows[index][4]
    assert description is not None
    assert "\n會舉辦親善大使甄選" in description
    # The record at line 275 spans two lines, so the next record starts at 277.
    assert table.row_numbers[index + 1] == 277


def test_read_table_nhi_keeps_leading_zeros() -> None:
    table = read_table(demo_file("nhi_hospital_indicators_DataGov25511.big5.csv"))
    assert table.encoding == "cp950"
    assert len(table.rows) == 16806
    # The two trailing columns are empty in the header and in every row.
    assert table.header[-1] == "CODE11"
    assert len(table.header) == 11
    first = dict(zip(table.header, table.rows[0], strict=True))
    assert first["HOSPID"] == "0501010019"
    assert first["YEARYY"] == "100Q1"
    assert first["HOSPNAME"] is not None
    assert first["HOSPNAME"].rstrip() == "三軍總醫院松山分院附設民眾診療服務處"
    assert first["CODE11"] is None


def test_read_table_agency_codes_utf16() -> None:
    table = read_table(demo_file("gov_agency_codes_orglist-100.utf16.csv"))
    assert table.encoding == "utf-16"
    assert table.header[0] == "機關代碼"
    assert len(table.header) == 17
    assert len(table.rows) == 99
    row = dict(zip(table.header, table.rows[1], strict=True))
    assert row["機關代碼"] == "101000000A"
    assert row["機關裁撤日期"] == "0930909"
    assert row["郵遞區號"] is None


def test_read_table_kaohsiung_without_header() -> None:
    path = FIXTURES / "kaohsiung_opendata_catalog_2018-03-20.csv"
    table = read_table(path, header_row=0)
    assert table.header == ("column_1", "column_2", "column_3")
    assert table.header_row == 0
    assert table.encoding == "utf-8"
    assert len(table.rows) == 1495
    assert table.row_numbers[0] == 1
    assert table.rows[0][0] == "電動機車充電站名稱及充電站地址"
    description = table.rows[table.row_numbers.index(11)][1]
    assert description is not None
    assert description.startswith("郵遞區號,行政區,型式,")


def test_read_table_bom_not_in_header() -> None:
    table = read_table(FIXTURES / "bom.csv")
    assert table.encoding == "utf-8-sig"
    assert table.header == ("id", "name")
    assert table.rows == [("1", "english"), ("2", "中国人")]


def test_read_table_bom_stripped_with_given_encoding() -> None:
    table = read_table(FIXTURES / "bom.csv", encoding="utf-8")
    assert table.header == ("id", "name")


def test_read_table_taipei_title_row_skipped() -> None:
    table = read_table(FIXTURES / "taipei-tax.csv")
    assert table.header_row == 2
    assert table.header[:3] == ("鄉鎮市區", "村里", "納稅單位")
    assert len(table.header) == 10
    assert len(table.rows) == 483
    assert table.rows[0][:4] == ("松山區", "中崙里", "1427", "1782134")
    assert table.row_numbers[0] == 3


def test_read_table_given_header_row() -> None:
    table = read_table(FIXTURES / "taipei-tax.csv", header_row=1)
    assert table.header_row == 1
    assert table.header[0].startswith("101年度綜稅所得總額")
    assert table.header[2] == "column_3"
    assert len(table.rows) == 484


def test_read_table_header_row_past_end() -> None:
    with pytest.raises(ValidationError, match="row 9999 is empty or past the end"):
        read_table(FIXTURES / "taipei-tax.csv", header_row=9999)


def test_read_table_negative_header_row() -> None:
    with pytest.raises(ValidationError, match="header row -1 is invalid"):
        read_table(FIXTURES / "taipei-tax.csv", header_row=-1)


def test_read_table_comment_line_skipped() -> None:
    table = read_table(FIXTURES / "skip-rows-before-headers.csv")
    assert table.header_row == 2
    assert table.header == ("id", "name")
    assert table.rows == [("1", "english"), ("2", "中国人")]


def test_read_table_semicolon_delimiter() -> None:
    table = read_table(FIXTURES / "semicolon.csv")
    assert table.header == ("fieldNameA", "fieldNameB")
    assert table.rows == [("0123", "c")]


def test_read_table_single_column_keeps_zeros() -> None:
    table = read_table(FIXTURES / "leading-zeros.csv")
    assert table.header == ("value",)
    assert table.rows == [("01",), ("002",), ("00003",)]


def test_read_table_duplicate_header_names() -> None:
    table = read_table(FIXTURES / "duplicate-headers.csv")
    assert table.header == ("id", "name", "id_2", "age", "id_3")
    assert table.rows[0][4] == "001101"


def test_read_table_blank_header_name() -> None:
    table = read_table(FIXTURES / "blank-headers.csv")
    assert table.header_row == 1
    assert table.header == ("id", "column_2", "age")
    assert table.rows[0] == ("1101", "John", "30")


def test_read_table_latin1_not_guessed() -> None:
    with pytest.raises(
        ValidationError,
        match=r"UTF-8, which fails at byte offset 20 \(line 3, column 2\)",
    ) as caught:
        read_table(FIXTURES / "latin1.csv")
    assert "latin1.csv" in str(caught.value)
    assert "--encoding" in str(caught.value)
    assert caught.value.reason == "bad-encoding"


def test_read_table_wrong_encoding_names_byte() -> None:
    with pytest.raises(
        ValidationError,
        match=r"utf-8 byte sequence a9 at byte offset 20 \(line 3, column 2\)",
    ):
        read_table(FIXTURES / "latin1.csv", encoding="utf-8")


def test_read_table_given_encoding() -> None:
    table = read_table(FIXTURES / "latin1.csv", encoding="latin-1")
    assert table.encoding == "iso8859-1"
    assert table.rows == [("1", "english"), ("2", "©")]


def test_read_table_unknown_encoding() -> None:
    with pytest.raises(ValidationError, match="unknown text encoding 'klingon'"):
        read_table(FIXTURES / "bom.csv", encoding="klingon")


def test_read_table_big5_invalid_byte(tmp_path: Path) -> None:
    # 0xff never starts a Big5 character, so strict decoding fails right after
    # the ten bytes of the header line.
    path = tmp_path / "broken.csv"
    path.write_bytes("名稱,說明\n".encode("cp950") + b"\xff\xff\n")
    with pytest.raises(
        ValidationError,
        match=r"cp950 byte sequence ff at byte offset 10 \(line 2, column 1\)",
    ):
        read_table(path, encoding="cp950")


def test_invalid_byte_headerless_no_value(tmp_path: Path) -> None:
    # Without a header row the first line is a person's record, so the
    # message names the column by its position and quotes no cell.
    path = tmp_path / "headerless.csv"
    first = "1001,褚思,13800138000\n".encode()
    path.write_bytes(first + b"1002,\xff\xfe,13800138001\n")
    with pytest.raises(ValidationError) as caught:
        read_table(path)
    message = str(caught.value)
    assert f"byte offset {len(first) + 5} (line 2, column 2)" in message
    assert "褚思" not in message
    assert "1001" not in message
    assert "13800138000" not in message
    assert caught.value.reason == "bad-encoding"


def test_read_table_gb18030_detected(tmp_path: Path) -> None:
    workbook = read_table(
        demo_file("shandong_2022_undergrad_batch1_admission_cutoff.xlsx")
    )
    lines = [",".join(workbook.header)]
    lines += [",".join(cell or "" for cell in row) for row in workbook.rows[:300]]
    path = tmp_path / "shandong.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    table = read_table(path)
    assert table.encoding == "gb18030"
    assert table.header == workbook.header
    assert table.rows == workbook.rows[:300]


def test_read_table_tab_separated(tmp_path: Path) -> None:
    path = tmp_path / "codes.tsv"
    path.write_text("code\tname\n0001\tA, B and C\n0002\tD\n", encoding="utf-8")
    table = read_table(path)
    assert table.header == ("code", "name")
    assert table.rows == [("0001", "A, B and C"), ("0002", "D")]


def test_read_table_tab_detected_in_csv(tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    path.write_text("code\tname\n0001\tA, B and C\n0002\tD\n", encoding="utf-8")
    table = read_table(path)
    assert table.header == ("code", "name")
    assert table.rows[0] == ("0001", "A, B and C")


def test_read_table_long_record_rejected(tmp_path: Path) -> None:
    path = tmp_path / "shifted.csv"
    path.write_text("a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n", encoding="utf-8")
    with pytest.raises(
        ValidationError, match=r"shifted\.csv, row 3 has 4 fields but the header has 3"
    ):
        read_table(path)


def test_read_table_short_record_padded(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("a,b,c\n1,2,3\n4\n", encoding="utf-8")
    table = read_table(path)
    assert table.rows == [("1", "2", "3"), ("4", None, None)]


def test_read_table_unclosed_quote_rejected(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    path.write_text('a,b\n1,2\n3,"4\n', encoding="utf-8")
    with pytest.raises(
        ValidationError, match=r"quote\.csv, row 3: invalid delimited text"
    ):
        read_table(path)


def test_read_table_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"\n,,\n")
    with pytest.raises(ValidationError, match=r"empty\.csv contains no data"):
        read_table(path)


def test_read_table_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"nothing\.csv: cannot read the file"):
        read_table(tmp_path / "nothing.csv")


def test_read_table_sheet_for_text_file() -> None:
    with pytest.raises(ValidationError, match=r"a \.csv file has no sheets"):
        read_table(FIXTURES / "bom.csv", sheet="Sheet1")


def test_wide_data_row_not_taken_as_header(tmp_path: Path) -> None:
    path = tmp_path / "register.csv"
    path.write_text(
        "姓名,身份证号,手机号,a,b\n张三丰,33010219800101123X,13812345678,1,2,3\n",
        "utf-8",
    )
    with pytest.raises(ValidationError) as error:
        read_table(path)
    message = str(error.value)
    assert "row 2 has 6 fields but the header has 5" in message
    assert "张三丰" not in message
    assert "33010219800101123X" not in message
