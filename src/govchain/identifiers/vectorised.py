"""Identifier checks over whole Polars columns.

Each `check_*` function takes a Series of strings and returns a Series of the
same length and name holding, for each value, the `reason` code that the
one-value validator in `govchain.identifiers.cn` would raise (such as
`invalid-checksum` or `lowercase-x`), or null when the value is valid. A null
input gives a null reason: whether a value may be missing is the schema's
rule, not the identifier's. A Series of another type is cast to strings first.

The checks are Polars expressions, not a Python loop: check characters come
from digits cut out of integers that `str.to_integer` parses, birth dates are
checked with integer arithmetic, and region codes with `is_in` against the
GB/T 2260 table. They apply the same steps in the same order as the one-value
validators, so both give the same reason for every input; the tests check
this on generated values. The lenient repairs are only used to reach a reason
here: the notes and the normalized values come from the one-value `check`.

>>> import polars as pl
>>> ids = pl.Series("id", ["11010519851111996x", "11010119900101999x", None])
>>> check_resident_id(ids, today=date(2026, 1, 1)).to_list()
[None, 'invalid-checksum', None]
>>> check_resident_id(ids, strict=True, today=date(2026, 1, 1)).to_list()
['lowercase-x', 'lowercase-x', None]
"""

from __future__ import annotations

import functools
import string
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from types import MappingProxyType

import polars as pl

from govchain.identifiers._common import (
    FULL_WIDTH_CLASS,
    SEPARATOR_CLASS,
    ascii_pairs,
)
from govchain.identifiers.cn import phone, postal, region, ric, uscc

__all__ = [
    "CHECKS",
    "check_landline",
    "check_mobile",
    "check_phone",
    "check_postal_code",
    "check_region_code",
    "check_resident_id",
    "check_uscc",
]

_NULL = pl.lit(None, dtype=pl.String)
_FULL_WIDTH, _ASCII = ascii_pairs()


def _run(series: pl.Series, build: Callable[[pl.DataFrame], pl.DataFrame]) -> pl.Series:
    """Apply `build`, which adds a `reason` column to a frame with `value` and `text`."""
    if series.dtype != pl.String:
        series = series.cast(pl.String)
    frame = build(pl.DataFrame({"value": series, "text": series}))
    reason = pl.when(pl.col("value").is_null()).then(_NULL).otherwise(pl.col("reason"))
    return frame.select(reason).to_series().alias(series.name)


def _add(frame: pl.DataFrame, **columns: pl.Expr) -> pl.DataFrame:
    """Add `columns` to `frame`.

    An eager frame evaluates an expression again wherever it occurs, so a
    value that several later expressions read becomes a column first.
    """
    return frame.with_columns(**columns)


def _replace_where(
    frame: pl.DataFrame, flag: str, replacement: pl.Expr
) -> pl.DataFrame:
    """Replace `text` by `replacement` in the rows where `flag` is set.

    Skips the work when no row needs it, which is the common case of a clean
    column.
    """
    if not frame[flag].any():
        return frame
    text = pl.when(pl.col(flag)).then(replacement).otherwise(pl.col("text"))
    return frame.with_columns(text=text)


def _repair(frame: pl.DataFrame, separators: str = SEPARATOR_CLASS) -> pl.DataFrame:
    """Add `full_width` and `separated` and apply both repairs to `text`."""
    text = pl.col("text")
    frame = _add(frame, full_width=text.str.contains(FULL_WIDTH_CLASS))

    frame = _replace_where(
        frame, "full_width", text.str.replace_many(_FULL_WIDTH, _ASCII)
    )

    frame = _add(frame, separated=text.str.contains(separators))
    return _replace_where(frame, "separated", text.str.replace_all(separators, ""))


def _reasons(strict: bool, *rules: tuple[str, pl.Expr, bool]) -> pl.Expr:
    """Return the reason of the first failing (reason, failed, strict_only) rule, or null.

    A rule whose condition is null (a value too short to have that part) does
    not fail, so an earlier rule must catch such values.
    """
    return pl.coalesce(
        pl.when(failed).then(pl.lit(reason))
        for reason, failed, strict_only in rules
        if strict or not strict_only
    )


@functools.cache
def _set(values: frozenset[str]) -> pl.Expr:
    return pl.lit(pl.Series(sorted(values), dtype=pl.String)).implode()


def _known_region(code: pl.Expr) -> pl.Expr:
    """Mirror `region.issuer_notes(code) is not None`."""
    unlisted_prefecture = (
        code.str.ends_with("00")
        & (code.str.slice(2, 2) != "00")
        & code.str.slice(0, 4).is_in(_set(region.county_prefixes()))
    )
    return code.is_in(_set(region.known_codes())) | unlisted_prefecture


