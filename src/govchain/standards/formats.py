"""The registry of string formats that a standard's fields may name.

Each format checks a whole column at once. Its check takes a Polars Series of
text, null where the cell is missing, and returns a Series of the same length
with a reason code for each invalid cell and null for every other cell.

The Table Schema formats `email`, `uri`, `uuid` and `binary` are checked here
with regular expressions. The `cn-*` formats for Chinese identifiers call the
checks of `govchain.identifiers.vectorised`, imported on first use so that
loading a standard does not import them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, cast

import polars as pl

from govchain.errors import ConfigError

IDENTIFIERS_MODULE = "govchain.identifiers.vectorised"


@dataclass(frozen=True)
class FormatOptions:
    """Settings that the checks of some formats read."""

    today: date | None = None
    """The date after which a birth date is in the future; `None` for today."""


FormatCheck = Callable[[pl.Series, FormatOptions], pl.Series]


@dataclass(frozen=True)
class Format:
    """A named string format: its check and how findings describe a bad cell."""

    name: str
    subject: str
    """Words a message uses for the cell's value, such as "the ID number"."""
    check: FormatCheck
    phrases: Mapping[str, str] = field(default_factory=dict)
    """Phrase for each reason code, which ends a sentence about the value."""

    def phrase(self, reason: str) -> str:
        """Return the phrase for `reason`, or a general one naming the code."""
        return self.phrases.get(reason, f"is not valid (reason {reason})")


class _IdentifierChecks(Protocol):
    def check_resident_id(
        self, series: pl.Series, *, strict: bool = False, today: date | None = None
    ) -> pl.Series: ...

    def check_uscc(self, series: pl.Series) -> pl.Series: ...

    def check_mobile(self, series: pl.Series) -> pl.Series: ...

    def check_phone(self, series: pl.Series) -> pl.Series: ...

    def check_postal_code(self, series: pl.Series) -> pl.Series: ...

    def check_region_code(self, series: pl.Series) -> pl.Series: ...


def _identifier_checks() -> _IdentifierChecks:
    try:
        module = importlib.import_module(IDENTIFIERS_MODULE)
    except ImportError as exc:
        raise ConfigError(
            f"the cn-* formats need the module {IDENTIFIERS_MODULE}, which cannot "
            f"be imported ({exc}); reinstall govchain"
        ) from exc
    return cast(_IdentifierChecks, module)


def _resident_id(series: pl.Series, options: FormatOptions) -> pl.Series:
    return _identifier_checks().check_resident_id(series, today=options.today)


def _uscc(series: pl.Series, options: FormatOptions) -> pl.Series:
    return _identifier_checks().check_uscc(series)


def _mobile(series: pl.Series, options: FormatOptions) -> pl.Series:
    return _identifier_checks().check_mobile(series)


def _phone(series: pl.Series, options: FormatOptions) -> pl.Series:
    return _identifier_checks().check_phone(series)


def _postal_code(series: pl.Series, options: FormatOptions) -> pl.Series:
    return _identifier_checks().check_postal_code(series)


def _region_code(series: pl.Series, options: FormatOptions) -> pl.Series:
    return _identifier_checks().check_region_code(series)


def _regex_check(pattern: str) -> FormatCheck:
    """Build a check that gives the reason `format` to text not matching `pattern`."""

    def check(series: pl.Series, options: FormatOptions) -> pl.Series:
        frame = series.rename("value").to_frame()
        bad = pl.col("value").is_not_null() & ~pl.col("value").str.contains(pattern)
        return frame.select(
            pl.when(bad).then(pl.lit("format")).otherwise(None).alias(series.name)
        ).to_series()

    return check


# The built-in patterns accept the usual shape of each format, not every
# string its RFC allows: an email address has no spaces and one @ before a
# dotted domain, and a URI starts with a scheme.
_EMAIL = r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$"
_URI = r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$"
_UUID = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
_BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"

_SHAPE = {"format": "is not in the expected form"}
#: The reason codes of `govchain.identifiers.vectorised`. Its checks run with
#: `strict=False`, so the codes for full-width characters, separators and
#: lower-case letters do not occur, but they keep a phrase in case they do.
_IDENTIFIER = {
    "full-width": "contains full-width characters",
    "separators": "contains separators",
    "lowercase-x": "ends in a lower-case x",
    "lowercase": "contains lower-case letters",
    "country-code": "starts with a country code",
    "invalid-length": "has the wrong number of characters",
    "invalid-format": "contains characters that are not allowed there",
    "invalid-checksum": "has an invalid check character",
    "invalid-organisation-checksum": "has an invalid organisation code check character",
    "invalid-birth-date": "contains a birth date that does not exist",
    "future-birth-date": "contains a birth date in the future",
    "invalid-registration-type": "has an unknown registration authority or type",
    "invalid-mobile-prefix": "does not start with 13 to 19",
    "invalid-area-code": "has no valid area code",
    "invalid-local-number": "has a local number that starts with 0 or 1",
    "unknown-region": "names an unknown region",
    "retired-region": "is a region code no longer in use",
    "unknown-postal-zone": "starts with an unknown postal zone",
}

FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("email", "the email address", _regex_check(_EMAIL), _SHAPE),
        Format("uri", "the URI", _regex_check(_URI), _SHAPE),
        Format("uuid", "the UUID", _regex_check(_UUID), _SHAPE),
        Format("binary", "the base64 value", _regex_check(_BASE64), _SHAPE),
        Format("cn-resident-id", "the ID number", _resident_id, _IDENTIFIER),
        Format("cn-uscc", "the unified social credit code", _uscc, _IDENTIFIER),
        Format("cn-mobile", "the mobile number", _mobile, _IDENTIFIER),
        Format("cn-phone", "the phone number", _phone, _IDENTIFIER),
        Format("cn-region-code", "the region code", _region_code, _IDENTIFIER),
        Format("cn-postal-code", "the postal code", _postal_code, _IDENTIFIER),
    )
}


def format_names() -> list[str]:
    """Return the names of the registered string formats, in registry order."""
    return list(FORMATS)


def get_format(name: str) -> Format:
    """Return the format called `name`; raises `KeyError` for an unknown name."""
    return FORMATS[name]
