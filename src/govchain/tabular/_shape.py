"""Turn raw rows of cells into a header and data rows.

Both readers produce raw rows: the physical row number and the cells as text or
`None`. This module finds the header row, drops title rows above it and empty
rows, trims columns that are empty everywhere at either edge and names the
columns.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

from govchain.errors import ValidationError

logger = logging.getLogger(__name__)

Cells = list[str | None]
RawRow = tuple[int, Cells]

#: Number of non-empty rows at the top that header detection looks at.
HEADER_SCAN_ROWS = 50


@dataclass(frozen=True)
class Shaped:
    """Header, data rows and their physical row numbers."""

    header_row: int
    header: tuple[str, ...]
    rows: list[tuple[str | None, ...]]
    row_numbers: list[int]


def describe(source: str, sheet: str | None, row: int | None = None) -> str:
    """Return the place for a message, such as `a.xlsx, sheet 'PSI', row 4`."""
    place = source if sheet is None else f"{source}, sheet {sheet!r}"
    return place if row is None else f"{place}, row {row}"


def shape_rows(
    raw_rows: list[RawRow],
    *,
    source: str,
    sheet: str | None,
    header_row: int | None,
    check_width: bool,
) -> Shaped:
    """Split `raw_rows` into a header and data rows.

    `header_row` is the physical row of the header. `None` detects it, and 0 means
    the file has no header, so the columns are named `column_1` to `column_<n>`.
    With `check_width`, a data row with non-empty cells past the header's last
    cell raises `ValidationError`: in a delimited file that is a quoting or
    delimiter fault that would shift values into the wrong columns.
    """
    filled = [(number, cells) for number, cells in raw_rows if _count(cells)]
    if not filled:
        raise ValidationError(
            f"{describe(source, sheet)} contains no data, every row is empty",
            reason="empty-table",
        )

    header_cells: Cells | None
    if header_row is None:
        header_row, header_cells = _detect_header(filled)
        logger.debug(
            "%s: header detected at row %d", describe(source, sheet), header_row
        )
    elif header_row == 0:
        header_cells = None
    else:
        header_cells = _find_row(filled, header_row, source=source, sheet=sheet)
    data = [(number, cells) for number, cells in filled if number > header_row]

    if check_width and header_cells is not None:
        _check_widths(data, len(header_cells), source=source, sheet=sheet)
    spanned = [cells for _, cells in data]
    if header_cells is not None:
        spanned.append(header_cells)
    first, last = _column_span(spanned)
    width = last - first
    rows = [_fit(cells[first:last], width) for _, cells in data]
    if header_cells is None:
        names = _column_names((None,) * width)
    else:
        names = _column_names(_fit(header_cells[first:last], width))
    return Shaped(
        header_row=header_row,
        header=names,
        rows=rows,
        row_numbers=[number for number, _ in data],
    )


def _count(cells: Cells) -> int:
    return sum(1 for cell in cells if cell is not None)


def _first_filled(cells: Cells) -> int:
    """Return the index of the first non-empty cell of a row that has one."""
    return next(index for index, cell in enumerate(cells) if cell is not None)


def _last_filled(cells: Cells) -> int:
    """Return one past the index of the last non-empty cell, 0 for an empty row."""
    for index in range(len(cells) - 1, -1, -1):
        if cells[index] is not None:
            return index + 1
    return 0


def _most_common(values: list[int]) -> int:
    """Return the most frequent value, the larger one on a tie."""
    counts = Counter(values)
    return max(counts, key=lambda value: (counts[value], value))


def _detect_header(filled: list[RawRow]) -> RawRow:
    """Return the first row near the top that looks like the header.

    Title rows above a header ("101年度綜稅所得總額…", "單位：千元", a note) fill
    few cells and end early. So the header is the first row that reaches as far
    right as most rows do and fills more than half as many cells as most rows.
    The second test lets a header with a blank label through, and the first keeps
    out a two-cell title above a wide table.
    """
    window = filled[:HEADER_SCAN_ROWS]
    typical_count = _most_common([_count(cells) for _, cells in window])
    typical_width = _most_common([_last_filled(cells) for _, cells in window])
    for number, cells in window:
        if _last_filled(cells) >= typical_width and 2 * _count(cells) > typical_count:
            return number, cells
    return window[0]


def _find_row(
    filled: list[RawRow], number: int, *, source: str, sheet: str | None
) -> Cells:
    if number < 0:
        raise ValidationError(
            f"{describe(source, sheet)}: header row {number} is invalid, "
            "use a row number from 1, or 0 for a file without a header",
            reason="bad-header-row",
        )
    for row_number, cells in filled:
        if row_number == number:
            return cells
    raise ValidationError(
        f"{describe(source, sheet, number)} is empty or past the end of the table, "
        f"so it cannot be the header; rows with data run from {filled[0][0]} "
        f"to {filled[-1][0]}",
        reason="bad-header-row",
    )


def _check_widths(
    data: list[RawRow], width: int, *, source: str, sheet: str | None
) -> None:
    for number, cells in data:
        used = _last_filled(cells)
        if used > width:
            raise ValidationError(
                f"{describe(source, sheet, number)} has {used} fields but the header "
                f"has {width}; check the quoting of that row or pass the header row",
                reason="bad-row-width",
            )


def _column_span(rows: list[Cells]) -> tuple[int, int]:
    """Return the half-open range of columns that have a value in some row."""
    first = min((_first_filled(cells) for cells in rows if _count(cells)), default=0)
    last = max((_last_filled(cells) for cells in rows), default=0)
    return first, last


def _fit(cells: Cells | tuple[str | None, ...], width: int) -> tuple[str | None, ...]:
    """Return `cells` cut or padded with `None` to exactly `width` cells."""
    fitted = tuple(cells[:width])
    return fitted + (None,) * (width - len(fitted))


def _column_names(cells: tuple[str | None, ...]) -> tuple[str, ...]:
    """Name each column after its header cell, keeping the names unique.

    An empty header cell becomes `column_<n>` (n counts from 1), and a repeated
    name gets `_2`, `_3` and so on in the order the columns appear.
    """
    names: list[str] = []
    used_names: set[str] = set()
    for position, cell in enumerate(cells, start=1):
        base = (cell or "").strip() or f"column_{position}"
        name = base
        suffix = 2
        while name in used_names:
            name = f"{base}_{suffix}"
            suffix += 1
        names.append(name)
        used_names.add(name)
    return tuple(names)
