"""The format registry and the cn-* formats on registers with planted faults."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl

import govchain.data
from govchain.standards import load_standard, validate_table
from govchain.standards.formats import FormatOptions, format_names, get_format
from govchain.tabular import read_table

FIXTURES = Path(__file__).parent.parent / "fixtures" / "standards"
STANDARDS = Path(govchain.data.__file__).parent / "standards"
#: The day the planted-fault registers are checked on; 2099 births are after it.
TODAY = date(2026, 3, 2)


def test_formats_registered() -> None:
    assert format_names() == [
        "email",
        "uri",
        "uuid",
        "binary",
        "cn-resident-id",
        "cn-uscc",
        "cn-mobile",
        "cn-phone",
        "cn-region-code",
        "cn-postal-code",
    ]


def test_format_unknown_reason_phrase() -> None:
    assert get_format("cn-mobile").phrase("something-new") == (
        "is not valid (reason something-new)"
    )


def test_format_checks_keep_length_and_nulls() -> None:
    cells = pl.Series("v", ["110101198503121239", None, "x"])
    for name in format_names():
        codes = get_format(name).check(cells, FormatOptions(today=TODAY))
        assert codes.len() == 3, name
        assert codes[1] is None, name
        assert codes[2] is not None, name


def test_format_resident_id_reasons() -> None:
    cells = pl.Series(
        ["110101198503121239", "310104197801017890", "440106209901012344", "1101011985"]
    )
    codes = get_format("cn-resident-id").check(cells, FormatOptions(today=TODAY))
    assert codes.to_list() == [
        None,
        "invalid-checksum",
        "future-birth-date",
        "invalid-length",
    ]


def test_format_resident_id_today() -> None:
    cells = pl.Series(["440106209901012344"])
    later = FormatOptions(today=date(2100, 1, 1))
    assert get_format("cn-resident-id").check(cells, later).to_list() == [None]


def test_formats_imported_on_first_use() -> None:
    script = (
        "import sys\n"
        "from govchain.standards import load_standard\n"
        f"load_standard({str(STANDARDS / 'health_check_register.json')!r})\n"
        "print('govchain.identifiers.vectorised' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_health_register_planted_faults() -> None:
    table = read_table(FIXTURES / "health_register_faults.csv")
    standard = load_standard(STANDARDS / "health_check_register.json")
    validation = validate_table(table, standard, today=TODAY)
    assert [(f.row, f.column, f.rule, f.code) for f in validation.findings()] == [
        (4, "身份证号", "format", "invalid-checksum"),
        (5, "身份证号", "format", "future-birth-date"),
        (6, "编号", "primaryKey", None),
        (7, "姓名", "required", None),
        (8, "体检日期", "minimum", None),
        (9, "体检结论", "enum", None),
        (10, "体检日期", "type", None),
        (11, "手机号", "format", "invalid-length"),
        (12, None, "duplicate-row", None),
        (12, "编号", "primaryKey", None),
        (12, "身份证号", "unique", None),
    ]
    assert validation.error_rows == 9
    assert validation.fields[3].missing == 1


def test_health_register_messages() -> None:
    table = read_table(FIXTURES / "health_register_faults.csv")
    standard = load_standard(STANDARDS / "health_check_register.json")
    messages = [
        f.message for f in validate_table(table, standard, today=TODAY).findings()
    ]
    assert messages[:2] == [
        "the ID number in row 4, column 身份证号 has an invalid check character",
        "the ID number in row 5, column 身份证号 contains a birth date in the future",
    ]
    assert messages[7] == (
        "the mobile number in row 11, column 手机号 has the wrong number of characters"
    )
    personal = [
        table.header.index(name) for name in ("编号", "姓名", "身份证号", "手机号")
    ]
    cells = {row[i] or "" for row in table.rows for i in personal} - {"", "-"}
    for message in messages:
        for cell in cells:
            assert cell not in message


def test_enterprise_register_planted_faults() -> None:
    table = read_table(FIXTURES / "enterprise_register_faults.csv")
    standard = load_standard(STANDARDS / "enterprise_register.json")
    validation = validate_table(table, standard)
    assert [(f.row, f.column, f.rule, f.code) for f in validation.findings()] == [
        (4, "统一社会信用代码", "format", "invalid-checksum"),
        (5, "注册资本", "minimum", None),
        (6, "统一社会信用代码", "primaryKey", None),
        (7, "成立日期", "minimum", None),
        (7, "登记状态", "enum", None),
        (7, "所属行政区划", "format", "unknown-region"),
        (7, "邮政编码", "format", "unknown-postal-zone"),
        (7, "联系电话", "format", "invalid-length"),
        (7, "从业人数", "type", None),
    ]
    assert validation.fields[-1].missing == 1
