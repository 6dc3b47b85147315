"""Finding ID numbers and mobile numbers in free text."""

from __future__ import annotations

import pytest

from govchain.governance.personal_data import find_personal_data, mask_personal_data

# 11010119900307451 plus its check character 4 (ISO 7064 MOD 11-2).
ID_18 = "110101199003074514"
MOBILE = "13800138000"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (ID_18, "resident ID number"),
        (f"户主身份证{ID_18}已核实", "resident ID number"),
        ("11010519491231002X", "resident ID number"),
        ("11010519491231002x", "resident ID number"),
        ("110101 19900307 4514", "resident ID number"),
        ("１１０１０１１９９００３０７４５１４", "resident ID number"),
        ("110101900307451", "resident ID number"),
        (MOBILE, "mobile number"),
        (f"联系 {MOBILE}。", "mobile number"),
        ("+86 138-0013-8000", "mobile number"),
        ("8613800138000", "mobile number"),
        ("room 12 13800138000", "mobile number"),
    ],
)
def test_find_personal_data_matches(text: str, kind: str) -> None:
    assert find_personal_data(text) == kind


@pytest.mark.parametrize(
    "text",
    [
        "",
        "grade raised after the 2024 review of field 身份证号",
        "110101199003074515",  # wrong check character
        "110101901307451",  # 15 digits, month 13
        "12800138000",  # 11 digits, second digit 2
        "23800138000",
        "1380013800",  # 10 digits
        "ABC13800138000",  # part of a longer code
        "62220213800138000123",  # 20-digit account number
        "010-12345678",  # landline
        "resource 1380013800-1",  # a serial after a code, grouped unlike a phone
        "resource 1380013-8000",
        "11010119-9003074514",  # an ID number grouped unlike one
    ],
)
def test_find_personal_data_ignores(text: str) -> None:
    assert find_personal_data(text) is None


def test_mask_personal_data_replaces_each() -> None:
    masked = mask_personal_data(f"张三 {ID_18} 电话 {MOBILE}")
    assert ID_18 not in masked
    assert MOBILE not in masked
    assert masked == "张三 <ID number> 电话 <mobile number>"


def test_mask_personal_data_keeps_plain_text() -> None:
    assert mask_personal_data("床位 2024") == "床位 2024"
    assert mask_personal_data("ｆｕｌｌ") == "ｆｕｌｌ"
