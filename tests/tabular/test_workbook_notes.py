"""Notes on hidden sheets, rows and columns, formulas and full-width text.

The workbooks are real fixtures with one XML part edited, which is how such
files come about: a person hides a row, a program writes a formula without
calculating it.
"""

import zipfile
from pathlib import Path

import pytest

from govchain.errors import ValidationError
from govchain.tabular import TableError, read_table

IMPORT = Path(__file__).parent.parent / "fixtures" / "import"
SHEET = "xl/worksheets/sheet1.xml"
BOOK = "xl/workbook.xml"


def _edit(original: Path, target: Path, part: str, old: str, new: str) -> Path:
    """Copy the workbook `original` to `target`, replacing `old` by `new` in `part`."""
    with zipfile.ZipFile(original) as source, zipfile.ZipFile(target, "w") as copy:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == part:
                text = data.decode("utf-8")
                assert old in text
                data = text.replace(old, new, 1).encode("utf-8")
            copy.writestr(item, data)
    return target


def test_hidden_row_noted(tmp_path: Path) -> None:
    path = _edit(
        IMPORT / "ledger_bogus_dimension.xlsx",
        tmp_path / "hidden_row.xlsx",
        SHEET,
        '<row r="3">',
        '<row r="3" hidden="1">',
    )
    table = read_table(path)
    assert len(table.rows) == 3
    assert len(table.notes) == 1
    note = table.notes[0]
    assert (note.kind, note.severity, note.row, note.column) == (
        "hidden-row",
        "warning",
        3,
        None,
    )
    assert note.message.startswith("row is hidden in the workbook but was read")


def test_hidden_row_false_not_noted() -> None:
    # LibreOffice writes hidden="false" on every row.
    table = read_table(IMPORT / "fixture-single-sheet-duplicated-columns.xlsx")
    # The file repeats its column labels, which is noted as it should be.
    kinds = {note.kind for note in table.notes}
    assert kinds == {"duplicate-header"}


def test_hidden_column_noted(tmp_path: Path) -> None:
    path = _edit(
        IMPORT / "ledger_bogus_dimension.xlsx",
        tmp_path / "hidden_column.xlsx",
        SHEET,
        "<sheetData>",
        '<cols><col min="3" max="3" width="0" hidden="1"/></cols><sheetData>',
    )
    table = read_table(path)
    assert [(note.kind, note.row, note.column) for note in table.notes] == [
        ("hidden-column", None, "身份证号")
    ]


def test_hidden_sheet_not_read(tmp_path: Path) -> None:
    path = _edit(
        IMPORT / "merged_range.xlsx",
        tmp_path / "hidden_sheet.xlsx",
        BOOK,
        '<sheet name="Sheet1" sheetId="1"',
        '<sheet name="Sheet1" sheetId="1" state="hidden"',
    )
    table = read_table(path, header_row=0)
    assert table.sheet == "Sheet2"
    note = table.notes[0]
    assert (note.kind, note.severity, note.sheet, note.row) == (
        "hidden-sheet",
        "warning",
        "Sheet1",
        None,
    )
    assert note.message == (
        "sheet 'Sheet1' is hidden in the workbook and was not read; pass its "
        "name as the sheet to read it"
    )


def test_hidden_sheet_read_by_name(tmp_path: Path) -> None:
    path = _edit(
        IMPORT / "merged_range.xlsx",
        tmp_path / "very_hidden.xlsx",
        BOOK,
        '<sheet name="Sheet1" sheetId="1"',
        '<sheet name="Sheet1" sheetId="1" state="veryHidden"',
    )
    table = read_table(path, sheet="Sheet1")
    assert table.sheet == "Sheet1"
    assert table.notes[0].kind == "hidden-sheet"
    assert table.notes[0].sheet == "Sheet1"
    assert table.notes[0].message.startswith(
        "the sheet read is very hidden (only macros can show it)"
    )


def test_formula_without_value_rejected(tmp_path: Path) -> None:
    path = _edit(
        IMPORT / "ledger.xlsx",
        tmp_path / "formula.xlsx",
        SHEET,
        '<c r="D3" t="n"><v>13800138001</v></c>',
        '<c r="D3"><f>D2+1</f></c>',
    )
    with pytest.raises(TableError) as caught:
        read_table(path)
    cells = [(note.kind, note.cell) for note in caught.value.notes]
    assert cells == [("precision-lost", "C2"), ("formula-without-value", "D3")]
    assert "row 3, column '手机号', cell D3: cell has a formula but no saved" in str(
        caught.value
    )


@pytest.mark.parametrize("empty", ["<v/>", "<v></v>"])
def test_formula_empty_value_noted(tmp_path: Path, empty: str) -> None:
    # openpyxl saves a formula it has not calculated with an empty `<v>`.
    path = _edit(
        IMPORT / "ledger.xlsx",
        tmp_path / "formula_empty.xlsx",
        SHEET,
        '<c r="D3" t="n"><v>13800138001</v></c>',
        f'<c r="D3"><f>D2+1</f>{empty}</c>',
    )
    with pytest.raises(TableError) as caught:
        read_table(path)
    cells = [(note.kind, note.cell) for note in caught.value.notes]
    assert cells == [("precision-lost", "C2"), ("formula-without-value", "D3")]
    assert "row 3, column '手机号', cell D3: cell has a formula but no saved" in str(
        caught.value
    )
    table = read_table(path, strict=False)
    assert table.column("手机号")[1] is None


