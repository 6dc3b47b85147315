"""Telephone numbers of mainland China: mobile and landline.

A **mobile** number has 11 digits and starts with 13 to 19. It may be written
with the country code `+86` or `0086` and with spaces or hyphens. The
normalized form is the 11 digits, and `format` groups them 3-4-4.

A **landline** number is a trunk prefix `0` with a 2- or 3-digit area code,
then a 7- or 8-digit local number that starts with 2-9, then an optional
extension of 1-6 digits. The area code `010` and those starting `02` have
three digits with the `0`; every other area code (`03xx` to `09xx`) has four,
so the split never depends on how the number was grouped. After `+86` or
`0086` the `0` may be left out, as in `+86 10 1234 5678`. An extension follows
a marker (`ext`, `x`, `转`, `分机`, `#` or `,`) or a third hyphen-separated
group (`010-12345678-123`). The normalized form is `010-12345678`, with
`-123` appended for an extension.

The module-level functions (`check`, `validate`, `is_valid`, `format`) accept
either kind and are the format `cn-phone`. A number whose digits start with
`1` (other than `10` after a country code, which is Beijing) is read as a
mobile number. `mobile` (`cn-mobile`) and `landline` accept only their kind.

Lenient mode (the default) converts full-width characters, removes spaces,
parentheses and dots (and hyphens, except in a landline's groups) and drops a
country code, noting `full-width`, `separators` and `country-code`. Strict mode
raises `InvalidFormat` with those reasons. It still accepts hyphens in a
landline number but no extension marker other than a hyphen.

>>> validate("+86 138-0013-8000")
'13800138000'
>>> mobile.format("13800138000")
'138 0013 8000'
>>> validate("(0755) 8888 8888 转 123")
'0755-88888888-123'
>>> landline.validate("+86 10 6552 9988")
'010-65529988'
"""

from __future__ import annotations

import re

from govchain.identifiers._common import (
    Checked,
    strip_separators,
    widen_to_ascii,
)
from govchain.identifiers.exceptions import (
    InvalidComponent,
    InvalidFormat,
    InvalidIdentifier,
    InvalidLength,
)

__all__ = [
    "PhoneFormat",
    "check",
    "compact",
    "format",
    "is_mobile_like",
    "is_valid",
    "landline",
    "mobile",
    "validate",
]

#: Characters removed everywhere; hyphens are handled by each kind.
LAYOUT_CHARS = " \t\r\n\u00a0()."
LAYOUT_CLASS = "[ \t\r\n\u00a0().]"
COUNTRY_CODE = r"^(?:\+86|0086)"
#: An extension after a marker, at the end of the text.
EXTENSION_MARKER = r"(?i)(?:ext|x|转|分机|#|,)([0-9]{1,6})$"
#: A landline written as area-local-extension.
HYPHENATED_EXTENSION = r"^(0[0-9]{2,3})-([0-9]{7,8})-([0-9]{1,6})$"

_COUNTRY_CODE = re.compile(COUNTRY_CODE + "-?")
_EXTENSION_MARKER = re.compile(EXTENSION_MARKER)
_HYPHENATED_EXTENSION = re.compile(HYPHENATED_EXTENSION)


def _layout(value: str, notes: list[str], strict: bool, subject: str, name: str) -> str:
    text = widen_to_ascii(
        value, notes, strict=strict, subject=subject, format_name=name
    )
    if any(char in LAYOUT_CHARS for char in text):
        if strict:
            raise InvalidFormat(
                f"{subject} contains spaces, parentheses or dots; remove them or "
                "validate it in lenient mode",
                format_name=name,
                reason="separators",
            )
        notes.append("separators")
        text = strip_separators(text, LAYOUT_CHARS)
    return text


def _drop_country_code(
    text: str, notes: list[str], strict: bool, subject: str, name: str
) -> tuple[str, bool]:
    stripped = _COUNTRY_CODE.sub("", text, count=1)
    if stripped == text:
        return text, False
    if strict:
        raise InvalidFormat(
            f"{subject} starts with the country code +86 or 0086; remove it or "
            "validate it in lenient mode",
            format_name=name,
            reason="country-code",
        )
    notes.append("country-code")
    return stripped, True


def _check_mobile(value: str, *, strict: bool) -> Checked:
    name, subject = "cn-mobile", "mobile phone number"
    notes: list[str] = []
    text = _layout(value, notes, strict, subject, name)
    if "-" in text:
        if strict:
            raise InvalidFormat(
                f"{subject} contains hyphens; remove them or validate it in "
                "lenient mode",
                format_name=name,
                reason="separators",
            )
        if "separators" not in notes:
            notes.append("separators")
        text = text.replace("-", "")
    text, _ = _drop_country_code(text, notes, strict, subject, name)
    if not text.isascii() or not text.isdigit():
        raise InvalidFormat(
            f"{subject} contains characters other than digits, spaces, hyphens "
            "and a leading +86",
            format_name=name,
        )
    if len(text) != 11:
        raise InvalidLength(
            f"{subject} has {len(text)} digits, expected 11", format_name=name
        )
    if text[1] not in "3456789" or text[0] != "1":
        raise InvalidComponent(
            f"{subject} does not start with 13 to 19, the prefixes of mobile "
            "networks in mainland China",
            format_name=name,
            reason="invalid-mobile-prefix",
        )
    return Checked(text, tuple(notes))


