"""Unified social credit codes: one value at a time."""

from __future__ import annotations

import pytest

from govchain.identifiers import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidIdentifier,
    InvalidLength,
)
from govchain.identifiers.cn import uscc


def make(body: str) -> str:
    """Return `body` (17 characters) with its GB 32100 check character."""
    return body + uscc.calc_check_char(body)


def test_uscc_valid_code_returned():
    assert uscc.validate("91110000600037341L") == "91110000600037341L"
    assert uscc.check("91110000600037341L").notes == ()


def test_uscc_check_char_known():
    assert uscc.calc_check_char("11111111111111111") == "5"
    assert uscc.calc_check_char("91110101MA01BCDE8") == "L"


def test_uscc_organisation_check_char():
    assert uscc.calc_organisation_check_char("MA01BCDE") == "8"
    assert uscc.calc_organisation_check_char("60003734") == "1"


def test_uscc_separators_lenient_note():
    checked = uscc.check("91 110000 600037341L")
    assert checked.value == "91110000600037341L"
    assert checked.notes == ("separators",)


def test_uscc_separators_strict_rejected():
    with pytest.raises(InvalidFormat) as caught:
        uscc.validate("91110101 MA01BCDE8L", strict=True)
    assert caught.value.reason == "separators"


def test_uscc_lowercase_lenient_note():
    checked = uscc.check("91110101ma01bcde8l")
    assert checked.value == "91110101MA01BCDE8L"
    assert checked.notes == ("lowercase",)


def test_uscc_lowercase_strict_rejected():
    with pytest.raises(InvalidFormat) as caught:
        uscc.validate("91110101ma01bcde8l", strict=True)
    assert caught.value.reason == "lowercase"


def test_uscc_full_width_lenient_note():
    checked = uscc.check("９１１１０１０１ＭＡ０１ＢＣＤＥ８Ｌ")
    assert checked.value == "91110101MA01BCDE8L"
    assert checked.notes == ("full-width",)


def test_uscc_length_rejected():
    with pytest.raises(InvalidLength, match="17 characters"):
        uscc.validate("91110101MA01BCDE8")


@pytest.mark.parametrize(
    ("value", "position", "fragment"),
    [
        ("9I110101MA01BCDE8L", 2, "digit 1"),
        ("1211O1051234567888", 5, "digit 0"),
        ("9111010SMA01BCDE8L", 8, "digit 5"),
        ("911101A1MA01BCDE8L", 7, "region code"),
        ("91110101MA01BCDE8*", 18, "not one of"),
    ],
)
def test_uscc_bad_character_position(value: str, position: int, fragment: str):
    with pytest.raises(InvalidFormat, match=fragment) as caught:
        uscc.validate(value)
    assert caught.value.position == position
    assert caught.value.reason == "invalid-format"


def test_uscc_checksum_rejected():
    with pytest.raises(InvalidChecksum) as caught:
        uscc.validate("111111111111111111")
    assert caught.value.reason == "invalid-checksum"


def test_uscc_organisation_checksum_rejected():
    with pytest.raises(InvalidChecksum, match="GB 11714") as caught:
        uscc.validate("91110101MA01BCDE0U")
    assert caught.value.reason == "invalid-organisation-checksum"


def test_uscc_registration_type_rejected():
    with pytest.raises(InvalidComponent) as caught:
        uscc.validate(make("94110101MA01BCDE8"))
    assert caught.value.reason == "invalid-registration-type"


@pytest.mark.parametrize("pair", ["A1", "N3", "Y1", "59", "31"])
def test_uscc_amended_departments_accepted(pair: str):
    assert uscc.is_valid(make(pair + "110101MA01BCDE8"))


def test_uscc_unknown_region_rejected():
    with pytest.raises(InvalidComponent) as caught:
        uscc.validate(make("91999999MA01BCDE8"))
    assert caught.value.reason == "unknown-region"


def test_uscc_central_region_noted():
    checked = uscc.check(make("11100000MA01BCDE8"))
    assert checked.notes == ("central-region",)


def test_uscc_retired_region_noted():
    checked = uscc.check(make("91412723MA01BCDE8"))
    assert checked.notes == ("retired-region",)


def test_uscc_format_repairs():
    assert uscc.format("91 110101 ma01bcde8l") == "91110101MA01BCDE8L"


def test_uscc_message_hides_value():
    for value in (
        "111111111111111111",
        "91110101MA01BCDE0U",
        make("91999999MA01BCDE8"),
    ):
        with pytest.raises(InvalidIdentifier) as caught:
            uscc.validate(value)
        assert value not in str(caught.value)
        assert value[8:17] not in str(caught.value)