def test_formula_empty_text_read(tmp_path: Path) -> None:
    # A formula whose saved result is the empty string is a cached value.
    path = _edit(
        IMPORT / "ledger.xlsx",
        tmp_path / "formula_empty_text.xlsx",
        SHEET,
        '<c r="D3" t="n"><v>13800138001</v></c>',
        '<c r="D3" t="str"><f>""</f><v></v></c>',
    )
    table = read_table(path, strict=False)
    assert table.column("手机号")[1] is None
    assert "formula-without-value" not in [note.kind for note in table.notes]


def test_formula_with_value_read(tmp_path: Path) -> None:
    path = _edit(
        IMPORT / "ledger.xlsx",
        tmp_path / "formula_value.xlsx",
        SHEET,
        '<c r="D3" t="n"><v>13800138001</v></c>',
        '<c r="D3"><f>D2+1</f><v>13800138001</v></c>',
    )
    table = read_table(path, strict=False)
    assert table.column("手机号")[1] == "13800138001"
    assert [note.kind for note in table.notes] == ["precision-lost", "long-number"]


def test_full_width_normalized(tmp_path: Path) -> None:
    path = _edit(
        IMPORT / "ledger_bogus_dimension.xlsx",
        tmp_path / "full_width.xlsx",
        SHEET,
        "<t>110105198511119943</t>",
        "<t>１１０１０５１９８５１１１１９９４３</t>",
    )
    table = read_table(path)
    assert table.column("身份证号")[1] == "110105198511119943"
    assert [(note.kind, note.severity, note.cell) for note in table.notes] == [
        ("width-normalized", "info", "C3")
    ]


def test_full_width_kept_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_text("名称,代码\n麒麟圍１巷（北）,ＡＢ　１２\n", encoding="utf-8")
    table = read_table(path, normalize_width=False)
    assert table.rows == [("麒麟圍１巷（北）", "ＡＢ　１２")]
    assert table.notes == ()


def test_full_width_punctuation_kept(tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_text("名称,代码\n麒麟圍１巷（北）,ＡＢ　１２\n", encoding="utf-8")
    table = read_table(path)
    assert table.rows == [("麒麟圍1巷（北）", "AB 12")]
    assert [(note.kind, note.row, note.column) for note in table.notes] == [
        ("width-normalized", 2, "名称"),
        ("width-normalized", 2, "代码"),
    ]


def test_cjk_builtin_date_format(tmp_path: Path) -> None:
    # Built-in format 31 is yyyy"年"m"月"d"日" in the zh-CN table.
    path = _edit(
        IMPORT / "dates_1904_system.xlsx",
        tmp_path / "builtin_31.xlsx",
        "xl/styles.xml",
        '<xf numFmtId="165"',
        '<xf numFmtId="31"',
    )
    table = read_table(path)
    assert table.rows == [("1", "张三", "1990-01-01")]


def test_missing_worksheet_part(tmp_path: Path) -> None:
    path = _edit(
        IMPORT / "ledger.xlsx",
        tmp_path / "broken.xlsx",
        "xl/_rels/workbook.xml.rels",
        'Target="/xl/worksheets/sheet1.xml"',
        'Target="/xl/worksheets/missing.xml"',
    )
    with pytest.raises(
        ValidationError, match=r"broken\.xlsx: cannot open the workbook \(part "
    ) as caught:
        read_table(path)
    assert caught.value.reason == "bad-workbook"


def test_malformed_sheet_xml(tmp_path: Path) -> None:
    path = _edit(
        IMPORT / "ledger.xlsx",
        tmp_path / "malformed.xlsx",
        SHEET,
        "</sheetData>",
        "</sheetDta>",
    )
    with pytest.raises(ValidationError, match="the workbook contains malformed XML"):
        read_table(path)


def test_bad_shared_string_index(tmp_path: Path) -> None:
    path = _edit(
        IMPORT / "has_x000D_.xlsx",
        tmp_path / "bad_index.xlsx",
        SHEET,
        '<c r="A1" s="1" t="s"><v>0</v>',
        '<c r="A1" s="1" t="s"><v>7</v>',
    )
    with pytest.raises(
        ValidationError,
        match=r"sheet 'Sheet1', row 1: cell A1 points to shared string 7, but the "
        r"workbook has 1",
    ):
        read_table(path)


def test_stray_cell_far_right_costs_one_row(tmp_path: Path) -> None:
    path = _edit(
        IMPORT / "ledger_bogus_dimension.xlsx",
        tmp_path / "far_right.xlsx",
        SHEET,
        "</sheetData>",
        '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c>'
        "</row></sheetData>",
    )
    table = read_table(path)
    assert len(table.header) == 16384
    assert table.row_numbers == [2, 3, 4, 1048576]


def test_date_column_text_forms(tmp_path: Path) -> None:
    path = IMPORT / "dates_1900_system.xlsx"
    replacements = [
        ("<t>1990.01.01</t>", "<t>1990.02.30</t>"),
        ("<t>1990年1月1日</t>", "<t>不详</t>"),
        ("<t>01/02/1990</t>", "<t>25/12/1990</t>"),
    ]
    for step, (old, new) in enumerate(replacements):
        path = _edit(path, tmp_path / f"dates_{step}.xlsx", SHEET, old, new)
    table = read_table(path, strict=False)
    assert table.column("登记日期")[5:] == [None, "不详", "1990-12-25"]
    text_rows = [note for note in table.notes if note.row in (7, 8, 9)]
    assert [(note.kind, note.severity, note.row) for note in text_rows] == [
        ("invalid-date", "error", 7),
        ("not-a-date", "warning", 8),
        ("date-normalized", "info", 9),
    ]
