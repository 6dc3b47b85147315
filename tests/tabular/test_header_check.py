"""A data row read as the header, and a header without data rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from govchain.errors import ValidationError
from govchain.tabular import TableError, read_table

ROWS = "张三,110101199003074514,13800138000\n李四,11010519491231002X,13900139000\n"


def test_read_table_rejects_data_row_header(tmp_path: Path) -> None:
    path = tmp_path / "noheader.csv"
    path.write_text(ROWS, "utf-8")
    with pytest.raises(ValidationError) as refused:
        read_table(path)
    message = str(refused.value)
    assert refused.value.reason == "data-in-header"
    assert message.startswith("noheader.csv: the header row is missing or is a data")
    assert "row 1" in message
    assert "column 2" in message
    assert "column 3" in message
    for value in ("张三", "110101199003074514", "13800138000"):
        assert value not in message


def test_read_table_no_header_option(tmp_path: Path) -> None:
    path = tmp_path / "noheader.csv"
    path.write_text(ROWS, "utf-8")
    table = read_table(path, header_row=0)
    assert table.header == ("column_1", "column_2", "column_3")
    assert len(table.rows) == 2


def test_read_table_rejects_header_only(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("姓名,身份证号\n", "utf-8")
    with pytest.raises(ValidationError) as refused:
        read_table(path)
    assert refused.value.reason == "empty-table"
    assert "header.csv has a header row and no data rows" in str(refused.value)


def test_read_table_notes_repeated_label(tmp_path: Path) -> None:
    path = tmp_path / "repeat.csv"
    path.write_text("编号,编号,编号,姓名\n1,2,3,某人\n", "utf-8")
    table = read_table(path)
    assert table.header == ("编号", "编号_2", "编号_3", "姓名")
    notes = [note for note in table.notes if note.kind == "duplicate-header"]
    assert [note.column for note in notes] == ["编号_2", "编号_3"]
    assert notes[0].severity == "warning"
    assert notes[0].row == 1
    assert "repeats the label 编号, so this column is named 编号_2" in notes[0].message


def test_read_table_unique_labels_no_note(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("编号,姓名\n1,某人\n", "utf-8")
    assert read_table(path).notes == ()


def test_read_table_data_header_before_cells(tmp_path: Path) -> None:
    # Row 2 has an ID number in scientific notation, a cell error whose note
    # would name the column, which here is row 1's ID number.
    path = tmp_path / "noheader.csv"
    path.write_text(
        "张三,110101199003074514,13800138000\n李四,1.10101E+17,13900139000\n",
        "utf-8",
    )
    with pytest.raises(ValidationError) as refused:
        read_table(path)
    assert refused.value.reason == "data-in-header"
    assert "110101199003074514" not in str(refused.value)
    assert refused.value.__suppress_context__


def test_decode_error_names_position(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b"a,13800138000\nx,Z\xfcrich\n")
    with pytest.raises(ValidationError) as refused:
        read_table(path)
    message = str(refused.value)
    assert "13800138000" not in message
    assert "<mobile number>" not in message
    assert "(line 2, column 2)" in message


def test_cell_error_headerless_names_position(tmp_path: Path) -> None:
    # The first row is a person's record without an ID or mobile number, so
    # the header check lets it through as the header.
    path = tmp_path / "headerless.csv"
    path.write_text("褚思,男,北京市\n王五,女,1.10101E+17\n李四,男,上海市\n", "utf-8")
    with pytest.raises(TableError) as refused:
        read_table(path)
    message = str(refused.value)
    assert "headerless.csv, row 2, column 3: value is a long number" in message
    assert "褚思" not in message
    assert "北京市" not in message
    assert refused.value.notes[0].column == "北京市"


def test_cell_error_confirmed_header_named(tmp_path: Path) -> None:
    # The serial numbers below `序号` show that row 1 is a header.
    path = tmp_path / "register.csv"
    path.write_text("序号,性别,住址\n1,女,1.10101E+17\n2,男,上海市\n", "utf-8")
    with pytest.raises(TableError) as refused:
        read_table(path)
    assert "register.csv, row 2, column '住址': value is" in str(refused.value)


def test_cell_error_given_header_named(tmp_path: Path) -> None:
    path = tmp_path / "register.csv"
    path.write_text("姓名,性别,住址\n王五,女,1.10101E+17\n", "utf-8")
    with pytest.raises(TableError) as refused:
        read_table(path, header_row=1)
    assert "register.csv, row 2, column '住址': value is" in str(refused.value)
