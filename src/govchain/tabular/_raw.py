"""Raw rows and cell facts that a reader returns before the table is shaped.

Positions here are physical: a 1-based row number and a 0-based column index (0 is
column A, or the first field of a text record). They become column names only once
the header is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Cells = list[str | None]
RawRow = tuple[int, Cells]

#: The type a workbook cell had before it became text. Text cells are not listed.
CellKind = Literal["number", "date", "time", "duration", "bool"]

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class CellNote:
    """A note about a cell, row or sheet at its physical position.

    `column` is the 0-based column index, or `None` when the note is about a whole
    row or sheet. `sheet` is set only when the note is about another sheet than
    the one read, such as a hidden sheet.
    """

    kind: str
    severity: Severity
    row: int | None
    column: int | None
    message: str
    sheet: str | None = None


@dataclass(frozen=True)
class MergedRange:
    """A merged cell range, 1-based rows and 0-based columns, both ends included."""

    first_row: int
    first_column: int
    last_row: int
    last_column: int

    def reference(self) -> str:
        """Return the range in A1 notation, such as `F3:F5`."""
        first = cell_reference(self.first_row, self.first_column)
        last = cell_reference(self.last_row, self.last_column)
        return f"{first}:{last}"


@dataclass
class RawSheet:
    """Rows of one worksheet or text file, with what the reader learned on the way.

    `rows` holds only rows with at least one non-empty cell, in row order.
    `kinds` gives the type of every non-text workbook cell. A reader that cannot
    see merged ranges, hidden rows or hidden columns leaves them empty.
    """

    name: str | None
    rows: list[RawRow]
    merges: list[MergedRange] = field(default_factory=list)
    kinds: dict[tuple[int, int], CellKind] = field(default_factory=dict)
    notes: list[CellNote] = field(default_factory=list)
    hidden_rows: set[int] = field(default_factory=set)
    hidden_columns: set[int] = field(default_factory=set)


def column_letters(index: int) -> str:
    """Return the spreadsheet letters of a 0-based column index: 0 is `A`, 26 `AA`."""
    letters = ""
    number = index + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def cell_reference(row: int, column: int) -> str:
    """Return the A1 reference of a 1-based row and 0-based column, such as `C2`."""
    return f"{column_letters(column)}{row}"
