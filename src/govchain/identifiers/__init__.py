"""Validators for official identifiers, one value at a time.

Each format is a module or object with the same functions (`Validator`):
`compact` removes separators, `check` validates and returns the normalized
value with notes, `validate` returns only the value, `is_valid` never raises
and `format` returns the presentation form. Errors are subclasses of
`InvalidIdentifier` (itself a `govchain.errors.ValidationError` and a
`ValueError`) with a `reason` code, and their messages never contain the
rejected value. `FORMATS` maps the format names used in dataset schemas to
their validators:

| format | validator |
|---|---|
| `cn-resident-id` | `govchain.identifiers.cn.ric` |
| `cn-uscc` | `govchain.identifiers.cn.uscc` |
| `cn-mobile` | `govchain.identifiers.cn.phone.mobile` |
| `cn-phone` | `govchain.identifiers.cn.phone` (mobile or landline) |
| `cn-region-code` | `govchain.identifiers.cn.region` |
| `cn-postal-code` | `govchain.identifiers.cn.postal` |

Importing this package reads no data file and does not import Polars: the
GB/T 2260 tables load on first use, and the column checks live in
`govchain.identifiers.vectorised`. docs/identifiers.md describes each format.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from govchain.identifiers._common import Checked
from govchain.identifiers._protocol import Validator
from govchain.identifiers.cn import phone, postal, region, ric, uscc
from govchain.identifiers.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidIdentifier,
    InvalidLength,
)

__all__ = [
    "FORMATS",
    "Checked",
    "InvalidChecksum",
    "InvalidComponent",
    "InvalidFormat",
    "InvalidIdentifier",
    "InvalidLength",
    "Validator",
]

_formats: dict[str, Validator] = {
    "cn-resident-id": ric,
    "cn-uscc": uscc,
    "cn-mobile": phone.mobile,
    "cn-phone": phone,
    "cn-region-code": region,
    "cn-postal-code": postal,
}
#: Format name -> validator.
FORMATS: Mapping[str, Validator] = MappingProxyType(_formats)
