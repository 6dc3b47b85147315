"""Validating tables against standards: types, constraints, keys and messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from govchain.errors import ValidationError
from govchain.standards import (
    Finding,
    Standard,
    Validation,
    load_standard,
    parse_standard,
    validate_table,
)
from govchain.tabular import Table, read_table

FIXTURES = Path(__file__).parent.parent / "fixtures" / "standards"


def check_csv(tmp_path: Path, text: str, document: dict[str, Any]) -> Validation:
    path = tmp_path / "table.csv"
    path.write_text(text, encoding="utf-8")
    return validate_table(read_table(path), parse_standard(document))


def found(validation: Validation) -> list[tuple[int, str | None, str]]:
    return [(f.row, f.column, f.rule) for f in validation.findings()]


def one_field(**field: Any) -> dict[str, Any]:
    return {"fields": [{"name": "v", **field}]}


def test_validate_blank_headers() -> None:
    table = read_table(FIXTURES / "blank-headers.csv")
    standard = load_standard(FIXTURES / "people.json")
    validation = validate_table(table, standard)
    assert list(validation.findings()) == [
        Finding(
            1,
            "name",
            "missing-column",
            "error",
            "column name of the standard is missing from the header",
        ),
        Finding(
            1,
            "column_2",
            "extra-column",
            "warning",
            "column column_2 is not in the standard",
        ),
    ]
    assert not validation.valid
    assert validation.error_rows == 2
    assert [f.error_cells for f in validation.fields] == [0, 2, 0]


def test_validate_duplicate_headers() -> None:
    table = read_table(FIXTURES / "duplicate-headers.csv")
    validation = validate_table(table, load_standard(FIXTURES / "people.json"))
    assert found(validation) == [
        (1, "id_2", "extra-column"),
        (1, "id_3", "extra-column"),
    ]
    assert validation.valid
    assert validation.warning_count == 2
    assert validation.error_rows == 0


def test_validate_leading_zeros_as_codes() -> None:
    table = read_table(FIXTURES / "leading-zeros.csv")
    validation = validate_table(table, load_standard(FIXTURES / "codes.json"))
    assert list(validation.findings()) == [
        Finding(
            4,
            "value",
            "maxLength",
            "error",
            "the value in row 4, column value is longer than 3 characters",
        )
    ]


def test_validate_leading_zeros_as_integers() -> None:
    table = read_table(FIXTURES / "leading-zeros.csv")
    validation = validate_table(table, load_standard(FIXTURES / "counts.json"))
    assert found(validation) == [(4, "value", "maximum")]
    message = next(validation.findings()).message
    assert message == "the value in row 4, column value is above the maximum 2"


def test_validate_integer_text_forms(tmp_path: Path) -> None:
    text = 'v\n12\n+7\n-0\n0012\n1.0\n1.0e3\n"1,000"\n99999999999999999999\nx\n'
    validation = check_csv(tmp_path, text, one_field(type="integer"))
    assert found(validation) == [(r, "v", "type") for r in (6, 7, 8, 9, 10)]
    assert next(validation.findings()).message == (
        "the value in row 6, column v is not an integer"
    )


def test_validate_number_text_forms(tmp_path: Path) -> None:
    text = 'v\n1.5\n-.5\n5.\n1e3\n+2E-2\nNaN\nINF\n1e999\n"1,5"\n'
    validation = check_csv(tmp_path, text, one_field(type="number"))
    assert found(validation) == [(r, "v", "type") for r in (7, 8, 9, 10)]


def test_validate_boolean_defaults(tmp_path: Path) -> None:
    text = "v\ntrue\nFALSE\n1\n0\n是\n否\nyes\nT\n"
    validation = check_csv(tmp_path, text, one_field(type="boolean"))
    assert found(validation) == [(8, "v", "type"), (9, "v", "type")]


def test_validate_boolean_own_values(tmp_path: Path) -> None:
    text = "v\nY\nN\ntrue\n"
    document = one_field(type="boolean", trueValues=["Y"], falseValues=["N"])
    validation = check_csv(tmp_path, text, document)
    assert found(validation) == [(4, "v", "type")]


def test_validate_date_iso_only(tmp_path: Path) -> None:
    text = "v\n2024-02-29\n2023-02-29\n2024/03/05\n2024-3-5\n20240305\n2024-03-05T00:00:00\n"
    validation = check_csv(tmp_path, text, one_field(type="date"))
    assert found(validation) == [(r, "v", "type") for r in (3, 4, 5, 6, 7)]
    messages = [finding.message for finding in validation.findings()]
    assert messages[0] == (
        "the value in row 3, column v has the date shape YYYY-MM-DD but its day "
        "is not in that month"
    )
    assert messages[1] == (
        "the value in row 4, column v is not an ISO 8601 date (YYYY-MM-DD)"
    )


def test_validate_date_month_out_of_range(tmp_path: Path) -> None:
    validation = check_csv(tmp_path, "v\n2026-13-05\n", one_field(type="date"))
    finding = next(validation.findings())
    assert finding.message == (
        "the value in row 2, column v has the date shape YYYY-MM-DD but its month "
        "is not 01 to 12"
    )
    assert "2026-13-05" not in finding.message


def test_validate_datetime_offsets(tmp_path: Path) -> None:
    text = (
        "v\n2024-01-01T08:00:00+08:00\n2024-01-01T07:59:59+08:00\n"
        "2024-01-01T00:00:00Z\n2023-12-31T23:59:59.999\n2024-01-01 09:00:00\n"
    )
    document = one_field(
        type="datetime", constraints={"minimum": "2024-01-01T00:00:00Z"}
    )
    validation = check_csv(tmp_path, text, document)
    assert found(validation) == [
        (3, "v", "minimum"),
        (5, "v", "minimum"),
        (6, "v", "type"),
    ]


def test_validate_year(tmp_path: Path) -> None:
    text = "v\n2024\n0999\n24\n2031\n"
    document = one_field(type="year", constraints={"maximum": 2030})
    validation = check_csv(tmp_path, text, document)
    assert found(validation) == [(4, "v", "type"), (5, "v", "maximum")]


def test_validate_missing_values(tmp_path: Path) -> None:
    text = "v,w\n1,a\n-,b\n,c\n无,d\n"
    document = {
        "fields": [
            {"name": "v", "type": "integer", "constraints": {"required": True}},
            {"name": "w"},
        ],
        "missingValues": ["", "-"],
    }
    validation = check_csv(tmp_path, text, document)
    assert found(validation) == [
        (3, "v", "required"),
        (4, "v", "required"),
        (5, "v", "type"),
    ]
    assert validation.fields[0].missing == 2
    assert validation.fields[1].missing == 0
    message = next(validation.findings()).message
    assert message == "the required value in row 3, column v is missing"


def test_validate_length_pattern_enum(tmp_path: Path) -> None:
    text = "v\nAB12\nab12\nAB1\nAB123\nZZ99\n"
    document = one_field(
        constraints={
            "minLength": 4,
            "maxLength": 4,
            "pattern": "[A-Z]{2}[0-9]+",
            "enum": ["AB12", "AB1", "AB123", "ab12"],
        }
    )
    validation = check_csv(tmp_path, text, document)
    assert found(validation) == [
        (3, "v", "pattern"),
        (4, "v", "minLength"),
        (5, "v", "maxLength"),
        (6, "v", "enum"),
    ]
    messages = [f.message for f in validation.findings()]
    assert messages[0] == (
        "the value in row 3, column v does not match the pattern [A-Z]{2}[0-9]+"
    )
    assert messages[3] == (
        "the value in row 6, column v is not one of AB12, AB1, AB123, ab12"
    )


def test_validate_pattern_is_anchored(tmp_path: Path) -> None:
    text = "v\n12\nx12\n12x\n"
    validation = check_csv(tmp_path, text, one_field(constraints={"pattern": "1|12"}))
    assert found(validation) == [(3, "v", "pattern"), (4, "v", "pattern")]


def test_validate_enum_of_integers(tmp_path: Path) -> None:
    text = "v\n1\n01\n3\n"
    document = one_field(type="integer", constraints={"enum": [1, 2]})
    validation = check_csv(tmp_path, text, document)
    assert found(validation) == [(4, "v", "enum")]


def test_validate_unique_names_first_row(tmp_path: Path) -> None:
    text = "v\n7\n8\n07\n8\n\n9\n"
    document = one_field(type="integer", constraints={"unique": True})
    validation = check_csv(tmp_path, text, document)
    assert [f.message for f in validation.findings()] == [
        "the value in row 4, column v repeats the value in row 2",
        "row 5 repeats row 3 exactly",
        "the value in row 5, column v repeats the value in row 3",
    ]


def test_validate_primary_key_and_duplicate_rows(tmp_path: Path) -> None:
    text = "a,b,c\n1,x,p\n1,y,p\n2,x,p\n1,x,q\n1,x,p\n,x,p\n"
    document = {
        "fields": [{"name": "a", "type": "integer"}, {"name": "b"}, {"name": "c"}],
        "primaryKey": ["a", "b"],
    }
    validation = check_csv(tmp_path, text, document)
    assert [(f.row, f.column, f.rule, f.message) for f in validation.findings()] == [
        (
            5,
            "a, b",
            "primaryKey",
            "the primary key (a, b) in row 5 repeats the key of row 2",
        ),
        (6, None, "duplicate-row", "row 6 repeats row 2 exactly"),
        (
            6,
            "a, b",
            "primaryKey",
            "the primary key (a, b) in row 6 repeats the key of row 2",
        ),
        (7, "a", "required", "the required value in row 7, column a is missing"),
    ]
    assert validation.error_rows == 3
    assert [f.error_cells for f in validation.fields] == [3, 2, 1]


def test_validate_physical_row_numbers(tmp_path: Path) -> None:
    text = "title line\n\nv,w\n1,a\n\nx,b\n"
    validation = check_csv(tmp_path, text, one_field(type="integer"))
    assert found(validation) == [(3, "w", "extra-column"), (6, "v", "type")]


def test_validate_empty_table() -> None:
    # read_table rejects a file without data rows, so the table is built here.
    table = Table(
        source="table.csv",
        sheet=None,
        header=("v",),
        rows=[],
        row_numbers=[],
        encoding="utf-8",
        header_row=1,
        notes=(),
    )
    standard = parse_standard(one_field(constraints={"required": True}))
    validation = validate_table(table, standard)
    assert validation.row_count == 0
    assert list(validation.findings()) == []
    assert validation.valid


def test_validate_column_named_like_helper(tmp_path: Path) -> None:
    text = "row,c0,first\n1,2,3\n1,2,3\n"
    document = {"fields": [{"name": "row"}, {"name": "c0"}, {"name": "first"}]}
    validation = check_csv(tmp_path, text, document)
    assert found(validation) == [(3, None, "duplicate-row")]


def test_validate_email_and_uuid(tmp_path: Path) -> None:
    text = (
        "e,u\na@b.cn,123e4567-e89b-12d3-a456-426614174000\n"
        "a@b,123e4567e89b12d3a456426614174000\n"
    )
    document = {
        "fields": [{"name": "e", "format": "email"}, {"name": "u", "format": "uuid"}]
    }
    validation = check_csv(tmp_path, text, document)
    assert [(f.row, f.column, f.rule, f.code) for f in validation.findings()] == [
        (3, "e", "format", "format"),
        (3, "u", "format", "format"),
    ]
    assert next(validation.findings()).message == (
        "the email address in row 3, column e is not in the expected form"
    )


def test_validate_messages_omit_values(tmp_path: Path) -> None:
    values = ["Q7731zz", "Q7731zz", "2024/13/45", "Zyxw9988", "13"]
    text = "a,b,c\n" + f"{values[0]},x,1\n{values[1]},{values[3]},{values[2]}\n"
    document = {
        "fields": [
            {"name": "a", "constraints": {"unique": True, "maxLength": 3}},
            {"name": "b", "constraints": {"enum": ["x"], "pattern": "x"}},
            {"name": "c", "type": "date"},
        ]
    }
    validation = check_csv(tmp_path, text, document)
    assert validation.error_count == 7
    for finding in validation.findings():
        for value in values[:4]:
            assert value not in finding.message


def test_validate_sheet_of_workbook() -> None:
    table = read_table(FIXTURES.parent / "tabular" / "temperature-in-middle.xlsx")
    standard = parse_standard(
        {"fields": [{"name": "label"}, {"name": "value", "type": "number"}]}
    )
    validation = validate_table(table, standard)
    assert validation.sheet == table.sheet
    assert validation.valid


def test_validate_standard_built_directly(tmp_path: Path) -> None:
    standard = Standard(fields=parse_standard(one_field(type="date")).fields)
    path = tmp_path / "t.csv"
    path.write_text("v\n2024-01-02\n", encoding="utf-8")
    assert validate_table(read_table(path), standard).valid


@pytest.mark.parametrize(
    ("kind", "bound", "cell"),
    [
        ("integer", 10, "11"),
        ("number", 1.5, "1.51"),
        ("date", "2024-01-01", "2024-01-02"),
        ("year", 2000, "2001"),
    ],
)
def test_validate_maximum_each_type(
    tmp_path: Path, kind: str, bound: Any, cell: str
) -> None:
    document = one_field(type=kind, constraints={"maximum": bound})
    validation = check_csv(tmp_path, f"v\n{cell}\n", document)
    assert found(validation) == [(2, "v", "maximum")]


def test_validate_rejects_data_row_header(tmp_path: Path) -> None:
    document = {"fields": [{"name": "姓名"}, {"name": "性别"}, {"name": "年龄"}]}
    with pytest.raises(ValidationError) as refused:
        check_csv(tmp_path, "张三,男,35\n李四,女,41\n", document)
    message = str(refused.value)
    assert refused.value.reason == "data-in-header"
    assert "the header row is missing or is a data row: row 1" in message
    assert "column(s) 3" in message
    assert "张三" not in message
    assert "35" not in message


def test_validate_masks_extra_column_names() -> None:
    # read_table rejects such a header, so the table is built here.
    table = Table(
        source="t.csv",
        sheet=None,
        header=("v", "110101199003074514", "电话13800138000"),
        rows=[("1", "2", "3")],
        row_numbers=[2],
        encoding="utf-8",
        header_row=1,
    )
    validation = validate_table(table, parse_standard(one_field()))
    extra = [f for f in validation.findings() if f.rule == "extra-column"]
    assert [f.column for f in extra] == ["<ID number>", "电话<mobile number>"]
    for finding in extra:
        assert "110101199003074514" not in finding.message
        assert "13800138000" not in finding.message
