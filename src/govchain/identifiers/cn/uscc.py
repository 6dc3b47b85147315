"""Unified social credit code (统一社会信用代码) of the People's Republic of China.

GB 32100-2015 gives every legal person and other organisation one 18-character
code over the 31 symbols `0-9 A-H J-N P-R T-U W-Y` (the letters I, O, S, V and
Z are never used):

| characters | part |
|---|---|
| 1 | registration department (`1` establishment, `5` civil affairs, `9` market regulation, ...) |
| 2 | organisation type within that department |
| 3-8 | GB/T 2260 region code of the registering office (`100000` for the central level) |
| 9-17 | organisation code, GB 11714, with its own check character |
| 18 | check character, MOD 31 with the weights 3**i mod 31 |

The department and type pairs are those of GB 32100 as amended, which added
the departments `A` (Central Military Commission) and `N` (agriculture). The
organisation code's ninth character is checked with GB 11714 (weights
3 7 9 10 5 8 4 2, MOD 11, `X` for 10), and the region code against every
shipped edition of GB/T 2260, as for ID numbers.

Lenient mode (the default) turns full-width characters into ASCII, removes
spaces and hyphens and upper-cases letters, and notes each repair. Strict mode
raises `InvalidFormat` for each. A letter that the code never uses is rejected
in both modes, and the message suggests the digit it may stand for.

>>> validate("91 110000 600037341L")
'91110000600037341L'
>>> check("91110101ma01bcde8l").notes
('lowercase',)
>>> validate("91110101MA01BCDE0U")
Traceback (most recent call last):
    ...
govchain.identifiers.exceptions.InvalidChecksum: unified social credit code has an organisation code (characters 9-17) whose GB 11714 check character does not match; check the code for a typing error
"""

from __future__ import annotations

import re
import string

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
    "ALPHABET",
    "REGISTRATION_TYPES",
    "calc_check_char",
    "calc_organisation_check_char",
    "check",
    "compact",
    "format",
    "is_valid",
    "validate",
]

FORMAT_NAME = "cn-uscc"
_SUBJECT = "unified social credit code"

#: The 31 symbols in the order of their values 0-30.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: 3**i mod 31 for the first 17 characters.
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
#: GB 11714 weights of the 8 body characters of an organisation code.
ORGANISATION_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
#: Organisation type codes allowed after each registration department code.
REGISTRATION_TYPES = {
    "1": "1239",
    "2": "19",
    "3": "123459",
    "4": "19",
    "5": "1239",
    "6": "129",
    "7": "129",
    "8": "19",
    "9": "123",
    "A": "19",
    "N": "1239",
    "Y": "1",
}
#: The region code that organisations registered at the central level carry.
CENTRAL_REGION = "100000"

_SHAPE = re.compile(f"[{ALPHABET}]{{2}}[0-9]{{6}}[{ALPHABET}]{{10}}")
_LOOK_ALIKES = {"I": "1", "O": "0", "Z": "2", "S": "5"}


def calc_check_char(body: str) -> str:
    """Return the GB 32100 check character for the first 17 characters."""
    total = sum(
        ALPHABET.index(char) * weight
        for char, weight in zip(body, WEIGHTS, strict=True)
    )
    return ALPHABET[-total % 31]


def calc_organisation_check_char(body: str) -> str:
    """Return the GB 11714 check character for the 8 body characters of an organisation code."""
    total = sum(
        int(char, 36) * weight
        for char, weight in zip(body, ORGANISATION_WEIGHTS, strict=True)
    )
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def compact(value: str) -> str:
    """Remove spaces and hyphens from `value`."""
    return strip_separators(value)


def format(value: str) -> str:
    """Return `value` with the lenient repairs applied, without validating it."""
    text = widen_to_ascii(value, [], strict=False, subject="", format_name="")
    return strip_separators(text).translate(_ASCII_UPPER)


#: Upper-cases ASCII letters only: `str.upper` turns `ß` into `SS`, which would
#: change the length that the checks below report.
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def _normalize(value: str, strict: bool) -> tuple[str, list[str]]:
    notes: list[str] = []
    text = widen_to_ascii(
        value, notes, strict=strict, subject=_SUBJECT, format_name=FORMAT_NAME
    )
    text = remove_separators(
        text, notes, strict=strict, subject=_SUBJECT, format_name=FORMAT_NAME
    )
    if any("a" <= char <= "z" for char in text):
        if strict:
            raise InvalidFormat(
                f"{_SUBJECT} contains lowercase letters; type them in upper case "
                "or validate it in lenient mode",
                format_name=FORMAT_NAME,
                reason="lowercase",
            )
        notes.append("lowercase")
        text = text.translate(_ASCII_UPPER)
    return text, notes


