"""Clean-up steps and the result type shared by the identifier validators.

Lenient validation repairs what people and spreadsheets commonly do to an
identifier and records a note for each repair. Strict validation raises
`InvalidFormat` instead, with the note as its `reason`. The vectorised checks
in `govchain.identifiers.vectorised` apply the same steps in the same order,
which is why the character sets are kept here as both Python strings and
regular-expression classes.
"""

from __future__ import annotations

from dataclasses import dataclass

from govchain.identifiers.exceptions import InvalidFormat

__all__ = [
    "FULL_WIDTH_CHARS",
    "FULL_WIDTH_CLASS",
    "SEPARATOR_CHARS",
    "SEPARATOR_CLASS",
    "Checked",
    "remove_separators",
    "widen_to_ascii",
]

#: Full-width forms of printable ASCII (U+FF01-U+FF5E) and the ideographic
#: space U+3000, in the order of their ASCII counterparts in `_ASCII_CHARS`.
FULL_WIDTH_CHARS = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
_ASCII_CHARS = "".join(chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)) + " "
_TO_ASCII = str.maketrans(FULL_WIDTH_CHARS, _ASCII_CHARS)
FULL_WIDTH_CLASS = "[\uff01-\uff5e\u3000]"

#: Characters that `compact` removes: spaces, tabs, line breaks, the no-break
#: space that spreadsheets and web pages insert, and hyphen-minus.
SEPARATOR_CHARS = " \t\r\n\u00a0-"
SEPARATOR_CLASS = "[ \t\r\n\u00a0\\-]"


@dataclass(frozen=True)
class Checked:
    """A validated identifier in its normalized form, with the notes of lenient mode.

    `notes` lists, in the order they were applied, the repairs made to the
    input (such as `full-width` or `lowercase-x`) and the facts worth a warning
    that do not make the identifier invalid (such as `retired-region`).
    """

    value: str
    notes: tuple[str, ...] = ()


def ascii_pairs() -> tuple[list[str], list[str]]:
    """Return the full-width characters and their ASCII replacements as two lists."""
    return list(FULL_WIDTH_CHARS), list(_ASCII_CHARS)


def widen_to_ascii(
    text: str, notes: list[str], *, strict: bool, subject: str, format_name: str
) -> str:
    """Replace full-width characters by ASCII, or raise in strict mode."""
    if not any(char in FULL_WIDTH_CHARS for char in text):
        return text
    if strict:
        raise InvalidFormat(
            f"{subject} contains full-width characters; retype it with ASCII "
            "digits and letters or validate it in lenient mode",
            format_name=format_name,
            reason="full-width",
        )
    notes.append("full-width")
    return text.translate(_TO_ASCII)


def remove_separators(
    text: str,
    notes: list[str],
    *,
    strict: bool,
    subject: str,
    format_name: str,
    separators: str = SEPARATOR_CHARS,
) -> str:
    """Remove spaces and hyphens (or the given `separators`), or raise in strict mode."""
    if not any(char in separators for char in text):
        return text
    if strict:
        raise InvalidFormat(
            f"{subject} contains spaces or separators; remove them or validate "
            "it in lenient mode",
            format_name=format_name,
            reason="separators",
        )
    notes.append("separators")
    return "".join(char for char in text if char not in separators)


def strip_separators(text: str, separators: str = SEPARATOR_CHARS) -> str:
    """Return `text` without the separator characters."""
    return "".join(char for char in text if char not in separators)
