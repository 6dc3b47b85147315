"""Postal codes (邮政编码) of mainland China.

A postal code has six digits: the first two name a province-level postal
zone, the third a postal area, the fourth a county or city office and the last
two a delivery office. This module checks the length, the digits and that the
first two digits are one of the zones China Post assigns:

| zones | province-level division |
|---|---|
| 01-02 | Inner Mongolia |
| 03-04 | Shanxi |
| 05-07 | Hebei |
| 10 | Beijing |
| 11-12 | Liaoning |
| 13 | Jilin (and Hinggan League of Inner Mongolia, 137xxx) |
| 15-16 | Heilongjiang |
| 20 | Shanghai |
| 21-22 | Jiangsu |
| 23-24 | Anhui |
| 25-27 | Shandong |
| 30 | Tianjin |
| 31-32 | Zhejiang |
| 33-34 | Jiangxi |
| 35-36 | Fujian |
| 40 | Chongqing |
| 41-42 | Hunan |
| 43-44 | Hubei |
| 45-47 | Henan |
| 51-52 | Guangdong |
| 53-54 | Guangxi |
| 55-56 | Guizhou |
| 57 | Hainan |
| 61-64 | Sichuan |
| 65-67 | Yunnan |
| 71-72 | Shaanxi |
| 73-74 | Gansu |
| 75 | Ningxia |
| 81 | Qinghai |
| 83-84 | Xinjiang |
| 85-86 | Tibet |

So `00xxxx` and every code starting with 9 are rejected. Zone 9 is reserved
for Taiwan, which uses its own postal codes, and the placeholders 999077 and
999078 that some forms use for Hong Kong and Macao are not postal codes. The
module does not check that the remaining four digits name an existing office.

Lenient mode (the default) converts full-width digits and removes spaces and
hyphens, noting `full-width` and `separators`; strict mode raises
`InvalidFormat` for them.

>>> validate("100 080")
'100080'
>>> validate("999077")
Traceback (most recent call last):
    ...
govchain.identifiers.exceptions.InvalidComponent: postal code does not start with a postal zone of mainland China; check the first two digits
"""

from __future__ import annotations

from govchain.identifiers._common import (
    Checked,
    remove_separators,
    strip_separators,
    widen_to_ascii,
)
from govchain.identifiers.exceptions import (
    InvalidComponent,
    InvalidFormat,
    InvalidIdentifier,
    InvalidLength,
)

__all__ = ["ZONES", "check", "compact", "format", "is_valid", "validate"]

FORMAT_NAME = "cn-postal-code"
_SUBJECT = "postal code"


def _zones(spec: str) -> frozenset[str]:
    zones: set[str] = set()
    for part in spec.split():
        first, _, last = part.partition("-")
        zones.update(
            f"{zone:02d}" for zone in range(int(first), int(last or first) + 1)
        )
    return frozenset(zones)


#: The two-digit postal zones of mainland China, per the table above.
ZONES = _zones("01-07 10-13 15-16 20-27 30-36 40-47 51-57 61-67 71-75 81 83-86")


def compact(value: str) -> str:
    """Remove spaces and hyphens from `value`."""
    return strip_separators(value)


def format(value: str) -> str:
    """Return `value` with the lenient repairs applied, without validating it."""
    return strip_separators(
        widen_to_ascii(value, [], strict=False, subject="", format_name="")
    )


def check(value: str, *, strict: bool = False) -> Checked:
    """Validate a postal code and return it with the notes of lenient mode.

    Raises `InvalidFormat`, `InvalidLength` or `InvalidComponent` (reason
    `unknown-postal-zone`).
    """
    notes: list[str] = []
    text = widen_to_ascii(
        value, notes, strict=strict, subject=_SUBJECT, format_name=FORMAT_NAME
    )
    text = remove_separators(
        text, notes, strict=strict, subject=_SUBJECT, format_name=FORMAT_NAME
    )
    if len(text) != 6:
        raise InvalidLength(
            f"{_SUBJECT} has {len(text)} characters, expected 6 digits",
            format_name=FORMAT_NAME,
        )
    if not text.isascii() or not text.isdigit():
        raise InvalidFormat(
            f"{_SUBJECT} contains characters other than the digits 0-9",
            format_name=FORMAT_NAME,
        )
    if text[:2] not in ZONES:
        raise InvalidComponent(
            f"{_SUBJECT} does not start with a postal zone of mainland China; "
            "check the first two digits",
            format_name=FORMAT_NAME,
            reason="unknown-postal-zone",
        )
    return Checked(text, tuple(notes))


def validate(value: str, *, strict: bool = False) -> str:
    """Validate a postal code and return it as six digits; see `check`."""
    return check(value, strict=strict).value


def is_valid(value: str, *, strict: bool = False) -> bool:
    """Return whether `value` is a valid postal code; never raises."""
    try:
        check(value, strict=strict)
    except InvalidIdentifier:
        return False
    return True
