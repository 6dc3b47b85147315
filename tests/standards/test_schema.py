"""Loading and checking Table Schema documents."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

import govchain.data
from govchain.standards import StandardError, load_standard, parse_standard

STANDARDS = Path(govchain.data.__file__).parent / "standards"


def write(tmp_path: Path, document: Any, name: str = "standard.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


def problems_of(document: Any) -> list[str]:
    with pytest.raises(StandardError) as caught:
        parse_standard(document, source="standard.json")
    return caught.value.problems


def test_load_health_register_standard() -> None:
    standard = load_standard(STANDARDS / "health_check_register.json")
    assert standard.field_names == (
        "编号",
        "姓名",
        "身份证号",
        "手机号",
        "从业类别",
        "体检日期",
        "体检结论",
    )
    assert standard.field("身份证号").format == "cn-resident-id"
    assert standard.field("手机号").format == "cn-mobile"
    assert standard.field("体检日期").constraints.minimum == date(2000, 1, 1)
    assert standard.field("体检结论").constraints.enum == ("合格", "不合格", "复查")
    assert standard.primary_key == ("编号",)
    assert standard.quasi_identifiers == ("从业类别", "体检日期")
    assert standard.missing_values == ("", "-", "无")


def test_load_enterprise_register_standard() -> None:
    path = STANDARDS / "enterprise_register.json"
    standard = load_standard(path)
    assert standard.field("统一社会信用代码").format == "cn-uscc"
    assert standard.primary_key == ("统一社会信用代码",)
    assert standard.source == "enterprise_register.json"
    assert standard.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_parse_defaults() -> None:
    standard = parse_standard({"fields": [{"name": "a"}]})
    field = standard.field("a")
    assert field.type == "string"
    assert field.format == "default"
    assert field.constraints.required is False
    assert field.quasi_identifier is False
    assert standard.missing_values == ("",)
    assert standard.primary_key == ()


def test_parse_minimum_not_a_number() -> None:
    document = {
        "fields": [
            {"name": "a"},
            {"name": "b", "type": "integer"},
            {"name": "c", "type": "number", "constraints": {"minimum": "abc"}},
        ]
    }
    assert problems_of(document) == [
        'standard.json: fields[2].constraints.minimum: "abc" is not a number'
    ]


def test_parse_collects_every_problem() -> None:
    document = {
        "fields": [
            {"name": "id", "type": "int"},
            {"name": "when", "type": "date", "format": "%d/%m/%Y"},
            {"name": "id"},
            {"name": "n", "type": "integer", "constraints": {"maximun": 3}},
            {"name": "s", "constraints": {"minimum": 1, "minLength": -1}},
            {"name": "p", "constraints": {"pattern": "(?=x)"}},
            {"name": "e", "type": "integer", "constraints": {"enum": [1, "x"]}},
            {"name": "f", "type": "boolean", "trueValues": ["y"], "falseValues": ["y"]},
            {"name": "g", "quasiIdentifier": "yes", "trueValues": ["1"]},
            {"name": "h", "type": "number", "groupChar": ","},
            {"type": "string"},
        ],
        "primaryKey": ["id", "missing"],
        "missingValues": "",
        "foreignKeys": [],
    }
    problems = problems_of(document)
    expected = [
        'standard.json: fields[0].type: "int" is not a type; use one of string, '
        "integer, number, boolean, date, datetime, year, any",
        'standard.json: fields[1].format: "%d/%m/%Y" is not a format of type date; '
        "use one of default",
        'standard.json: fields[2].name: "id" repeats fields[0].name',
        "standard.json: fields[3].constraints.maximun: is not a constraint; use one "
        "of required, unique, minimum, maximum, minLength, maxLength, pattern, enum",
        "standard.json: fields[4].constraints.minimum: does not apply to type string",
        "standard.json: fields[4].constraints.minLength: -1 is not a length (0 or more)",
        "standard.json: fields[6].constraints.enum[1]: " + '"x" is not an integer',
        'standard.json: fields[7].falseValues: "y" is also in trueValues',
        'standard.json: fields[8].quasiIdentifier: "yes" is not a boolean',
        "standard.json: fields[8].trueValues: applies to boolean fields, not string",
        "standard.json: fields[9].groupChar: is not supported; remove it",
        "standard.json: fields[10].name: must be a non-empty string",
        "standard.json: missingValues: must be an array of strings",
        'standard.json: primaryKey: "missing" is not the name of a field',
        "standard.json: foreignKeys: is not supported: govchain checks one table at "
        "a time; remove it",
    ]
    pattern_problem = [p for p in problems if "fields[5]" in p]
    assert [p for p in problems if "fields[5]" not in p] == expected
    assert len(pattern_problem) == 1
    assert pattern_problem[0] == (
        'standard.json: fields[5].constraints.pattern: "(?=x)" is not a supported '
        "regular expression (look-around, including look-ahead and look-behind, is "
        "not supported); write it in the syntax of Rust's regex crate, which has no "
        "look-around and no back-references"
    )


def test_parse_error_message_lists_problems() -> None:
    with pytest.raises(StandardError, match=r"fields\[0\]\.type") as caught:
        parse_standard({"fields": [{"name": "a", "type": "text"}, {"name": ""}]})
    assert str(caught.value).count("\n") == 1
    assert caught.value.reason == "bad-standard"


def test_parse_root_not_object() -> None:
    assert problems_of([]) == ["standard.json: is an array, expected an object"]


def test_parse_fields_missing() -> None:
    assert problems_of({}) == [
        "standard.json: fields: is missing; list the table's columns there"
    ]


def test_parse_minimum_above_maximum() -> None:
    document = {
        "fields": [
            {
                "name": "a",
                "type": "year",
                "constraints": {"minimum": 2030, "maximum": 2020},
            }
        ]
    }
    assert problems_of(document) == [
        "standard.json: fields[0].constraints.minimum: is greater than maximum"
    ]


def test_parse_bounds_of_each_type() -> None:
    standard = parse_standard(
        {
            "fields": [
                {"name": "i", "type": "integer", "constraints": {"minimum": "-5"}},
                {"name": "n", "type": "number", "constraints": {"maximum": 1e3}},
                {"name": "d", "type": "date", "constraints": {"minimum": "2024-02-29"}},
                {
                    "name": "t",
                    "type": "datetime",
                    "constraints": {"minimum": "2024-01-01T08:00:00+08:00"},
                },
                {"name": "y", "type": "year", "constraints": {"maximum": 2030}},
            ]
        }
    )
    assert standard.field("i").constraints.minimum == -5
    assert standard.field("n").constraints.maximum == 1000.0
    assert standard.field("d").constraints.minimum == date(2024, 2, 29)
    assert standard.field("t").constraints.minimum == datetime(2024, 1, 1, 0, 0)
    assert standard.field("y").constraints.maximum == 2030


def test_parse_bad_date_bound() -> None:
    document = {
        "fields": [
            {"name": "d", "type": "date", "constraints": {"minimum": "2023-02-30"}}
        ]
    }
    assert problems_of(document) == [
        'standard.json: fields[0].constraints.minimum: "2023-02-30" is not an ISO '
        "8601 date (YYYY-MM-DD)"
    ]


def test_parse_unknown_string_format() -> None:
    [problem] = problems_of({"fields": [{"name": "a", "format": "cn-passport"}]})
    assert problem.startswith(
        'standard.json: fields[0].format: "cn-passport" is not a format of type string'
    )
    assert "cn-resident-id" in problem


def test_load_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"fields": [\n  {"name": "a",}\n]}', encoding="utf-8")
    with pytest.raises(StandardError, match=r"^broken\.json: invalid JSON at line 2"):
        load_standard(path)


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StandardError, match=r"^absent\.json: cannot read the standard"):
        load_standard(tmp_path / "absent.json")


def test_load_names_file_in_problems(tmp_path: Path) -> None:
    path = write(tmp_path, {"fields": [{"name": "a", "type": "float"}]}, "mine.json")
    with pytest.raises(StandardError, match=r'^mine\.json: fields\[0\]\.type: "float"'):
        load_standard(path)


@pytest.mark.parametrize("bound", [2**63, -(2**63) - 1, 99999999999999999999999])
def test_integer_bound_outside_int64_rejected(bound: int) -> None:
    document = {
        "fields": [{"name": "n", "type": "integer", "constraints": {"maximum": bound}}]
    }
    with pytest.raises(StandardError, match="outside the 64-bit integer range"):
        parse_standard(document)


def test_integer_bound_at_int64_edge_accepted() -> None:
    document = {
        "fields": [
            {"name": "n", "type": "integer", "constraints": {"maximum": 2**63 - 1}}
        ]
    }
    assert parse_standard(document).fields[0].constraints.maximum == 2**63 - 1
