"""Resident identity card number (居民身份证号码) of the People's Republic of China.

GB 11643-1999 defines the citizen identification number that public security
bureaus issue: 18 characters made of

- a 6-digit GB/T 2260 region code of the place where the number was first
  issued (`govchain.identifiers.cn.region`),
- the birth date as 8 digits, YYYYMMDD,
- a 3-digit sequence number, odd for men and even for women,
- a check character computed with ISO 7064 MOD 11-2, where `X` stands for 10.

Numbers issued before 1999 have 15 digits: the region code, the birth date as
YYMMDD in the 1900s and the sequence number, without a check character.
`to_18` converts them.

The region code must be listed in some shipped edition of GB/T 2260, because
a number keeps the code of a county that was later merged or renamed. A
prefecture code (`XXYY00`) that no edition lists is also accepted when some
county code under it is known, since such codes were issued in some periods.
Both cases, and numbers with retired codes, are valid with a note.

Lenient mode (the default) turns full-width characters into ASCII, removes
spaces and hyphens and upper-cases a final `x`, and notes each repair. Strict
mode raises `InvalidFormat` for each of them. Look-alikes of `X` such as the
Cyrillic `Х` or the multiplication sign are always rejected.

>>> validate("11010519851111996x")
'11010519851111996X'
>>> check("11010519851111996x").notes
('lowercase-x',)
>>> validate("11010519851111996x", strict=True)
Traceback (most recent call last):
    ...
govchain.identifiers.exceptions.InvalidFormat: resident identity card number ends in a lowercase x; type an uppercase X or validate it in lenient mode
>>> to_18("110101491001001")
'11010119491001001X'
>>> birth_date("11010119491001001X"), sex("11010119491001001X")
(datetime.date(1949, 10, 1), 'male')
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from govchain.identifiers._common import (
    Checked,
    remove_separators,
    strip_separators,
    widen_to_ascii,
)
from govchain.identifiers.cn import region as _region
from govchain.identifiers.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidIdentifier,
    InvalidLength,
)

__all__ = [
    "birth_date",
    "calc_check_char",
    "check",
    "compact",
    "format",
    "is_valid",
    "region",
    "sex",
    "to_18",
    "validate",
]

FORMAT_NAME = "cn-resident-id"
_SUBJECT = "resident identity card number"

#: ISO 7064 MOD 11-2 weights of the first 17 digits: 2**(17 - i) mod 11.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_SHAPE = re.compile(r"[0-9]{17}[0-9X]|[0-9]{15}")


def calc_check_char(body: str) -> str:
    """Return the check character for the first 17 digits of a number."""
    total = sum(
        int(digit) * weight for digit, weight in zip(body, WEIGHTS, strict=True)
    )
    value = (1 - total) % 11
    return "X" if value == 10 else str(value)


def compact(value: str) -> str:
    """Remove spaces and hyphens from `value`."""
    return strip_separators(value)


def format(value: str) -> str:
    """Return `value` with the lenient repairs applied, without validating it."""
    text = strip_separators(
        widen_to_ascii(value, [], strict=False, subject="", format_name="")
    )
    return text[:-1] + "X" if text.endswith("x") else text


def _normalize(value: str, strict: bool) -> tuple[str, list[str]]:
    notes: list[str] = []
    text = widen_to_ascii(
        value, notes, strict=strict, subject=_SUBJECT, format_name=FORMAT_NAME
    )
    text = remove_separators(
        text, notes, strict=strict, subject=_SUBJECT, format_name=FORMAT_NAME
    )
    if text.endswith("x"):
        if strict:
            raise InvalidFormat(
                f"{_SUBJECT} ends in a lowercase x; type an uppercase X or "
                "validate it in lenient mode",
                format_name=FORMAT_NAME,
                reason="lowercase-x",
            )
        notes.append("lowercase-x")
        text = text[:-1] + "X"
    return text, notes


def _check_shape(text: str) -> None:
    if len(text) not in (15, 18):
        raise InvalidLength(
            f"{_SUBJECT} has {len(text)} characters, expected 18 "
            "(or 15 for a number issued before 1999)",
            format_name=FORMAT_NAME,
        )
    if not _SHAPE.fullmatch(text):
        allowed = "0123456789X" if len(text) == 18 else "0123456789"
        bad = [
            i
            for i, char in enumerate(text)
            if char not in allowed or (char == "X" and i < 17)
        ]
        raise InvalidFormat(
            f"{_SUBJECT} has a character other than a digit at position "
            f"{bad[0] + 1}; only the last of 18 characters may be X",
            format_name=FORMAT_NAME,
            position=bad[0] + 1,
        )
    if len(text) == 18 and calc_check_char(text[:17]) != text[17]:
        raise InvalidChecksum(
            f"{_SUBJECT} has a check character that does not match its other "
            "17 digits; check the number for a typing error",
            format_name=FORMAT_NAME,
        )


def _birth_date(text: str) -> date:
    digits = text[6:14] if len(text) == 18 else "19" + text[6:12]
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError as error:
        raise InvalidComponent(
            f"{_SUBJECT} contains a birth date that does not exist; check the "
            "birth date digits for a typing error",
            format_name=FORMAT_NAME,
            reason="invalid-birth-date",
        ) from error


def check(value: str, *, today: date | None = None, strict: bool = False) -> Checked:
    """Validate a resident identity card number and return it with notes.

    Checks, in this order, the characters (strict mode), the length, the
    layout, the check character of an 18-character number, that the birth date
    exists and is not after `today` (the local date when None), and the region
    code. The notes are those of lenient repairs (`full-width`, `separators`,
    `lowercase-x`), `legacy-15` for a 15-digit number and those of
    `region.issuer_notes`. Raises `InvalidFormat`, `InvalidLength`,
    `InvalidChecksum` or `InvalidComponent` (reason `invalid-birth-date`,
    `future-birth-date` or `unknown-region`).
    """
    text, notes = _normalize(value, strict)
    _check_shape(text)
    born = _birth_date(text)
    today = date.today() if today is None else today
    if born > today:
        raise InvalidComponent(
            f"{_SUBJECT} contains a birth date after {today.isoformat()}; check the "
            "birth date digits for a typing error",
            format_name=FORMAT_NAME,
            reason="future-birth-date",
        )
    region_notes = _region.issuer_notes(text[:6])
    if region_notes is None:
        raise InvalidComponent(
            f"{_SUBJECT} starts with a region code that no shipped edition of "
            f"GB/T 2260 lists ({', '.join(_region.EDITIONS)}); check the first "
            "6 digits for a typing error",
            format_name=FORMAT_NAME,
            reason="unknown-region",
        )
    if len(text) == 15:
        notes.append("legacy-15")
    return Checked(text, (*notes, *region_notes))


def validate(value: str, *, today: date | None = None, strict: bool = False) -> str:
    """Validate a resident identity card number and return its normalized form.

    See `check` for the rules and errors. A 15-digit number is returned as 15
    digits; `to_18` converts it.
    """
    return check(value, today=today, strict=strict).value


def is_valid(value: str, *, today: date | None = None, strict: bool = False) -> bool:
    """Return whether `value` is a valid resident identity card number, without raising."""
    try:
        check(value, today=today, strict=strict)
    except InvalidIdentifier:
        return False
    return True


def to_18(value: str, *, today: date | None = None, strict: bool = False) -> str:
    """Validate a number and return its 18-character form.

    A 15-digit number gets the century `19` before its birth year and a
    computed check character; an 18-character number is returned as validated.
    """
    text = validate(value, today=today, strict=strict)
    if len(text) == 18:
        return text
    body = text[:6] + "19" + text[6:]
    return body + calc_check_char(body)


def birth_date(value: str, *, today: date | None = None) -> date:
    """Validate a number (leniently) and return the birth date it holds."""
    return _birth_date(validate(value, today=today))


def sex(value: str, *, today: date | None = None) -> Literal["male", "female"]:
    """Validate a number (leniently) and return the sex its sequence number encodes.

    GB 11643 gives odd sequence numbers to men and even ones to women.
    """
    text = validate(value, today=today)
    sequence_end = text[16] if len(text) == 18 else text[14]
    return "male" if int(sequence_end) % 2 else "female"


def region(value: str, *, today: date | None = None) -> _region.RegionInfo | None:
    """Validate a number (leniently) and return the GB/T 2260 entry of its region code.

    Returns None for a prefecture code that no shipped edition lists but that
    validation accepts (see the module documentation).
    """
    code = validate(value, today=today)[:6]
    return _region.lookup(code) if _region.is_known(code) else None
