"""GB/T 2260 administrative division codes (行政区划代码) of China.

A code has six digits: two for the province-level division, two for the
prefecture and two for the county, so `110000` is Beijing, `110100` its
municipal districts and `110105` Chaoyang District. Codes are retired when
divisions merge, split or are renamed, but identifiers issued under an old code
stay in use: an ID number keeps the county code of the place where it was
first issued.

This module knows three editions, oldest first:

| edition | source |
|---|---|
| `mca-198012` | Ministry of Civil Affairs, GB/T 2260 as of December 1980 |
| `mca-201904` | Ministry of Civil Affairs, GB/T 2260 as of April 2019 |
| `nbs-2023` | National Bureau of Statistics division codes of 2023 |

The NBS list also carries statistical codes for development zones (such as
`130171`) that GB/T 2260 itself lacks. A code is *known* when any edition
lists it and *current* when `nbs-2023` lists it. Editions between 1980 and 2019
are not shipped, so a code that existed only between two shipped editions is
unknown here. The tables live in `govchain/data/gb2260/` and are read on
first use, not at import.

>>> lookup("412723").name, lookup("412723").current
('商水县', False)
>>> lookup("120110").names["mca-198012"], lookup("120110").name
('东郊区', '东丽区')
>>> validate("110105")
'110105'
>>> validate("412723", current_only=True)
Traceback (most recent call last):
    ...
govchain.identifiers.exceptions.InvalidComponent: region code is not in the current edition (nbs-2023) of GB/T 2260; use the current code of that division or allow retired codes
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from types import MappingProxyType
from typing import Literal

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

__all__ = [
    "CURRENT_EDITION",
    "EDITIONS",
    "RegionInfo",
    "check",
    "compact",
    "county_prefixes",
    "current_codes",
    "format",
    "is_current",
    "is_known",
    "is_valid",
    "issuer_notes",
    "known_codes",
    "lookup",
    "validate",
]

FORMAT_NAME = "cn-region-code"
_SUBJECT = "region code"

#: Shipped editions, oldest first.
EDITIONS = ("mca-198012", "mca-201904", "nbs-2023")
#: The edition whose codes count as current.
CURRENT_EDITION = EDITIONS[-1]


@dataclass(frozen=True)
class RegionInfo:
    """One GB/T 2260 code and what the shipped editions say about it.

    `name` is the name in the newest edition that lists the code, `names` maps
    each listing edition to its name there, and `editions` lists those editions
    oldest first. `province` is the newest name of the province-level division
    (code `XX0000`) when some edition lists it.
    """

    code: str
    name: str
    editions: tuple[str, ...]
    current: bool
    names: Mapping[str, str]
    province: str | None

    @property
    def level(self) -> Literal["province", "prefecture", "county"]:
        """The division level that the code's trailing zeros imply."""
        if self.code.endswith("0000"):
            return "province"
        if self.code.endswith("00"):
            return "prefecture"
        return "county"


@functools.cache
def _table() -> Mapping[str, tuple[str, ...]]:
    """Read regions.tsv into code -> names per edition ('' where not listed)."""
    path = files("govchain.data").joinpath("gb2260", "regions.tsv")
    table: dict[str, tuple[str, ...]] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith(("#", "code\t")):
                continue
            code, *names = line.rstrip("\n").split("\t")
            table[code] = tuple(names)
    return MappingProxyType(table)


@functools.cache
def known_codes() -> frozenset[str]:
    """Return every code that some shipped edition lists."""
    return frozenset(_table())


@functools.cache
def current_codes() -> frozenset[str]:
    """Return the codes that the current edition lists."""
    return frozenset(code for code, names in _table().items() if names[-1])


@functools.cache
def county_prefixes() -> frozenset[str]:
    """Return the 4-digit prefixes of every known county-level code."""
    return frozenset(code[:4] for code in _table() if not code.endswith("00"))


def is_known(code: str) -> bool:
    """Return whether some shipped edition lists the 6-digit `code`."""
    return code in _table()


