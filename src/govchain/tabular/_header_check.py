"""Checks on a read table's header: a data row taken for the header, no data rows.

A file without a header row has its first data row read as the header, which
turns a person's name, ID number and phone number into column names. Those
names would then show up in every message about the columns, so the read stops
with a message that names the row and the column positions but no value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import replace

from govchain.errors import ValidationError
from govchain.governance.personal_data import find_personal_data
from govchain.tabular._shape import describe
from govchain.tabular._table import ImportNote, Table


def note_repeated_names(table: Table) -> Table:
    """Return `table` with a `duplicate-header` note for each renamed column.

    The reader names a repeated label `<label>_2`, `<label>_3` and so on, so
    such a name whose shorter forms all come before it is taken as renamed.
    """
    # NOTE: a file whose own header has both `编号` and `编号_2` gets this note
    # too, because the names alone cannot tell the two cases apart.
    if any(note.kind == "merged-header" for note in table.notes):
        # Labels merged across columns repeat by design and have their note.
        return table
    seen: set[str] = set()
    notes: list[ImportNote] = []
    for name in table.header:
        base, _, number = name.rpartition("_")
        if base and number.isdigit() and int(number) >= 2:
            earlier = [base] + [f"{base}_{n}" for n in range(2, int(number))]
            if all(other in seen for other in earlier):
                notes.append(
                    ImportNote(
                        kind="duplicate-header",
                        severity="warning",
                        sheet=table.sheet,
                        row=table.header_row,
                        column=name,
                        message=f"the header repeats the label {base}, so this "
                        f"column is named {name}; give each column its own name "
                        "in the file",
                    )
                )
        seen.add(name)
    if not notes:
        return table
    return replace(table, notes=(*table.notes, *notes))


def check_header(table: Table) -> None:
    """Raise `ValidationError` when the header looks like data or no rows follow it."""
    found = [
        (position, kind)
        for position, name in enumerate(table.header, start=1)
        if (kind := find_personal_data(name)) is not None
    ]
    if found:
        places = ", ".join(f"a {kind} in column {position}" for position, kind in found)
        raise ValidationError(
            f"{describe(table.source, table.sheet)}: the header row is missing or is "
            f"a data row: row {table.header_row} has {places}; add a header row with "
            "the column names above the data",
            reason="data-in-header",
        )
    if table.header_row and not table.rows:
        raise ValidationError(
            f"{describe(table.source, table.sheet)} has a header row and no data "
            "rows; add the data rows below the header or pick another file",
            reason="empty-table",
        )


# A number, a date or a time ("35", "2024-03-01", "12:30", "3.5"): a cell
# value, never a column label.
_VALUE_RE = re.compile(r"[+\-]?[0-9][0-9 .,:/\-年月日时分秒]*")


def check_header_names(table: Table, expected: Sequence[str]) -> None:
    """Raise `ValidationError` when the header looks like a data row.

    `expected` are the column names a standard or a resource declares. A
    header that has none of them while one of its names is a number or a date
    is taken for a data row, and the message names neither the names nor the
    values.
    """
    names = set(table.header)
    if not expected or any(name in names for name in expected):
        return
    positions = [
        position
        for position, name in enumerate(table.header, start=1)
        if _VALUE_RE.fullmatch(unicodedata.normalize("NFKC", name).strip())
    ]
    if positions:
        columns = ", ".join(str(position) for position in positions)
        raise ValidationError(
            f"{describe(table.source, table.sheet)}: the header row is missing or is "
            f"a data row: row {table.header_row} has none of the {len(expected)} "
            f"expected columns and holds values in column(s) {columns}; add a "
            "header row with the column names above the data",
            reason="data-in-header",
        )


#: Data rows that `header_confirmed` compares with the header.
CONFIRM_SCAN_ROWS = 50


def header_confirmed(table: Table) -> bool:
    """Return whether a column shows that the header row is not a data row.

    That column's header is a label while its first `CONFIRM_SCAN_ROWS` data
    cells are all numbers, dates or times. A serial number or a date column
    confirms most registers. A file without a header has a value at the top
    of such a column too, so its first row does not pass.
    """
    rows = table.rows[:CONFIRM_SCAN_ROWS]
    for position, name in enumerate(table.header):
        if name is None or _is_value(name):
            continue
        cells = [cell for row in rows if (cell := row[position]) is not None]
        if cells and all(_is_value(cell) for cell in cells):
            return True
    return False


def _is_value(text: str) -> bool:
    return _VALUE_RE.fullmatch(unicodedata.normalize("NFKC", text).strip()) is not None
