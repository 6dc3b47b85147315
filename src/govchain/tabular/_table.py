"""The `Table` value that every reader returns."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    """A table read from a spreadsheet or a delimited text file.

    Every cell is text exactly as published, or `None` when the cell is empty, so
    identifiers such as `0501010019` keep their leading zeros. Row numbers are
    1-based and physical: the row in the sheet, or for text files the line on
    which the record starts, so that messages point where an editor shows them.
    """

    source: str
    """File name without its folder, for messages."""
    sheet: str | None
    """Worksheet the table was read from, `None` for text files."""
    header: tuple[str, ...]
    """Column names: unique, stripped, `column_<n>` where the header cell is empty."""
    rows: list[tuple[str | None, ...]]
    """Data rows below the header, as wide as `header`, without fully empty rows."""
    row_numbers: list[int]
    """Physical row number of each entry of `rows`."""
    encoding: str | None
    """Python codec that decoded a text file, `None` for workbooks."""
    header_row: int
    """Physical row of the header, or 0 when the file has no header row."""

    def column(self, name: str) -> list[str | None]:
        """Return the cells of column `name`, one per data row.

        Raises `KeyError` when the table has no such column.
        """
        try:
            index = self.header.index(name)
        except ValueError:
            raise KeyError(name) from None
        return [row[index] for row in self.rows]