def is_current(code: str) -> bool:
    """Return whether the current edition lists the 6-digit `code`."""
    return code in current_codes()


def lookup(code: str) -> RegionInfo:
    """Return what the shipped editions say about `code` (spaces are ignored).

    Raises `InvalidLength` or `InvalidFormat` when `code` is not six digits and
    `InvalidComponent` when no edition lists it.
    """
    code = validate(code)
    names = _table()[code]
    listed = {
        edition: name for edition, name in zip(EDITIONS, names, strict=True) if name
    }
    province = _table().get(code[:2] + "0000", ())
    province_names = [name for name in province if name]
    return RegionInfo(
        code=code,
        name=list(listed.values())[-1],
        editions=tuple(listed),
        current=bool(names[-1]),
        names=MappingProxyType(listed),
        province=province_names[-1] if province_names else None,
    )


def issuer_notes(code: str) -> tuple[str, ...] | None:
    """Return the notes for `code` as the region part of an ID, or None if unusable.

    An ID number or a unified social credit code may carry a code that no
    shipped edition lists but that names a prefecture (`XXYY00`) under which
    some county code is known: such codes were issued in some periods. The
    notes are `unlisted-region` for those, `retired-region` for a listed code
    missing from the current edition, and `province-level-region` or
    `prefecture-level-region` for a code that names no county.
    """
    notes: list[str] = []
    if code in _table():
        if not is_current(code):
            notes.append("retired-region")
    elif _is_unlisted_prefecture(code):
        notes.append("unlisted-region")
    else:
        return None
    if code.endswith("0000"):
        notes.append("province-level-region")
    elif code.endswith("00"):
        notes.append("prefecture-level-region")
    return tuple(notes)


def _is_unlisted_prefecture(code: str) -> bool:
    return (
        len(code) == 6
        and code.endswith("00")
        and code[2:4] != "00"
        and code[:4] in county_prefixes()
    )


def compact(value: str) -> str:
    """Remove spaces and hyphens from `value`."""
    return strip_separators(value)


def check(value: str, *, strict: bool = False, current_only: bool = False) -> Checked:
    """Validate a region code and return it with the notes of lenient mode.

    The code must be six ASCII digits that some shipped edition lists, or the
    current edition when `current_only` is set. Lenient mode (the default)
    converts full-width digits and removes spaces and hyphens, noting
    `full-width` and `separators`; strict mode raises `InvalidFormat` for them.
    A listed code missing from the current edition gets the note
    `retired-region`. Raises `InvalidLength`, `InvalidFormat` or
    `InvalidComponent` (reason `unknown-region` or `retired-region`).
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
    if text not in _table():
        raise InvalidComponent(
            f"{_SUBJECT} is listed in no shipped edition of GB/T 2260 "
            f"({', '.join(EDITIONS)}); check it for a typing error",
            format_name=FORMAT_NAME,
            reason="unknown-region",
        )
    if not is_current(text):
        if current_only:
            raise InvalidComponent(
                f"{_SUBJECT} is not in the current edition ({CURRENT_EDITION}) of "
                "GB/T 2260; use the current code of that division or allow "
                "retired codes",
                format_name=FORMAT_NAME,
                reason="retired-region",
            )
        notes.append("retired-region")
    return Checked(text, tuple(notes))


def validate(value: str, *, strict: bool = False, current_only: bool = False) -> str:
    """Validate a region code and return it as six digits; see `check`."""
    return check(value, strict=strict, current_only=current_only).value


def is_valid(value: str, *, strict: bool = False, current_only: bool = False) -> bool:
    """Return whether `value` is a valid region code; never raises."""
    try:
        check(value, strict=strict, current_only=current_only)
    except InvalidIdentifier:
        return False
    return True


def format(value: str) -> str:
    """Return `value` with full-width digits converted and separators removed."""
    return strip_separators(
        widen_to_ascii(value, [], strict=False, subject="", format_name="")
    )
