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
from typing import Any, Literal, TypeAlias

import orjson

from govchain.errors import ValidationError
from govchain.identifiers.cn.ric import calc_check_char

__all__ = [
    "PersonalDataKind",
    "check_free_text",
    "find_in_transaction",
    "find_personal_data",
    "mask_personal_data",
]

PersonalDataKind: TypeAlias = Literal["resident ID number", "mobile number"]

# Separators people put between groups of digits: a space, hyphen, dot, slash,
# underscore, or the closing parenthesis of an area code (`(138)0013-8000`).
_SEPARATORS = " -./_)"
# A run of digits that single separators may split, optionally ending in X (an
# ID number's check character). Only digits end the run, so a letter before or
# after a number (`tel13800138000`) does not hide it.
_RUN_RE = re.compile(r"(?<!\d)\d(?:[ \-./_)]?\d)+(?:[ \-./_)]?[Xx])?(?!\d)")
# A hex digest (SHA-256, MD5), with or without a `sha256:` prefix. About one
# random SHA-256 digest in 300 contains a run of digits that reads as a mobile or
# ID number: 684 of the digests of the 8-byte little-endian integers 0 to 199,999
# do. So numbers inside 32 or more hex characters in a row are skipped.
_DIGEST_RE = re.compile(r"[0-9A-Fa-f]{32,}")
# The shortest number found has 11 digits (a mobile number). A text without 11
# digits in a row, single separators allowed, therefore contains none, and this
# one search is cheaper than walking each short run of digits.
_LONG_RUN_RE = re.compile(r"\d(?:[ \-./_)]?\d){10}")
# Characters that show nothing: a soft hyphen, zero-width space, non-joiner and
# joiner, word joiner and byte order mark. Between digits they hide a number
# from a search but not from a reader, so they are removed first.
_INVISIBLE_RE = re.compile("[\u00ad\u200b-\u200d\u2060\ufeff]")
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
        if char in _SEPARATORS:
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
    """Return `text` with full-width digits, letters and signs made ASCII and
    invisible characters removed."""
    if text.isascii():
        # NFKC leaves ASCII as it is.
        return text
    return _INVISIBLE_RE.sub("", unicodedata.normalize("NFKC", text))


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


# Transaction bytes without 11 digits in a row, one other character allowed
# between two, hold no number the search finds once the text is normalized,
# unless they hold non-ASCII characters (full-width digits).
_DIGITS_IN_BYTES = re.compile(rb"\d(?:\D?\d){10}")
# Key ids, hashes and Merkle roots: hex strings the search skips, because about
# one in 300 random digests reads as a number somewhere.
_HEX_RE = re.compile(r"[0-9A-Fa-f]{16,}")
# Top-level transaction fields that are not text: the key id and signature.
_NOT_TEXT = frozenset({"kid", "signature"})
# Fields that hold identifiers, often built from a digest's first characters
# (`agency.3f0138001380`), where 11 digits in a row are common. Only resident
# ID numbers, whose check character rules out chance, are searched there.
_IDENTIFIER_KEYS = frozenset({"id", "resource", "request", "grant", "delivery"})


def find_in_transaction(data: bytes) -> tuple[str, PersonalDataKind] | None:
    """Return where and what personal data the bytes of a transaction hold.

    The result names the field (`payload.fields[0].type`) and the kind, or is
    `None`. Every string and object key is searched except the key id, the
    signature and hex strings of 16 or more characters. Bytes that are not JSON
    are searched whole, because a rejected transaction keeps all its bytes.
    """
    if data.isascii() and not _DIGITS_IN_BYTES.search(data):
        return None
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError:
        kind = find_personal_data(data.decode("utf-8", "replace"))
        return ("the transaction", kind) if kind else None
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in _NOT_TEXT}
    return _find_in_value(body, "")


def _find_in_value(
    value: Any, path: str, key: str = ""
) -> tuple[str, PersonalDataKind] | None:
    if isinstance(value, str):
        kind = None if _HEX_RE.fullmatch(value) else find_personal_data(value)
        if key in _IDENTIFIER_KEYS and kind != "resident ID number":
            kind = None
        return (path or "the transaction", kind) if kind else None
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _find_in_value(item, f"{path}[{index}]")
            if found:
                return found
    if isinstance(value, dict):
        for key, item in value.items():
            kind = find_personal_data(key)
            if kind:
                return (f"a field name in {path or 'the transaction'}", kind)
            found = _find_in_value(item, f"{path}.{key}" if path else key, key)
            if found:
                return found
    return None