def _format_error(text: str) -> InvalidFormat:
    for index, char in enumerate(text):
        allowed = "0123456789" if 2 <= index < 8 else ALPHABET
        if char in allowed:
            continue
        position = index + 1
        if char in _LOOK_ALIKES:
            problem = (
                f"the letter {char} at position {position}, which GB 32100 never "
                f"uses; if it stands for the digit {_LOOK_ALIKES[char]}, correct it"
            )
        elif 2 <= index < 8 and char in ALPHABET:
            problem = (
                f"a letter at position {position} inside the region code "
                "(characters 3-8); type digits there"
            )
        else:
            problem = (
                f"a character at position {position} that is not one of "
                "0-9 A-H J-N P-R T-U W-Y"
            )
        return InvalidFormat(
            f"{_SUBJECT} has {problem}",
            format_name=FORMAT_NAME,
            position=position,
        )
    raise AssertionError("_format_error called on a well-formed code")


def _check_characters(text: str) -> None:
    if len(text) != 18:
        raise InvalidLength(
            f"{_SUBJECT} has {len(text)} characters, expected 18",
            format_name=FORMAT_NAME,
        )
    if not _SHAPE.fullmatch(text):
        raise _format_error(text)
    if calc_check_char(text[:17]) != text[17]:
        raise InvalidChecksum(
            f"{_SUBJECT} has a check character (character 18) that does not match "
            "the other 17; check the code for a typing error",
            format_name=FORMAT_NAME,
        )
    if calc_organisation_check_char(text[8:16]) != text[16]:
        raise InvalidChecksum(
            f"{_SUBJECT} has an organisation code (characters 9-17) whose GB 11714 "
            "check character does not match; check the code for a typing error",
            format_name=FORMAT_NAME,
            reason="invalid-organisation-checksum",
        )


def check(value: str, *, strict: bool = False) -> Checked:
    """Validate a unified social credit code and return it with notes.

    Checks, in this order, the characters (strict mode), the length, the
    alphabet and the digits of the region code, the GB 32100 check character,
    the GB 11714 check character of the organisation code, the department and
    type pair, and the region code. The notes are those of lenient repairs
    (`full-width`, `separators`, `lowercase`), `central-region` for
    `100000`, and `retired-region` or `unlisted-region` from
    `region.issuer_notes`. Raises `InvalidFormat`,
    `InvalidLength`, `InvalidChecksum` (reason `invalid-checksum` or
    `invalid-organisation-checksum`) or `InvalidComponent` (reason
    `invalid-registration-type` or `unknown-region`).
    """
    text, notes = _normalize(value, strict)
    _check_characters(text)
    if text[1] not in REGISTRATION_TYPES.get(text[0], ""):
        raise InvalidComponent(
            f"{_SUBJECT} starts with a registration department and organisation "
            "type pair (characters 1-2) that GB 32100 does not define",
            format_name=FORMAT_NAME,
            reason="invalid-registration-type",
        )
    code = text[2:8]
    if code == CENTRAL_REGION:
        return Checked(text, (*notes, "central-region"))
    region_notes = _region.issuer_notes(code)
    if region_notes is None:
        raise InvalidComponent(
            f"{_SUBJECT} has a region code (characters 3-8) that no shipped edition "
            f"of GB/T 2260 lists ({', '.join(_region.EDITIONS)}); check it for a "
            "typing error",
            format_name=FORMAT_NAME,
            reason="unknown-region",
        )
    # Registering offices work at every level, so only the level-free notes apply.
    level_free_notes = [
        note for note in region_notes if not note.endswith("-level-region")
    ]
    return Checked(text, (*notes, *level_free_notes))


def validate(value: str, *, strict: bool = False) -> str:
    """Validate a unified social credit code and return its normalized form; see `check`."""
    return check(value, strict=strict).value


def is_valid(value: str, *, strict: bool = False) -> bool:
    """Return whether `value` is a valid unified social credit code, without raising."""
    try:
        check(value, strict=strict)
    except InvalidIdentifier:
        return False
    return True
