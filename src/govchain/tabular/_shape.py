"""Turn raw rows of cells into a header and data rows.

Every reader produces a `RawSheet`: physical row numbers with the cells as text or
`None`, and for workbooks the merged ranges. This module finds the header row
below any title rows and how many rows the header spans, copies merged values,
drops empty rows, trims columns that are empty everywhere at either edge and
names the columns.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

from govchain.errors import ValidationError
from govchain.tabular._merge import (
    anchored_spans,
    fill_data,
    fill_range,
    header_end,
    merged_columns_end,
)
from govchain.tabular._raw import CellNote, Cells, MergedRange, RawRow, RawSheet

logger = logging.getLogger(__name__)

#: Number of non-empty rows at the top that header detection looks at.
HEADER_SCAN_ROWS = 50


@dataclass(frozen=True)
class Shaped:
    """Header, data rows, their physical row numbers and notes on merged cells."""

    header_row: int
    header_rows: int
    header: tuple[str, ...]
    rows: list[tuple[str | None, ...]]
    row_numbers: list[int]
    first_column: int
    """Physical index of the table's first column."""
    notes: list[CellNote]


@dataclass(frozen=True)
class HeaderOptions:
    """Caller's choices for the header rows and merged cells."""

    header_row: int | None
    header_rows: int | None
    fill_merged: bool
    separator: str


def describe(source: str, sheet: str | None, row: int | None = None) -> str:
    """Return the place for a message, such as `a.xlsx, sheet 'PSI', row 4`."""
    place = source if sheet is None else f"{source}, sheet {sheet!r}"
    return place if row is None else f"{place}, row {row}"


def shape_rows(
    raw: RawSheet, options: HeaderOptions, *, source: str, check_width: bool
) -> Shaped:
    """Split the rows of `raw` into a header and data rows.

    `options.header_row` is the physical row where the header starts. `None`
    detects it, and 0 means the file has no header, so the columns are named
    `column_1` to `column_<n>`. `options.header_rows` is the number of rows the
    header spans. `None` takes one row, extended down over labels merged across
    several rows. The names of a header over several rows join each column's
    labels from top to bottom with `options.separator`.

    With `check_width`, a data row with non-empty cells past the header's last
    cell raises `ValidationError`: in a delimited file that is a quoting or
    delimiter fault that would shift values into the wrong columns.
    """
    sheet = raw.name
    rows = {number: cells for number, cells in raw.rows if _count(cells)}
    if not rows:
        raise ValidationError(
            f"{describe(source, sheet)} contains no data, every row is empty"
            f"{_error_cells_hint(raw.notes)}",
            reason="empty-table",
        )

    header_row, end = _find_header(rows, raw.merges, options, source, sheet)
    notes: list[CellNote] = []
    block: list[Cells] = []
    if header_row:
        for merged in raw.merges:
            if header_row <= merged.first_row <= end:
                fill_range(rows, merged, header_row, end)
        block = [rows.get(number, []) for number in range(header_row, end + 1)]
        if options.header_rows is None:
            notes += _merged_label_notes(raw.merges, header_row, end)
    notes += fill_data(rows, raw.merges, after=end, fill=options.fill_merged)
    data = [(number, rows[number]) for number in sorted(rows) if number > end]
    data = [(number, cells) for number, cells in data if _count(cells)]

    if check_width and block:
        # Trailing empty fields count: a header record of ten fields with two
        # labels still makes records of ten fields valid.
        width = max(len(cells) for cells in block)
        _check_widths(data, width, source=source, sheet=sheet)
    first, last = _column_span([cells for _, cells in data] + block)
    last = merged_columns_end(rows, raw.merges, first_row=header_row, end=last)
    width = last - first
    if block:
        names = _column_names(_flatten(block, first, width, options.separator))
    else:
        names = _column_names((None,) * width)
    return Shaped(
        header_row=header_row,
        header_rows=end - header_row + 1 if header_row else 0,
        header=names,
        rows=[_fit(cells[first:last], width) for _, cells in data],
        row_numbers=[number for number, _ in data],
        first_column=first,
        notes=notes,
    )


def _find_header(
    rows: dict[int, Cells],
    merges: list[MergedRange],
    options: HeaderOptions,
    source: str,
    sheet: str | None,
) -> tuple[int, int]:
    """Return the first and last physical row of the header, (0, 0) without one."""
    header_row = options.header_row
    if header_row is None:
        header_row = _detect_header(list(rows.items()), anchored_spans(rows, merges))
        logger.debug(
            "%s: header detected at row %d", describe(source, sheet), header_row
        )
    elif header_row != 0:
        _check_header_row(rows, header_row, source=source, sheet=sheet)
    return header_row, _header_end(
        header_row, options.header_rows, merges, source, sheet
    )


