"""Find resident ID numbers and mobile numbers in free text.

Text that ends up on the ledger (an override's reason, a description, a
transformation) or in a message (a column name taken from a file) must not
carry personal data. `find_personal_data` returns the kind of personal data
a text contains, and `mask_personal_data` replaces each match with a
placeholder.

What counts as a match:

- an 18-character resident ID number (GB 11643) whose check character is
  right, or a 15-digit one (issued before 1999, no check character) whose
  birth date is a real date;
- an 11-digit mainland mobile number, `1` then `3` to `9` then nine digits,
  optionally after `+86` or `86`.

Digits may be full-width, and single spaces or hyphens may split a number
(`138-0013-8000`). A longer run of digits, such as a 20-digit account number,
is not taken apart into matches. Names cannot be told from other words by
their shape, so they are not found here.

`check_free_text` is the check the transaction handlers run on free-text
fields, and the services run before they sign, because a rejected transaction
is recorded on the ledger with its payload too. The match depends only on the
text (and on Python's Unicode tables for NFKC), so every node decides alike.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Literal, TypeAlias

from govchain.errors import ValidationError
from govchain.identifiers.cn.ric import calc_check_char

__all__ = [
    "PersonalDataKind",
    "check_free_text",
    "find_personal_data",
    "mask_personal_data",
]

PersonalDataKind: TypeAlias = Literal["resident ID number", "mobile number"]

# A run of digits that single spaces or hyphens may split, optionally ending in
# X (an ID number's check character). Letters or digits on either side make it
# part of a longer code, which is left alone.
_RUN_RE = re.compile(r"(?<![0-9A-Za-z])\d(?:[ \-]?\d)+(?:[ \-]?[Xx])?(?![0-9A-Za-z])")
_SEPARATORS_RE = re.compile(r"[ \-]")
_MOBILE_RE = re.compile(r"(?:\+?86)?(1[3-9][0-9]{9})")
_PLACEHOLDERS: dict[PersonalDataKind, str] = {
    "resident ID number": "<ID number>",
    "mobile number": "<mobile number>",
}


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _kind_of(digits: str) -> PersonalDataKind | None:
    """Return the kind of a run of digits with its separators removed."""
    if len(digits) == 18 and digits[:17].isdigit():
        if calc_check_char(digits[:17]) == digits[17].upper():
            return "resident ID number"
        return None
    if len(digits) == 15 and digits.isdigit():
        year, month, day = (
            1900 + int(digits[6:8]),
            int(digits[8:10]),
            int(digits[10:12]),
        )
        return "resident ID number" if _is_date(year, month, day) else None
    if _MOBILE_RE.fullmatch(digits):
        return "mobile number"
    return None


def _normalize(text: str) -> str:
    """Return `text` with full-width digits, letters and signs made ASCII."""
    return unicodedata.normalize("NFKC", text)


def find_personal_data(text: str) -> PersonalDataKind | None:
    """Return the kind of the first ID or mobile number in `text`, or `None`."""
    for match in _RUN_RE.finditer(_normalize(text)):
        kind = _kind_of(_SEPARATORS_RE.sub("", match.group()))
        if kind is not None:
            return kind
    return None


def mask_personal_data(text: str) -> str:
    """Return `text` with each ID or mobile number replaced by a placeholder.

    `text` is returned unchanged when it contains neither. A masked text is
    NFKC-normalized, so its full-width characters read as ASCII.
    """
    normalized = _normalize(text)
    if find_personal_data(normalized) is None:
        return text

    def replace(match: re.Match[str]) -> str:
        kind = _kind_of(_SEPARATORS_RE.sub("", match.group()))
        return match.group() if kind is None else _PLACEHOLDERS[kind]

    return _RUN_RE.sub(replace, normalized)


def check_free_text(values: Mapping[str, object]) -> None:
    """Raise `ValidationError` (reason `personal-data`) if a text holds personal data.

    `values` maps a field's name, as the message shows it, to a string or a
    list of strings; other values are skipped. The message names the field and
    the kind found, never the value.
    """
    for name, value in values.items():
        texts = value if isinstance(value, list) else [value]
        for text in texts:
            if not isinstance(text, str):
                continue
            kind = find_personal_data(text)
            if kind is not None:
                raise ValidationError(
                    f"field {name} contains a {kind}; personal data must not be "
                    "recorded on the ledger, so remove it and describe the case "
                    "without it",
                    reason="personal-data",
                )
