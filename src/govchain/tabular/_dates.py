"""Dates in workbook columns: find the columns of dates and settle their odd cells.

A column counts as a date column when most of its typed cells are date cells and
at least half of all its cells are dates, as cells or as text. In such a column a
plain number and a date typed as text are the usual slips. Text in an unambiguous
form (`1990.01.01`, `1990年1月1日`, `1990/1/1`) becomes ISO 8601 with a note. A
plain number might be a date serial whose format was lost, or not a date at all,
and `01/02/1990` might be 1 February or 2 January, so those cells are withheld.

Text files have no typed cells, so their columns are never treated as dates.
"""

from __future__ import annotations

import datetime
import re

from govchain.tabular._raw import CellKind, CellNote

_ISO = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
)
_YEAR_FIRST = re.compile(
    r"([0-9]{4})\s*[-./年]\s*([0-9]{1,2})\s*[-./月]\s*([0-9]{1,2})\s*日?"
)
_YEAR_LAST = re.compile(r"([0-9]{1,2})\s*[-./]\s*([0-9]{1,2})\s*[-./]\s*([0-9]{4})")

Row = list[str | None]


def settle_date_columns(
    rows: list[Row],
    row_numbers: list[int],
    columns: list[int],
    kinds: dict[tuple[int, int], CellKind],
) -> list[CellNote]:
    """Settle the odd cells of every date column in place and return the notes.

    `rows` are the data rows, `columns` the physical column index of each of
    their cells, and `kinds` the type of each typed workbook cell.
    """
    notes: list[CellNote] = []
    # A column without a single date cell fails the first test of
    # `_is_date_column`, so it is not looked at cell by cell.
    with_dates = {column for (_, column), kind in kinds.items() if kind == "date"}
    for index, column in enumerate(columns):
        if column not in with_dates:
            continue
        cells = [
            (number, row[index]) for number, row in zip(row_numbers, rows, strict=True)
        ]
        if not _is_date_column(cells, column, kinds):
            continue
        for position, (number, cell) in enumerate(cells):
            kind = kinds.get((number, column))
            if kind == "number" and cell is not None:
                rows[position][index] = None
                notes.append(_number_note(number, column))
            elif kind is None and cell is not None:
                rows[position][index] = _settle_text(cell, notes, number, column)
    return notes


def _is_date_column(
    cells: list[tuple[int, str | None]],
    column: int,
    kinds: dict[tuple[int, int], CellKind],
) -> bool:
    """Return whether date cells are most typed cells and, with text dates, half
    of all non-empty cells."""
    dates = other_typed = text_dates = other_text = 0
    for number, cell in cells:
        kind = kinds.get((number, column))
        if kind == "date":
            dates += 1
        elif kind is not None:
            other_typed += 1
        elif cell is not None and _looks_like_date(cell.strip()):
            text_dates += 1
        elif cell is not None:
            other_text += 1
    total = dates + other_typed + text_dates + other_text
    return dates > other_typed and 2 * (dates + text_dates) >= total


def _looks_like_date(text: str) -> bool:
    return any(pattern.fullmatch(text) for pattern in (_ISO, _YEAR_FIRST, _YEAR_LAST))


def _settle_text(cell: str, notes: list[CellNote], row: int, column: int) -> str | None:
    """Return a text cell of a date column in ISO 8601 form, or `None` with a note."""
    text = cell.strip()
    if _ISO.fullmatch(text):
        return cell
    year_first = _YEAR_FIRST.fullmatch(text)
    if year_first:
        year, month, day = (int(part) for part in year_first.groups())
        return _iso_date(year, month, day, notes, row, column)
    year_last = _YEAR_LAST.fullmatch(text)
    if year_last:
        first, second, year = (int(part) for part in year_last.groups())
        if first <= 12 and second <= 12 and first != second:
            notes.append(
                CellNote(
                    "ambiguous-date",
                    "error",
                    row,
                    column,
                    "date written as text in the form NN/NN/YYYY has day and "
                    "month both 12 or less, so it can be read day first or month "
                    "first; enter the date as YYYY-MM-DD",
                )
            )
            return None
        month, day = (first, second) if second > 12 else (second, first)
        return _iso_date(year, month, day, notes, row, column)
    notes.append(
        CellNote(
            "not-a-date",
            "warning",
            row,
            column,
            "text in a column of dates is not a date; check the value",
        )
    )
    return cell


def _iso_date(
    year: int, month: int, day: int, notes: list[CellNote], row: int, column: int
) -> str | None:
    try:
        date = datetime.date(year, month, day)
    except ValueError:
        notes.append(
            CellNote(
                "invalid-date",
                "error",
                row,
                column,
                "date written as text names a day that is not in the calendar; "
                "correct it in the file",
            )
        )
        return None
    notes.append(
        CellNote(
            "date-normalized",
            "info",
            row,
            column,
            "date written as text was changed to the form YYYY-MM-DD",
        )
    )
    return date.isoformat()


def _number_note(row: int, column: int) -> CellNote:
    return CellNote(
        "number-in-date-column",
        "error",
        row,
        column,
        "plain number without a date format in a column of dates; it may be a "
        "date serial, but nothing in the file says so, so format the cell as a "
        "date or enter the date as YYYY-MM-DD",
    )
