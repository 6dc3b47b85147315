"""Resident identity card numbers: one value at a time."""

from __future__ import annotations

from datetime import date

import pytest

from govchain.errors import ValidationError
from govchain.identifiers import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidIdentifier,
    InvalidLength,
)
from govchain.identifiers.cn import ric

TODAY = date(2026, 1, 1)


def make(body: str) -> str:
    """Return `body` (17 digits) with its check character."""
    return body + ric.calc_check_char(body)


def test_ric_valid_number_returned():
    assert ric.validate("110101199001019992", today=TODAY) == "110101199001019992"
    assert ric.check("110101199001019992", today=TODAY).notes == ()


def test_ric_check_char_x():
    number = make("11010119900101995")
    assert number.endswith("X")
    assert ric.validate(number, today=TODAY) == number


def test_ric_lowercase_x_lenient_note():
    checked = ric.check("11010519851111996x", today=TODAY)
    assert checked.value == "11010519851111996X"
    assert checked.notes == ("lowercase-x",)


def test_ric_lowercase_x_strict_rejected():
    with pytest.raises(InvalidFormat, match="lowercase x") as caught:
        ric.validate("11010519851111996x", strict=True, today=TODAY)
    assert caught.value.reason == "lowercase-x"


def test_ric_lowercase_x_keeps_checksum():
    with pytest.raises(InvalidChecksum):
        ric.validate("11010119900101999x", today=TODAY)


def test_ric_full_width_lenient_note():
    checked = ric.check("１１０１０１１９９００１０１９９５Ｘ", today=TODAY)
    assert checked.value == "11010119900101995X"
    assert checked.notes == ("full-width",)


def test_ric_full_width_strict_rejected():
    with pytest.raises(InvalidFormat, match="full-width") as caught:
        ric.validate("11010119900101995Ｘ", strict=True, today=TODAY)
    assert caught.value.reason == "full-width"


@pytest.mark.parametrize("look_alike", ["Х", "×", "χ"])
def test_ric_x_look_alikes_rejected(look_alike: str):
    with pytest.raises(InvalidFormat) as caught:
        ric.validate("11010119900101995" + look_alike, today=TODAY)
    assert caught.value.reason == "invalid-format"
    assert caught.value.position == 18


def test_ric_separators_lenient_note():
    checked = ric.check(" 110101 19900101 999-2 ", today=TODAY)
    assert checked.value == "110101199001019992"
    assert checked.notes == ("separators",)


def test_ric_separators_strict_rejected():
    with pytest.raises(InvalidFormat) as caught:
        ric.validate("110101 199001019992", strict=True, today=TODAY)
    assert caught.value.reason == "separators"


def test_ric_compact_strips_spaces_hyphens():
    assert ric.compact(" 110101-1990 0101 999x ") == "11010119900101999x"


def test_ric_format_repairs():
    assert ric.format("１１０１０５ 19851111996x") == "11010519851111996X"


@pytest.mark.parametrize(
    "value", ["", "12345", "1101011990010199510", "11010119900101999"]
)
def test_ric_length_rejected(value: str):
    with pytest.raises(InvalidLength) as caught:
        ric.validate(value, today=TODAY)
    assert caught.value.reason == "invalid-length"


def test_ric_x_in_middle_rejected():
    with pytest.raises(InvalidFormat) as caught:
        ric.validate("1101011990X1019992", today=TODAY)
    assert caught.value.position == 11


def test_ric_checksum_rejected():
    with pytest.raises(InvalidChecksum, match="check character") as caught:
        ric.validate("110101199001019993", today=TODAY)
    assert caught.value.reason == "invalid-checksum"


@pytest.mark.parametrize("birth", ["19900231", "19000229", "19901301", "19900100"])
def test_ric_missing_birth_date_rejected(birth: str):
    with pytest.raises(InvalidComponent) as caught:
        ric.validate(make("110101" + birth + "999"), today=TODAY)
    assert caught.value.reason == "invalid-birth-date"


def test_ric_leap_day_accepted():
    assert ric.is_valid(make("11010120000229999"), today=TODAY)


def test_ric_future_birth_rejected():
    number = make("11010120260102999")
    with pytest.raises(InvalidComponent, match="after 2026-01-01") as caught:
        ric.validate(number, today=TODAY)
    assert caught.value.reason == "future-birth-date"
    assert ric.is_valid(number, today=date(2026, 1, 2))


