"""The interface that every identifier validator offers."""

from __future__ import annotations

from typing import Protocol

from govchain.identifiers._common import Checked

__all__ = ["Validator"]


class Validator(Protocol):
    """The functions of one identifier format, such as `cn-resident-id`.

    A module or an object conforms when it has these functions. Validators may
    take further keyword-only options with defaults, such as `today` for
    resident ID numbers.
    """

    def compact(self, value: str, /) -> str:
        """Return `value` without spaces and separators; never raises."""
        ...

    def check(self, value: str, /, *, strict: bool = False) -> Checked:
        """Validate `value` and return its normalized form with the notes of lenient mode.

        Raises a subclass of `govchain.identifiers.InvalidIdentifier`.
        """
        ...

    def validate(self, value: str, /, *, strict: bool = False) -> str:
        """Validate `value` and return its normalized form.

        Raises a subclass of `govchain.identifiers.InvalidIdentifier`.
        """
        ...

    def is_valid(self, value: str, /, *, strict: bool = False) -> bool:
        """Return whether `value` is valid; never raises."""
        ...

    def format(self, value: str, /) -> str:
        """Return `value` as people write it.

        Phone numbers are validated first and may raise; the other formats only
        apply the lenient repairs.
        """
        ...
