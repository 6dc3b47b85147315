"""The column checks against the one-value validators, on generated values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govchain.identifiers import FORMATS, InvalidIdentifier, vectorised
from govchain.identifiers.cn import phone, postal, region, ric, uscc

TODAY = date(2026, 1, 1)
CODES = sorted(region.known_codes())
# Characters that the checks treat specially, and others to mix in.
NOISE = list("0123456789Xx -　１２Ｘｘ()+#转,.\t\u00a0ХIOSVZaz×")
TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=25)


def reason(check: Callable[..., Any], value: str, **options: Any) -> str | None:
    try:
        check(value, **options)
    except InvalidIdentifier as error:
        return error.reason
    return None


@st.composite
def corrupted(draw: st.DrawFn, valid: st.SearchStrategy[str]) -> str:
    """Draw a valid value, then apply up to three random edits to it."""
    value = list(draw(valid))
    for _ in range(draw(st.integers(0, 3))):
        edit = draw(
            st.sampled_from(
                ["replace", "insert", "delete", "swap", "lower", "wide", "all"]
            )
        )
        if not value:
            break
        if edit == "all":
            value = list("".join(value).lower())
        index = draw(st.integers(0, len(value) - 1))
        if edit == "replace":
            value[index] = draw(
                st.sampled_from(NOISE) | st.characters(exclude_categories=["Cs"])
            )
        elif edit == "insert":
            value.insert(index, draw(st.sampled_from(NOISE)))
        elif edit == "delete":
            del value[index]
        elif edit == "swap" and index + 1 < len(value):
            value[index], value[index + 1] = value[index + 1], value[index]
        elif edit == "lower":
            value[index] = value[index].lower()
        elif edit == "wide" and "!" <= value[index] <= "~":
            value[index] = chr(ord(value[index]) + 0xFEE0)
    return "".join(value)


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    code = draw(st.sampled_from(CODES) | st.from_regex(r"[0-9]{4}00", fullmatch=True))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)))
    sequence = draw(st.integers(0, 999))
    if draw(st.booleans()) and born.year < 2000:
        return f"{code}{born:%y%m%d}{sequence:03d}"
    body = f"{code}{born:%Y%m%d}{sequence:03d}"
    check_char = ric.calc_check_char(body)
    return body + (check_char.lower() if draw(st.booleans()) else check_char)


@st.composite
def usccs(draw: st.DrawFn) -> str:
    department = draw(st.sampled_from(sorted(uscc.REGISTRATION_TYPES)))
    kind = draw(st.sampled_from(uscc.REGISTRATION_TYPES[department] + "4"))
    code = draw(st.sampled_from([*CODES, uscc.CENTRAL_REGION, "999999"]))
    organisation = draw(st.text(alphabet=uscc.ALPHABET, min_size=8, max_size=8))
    body = department + kind + code + organisation
    body += uscc.calc_organisation_check_char(organisation)
    return body + uscc.calc_check_char(body)


MOBILES = st.from_regex(
    r"(\+86 ?|0086)?1[2-9][0-9] ?[0-9]{4}-?[0-9]{4}", fullmatch=True
)
LANDLINES = st.from_regex(
    r"(\+86-?|0086)?\(?0?(10|2[0-9]|[3-9][0-9]{2})\)?[- ]?[1-9][0-9]{6,7}"
    r"((-|转|ext|x|#|,)[0-9]{1,6})?",
    fullmatch=True,
)
POSTAL = st.from_regex(r"[0-9]{6}", fullmatch=True)
REGIONS = st.sampled_from(CODES)

CASES: dict[str, tuple[Callable[..., pl.Series], Callable[..., Any], Any]] = {
    "resident-id": (vectorised.check_resident_id, ric.check, resident_ids()),
    "uscc": (vectorised.check_uscc, uscc.check, usccs()),
    "mobile": (vectorised.check_mobile, phone.mobile.check, MOBILES),
    "landline": (vectorised.check_landline, phone.landline.check, LANDLINES),
    "phone": (vectorised.check_phone, phone.check, MOBILES | LANDLINES),
    "postal": (vectorised.check_postal_code, postal.check, POSTAL),
    "region": (vectorised.check_region_code, region.check, REGIONS),
}


def agree(name: str, values: list[str], strict: bool) -> None:
    column_check, check, _ = CASES[name]
    options: dict[str, Any] = {"strict": strict}
    if name == "resident-id":
        options["today"] = TODAY
    reasons = column_check(pl.Series("value", values), **options).to_list()
    expected = [reason(check, value, **options) for value in values]
    assert reasons == expected


@pytest.mark.parametrize("name", sorted(CASES))
def test_vectorised_agrees_generated(name: str):
    strategy = CASES[name][2]

    @settings(max_examples=200, deadline=None)
    @given(st.lists(corrupted(strategy) | strategy | TEXT, max_size=40), st.booleans())
    def run(values: list[str], strict: bool) -> None:
        agree(name, values, strict)

    run()


def test_vectorised_valid_ids_all_pass():
    values = ["110101199001019992", "11010519851111996X", "110101491001001"]
    result = vectorised.check_resident_id(pl.Series(values), today=TODAY)
    assert result.null_count() == 3


def test_vectorised_keeps_name_and_nulls():
    series = pl.Series("身份证号", ["110101199001019993", None])
    result = vectorised.check_resident_id(series, today=TODAY)
    assert result.name == "身份证号"
    assert result.to_list() == ["invalid-checksum", None]


def test_vectorised_casts_integers():
    result = vectorised.check_resident_id(pl.Series([110101491001001]), today=TODAY)
    assert result.to_list() == [None]


def test_vectorised_today_parameter():
    number = "110101202601029991"
    number = number[:17] + ric.calc_check_char(number[:17])
    series = pl.Series([number])
    assert vectorised.check_resident_id(series, today=TODAY)[0] == "future-birth-date"
    assert vectorised.check_resident_id(series, today=date(2026, 1, 2))[0] is None


def test_vectorised_region_current_only():
    series = pl.Series(["412723", "110105"])
    assert vectorised.check_region_code(series).to_list() == [None, None]
    result = vectorised.check_region_code(series, current_only=True)
    assert result.to_list() == ["retired-region", None]


def test_vectorised_empty_series():
    assert vectorised.check_uscc(pl.Series([], dtype=pl.String)).len() == 0


def test_vectorised_checks_cover_formats():
    assert set(vectorised.CHECKS) == set(FORMATS)


def test_uscc_non_ascii_lowercase_same_reason():
    # str.upper turns ß into SS, which once made the one-value check report a
    # format fault where the vectorised check reported the length.
    value = "000000000000000aß"
    with pytest.raises(InvalidIdentifier) as caught:
        uscc.check(value)
    assert caught.value.reason == "invalid-length"
    assert vectorised.check_uscc(pl.Series([value])).to_list() == ["invalid-length"]