def _error_cells_hint(notes: list[CellNote]) -> str:
    """Return why an empty table may be empty: cells that were read as empty."""
    counts = Counter(note.kind for note in notes)
    reasons = [
        f"{counts[kind]} {text}"
        for kind, text in [
            ("cell-error", "cells hold spreadsheet errors such as #N/A"),
            ("formula-without-value", "formulas have no saved result"),
            ("precision-lost", "numbers have lost digits"),
        ]
        if counts[kind]
    ]
    if not reasons:
        return "; check that this is the file or sheet you meant (--sheet NAME)"
    return f"; {', '.join(reasons)}, and such cells read as empty"


def _header_end(
    header_row: int,
    header_rows: int | None,
    merges: list[MergedRange],
    source: str,
    sheet: str | None,
) -> int:
    """Return the last physical row of the header, or 0 without a header."""
    if header_row == 0:
        if header_rows:
            raise ValidationError(
                f"{describe(source, sheet)}: header_rows is {header_rows} but "
                "header_row is 0, which means the file has no header; give a "
                "header row or leave header_rows out",
                reason="bad-header-row",
            )
        return 0
    if header_rows is None:
        return header_end(header_row, merges)
    if header_rows < 1:
        raise ValidationError(
            f"{describe(source, sheet)}: header_rows {header_rows} is invalid, "
            "use 1 or more, or pass header_row 0 for a file without a header",
            reason="bad-header-row",
        )
    return header_row + header_rows - 1


def _merged_label_notes(
    merges: list[MergedRange], header_row: int, end: int
) -> list[CellNote]:
    """Warn about labels merged across columns in the header's last row.

    Such a label usually groups sub-headers in a row below, so the header may span
    more rows than the merges show.
    """
    notes: list[CellNote] = []
    for merged in merges:
        across = merged.last_column > merged.first_column
        if across and header_row <= merged.first_row and merged.last_row == end:
            notes.append(
                CellNote(
                    "merged-header",
                    "warning",
                    merged.first_row,
                    merged.first_column,
                    f"header label is merged across {merged.reference()}, so those "
                    "columns share its name; if sub-headers follow in the rows "
                    "below, give the number of header rows as header_rows",
                )
            )
    return notes


def _flatten(
    block: list[Cells], first: int, width: int, separator: str
) -> tuple[str | None, ...]:
    """Return one label per column, joining the labels of each header row.

    A label repeated down a column, as a merged label is, counts once.
    """
    labels: list[str | None] = []
    for column in range(first, first + width):
        parts: list[str] = []
        for cells in block:
            cell = cells[column] if column < len(cells) else None
            text = (cell or "").strip()
            if text and (not parts or parts[-1] != text):
                parts.append(text)
        labels.append(separator.join(parts) or None)
    return tuple(labels)


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


def _detect_header(filled: list[RawRow], spans: dict[int, int]) -> int:
    """Return the first row near the top that looks like the header.

    Title rows above a header ("101年度綜稅所得總額…", "單位：千元", a note) fill
    few cells and end early. So the header is the first row that reaches as far
    right as three quarters of most rows do and fills more than half as many
    cells as most rows.
    The second test lets a header with a blank label through, and the first keeps
    out a two-cell title above a wide table. A label merged across columns
    reaches as far as its merged range (`spans`) but counts as one cell, so a
    title merged across the whole table is still a title.
    """
    window = filled[:HEADER_SCAN_ROWS]
    counts = [_count(cells) for _, cells in window]
    widths = [
        max(_last_filled(cells), spans.get(number, 0)) for number, cells in window
    ]
    typical_count = _most_common(counts)
    typical_width = _most_common(widths)
    for (number, _), count, width in zip(window, counts, widths, strict=True):
        # A header a column or two narrower than the rows below it (a row with
        # a stray extra cell) is still the header: taking the data row instead
        # would turn a person's values into column names.
        if 4 * width >= 3 * typical_width and 2 * count > typical_count:
            return number
    return window[0][0]


def _check_header_row(
    rows: dict[int, Cells], number: int, *, source: str, sheet: str | None
) -> None:
    if number < 0:
        raise ValidationError(
            f"{describe(source, sheet)}: header row {number} is invalid, "
            "use a row number from 1, or 0 for a file without a header",
            reason="bad-header-row",
        )
    if number not in rows:
        raise ValidationError(
            f"{describe(source, sheet, number)} is empty or past the end of the "
            f"table, so it cannot be the header; rows with data run from "
            f"{min(rows)} to {max(rows)}",
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
