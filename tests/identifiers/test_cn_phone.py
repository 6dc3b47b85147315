"""Mobile and landline numbers: one value at a time."""

from __future__ import annotations

import pytest

from govchain.identifiers import InvalidComponent, InvalidFormat, InvalidLength
from govchain.identifiers.cn import phone


@pytest.mark.parametrize(
    "value",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+8613800138000",
        "0086 138 0013 8000",
    ],
)
def test_mobile_forms_accepted(value: str):
    assert phone.mobile.validate(value) == "13800138000"


def test_mobile_country_code_noted():
    assert phone.mobile.check("+86 13800138000").notes == ("separators", "country-code")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("138 0013 8000", "separators"),
        ("138-0013-8000", "separators"),
        ("+8613800138000", "country-code"),
        ("１３８００１３８０００", "full-width"),
    ],
)
def test_mobile_strict_rejects_repairs(value: str, reason: str):
    with pytest.raises(InvalidFormat) as caught:
        phone.mobile.validate(value, strict=True)
    assert caught.value.reason == reason


def test_mobile_prefix_rejected():
    with pytest.raises(InvalidComponent) as caught:
        phone.mobile.validate("12800138000")
    assert caught.value.reason == "invalid-mobile-prefix"


def test_mobile_length_rejected():
    with pytest.raises(InvalidLength):
        phone.mobile.validate("1380013800")


def test_mobile_letters_rejected():
    with pytest.raises(InvalidFormat):
        phone.mobile.validate("1380013800O")


def test_mobile_format_groups():
    assert phone.mobile.format("+86 13800138000") == "138 0013 8000"


def test_mobile_rejects_landline():
    assert not phone.mobile.is_valid("010-65529988")


@pytest.mark.parametrize(
    ("value", "normalized"),
    [
        ("010-65529988", "010-65529988"),
        ("01065529988", "010-65529988"),
        ("(010) 6552 9988", "010-65529988"),
        ("+86 10 6552 9988", "010-65529988"),
        ("+86-010-65529988", "010-65529988"),
        ("0755-2345678", "0755-2345678"),
        ("075523456789", "0755-23456789"),
        ("021-62345678-123", "021-62345678-123"),
        ("021 6234 5678 转 123", "021-62345678-123"),
        ("021-62345678 ext. 9", "021-62345678-9"),
        ("021-62345678#88", "021-62345678-88"),
    ],
)
def test_landline_forms_accepted(value: str, normalized: str):
    assert phone.landline.validate(value) == normalized


def test_landline_strict_hyphens_allowed():
    assert phone.landline.validate("0755-2345678", strict=True) == "0755-2345678"


def test_landline_strict_marker_rejected():
    with pytest.raises(InvalidFormat):
        phone.landline.validate("021-62345678#88", strict=True)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("011-62345678", "invalid-area-code"),
        ("62345678", "invalid-area-code"),
        ("021-6234567890", "invalid-length"),
        ("021-623456", "invalid-length"),
        ("021-12345678", "invalid-local-number"),
        ("021-6234567a", "invalid-format"),
    ],
)
def test_landline_rejected(value: str, reason: str):
    with pytest.raises((InvalidFormat, InvalidComponent)) as caught:
        phone.landline.validate(value)
    assert caught.value.reason == reason


def test_phone_routes_by_kind():
    assert phone.validate("13800138000") == "13800138000"
    assert phone.validate("010-65529988") == "010-65529988"
    assert phone.validate("+86 10 6552 9988") == "010-65529988"


def test_phone_is_valid_never_raises():
    assert not phone.is_valid("")
    assert not phone.is_valid("+86")


def test_phone_compact():
    assert phone.compact("(010) 6552-9988") == "01065529988"
