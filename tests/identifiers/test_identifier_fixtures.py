"""Cases from other validators' test suites and from known bug reports.

tests/fixtures/identifiers/SOURCES.md gives where each file comes from. Every
case runs through the one-value validator and through the column check, which
must give the same reason.
"""

from __future__ import annotations

import ast
import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from govchain.identifiers import InvalidIdentifier, exceptions, vectorised
from govchain.identifiers.cn import ric, uscc

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "identifiers"
TODAY = date(2026, 1, 1)


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def rows(name: str) -> list[dict[str, str]]:
    with (FIXTURES / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def ric_reason(value: str, strict: bool = False) -> str | None:
    try:
        ric.check(value, strict=strict, today=TODAY)
    except InvalidIdentifier as error:
        return error.reason
    return None


def uscc_reason(value: str, strict: bool = False) -> str | None:
    try:
        uscc.check(value, strict=strict)
    except InvalidIdentifier as error:
        return error.reason
    return None


def column_ric(value: str, strict: bool = False) -> str | None:
    series = pl.Series([value])
    result: str | None = vectorised.check_resident_id(
        series, strict=strict, today=TODAY
    )[0]
    return result


def column_uscc(value: str, strict: bool = False) -> str | None:
    result: str | None = vectorised.check_uscc(pl.Series([value]), strict=strict)[0]
    return result


# Where this package deliberately differs from python-stdnum 2.2.
#
# python-stdnum rejects a county code that was not yet or no longer listed
# in the birth year. An ID number keeps the code of the place where it was
# first issued, which can be years after birth, so here any edition counts:
# 110111 (Fangshan) was created after 1980 and stays valid for this number.
RIC_DIFFERENT = {("ric.get_birth_place", "110111198012010078"): None}
# python-stdnum requires the first 8 characters to be digits, but GB 32100 as
# amended uses the registration departments A, N and Y. `A1` is a valid pair,
# so this code fails on its check character instead.
USCC_DIFFERENT = {"A1110000600037341L": "invalid-checksum"}
# validator.js checks only the province of the region code; 235407 is in no
# edition of GB/T 2260 shipped here.
VALIDATORJS_DIFFERENT = {"235407195106112745": "unknown-region"}


def stdnum_ric_cases() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = load("cn_resident_id_python-stdnum.json")["cases"]
    return cases


@pytest.mark.parametrize(
    "case", stdnum_ric_cases(), ids=lambda case: f"{case['function']}-{case['input']}"
)
def test_stdnum_ric_case(case: dict[str, Any]):
    function, value = case["function"], case["input"]
    if (function, value) in RIC_DIFFERENT:
        assert ric_reason(value) == RIC_DIFFERENT[function, value]
    elif case["expected"] == "error":
        with pytest.raises(getattr(exceptions, case["error"])):
            ric.validate(value, today=TODAY)
    elif function == "ric.validate":
        assert ric.validate(value, today=TODAY) == ast.literal_eval(case["output"])
    elif function == "ric.format":
        assert ric.format(value) == ast.literal_eval(case["output"])
    elif function == "ric.get_birth_date":
        expected = case["output"].removeprefix("datetime.date")
        assert ric.birth_date(value, today=TODAY) == date(*ast.literal_eval(expected))
    else:
        place = ast.literal_eval(case["output"])
        info = ric.region(value, today=TODAY)
        assert info is not None
        assert info.province == place["province"]
        # The name in force at birth is one of the editions' names.
        assert place["county"] in info.names.values()
    assert column_ric(value) == ric_reason(value)


def stdnum_uscc_cases() -> list[dict[str, Any]]:
    data = load("cn_uscc_python-stdnum.json")
    cases: list[dict[str, Any]] = data["cases"]
    return cases + [
        {
            "function": "uscc.validate",
            "input": value,
            "expected": "ok",
            "output": repr(value),
        }
        for value in data["valid_found_online"]
    ]


@pytest.mark.parametrize(
    "case", stdnum_uscc_cases(), ids=lambda case: f"{case['function']}-{case['input']}"
)
def test_stdnum_uscc_case(case: dict[str, Any]):
    function, value = case["function"], case["input"]
    if value in USCC_DIFFERENT:
        assert uscc_reason(value) == USCC_DIFFERENT[value]
    elif case["expected"] == "error":
        with pytest.raises(getattr(exceptions, case["error"])):
            uscc.validate(value)
    elif function == "uscc.format":
        assert uscc.format(value) == ast.literal_eval(case["output"])
    else:
        assert uscc.validate(value) == ast.literal_eval(case["output"])
    assert column_uscc(value) == uscc_reason(value)


def validatorjs_cases() -> list[tuple[str, bool]]:
    table = load("idcard_validatorjs_zh-CN.json")["locales"]["zh-CN"]
    return [(value, True) for value in table["valid"]] + [
        (value, False) for value in table["invalid"]
    ]


@pytest.mark.parametrize(("value", "valid"), validatorjs_cases())
def test_validatorjs_case(value: str, valid: bool):
    if value in VALIDATORJS_DIFFERENT:
        assert ric_reason(value) == VALIDATORJS_DIFFERENT[value]
    else:
        assert ric.is_valid(value, today=TODAY) is valid
    assert column_ric(value) == ric_reason(value)


# Row number (header is row 1) -> (lenient result, strict result). A result
# is the normalized value with its notes, or the reason code of the error.
RETIRED_REGION: dict[int, tuple[Any, Any]] = {
    2: (("110101199001019992", ()), ("110101199001019992", ())),
    3: (("412723198001019991", ("retired-region",)),) * 2,
    4: (("412723199206159968", ("retired-region",)),) * 2,
    5: ("unknown-region", "unknown-region"),
    6: (("11010019900101997X", ("prefecture-level-region",)),) * 2,
    7: ("unknown-region", "unknown-region"),
}
LOWERCASE_X: dict[int, tuple[Any, Any]] = {
    2: (("11010119900101995X", ()), ("11010119900101995X", ())),
    3: (("11010519851111996X", ("lowercase-x",)), "lowercase-x"),
    4: ("invalid-checksum", "lowercase-x"),
    5: ("invalid-format", "invalid-format"),
    6: ("invalid-format", "invalid-format"),
    7: (("11010119900101995X", ("full-width",)), "full-width"),
    8: ("invalid-length", "invalid-length"),
}
USCC_CHECKSUM: dict[int, tuple[Any, Any]] = {
    2: (("91110101MA01BCDE8L", ()), ("91110101MA01BCDE8L", ())),
    3: (("121101051234567888", ()), ("121101051234567888", ())),
    4: ("invalid-checksum", "invalid-checksum"),
    5: ("invalid-checksum", "invalid-checksum"),
    6: (("91110101MA01BCDE8L", ("lowercase",)), "lowercase"),
    7: ("invalid-format", "invalid-format"),
    8: ("invalid-format", "invalid-format"),
    9: ("invalid-organisation-checksum", "invalid-organisation-checksum"),
    10: ("invalid-length", "invalid-length"),
    11: (("91110101MA01BCDE8L", ("separators",)), "separators"),
}


def outcome(check: Any, value: str, strict: bool) -> Any:
    try:
        checked = check(value, strict=strict)
    except InvalidIdentifier as error:
        return error.reason
    return (checked.value, checked.notes)


def bad_input_cases() -> list[tuple[str, int, str, Any, Any]]:
    cases = []
    for name, column, expected in (
        ("retired-region-code.csv", "身份证号", RETIRED_REGION),
        ("id-lowercase-x.csv", "身份证号", LOWERCASE_X),
        ("uscc-checksum.csv", "统一社会信用代码", USCC_CHECKSUM),
    ):
        table = rows(name)
        assert len(table) == len(expected)
        for number, row in enumerate(table, start=2):
            cases.append((name, number, row[column], *expected[number]))
    return cases


@pytest.mark.parametrize(
    ("name", "row", "value", "lenient", "strict"),
    bad_input_cases(),
    ids=lambda case: str(case) if isinstance(case, (str, int)) else "",
)
def test_bad_input_row(name: str, row: int, value: str, lenient: Any, strict: Any):
    is_uscc = name.startswith("uscc")
    if is_uscc:
        check: Any = uscc.check
        column = column_uscc
    else:

        def check(value: str, strict: bool) -> Any:
            return ric.check(value, strict=strict, today=TODAY)

        column = column_ric
    assert outcome(check, value, False) == lenient
    assert outcome(check, value, True) == strict
    for mode, result in ((False, lenient), (True, strict)):
        expected_reason = result if isinstance(result, str) else None
        assert column(value, mode) == expected_reason


def test_bad_input_errors_hide_value():
    for name, _, value, lenient, _ in bad_input_cases():
        if not isinstance(lenient, str):
            continue
        validator: Any = uscc if name.startswith("uscc") else ric
        with pytest.raises(InvalidIdentifier) as caught:
            validator.validate(value)
        assert value not in str(caught.value)