def test_ric_today_defaults_to_clock():
    assert not ric.is_valid(make("11010130000101999"))
    assert ric.is_valid(make("11010119900101999"))


def test_ric_unknown_region_rejected():
    with pytest.raises(InvalidComponent, match="GB/T 2260") as caught:
        ric.validate("999999199001019993", today=TODAY)
    assert caught.value.reason == "unknown-region"


def test_ric_all_zero_region_rejected():
    with pytest.raises(InvalidComponent):
        ric.validate("000000199001019952", today=TODAY)


def test_ric_retired_region_noted():
    checked = ric.check("412723198001019991", today=TODAY)
    assert checked.notes == ("retired-region",)


def test_ric_prefecture_region_noted():
    checked = ric.check("11010019900101997X", today=TODAY)
    assert checked.notes == ("prefecture-level-region",)


def test_ric_unlisted_prefecture_accepted():
    checked = ric.check(make("11020019900101999"), today=TODAY)
    assert checked.notes == ("unlisted-region", "prefecture-level-region")
    assert ric.region(checked.value) is None


def test_ric_unlisted_prefecture_needs_counties():
    with pytest.raises(InvalidComponent):
        ric.validate(make("11990019900101999"), today=TODAY)


def test_ric_region_only_in_nbs_2023():
    # 620201 (Jiayuguan) is listed only by the 2023 NBS table.
    number = make("62020119900101999")
    assert ric.validate(number, today=TODAY) == number
    info = ric.region(number)
    assert info is not None
    assert info.name == "嘉峪关市"
    assert info.editions == ("nbs-2023",)


def test_ric_legacy_15_accepted():
    checked = ric.check("110101491001001", today=TODAY)
    assert checked.value == "110101491001001"
    assert checked.notes == ("legacy-15",)


def test_ric_legacy_15_bad_date():
    with pytest.raises(InvalidComponent):
        ric.validate("110101940231001", today=TODAY)


def test_ric_legacy_15_no_x():
    with pytest.raises(InvalidFormat):
        ric.validate("11010149100100X", today=TODAY)


def test_ric_to_18_converts_legacy():
    converted = ric.to_18("110101491001001", today=TODAY)
    assert converted == "11010119491001001X"
    assert ric.is_valid(converted, today=TODAY)


def test_ric_to_18_keeps_18():
    assert ric.to_18("11010519851111996x", today=TODAY) == "11010519851111996X"


def test_ric_birth_date():
    assert ric.birth_date("44011320141005001x", today=TODAY) == date(2014, 10, 5)
    assert ric.birth_date("110101491001001", today=TODAY) == date(1949, 10, 1)


def test_ric_sex_from_sequence():
    assert ric.sex(make("11010119900101001"), today=TODAY) == "male"
    assert ric.sex(make("11010119900101002"), today=TODAY) == "female"
    assert ric.sex("110101491001002", today=TODAY) == "female"


def test_ric_region_lookup():
    info = ric.region("360426199101010071", today=TODAY)
    assert info is not None
    assert (info.province, info.name) == ("江西省", "德安县")


def test_ric_region_rejects_invalid():
    with pytest.raises(InvalidChecksum):
        ric.region("360426199101010072", today=TODAY)


def test_ric_is_valid_never_raises():
    assert not ric.is_valid("", today=TODAY)
    assert not ric.is_valid("\ud800", today=TODAY)


def test_ric_errors_are_value_errors():
    with pytest.raises(ValueError) as caught:
        ric.validate("110101199001019993", today=TODAY)
    assert isinstance(caught.value, ValidationError)
    assert isinstance(caught.value, InvalidIdentifier)
    assert caught.value.format_name == "cn-resident-id"


INVALID = [
    ("110101199001019993", False),
    ("999999199001019993", False),
    ("11010119900231999X", False),
    ("1101011990010199510", False),
    ("1101011990X1019992", False),
    ("11010519851111996x", True),
    ("11010119900101995Ｘ", True),
]


@pytest.mark.parametrize(("value", "strict"), INVALID)
def test_ric_message_hides_value(value: str, strict: bool):
    with pytest.raises(InvalidIdentifier) as caught:
        ric.validate(value, strict=strict, today=TODAY)
    message = str(caught.value)
    assert value not in message
    assert value[:6] not in message
    assert value[6:14] not in message
