"""Merged cells: how far a header reaches, and copying merged values into cells.

A workbook stores a merged range's value only in its top-left cell, the anchor.
Above the data, a label merged down over several rows (`序号` over A1:A2) shows
that the header spans those rows, and a label merged across (`基本信息` over
B1:C1) belongs to every column below it. In the data, a value merged down
(`东华门街道` over F3:F5) belongs to every row it covers.
"""

from __future__ import annotations

from govchain.tabular._raw import CellNote, Cells, MergedRange, column_letters

#: A header never spans more rows than this, however far a merge reaches down.
MAX_HEADER_ROWS = 10


def header_end(start: int, merges: list[MergedRange]) -> int:
    """Return the last row of a header that starts at row `start`.

    The header reaches down to the last row of every merge that starts inside it,
    repeated until no merge reaches further. A merge that would make the header
    longer than `MAX_HEADER_ROWS` rows is not taken as a header label.
    """
    end = start
    grown = True
    while grown:
        grown = False
        for merged in merges:
            reaches = start <= merged.first_row <= end < merged.last_row
            if reaches and merged.last_row - start < MAX_HEADER_ROWS:
                end = merged.last_row
                grown = True
    return end


def fill_range(
    rows: dict[int, Cells], merged: MergedRange, first_row: int, last_row: int
) -> list[tuple[int, int]]:
    """Copy the anchor value of `merged` into its empty cells in rows `first_row`
    to `last_row` (both included) and return the positions filled.

    Rows missing from `rows` are added. Nothing is filled when the anchor is
    empty or outside `rows`.
    """
    anchor_row = rows.get(merged.first_row)
    if anchor_row is None or merged.first_column >= len(anchor_row):
        return []
    value = anchor_row[merged.first_column]
    if value is None:
        return []
    filled: list[tuple[int, int]] = []
    for number in range(
        max(merged.first_row, first_row), min(merged.last_row, last_row) + 1
    ):
        cells = rows.setdefault(number, [])
        if len(cells) <= merged.last_column:
            cells.extend([None] * (merged.last_column + 1 - len(cells)))
        for column in range(merged.first_column, merged.last_column + 1):
            if cells[column] is None:
                cells[column] = value
                filled.append((number, column))
    return filled


def fill_data(
    rows: dict[int, Cells], merges: list[MergedRange], *, after: int, fill: bool
) -> list[CellNote]:
    """Handle merged ranges below row `after` and return a note for each cell.

    With `fill` every empty cell of a range gets the range's value and an `info`
    note. Without it the cells stay empty and get a `warning`, because a
    spreadsheet program shows the value in them.
    """
    notes: list[CellNote] = []
    for merged in merges:
        if merged.first_row <= after:
            continue
        anchor = f"{column_letters(merged.first_column)}{merged.first_row}"
        if fill:
            for number, column in fill_range(
                rows, merged, merged.first_row, merged.last_row
            ):
                notes.append(
                    CellNote(
                        "merged-fill",
                        "info",
                        number,
                        column,
                        f"value copied from cell {anchor}, the first cell of the "
                        f"merged range {merged.reference()}",
                    )
                )
            continue
        anchor_row = rows.get(merged.first_row)
        if anchor_row is None or merged.first_column >= len(anchor_row):
            continue
        if anchor_row[merged.first_column] is None:
            continue
        for number in range(merged.first_row, merged.last_row + 1):
            for column in range(merged.first_column, merged.last_column + 1):
                if (number, column) == (merged.first_row, merged.first_column):
                    continue
                notes.append(
                    CellNote(
                        "merged-cell",
                        "warning",
                        number,
                        column,
                        f"cell is part of the merged range {merged.reference()}, "
                        f"whose value is stored only in cell {anchor}; it was "
                        "left empty because filling merged cells is turned off",
                    )
                )
    return notes


def anchored_spans(rows: dict[int, Cells], merges: list[MergedRange]) -> dict[int, int]:
    """Return, per row, one past the last column that a filled merge starting in
    that row covers.

    Header detection uses it to see a label merged across as reaching that far.
    """
    spans: dict[int, int] = {}
    for merged in merges:
        cells = rows.get(merged.first_row)
        if cells is None or merged.first_column >= len(cells):
            continue
        if cells[merged.first_column] is None:
            continue
        spans[merged.first_row] = max(
            spans.get(merged.first_row, 0), merged.last_column + 1
        )
    return spans


def merged_columns_end(
    rows: dict[int, Cells], merges: list[MergedRange], *, first_row: int, end: int
) -> int:
    """Return `end`, one past the table's last column, widened to cover every
    filled merged range from row `first_row` on that starts inside the table.

    A merged range that was not filled still covers its columns.
    """
    for merged in merges:
        if merged.first_row < first_row or merged.first_column >= end:
            continue
        anchor = rows.get(merged.first_row, [])
        if merged.first_column < len(anchor) and anchor[merged.first_column]:
            end = max(end, merged.last_column + 1)
    return end
