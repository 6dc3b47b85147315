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
where people group its digits (`138-0013-8000`, `110101 19900307 4514`). A
longer run of digits, such as a 20-digit account number, is not taken apart
into matches. Letters next to a number do not hide it (`tel13800138000`,
`ID110101199003074514`), but a number inside a run of 32 or more hex
characters is part of a digest (SHA-256, MD5) and is not a match. Names
cannot be distinguished from other words by their shape, so they are not
found here.

`check_free_text` is the check the transaction handlers run on free-text
fields, and the services run before they sign, because a rejected transaction
is recorded on the ledger with its payload too. The match depends only on the
text (and on Python's Unicode tables for NFKC), so every node decides alike.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
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
# X (an ID number's check character). Only digits end the run, so a letter
# before or after a number (`tel13800138000`) does not hide it.
_RUN_RE = re.compile(r"(?<!\d)\d(?:[ \-]?\d)+(?:[ \-]?[Xx])?(?!\d)")
# A hex digest (SHA-256, MD5), with or without a `sha256:` prefix. About one
# random SHA-256 digest in 300 contains a run of digits that reads as a mobile or
# ID number: 684 of the digests of the 8-byte little-endian integers 0 to 199,999
# do. So numbers inside 32 or more hex characters in a row are skipped.
_DIGEST_RE = re.compile(r"[0-9A-Fa-f]{32,}")
# The shortest number found has 11 digits (a mobile number). A text without 11
# digits in a row, single separators allowed, therefore contains none, and this
# one search is cheaper than walking each short run of digits.
_LONG_RUN_RE = re.compile(r"\d(?:[ \-]?\d){10}")
# A run of digits without separators, optionally ending in X.
_PIECE_RE = re.compile(r"\d+[Xx]?")
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


def _split(run: str) -> tuple[str, frozenset[int]]:
    """Return the characters of `run` without separators, and where each was.

    A separator's place is the number of characters before it.
    """
    kept: list[str] = []
    places: set[int] = set()
    for char in run:
        if char in " -":
            places.add(len(kept))
        else:
            kept.append(char)
    return "".join(kept), frozenset(places)


def _kind_of(run: str) -> PersonalDataKind | None:
    """Return the kind of personal data a run of digits is, if any.

    Separators count only where people put them (`110101 19900307 4514`,
    `138-0013-8000`), so `1380013-8000`, a code and a serial, is no match.
    """
    digits, places = _split(run)
    if len(digits) == 18 and digits[:17].isdigit():
        valid = calc_check_char(digits[:17]) == digits[17].upper()
        return "resident ID number" if valid and places in ({6, 14}, set()) else None
    if len(digits) == 15 and digits.isdigit():
        year, month, day = (
            1900 + int(digits[6:8]),
            int(digits[8:10]),
            int(digits[10:12]),
        )
        valid = _is_date(year, month, day)
        return "resident ID number" if valid and places in ({6, 12}, set()) else None
    if _MOBILE_RE.fullmatch(digits):
        groups = [{3, 7}] if len(digits) == 11 else [{2, 5, 9}, {2}]
        return "mobile number" if places in [*groups, set()] else None
    return None


def _normalize(text: str) -> str:
    """Return `text` with full-width digits, letters and signs made ASCII."""
    if text.isascii():
        # NFKC leaves ASCII as it is.
        return text
    return unicodedata.normalize("NFKC", text)


def _candidates(text: str) -> Iterator[tuple[int, int, PersonalDataKind]]:
    """Yield the start, end and kind of each ID or mobile number in `text`.

    A run that is not one as a whole may still contain one between its
    separators, as `12 13800138000` does, or before a trailing X that is a
    letter of the text rather than a check character (`13800138000x`).
    """
    for match in _RUN_RE.finditer(text):
        kind = _kind_of(match.group())
        if kind is not None:
            yield match.start(), match.end(), kind
            continue
        for piece in _PIECE_RE.finditer(match.group()):
            start = match.start() + piece.start()
            digits = piece.group()
            kind = _kind_of(digits)
            if kind is None and digits[-1] in "Xx":
                digits = digits[:-1]
                kind = _kind_of(digits)
            if kind is not None:
                yield start, start + len(digits), kind


def _spans(text: str) -> Iterator[tuple[int, int, PersonalDataKind]]:
    """Yield the start, end and kind of each ID or mobile number outside digests."""
    if not _LONG_RUN_RE.search(text):
        return
    digests = [match.span() for match in _DIGEST_RE.finditer(text)]
    for start, end, kind in _candidates(text):
        if not any(first <= start and end <= last for first, last in digests):
            yield start, end, kind


def find_personal_data(text: str) -> PersonalDataKind | None:
    """Return the kind of the first ID or mobile number in `text`, or `None`."""
    for _start, _end, kind in _spans(_normalize(text)):
        return kind
    return None


def mask_personal_data(text: str) -> str:
    """Return `text` with each ID or mobile number replaced by a placeholder.

    `text` is returned unchanged when it contains neither. A masked text is
    NFKC-normalized, so its full-width characters read as ASCII.
    """
    normalized = _normalize(text)
    parts: list[str] = []
    done = 0
    for start, end, kind in _spans(normalized):
        parts += [normalized[done:start], _PLACEHOLDERS[kind]]
        done = end
    if not parts:
        return text
    return "".join(parts) + normalized[done:]


def check_free_text(values: Mapping[str, object]) -> None:
    """Raise `ValidationError` (reason `personal-data`) if a text contains personal data.

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
