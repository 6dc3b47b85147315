"""Cross-checks against python-stdnum where its checks work.

python-stdnum is not a dependency: these tests run only where it is
installed (`pip install python-stdnum`) and are skipped otherwise. Its
resident ID check (version 2.2) reads the region from a table of counties
with the years they existed and raises KeyError on codes such as 620201
whose table entry has no county, so only check characters and codes listed
in both the 2019 and 2023 tables are compared.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govchain.identifiers.cn import region, ric, uscc

stdnum_ric = pytest.importorskip("stdnum.cn.ric")
stdnum_uscc = pytest.importorskip("stdnum.cn.uscc")

TODAY = date(2026, 1, 1)
STABLE_CODES = sorted(
    code
    for code in region.known_codes()
    if region.lookup(code).editions[-2:] == ("mca-201904", "nbs-2023")
    and not code.endswith("00")
)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"[0-9]{17}", fullmatch=True))
def test_stdnum_ric_check_char(body: str):
    assert ric.calc_check_char(body) == stdnum_ric.calc_check_digit(body + "0")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=uscc.ALPHABET, min_size=17, max_size=17))
def test_stdnum_uscc_check_char(body: str):
    assert uscc.calc_check_char(body) == stdnum_uscc.calc_check_digit(body)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(STABLE_CODES),
    st.dates(min_value=date(2019, 5, 1), max_value=date(2023, 1, 1)),
    st.integers(0, 999),
)
def test_stdnum_ric_accepts_same(code: str, born: date, sequence: int):
    body = f"{code}{born:%Y%m%d}{sequence:03d}"
    number = body + ric.calc_check_char(body)
    try:
        theirs = stdnum_ric.is_valid(number)
    except KeyError:
        theirs = None
    if theirs:
        assert ric.is_valid(number, today=TODAY)


def test_stdnum_ric_key_error_region():
    number = "62020119900101999"
    number += ric.calc_check_char(number)
    with pytest.raises(KeyError):
        stdnum_ric.validate(number)
    assert ric.validate(number, today=TODAY) == number
