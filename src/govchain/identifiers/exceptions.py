"""Errors raised by the identifier validators.

```
govchain.errors.ValidationError + ValueError
└── InvalidIdentifier
    ├── InvalidFormat        a character, case or layout that the format does not allow
    │   └── InvalidLength    too many or too few characters
    ├── InvalidChecksum      a check character that does not match the rest
    └── InvalidComponent     a part that does not exist: a birth date, a region code
```

Every error carries `reason`, a short stable code such as `invalid-checksum`
that `govchain.identifiers.vectorised` also returns for a column, and
`format_name`, such as `cn-resident-id`. Messages never contain the rejected
value, because identifiers are personal data. They name the part that failed
instead, and `position` gives the 1-based position of a bad character when one
is known.
"""

from __future__ import annotations

from govchain.errors import ValidationError

__all__ = [
    "InvalidChecksum",
    "InvalidComponent",
    "InvalidFormat",
    "InvalidIdentifier",
    "InvalidLength",
]


class InvalidIdentifier(ValidationError, ValueError):
    """An identifier that fails its format's rules."""

    default_reason = "invalid"

    def __init__(
        self,
        message: str,
        *,
        format_name: str,
        reason: str | None = None,
        position: int | None = None,
    ) -> None:
        super().__init__(message, reason=reason or self.default_reason)
        self.format_name = format_name
        self.position = position


class InvalidFormat(InvalidIdentifier):
    """A character, letter case or layout that the format does not allow."""

    default_reason = "invalid-format"


class InvalidLength(InvalidFormat):
    """An identifier with more or fewer characters than its format has."""

    default_reason = "invalid-length"


class InvalidChecksum(InvalidIdentifier):
    """A check character that does not match the other characters."""

    default_reason = "invalid-checksum"


class InvalidComponent(InvalidIdentifier):
    """A well-formed part that does not exist, such as 31 February or an unknown region."""

    default_reason = "invalid-component"