def _weighted_sum(number: pl.Expr, base: int, weights: Sequence[int]) -> pl.Expr:
    """Sum the digits of `number` in `base`, most significant first, times `weights`.

    `number` has `len(weights)` digits, leading zeros included. With the
    prefixes `p_j = number // base**(n-1-j)`, each digit is
    `p_j - base * p_(j-1)`, so the sum is `sum(p_j * (w_j - base * w_(j+1)))`
    with `w_n = 0`: one division per digit and no remainder. The callers keep
    `number` below about 10**14 so that the terms fit in 64 bits.
    """
    count = len(weights)
    total = pl.lit(0, dtype=pl.Int64)
    for j, weight in enumerate(weights):
        following = weights[j + 1] if j + 1 < count else 0
        total = total + number // base ** (count - 1 - j) * (weight - base * following)
    return total


def _days_in_month(year: pl.Expr, month: pl.Expr) -> pl.Expr:
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    return (
        pl.when(month == 2)
        .then(pl.when(leap).then(29).otherwise(28))
        .when(month.is_in([4, 6, 9, 11]))
        .then(30)
        .otherwise(31)
    )


def _resident_id(frame: pl.DataFrame, strict: bool, today: date) -> pl.DataFrame:
    text = pl.col("text")
    frame = _repair(frame)
    frame = _add(frame, lowercase_x=text.str.ends_with("x"))
    frame = _replace_where(frame, "lowercase_x", text.str.replace(r"x$", "X"))

    frame = _add(
        frame,
        length=text.str.len_chars(),
        shaped=text.str.contains(r"^(?:[0-9]{17}[0-9X]|[0-9]{15})$"),
        head=text.str.slice(0, 8).str.to_integer(base=10, strict=False),
        tail=text.str.slice(8, 9).str.to_integer(base=10, strict=False),
        last=text.str.slice(17, 1),
        birth=pl.when(text.str.len_chars() == 18)
        .then(text.str.slice(6, 8).str.to_integer(strict=False))
        .otherwise(19_000_000 + text.str.slice(6, 6).str.to_integer(strict=False)),
        code=text.str.slice(0, 6),
    )
    last, birth = pl.col("last"), pl.col("birth")
    check_value = (
        pl.when(last == "X").then(10).otherwise(last.str.to_integer(strict=False))
    )

    frame = _add(
        frame,
        known_region=_known_region(pl.col("code")),
        total=_weighted_sum(pl.col("head"), 10, ric.WEIGHTS[:8])
        + _weighted_sum(pl.col("tail"), 10, ric.WEIGHTS[8:])
        + check_value,
        year=birth // 10_000,
        month=birth // 100 % 100,
        day=birth % 100,
    )
    year, month, day = pl.col("year"), pl.col("month"), pl.col("day")
    bad_date = (
        (year < 1)
        | (month < 1)
        | (month > 12)
        | (day < 1)
        | (day > _days_in_month(year, month))
    )
    today_number = today.year * 10_000 + today.month * 100 + today.day

    reason = _reasons(
        strict,
        ("full-width", pl.col("full_width"), True),
        ("separators", pl.col("separated"), True),
        ("lowercase-x", pl.col("lowercase_x"), True),
        ("invalid-length", ~pl.col("length").is_in([15, 18]), False),
        ("invalid-format", ~pl.col("shaped"), False),
        (
            "invalid-checksum",
            (pl.col("length") == 18) & (pl.col("total") % 11 != 1),
            False,
        ),
        ("invalid-birth-date", bad_date, False),
        ("future-birth-date", birth > today_number, False),
        ("unknown-region", ~pl.col("known_region"), False),
    )
    return _add(frame, reason=reason)


def check_resident_id(
    series: pl.Series, *, strict: bool = False, today: date | None = None
) -> pl.Series:
    """Return the reason each resident ID number is invalid, or null; see `ric.check`.

    `today` is the last allowed birth date, the local date when None; the
    clock is read once, here.
    """
    today = date.today() if today is None else today
    return _run(series, lambda frame: _resident_id(frame, strict, today))


#: GB 32100 symbols with values 18-30 (it skips I, O, S and V) and the
#: base-31 digits with the same values. Symbols 0-H are the same in both.
_USCC_LETTERS = list(uscc.ALPHABET[18:])
_BASE_31_DIGITS = list("IJKLMNOPQRSTU")