def _split_extension(text: str, strict: bool) -> tuple[str, str]:
    if not strict:
        match = _EXTENSION_MARKER.search(text)
        if match:
            return text[: match.start()], match.group(1)
    return text, ""


def _check_landline(value: str, *, strict: bool) -> Checked:
    name, subject = "cn-phone", "landline phone number"
    notes: list[str] = []
    text = _layout(value, notes, strict, subject, name)
    text, extension = _split_extension(text, strict)
    text, had_country_code = _drop_country_code(text, notes, strict, subject, name)
    if had_country_code and not text.startswith("0"):
        text = "0" + text
    match = _HYPHENATED_EXTENSION.fullmatch(text) if not extension else None
    if match:
        text, extension = match.group(1) + match.group(2), match.group(3)
    text = text.replace("-", "")
    if not text.isascii() or not text.isdigit():
        raise InvalidFormat(
            f"{subject} contains characters other than digits, hyphens, an "
            "extension marker and a leading +86",
            format_name=name,
        )
    if text.startswith(("010", "02")):
        area_length = 3
    elif text[:2] in {f"0{digit}" for digit in "3456789"}:
        area_length = 4
    else:
        raise InvalidComponent(
            f"{subject} does not start with an area code (010, 02x or 03xx-09xx)",
            format_name=name,
            reason="invalid-area-code",
        )
    area, local = text[:area_length], text[area_length:]
    if len(local) not in (7, 8):
        raise InvalidLength(
            f"{subject} has a local number of {len(local)} digits after area code "
            f"{area}, expected 7 or 8",
            format_name=name,
        )
    if local[0] in "01":
        raise InvalidComponent(
            f"{subject} has a local number that starts with 0 or 1; local numbers "
            "start with 2-9",
            format_name=name,
            reason="invalid-local-number",
        )
    normalized = f"{area}-{local}" + (f"-{extension}" if extension else "")
    return Checked(normalized, tuple(notes))


def is_mobile_like(value: str) -> bool:
    """Return whether `check` reads `value` as a mobile number rather than a landline."""
    text = strip_separators(
        widen_to_ascii(value, [], strict=False, subject="", format_name=""),
        LAYOUT_CHARS + "-",
    )
    stripped = _COUNTRY_CODE.sub("", text, count=1)
    if stripped != text and stripped.startswith("10"):
        return False
    return stripped.startswith("1")


def compact(value: str) -> str:
    """Remove spaces, hyphens, parentheses and dots from `value`."""
    return strip_separators(value, LAYOUT_CHARS + "-")


def check(value: str, *, strict: bool = False) -> Checked:
    """Validate a mobile or landline number and return it with notes.

    The number is read as a mobile number when `is_mobile_like` says so and as
    a landline otherwise; the errors are those of that kind. Raises
    `InvalidFormat`, `InvalidLength` or `InvalidComponent` (reason
    `invalid-mobile-prefix`, `invalid-area-code` or `invalid-local-number`).
    """
    if is_mobile_like(value):
        return _check_mobile(value, strict=strict)
    return _check_landline(value, strict=strict)


def validate(value: str, *, strict: bool = False) -> str:
    """Validate a mobile or landline number and return its normalized form."""
    return check(value, strict=strict).value


def is_valid(value: str, *, strict: bool = False) -> bool:
    """Return whether `value` is a valid mobile or landline number; never raises."""
    try:
        check(value, strict=strict)
    except InvalidIdentifier:
        return False
    return True


def _present(normalized: str) -> str:
    if "-" in normalized:
        return normalized
    return f"{normalized[:3]} {normalized[3:7]} {normalized[7:]}"


def format(value: str) -> str:
    """Validate leniently and return the number as people write it.

    A mobile number is grouped 3-4-4 with spaces and a landline keeps its
    normalized form. Raises like `validate`.
    """
    return _present(validate(value))


class PhoneFormat:
    """The validator functions of one kind of phone number (mobile or landline)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._check = _check_mobile if kind == "mobile" else _check_landline

    def __repr__(self) -> str:
        return f"PhoneFormat({self.kind!r})"

    def compact(self, value: str) -> str:
        """Remove spaces, hyphens, parentheses and dots from `value`."""
        return compact(value)

    def check(self, value: str, *, strict: bool = False) -> Checked:
        """Validate a number of this kind and return it with notes."""
        return self._check(value, strict=strict)

    def validate(self, value: str, *, strict: bool = False) -> str:
        """Validate a number of this kind and return its normalized form."""
        return self._check(value, strict=strict).value

    def is_valid(self, value: str, *, strict: bool = False) -> bool:
        """Return whether `value` is a valid number of this kind; never raises."""
        try:
            self._check(value, strict=strict)
        except InvalidIdentifier:
            return False
        return True

    def format(self, value: str) -> str:
        """Validate leniently and return the number as people write it."""
        return _present(self.validate(value))


#: Mobile numbers only (`cn-mobile`).
mobile = PhoneFormat("mobile")
#: Landline numbers only.
landline = PhoneFormat("landline")
