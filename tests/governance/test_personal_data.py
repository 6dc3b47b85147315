"""Finding ID numbers and mobile numbers in free text."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govchain.governance import personal_data
from govchain.governance.personal_data import (
    find_in_transaction,
    find_personal_data,
    mask_personal_data,
)
from govchain.ledger.canonical import canonical_json

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
        # Letters glued to a number do not hide it.
        (f"r{ID_18}", "resident ID number"),
        (f"checked ID{ID_18}", "resident ID number"),
        (f"体检 ID{ID_18}", "resident ID number"),
        (f"tel{MOBILE}", "mobile number"),
        (f"{MOBILE}ext", "mobile number"),
        (f"{MOBILE}x", "mobile number"),
        ("ABC13800138000", "mobile number"),
        (f"ｔｅｌ{MOBILE}", "mobile number"),
        # A hex run shorter than 32 characters is not a digest.
        (f"deadbeef{MOBILE}", "mobile number"),
        (f"{'ab' * 6}{ID_18}", "resident ID number"),
        # Other separators, and characters that show nothing.
        ("138.0013.8000", "mobile number"),
        ("(138)0013-8000", "mobile number"),
        ("138/0013/8000", "mobile number"),
        ("138_0013_8000", "mobile number"),
        ("138 0013.8000", "mobile number"),
        ("138\u00ad0013\u00ad8000", "mobile number"),
        ("138\u20600013\u20608000", "mobile number"),
        ("138\u200c0013\u200c8000", "mobile number"),
        ("110101.19900307.4514", "resident ID number"),
        ("110101/19900307/4514", "resident ID number"),
        ("110101_19900307_4514", "resident ID number"),
        ("110101\u00ad19900307\u00ad4514", "resident ID number"),
        ("110101\u200b19900307\u200b4514", "resident ID number"),
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
        "A113800138000",  # 12 digits after a letter
        "62220213800138000123",  # 20-digit account number
        "010-12345678",  # landline
        "resource 1380013800-1",  # a serial after a code, grouped unlike a phone
        "resource 1380013-8000",
        "11010119-9003074514",  # an ID number grouped unlike one
        "version 13800.138000",  # a decimal number
        "2024.03.02 13:00",
        # Inside a digest: 32 or more hex characters in a row.
        f"sha256:{'ab' * 26}{MOBILE}",
        f"sha256:{'AB' * 26}{MOBILE}",
        f"{MOBILE}{'c' * 21}",
        f"digest {'f' * 14}{ID_18} checked",
        f"clean people@1 {'0a' * 10}{MOBILE}{'b' * 11}",
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


def test_mask_personal_data_glued_to_letters() -> None:
    masked = mask_personal_data(f"tel{MOBILE}, ID{ID_18}")
    assert masked == "tel<mobile number>, ID<ID number>"


def test_mask_personal_data_keeps_digest() -> None:
    text = f"clean people@1 sha256:{'ab' * 26}{MOBILE}"
    assert mask_personal_data(text) == text


@given(st.binary(min_size=0, max_size=64))
def test_sha256_digests_never_match(data: bytes) -> None:
    digest = hashlib.sha256(data).hexdigest()
    assert find_personal_data(digest) is None
    assert find_personal_data(f"sha256:{digest}") is None
    assert find_personal_data(f"clean people@1 {digest.upper()}") is None


@given(
    st.binary(min_size=0, max_size=64),
    st.integers(min_value=0, max_value=64 - len(ID_18)),
    st.sampled_from([ID_18, MOBILE]),
)
def test_digest_with_number_never_matches(data: bytes, place: int, number: str) -> None:
    digest = hashlib.sha256(data).hexdigest()
    spliced = digest[:place] + number + digest[place + len(number) :]
    assert len(spliced) == 64
    assert find_personal_data(spliced) is None


# Under 32 characters, so no run is long enough to count as a hex digest.
@given(st.text(alphabet="0123456789 -Xx１２３", max_size=31))
def test_long_run_filter_keeps_every_match(text: str) -> None:
    # The filter skips texts without 11 digits in a row; walking every run
    # without it must find the same first number.
    walked = list(personal_data._candidates(personal_data._normalize(text)))
    first = walked[0][2] if walked else None
    assert find_personal_data(text) == first


def _tx_bytes(payload: dict[str, object], **fields: object) -> bytes:
    body = {"dept": "city-health", "kid": "0123456789abcdef", "nonce": 1}
    return canonical_json({**body, **fields, "payload": payload})


@pytest.mark.parametrize(
    ("payload", "where", "kind"),
    [
        ({"title": f"户主 {ID_18}"}, "payload.title", "resident ID number"),
        ({"fields": [{"type": MOBILE}]}, "payload.fields[0].type", "mobile number"),
        ({"id": f"res-{ID_18}"}, "payload.id", "resident ID number"),
        ({MOBILE: 1}, "a field name in payload", "mobile number"),
        ({"note": "１３８００１３８０００"}, "payload.note", "mobile number"),
    ],
)
def test_find_in_transaction_names_field(
    payload: dict[str, object], where: str, kind: str
) -> None:
    assert find_in_transaction(_tx_bytes(payload)) == (where, kind)


@pytest.mark.parametrize(
    "payload",
    [
        {"title": "床位", "level": 1},
        # An identifier built from a digest's first characters.
        {"id": "380120000j.13800138000a"},
        {"resource": "res-00001380013800"},
        {"root": "ab" * 16 + MOBILE},
    ],
)
def test_find_in_transaction_ignores(payload: dict[str, object]) -> None:
    assert find_in_transaction(_tx_bytes(payload)) is None


def test_find_in_transaction_key_id_and_bytes() -> None:
    assert find_in_transaction(_tx_bytes({}, kid=f"a{MOBILE}bcd")) is None
    found = find_in_transaction(f'{{"broken": "{MOBILE}"'.encode())
    assert found == ("the transaction", "mobile number")