def _uscc(frame: pl.DataFrame, strict: bool) -> pl.DataFrame:
    text = pl.col("text")
    frame = _repair(frame)
    frame = _add(frame, lowercase=text.str.contains("[a-z]"))
    upper = text.str.replace_many(
        list(string.ascii_lowercase), list(string.ascii_uppercase)
    )
    frame = _replace_where(frame, "lowercase", upper)

    alphabet = uscc.ALPHABET
    pairs = {
        department + kind
        for department, kinds in uscc.REGISTRATION_TYPES.items()
        for kind in kinds
    }
    frame = _add(
        frame,
        length=text.str.len_chars(),
        shaped=text.str.contains(f"^[{alphabet}]{{2}}[0-9]{{6}}[{alphabet}]{{10}}$"),
        base_31=text.str.replace_many(_USCC_LETTERS, _BASE_31_DIGITS),
        organisation=text.str.slice(8, 8).str.to_integer(base=36, strict=False),
        organisation_check=text.str.slice(16, 1),
        registered=text.str.slice(0, 2).is_in(_set(frozenset(pairs))),
        code=text.str.slice(2, 6),
    )

    # Written in base 31, each digit of the code is its GB 32100 value.
    base_31 = pl.col("base_31")
    frame = _add(
        frame,
        head=base_31.str.slice(0, 9).str.to_integer(base=31, strict=False),
        tail=base_31.str.slice(9, 9).str.to_integer(base=31, strict=False),
    )
    weights = (*uscc.WEIGHTS, 1)
    organisation_total = _weighted_sum(
        pl.col("organisation"), 36, uscc.ORGANISATION_WEIGHTS
    )
    frame = _add(
        frame,
        known_region=(pl.col("code") == uscc.CENTRAL_REGION)
        | _known_region(pl.col("code")),
        total=_weighted_sum(pl.col("head"), 31, weights[:9])
        + _weighted_sum(pl.col("tail"), 31, weights[9:]),
        expected=11 - organisation_total % 11,
    )
    expected = pl.col("expected")
    expected_char = (
        pl.when(expected == 10)
        .then(pl.lit("X"))
        .when(expected == 11)
        .then(pl.lit("0"))
        .otherwise(expected.cast(pl.String))
    )

    reason = _reasons(
        strict,
        ("full-width", pl.col("full_width"), True),
        ("separators", pl.col("separated"), True),
        ("lowercase", pl.col("lowercase"), True),
        ("invalid-length", pl.col("length") != 18, False),
        ("invalid-format", ~pl.col("shaped"), False),
        ("invalid-checksum", pl.col("total") % 31 != 0, False),
        (
            "invalid-organisation-checksum",
            pl.col("organisation_check") != expected_char,
            False,
        ),
        ("invalid-registration-type", ~pl.col("registered"), False),
        ("unknown-region", ~pl.col("known_region"), False),
    )
    return _add(frame, reason=reason)


def check_uscc(series: pl.Series, *, strict: bool = False) -> pl.Series:
    """Return the reason each unified social credit code is invalid, or null; see `uscc.check`."""
    return _run(series, lambda frame: _uscc(frame, strict))


