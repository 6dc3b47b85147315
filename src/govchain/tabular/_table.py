"""The `Table` value that every reader returns, and the notes it carries."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

import polars as pl

from govchain.errors import ValidationError
from govchain.tabular._raw import Severity

Row = tuple[str | None, ...]


class FrameRows(Sequence[Row]):
    """The rows of a Polars frame of text columns, as a read-only sequence of tuples.

    The fast CSV reader keeps its rows in a frame, so a million rows are not
    turned into ten million Python strings unless a caller walks them. The
    sequence compares equal to any sequence of the same tuples.
    """

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame

    def __len__(self) -> int:
        return self.frame.height

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> list[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | list[Row]:
        if isinstance(index, slice):
            return self.frame[index].rows()
        if not -self.frame.height <= index < self.frame.height:
            raise IndexError(f"row index {index} is out of range")
        return self.frame.row(index)

    def __iter__(self) -> Iterator[Row]:
        return self.frame.iter_rows(buffer_size=10_000)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrameRows):
            return self.frame.equals(other.frame)
        if isinstance(other, Sequence):
            return len(other) == len(self) and all(
                tuple(a) == tuple(b) for a, b in zip(self, other, strict=True)
            )
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FrameRows({self.frame.height} rows x {self.frame.width} columns)"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrameRows, (self.frame,))


@dataclass(frozen=True, kw_only=True)
class ImportNote:
    """Something the import changed, withheld or could not judge in one place.

    A note never contains a cell's value, because cells hold personal data. It
    names the place and the fault instead. docs/import.md lists every `kind`.
    """

    kind: str
    """Stable code such as `precision-lost` or `width-normalized`."""
    severity: Severity
    """`error`: the cell's value is not trustworthy and was withheld (`None`).
    `warning`: the value was kept but should be checked. `info`: the value was
    changed in a documented, lossless way."""
    sheet: str | None
    """Worksheet the note is about, `None` for text files."""
    row: int | None
    """1-based physical row, `None` for a note about a whole sheet or column."""
    column: str | None
    """Column name in `Table.header`, `None` when the place is not in a column."""
    message: str
    """Lower-case description of the fault and what to do about it."""
    cell: str | None = None
    """A1 reference such as `C2` for a workbook cell, `None` otherwise."""

    def place(self, source: str, *, position: int | None = None) -> str:
        """Return where the note points, such as `a.xlsx, sheet 'PSI', row 2`.

        `position` names the column by that 1-based number instead of its name.
        """
        parts = [source]
        if self.sheet is not None:
            parts.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if position is not None:
            parts.append(f"column {position}")
        elif self.column is not None:
            parts.append(f"column {self.column!r}")
        if self.cell is not None:
            parts.append(f"cell {self.cell}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Table:
    """A table read from a spreadsheet or a delimited text file.

    Every cell is text exactly as published, or `None` when the cell is empty, so
    identifiers such as `0501010019` keep their leading zeros. The exceptions are
    listed in `notes`: a cell whose value cannot be trusted is `None` with an
    `error` note, and a cell changed in a lossless way (full-width digits,
    a date written as text) has an `info` note. Row numbers are 1-based and
    physical: the row in the sheet, or for text files the line on which the
    record starts, so that messages point where an editor shows them.
    """

    source: str
    """File name without its folder, for messages."""
    sheet: str | None
    """Worksheet the table was read from, `None` for text files."""
    header: tuple[str, ...]
    """Column names: unique, stripped, `column_<n>` where the header cell is empty.
    A header over several rows gives names joined by a separator, such as
    `基本信息/姓名`."""
    rows: Sequence[Row]
    """Data rows below the header, as wide as `header`, without fully empty rows.
    A list, or a `FrameRows` when the fast CSV reader read the file."""
    row_numbers: Sequence[int]
    """Physical row number of each entry of `rows`."""
    encoding: str | None
    """Python codec that decoded a text file, `None` for workbooks."""
    header_row: int
    """Physical row of the header (its first row), or 0 without a header row."""
    notes: tuple[ImportNote, ...] = ()
    """Changes, withheld cells and suspicious values of the import, in reading
    order."""
    header_rows: int = 1
    """Number of physical rows the header spans, 0 without a header row."""

    def column(self, name: str) -> list[str | None]:
        """Return the cells of column `name`, one per data row.

        Raises `KeyError` when the table has no such column.
        """
        try:
            index = self.header.index(name)
        except ValueError:
            raise KeyError(name) from None
        return [row[index] for row in self.rows]

    def text_frame(self) -> pl.DataFrame:
        """Return the data rows as a frame of text columns named `c0`, `c1`, ...

        Positional names, because header names can be anything. Cheap when the
        fast CSV reader read the file, since its frame is reused.
        """
        names = [f"c{i}" for i in range(len(self.header))]
        if isinstance(self.rows, FrameRows):
            return self.rows.frame.rename(
                dict(zip(self.rows.frame.columns, names, strict=True))
            )
        return pl.DataFrame(
            list(self.rows), schema={n: pl.String for n in names}, orient="row"
        )

    def errors(self) -> tuple[ImportNote, ...]:
        """Return the notes of severity `error`: cells withheld as untrustworthy."""
        return tuple(note for note in self.notes if note.severity == "error")


class TableError(ValidationError):
    """Cells of a file cannot be imported as they are.

    Raised by `read_table` in strict mode. `notes` contains every `error` note and
    `table` the table as it would have been read with `strict=False`.
    """

    def __init__(self, message: str, *, table: Table) -> None:
        super().__init__(message, reason="bad-cells")
        self.table = table
        self.notes = table.errors()
