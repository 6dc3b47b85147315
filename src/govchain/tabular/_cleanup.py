"""Clean text cells: spreadsheet guards, full-width forms, lost digits, stray marks.

Every change is lossless and gets an `info` note, except a value whose digits are
already lost, which is withheld with an `error` note. Cells that a workbook
stored as numbers or dates are handled in `_values` and left alone here.
"""

from __future__ import annotations

import re

from govchain.tabular._raw import CellNote, RawSheet

#: Full-width digits and Latin letters (U+FF10-FF19, U+FF21-FF3A, U+FF41-FF5A),
#: and the ideographic space U+3000, mapped to ASCII as NFKC maps them. Other
#: full-width forms such as `，` `：` `（` are the normal punctuation of Chinese
#: text and stay as they are.
WIDTH_TABLE = {
    **{code: code - 0xFEE0 for code in range(0xFF10, 0xFF1A)},
    **{code: code - 0xFEE0 for code in range(0xFF21, 0xFF3B)},
    **{code: code - 0xFEE0 for code in range(0xFF41, 0xFF5B)},
    0x3000: 0x20,
}
_FULL_WIDTH = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000]")

#: Wrappers that people add so that a spreadsheet keeps a value as text, and that
#: a CSV export then writes out: `="0123"`, a leading tab, a leading apostrophe.
_FORMULA_TEXT = re.compile(r'="((?:[^"]|"")*)"')
_LEADING_TABS = re.compile(r"\t+(?=\S)")
_APOSTROPHE = re.compile(r"'(\+?[0-9][0-9A-Za-z/.-]*)")

#: A number as a spreadsheet shows it in scientific notation (`1.10101E+17`)
#: when the column is too narrow. From E+10 on it stood for a number of 11 or more
#: digits, such as an ID or phone number, and only the shown digits were saved.
_SCIENTIFIC = re.compile(r"[+-]?[0-9](?:\.[0-9]+)?E\+([0-9]{2,3})")
SCIENTIFIC_MIN_EXPONENT = 10


def clean_text_cells(raw: RawSheet, *, text_file: bool, normalize_width: bool) -> None:
    """Clean every text cell of `raw` in place and add a note for each change.

    Spreadsheet guards are removed only from text files, where an export wrote
    them. In a workbook an apostrophe or `="..."` typed as text is the value.
    Rows left with nothing but spaces are dropped with a note.
    """
    kept = []
    for number, cells in raw.rows:
        for column, cell in enumerate(cells):
            if cell is None or (number, column) in raw.kinds:
                continue
            cells[column] = _clean_cell(
                cell,
                raw.notes,
                row=number,
                column=column,
                text_file=text_file,
                normalize_width=normalize_width,
            )
        if any(cell is not None and cell.strip() for cell in cells):
            kept.append((number, cells))
        elif any(cell is not None for cell in cells):
            first = next(index for index, cell in enumerate(cells) if cell is not None)
            raw.notes.append(
                CellNote(
                    "blank-row",
                    "info",
                    number,
                    first,
                    "row contains nothing but spaces and was skipped like an empty "
                    "row; delete the stray cells in the file",
                )
            )
    raw.rows = kept


def _clean_cell(
    cell: str,
    notes: list[CellNote],
    *,
    row: int,
    column: int,
    text_file: bool,
    normalize_width: bool,
) -> str | None:
    if text_file:
        unwrapped = _unwrap(cell)
        if unwrapped is not None:
            cell = unwrapped
            notes.append(
                CellNote(
                    "guard-removed",
                    "info",
                    row,
                    column,
                    'a leading tab, apostrophe or ="..." wrapper that stops a '
                    "spreadsheet from reformatting the value was removed",
                )
            )
    if normalize_width and _FULL_WIDTH.search(cell):
        cell = cell.translate(WIDTH_TABLE)
        notes.append(
            CellNote(
                "width-normalized",
                "info",
                row,
                column,
                "full-width digits, letters or spaces were changed to their ASCII "
                "forms",
            )
        )
    scientific = _SCIENTIFIC.fullmatch(cell.strip())
    if scientific and int(scientific.group(1)) >= SCIENTIFIC_MIN_EXPONENT:
        notes.append(
            CellNote(
                "scientific-notation",
                "error",
                row,
                column,
                "value is a long number written in scientific notation, as a "
                "spreadsheet shows an ID or phone number in a narrow column, so "
                "all but the first digits are lost; export the file again with "
                "the column formatted as text",
            )
        )
        return None
    if "\ufeff" in cell:
        notes.append(
            CellNote(
                "bom-in-value",
                "warning",
                row,
                column,
                "value contains U+FEFF, an invisible byte order mark, which makes "
                "values that look equal differ; remove it in the file",
            )
        )
    return cell


def _unwrap(cell: str) -> str | None:
    """Return `cell` without a spreadsheet guard, `None` if it has none."""
    formula = _FORMULA_TEXT.fullmatch(cell)
    if formula:
        return formula.group(1).replace('""', '"')
    if _LEADING_TABS.match(cell):
        return _LEADING_TABS.sub("", cell, count=1)
    apostrophe = _APOSTROPHE.fullmatch(cell)
    if apostrophe:
        return apostrophe.group(1)
    return None