def _phone_layout(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `full_width` and `separated` and repair `text` as `phone._layout` does."""
    return _repair(frame, phone.LAYOUT_CLASS)


def _mobile(frame: pl.DataFrame, strict: bool) -> pl.DataFrame:
    text = pl.col("text")
    frame = _add(_phone_layout(frame), hyphenated=text.str.contains("-", literal=True))
    frame = _replace_where(
        frame, "hyphenated", text.str.replace_all("-", "", literal=True)
    )
    frame = _add(frame, country_code=text.str.contains(phone.COUNTRY_CODE))
    frame = _replace_where(
        frame, "country_code", text.str.replace(phone.COUNTRY_CODE, "")
    )

    reason = _reasons(
        strict,
        ("full-width", pl.col("full_width"), True),
        ("separators", pl.col("separated") | pl.col("hyphenated"), True),
        ("country-code", pl.col("country_code"), True),
        ("invalid-format", ~text.str.contains("^[0-9]+$"), False),
        ("invalid-length", text.str.len_chars() != 11, False),
        ("invalid-mobile-prefix", ~text.str.contains("^1[3-9]"), False),
    )
    return _add(frame, reason=reason)


def _landline(frame: pl.DataFrame, strict: bool) -> pl.DataFrame:
    text = pl.col("text")
    frame = _phone_layout(frame)
    if strict:
        frame = _add(frame, marked=pl.lit(False))
    else:
        frame = _add(frame, marked=text.str.contains(phone.EXTENSION_MARKER))
        frame = _replace_where(
            frame, "marked", text.str.replace(phone.EXTENSION_MARKER, "")
        )

    frame = _add(frame, country_code=text.str.contains(phone.COUNTRY_CODE))
    without_code = text.str.replace(phone.COUNTRY_CODE + "-?", "")
    with_trunk = (
        pl.when(without_code.str.starts_with("0"))
        .then(without_code)
        .otherwise(pl.lit("0") + without_code)
    )
    frame = _replace_where(frame, "country_code", with_trunk)

    groups = text.str.extract_groups(phone.HYPHENATED_EXTENSION)
    frame = _add(
        frame,
        hyphen_extension=~pl.col("marked") & groups.struct.field("3").is_not_null(),
        area_local=groups.struct.field("1") + groups.struct.field("2"),
    )
    frame = _add(
        frame,
        text=pl.when(pl.col("hyphen_extension"))
        .then(pl.col("area_local"))
        .otherwise(text.str.replace_all("-", "", literal=True)),
    )

    area_length = (
        pl.when(text.str.starts_with("010") | text.str.starts_with("02"))
        .then(3)
        .when(text.str.contains("^0[3-9]"))
        .then(4)
        .otherwise(None)
    )
    frame = _add(frame, area_length=area_length)
    area_length = pl.col("area_length")
    reason = _reasons(
        strict,
        ("full-width", pl.col("full_width"), True),
        ("separators", pl.col("separated"), True),
        ("country-code", pl.col("country_code"), True),
        ("invalid-format", ~text.str.contains("^[0-9]+$"), False),
        ("invalid-area-code", area_length.is_null(), False),
        (
            "invalid-length",
            ~(text.str.len_chars() - area_length).is_in([7, 8]),
            False,
        ),
        (
            "invalid-local-number",
            text.str.slice(area_length, 1).is_in(["0", "1"]),
            False,
        ),
    )
    return _add(frame, reason=reason)


def _mobile_like(value: pl.Expr) -> pl.Expr:
    """Mirror `phone.is_mobile_like`."""
    text = value.str.replace_many(_FULL_WIDTH, _ASCII)
    text = text.str.replace_all(phone.LAYOUT_CLASS, "").str.replace_all(
        "-", "", literal=True
    )
    number = text.str.replace(phone.COUNTRY_CODE, "")
    country_code = text.str.contains(phone.COUNTRY_CODE)
    return number.str.starts_with("1") & ~(country_code & number.str.starts_with("10"))


def check_mobile(series: pl.Series, *, strict: bool = False) -> pl.Series:
    """Return the reason each mobile number is invalid, or null; see `phone.mobile`."""
    return _run(series, lambda frame: _mobile(frame, strict))


def check_landline(series: pl.Series, *, strict: bool = False) -> pl.Series:
    """Return the reason each landline number is invalid, or null; see `phone.landline`."""
    return _run(series, lambda frame: _landline(frame, strict))


def check_phone(series: pl.Series, *, strict: bool = False) -> pl.Series:
    """Return the reason each mobile or landline number is invalid, or null; see `phone.check`."""
    mobile_reason = check_mobile(series, strict=strict)
    landline_reason = check_landline(series, strict=strict)
    frame = pl.DataFrame(
        {"value": series, "mobile": mobile_reason, "landline": landline_reason}
    )
    value = pl.col("value").cast(pl.String)
    reason = (
        pl.when(_mobile_like(value))
        .then(pl.col("mobile"))
        .otherwise(pl.col("landline"))
    )
    return frame.select(reason).to_series().alias(series.name)


def _six_digits(
    frame: pl.DataFrame, strict: bool, *rules: tuple[str, pl.Expr, bool]
) -> pl.DataFrame:
    """Check the repairs, length and digits of a 6-digit code, then `rules`."""
    text = pl.col("text")
    frame = _repair(frame)

    reason = _reasons(
        strict,
        ("full-width", pl.col("full_width"), True),
        ("separators", pl.col("separated"), True),
        ("invalid-length", text.str.len_chars() != 6, False),
        ("invalid-format", ~text.str.contains("^[0-9]{6}$"), False),
        *rules,
    )
    return _add(frame, reason=reason)


def check_postal_code(series: pl.Series, *, strict: bool = False) -> pl.Series:
    """Return the reason each postal code is invalid, or null; see `postal.check`."""
    zone = pl.col("text").str.slice(0, 2)
    rule = ("unknown-postal-zone", ~zone.is_in(_set(postal.ZONES)), False)
    return _run(series, lambda frame: _six_digits(frame, strict, rule))


def check_region_code(
    series: pl.Series, *, strict: bool = False, current_only: bool = False
) -> pl.Series:
    """Return the reason each region code is invalid, or null; see `region.check`."""
    text = pl.col("text")
    known = ("unknown-region", ~text.is_in(_set(region.known_codes())), False)
    retired = (
        "retired-region",
        pl.lit(current_only) & ~text.is_in(_set(region.current_codes())),
        False,
    )
    return _run(series, lambda frame: _six_digits(frame, strict, known, retired))


#: Format name -> column check, for the formats of `govchain.identifiers.FORMATS`.
CHECKS: Mapping[str, Callable[..., pl.Series]] = MappingProxyType(
    {
        "cn-resident-id": check_resident_id,
        "cn-uscc": check_uscc,
        "cn-mobile": check_mobile,
        "cn-phone": check_phone,
        "cn-region-code": check_region_code,
        "cn-postal-code": check_postal_code,
    }
)
