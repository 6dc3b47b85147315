"""Choose a worksheet, and read .xls, .xlsb and .ods worksheets with python-calamine.

.xlsx and .xlsm files are read by `_xlsx`, which reads more of the file. For the
formats here python-calamine parses the workbook and gives typed values, merged
ranges (.xls only) and sheet visibility.

NOTE: python-calamine 0.9 stores a sheet as a dense grid, so a stray cell far from
the data makes it allocate the whole grid in between. An .xls sheet has at most
65,536 rows, which bounds that cost; an .ods or .xlsb file has no such bound.
Hidden rows and columns, formulas without a saved result, and the serial number
behind a date are not visible through python-calamine, so they are not reported
for these formats, and serial 60 (1900-02-29) reads as 1900-02-28.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from pathlib import Path

import python_calamine

from govchain.errors import ValidationError
from govchain.tabular._raw import CellKind, CellNote, Cells, MergedRange, RawSheet
from govchain.tabular._values import duration_text, number_cell

logger = logging.getLogger(__name__)


def _state(visible: python_calamine.SheetVisibleEnum) -> str:
    """Return the OOXML name of a sheet visibility (the enum is not hashable)."""
    if visible == python_calamine.SheetVisibleEnum.Hidden:
        return "hidden"
    if visible == python_calamine.SheetVisibleEnum.VeryHidden:
        return "veryHidden"
    return "visible"


@dataclass(frozen=True)
class SheetEntry:
    """A sheet of a workbook as its directory lists it."""

    name: str
    state: str
    """`visible`, `hidden` or `veryHidden` (hidden so that only macros show it)."""
    is_worksheet: bool
    """False for chart sheets, dialog sheets and macro sheets."""
    part: str = ""
    """Zip part that contains the sheet in an .xlsx file, "" for other formats."""


def choose_sheet(
    sheets: list[SheetEntry], *, source: str, sheet: str | None
) -> SheetEntry:
    """Return the sheet called `sheet`, or by default the first visible worksheet.

    Raises `ValidationError` when there is no such sheet or no worksheet.
    """
    if sheet is not None:
        for entry in sheets:
            if entry.name == sheet:
                if not entry.is_worksheet:
                    raise ValidationError(
                        f"{source}: sheet {sheet!r} is a chart or macro sheet, not "
                        "a worksheet; choose a worksheet",
                        reason="no-sheet",
                    )
                return entry
        raise ValidationError(
            f"{source}: sheet {sheet!r} not found, the workbook has "
            f"{', '.join(repr(entry.name) for entry in sheets)}",
            reason="no-sheet",
        )
    worksheets = [entry for entry in sheets if entry.is_worksheet]
    for entry in worksheets:
        if entry.state == "visible":
            return entry
    if worksheets:
        return worksheets[0]
    raise ValidationError(
        f"{source}: the workbook has no worksheets", reason="no-sheet"
    )


def sheet_notes(sheets: list[SheetEntry], chosen: SheetEntry) -> list[CellNote]:
    """Return warnings about hidden worksheets, read or left out."""
    notes: list[CellNote] = []
    for entry in sheets:
        if not entry.is_worksheet or entry.state == "visible":
            continue
        if entry.state == "veryHidden":
            visibility = "very hidden (only macros can show it)"
        else:
            visibility = "hidden"
        if entry is chosen:
            message = (
                f"the sheet read is {visibility} in the workbook; check that it "
                "contains the data to import"
            )
            notes.append(CellNote("hidden-sheet", "warning", None, None, message))
            continue
        message = (
            f"sheet {entry.name!r} is {visibility} in the workbook and was not "
            "read; pass its name as the sheet to read it"
        )
        notes.append(
            CellNote("hidden-sheet", "warning", None, None, message, sheet=entry.name)
        )
    return notes


def read_sheet(path: Path, *, source: str, sheet: str | None) -> RawSheet:
    """Return the rows of one worksheet of an .xls, .xlsb or .ods file.

    `sheet=None` reads the first visible worksheet. Raises `ValidationError` when
    the workbook cannot be opened or has no sheet called `sheet`.
    """
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except (python_calamine.CalamineError, OSError) as exc:
        raise ValidationError(
            f"{source}: cannot open the workbook ({exc}); check that the file is "
            "a complete, unencrypted .xlsx, .xls, .xlsb or .ods file",
            reason="bad-workbook",
        ) from exc

    sheets = [
        SheetEntry(
            name=meta.name,
            state=_state(meta.visible),
            is_worksheet=meta.typ == python_calamine.SheetTypeEnum.WorkSheet,
        )
        for meta in workbook.sheets_metadata
    ]
    entry = choose_sheet(sheets, source=source, sheet=sheet)
    raw = RawSheet(name=entry.name, rows=[], notes=sheet_notes(sheets, entry))
    try:
        worksheet = workbook.get_sheet_by_name(entry.name)
        _read_rows(worksheet, raw)
        for (first_row, first_column), (last_row, last_column) in (
            worksheet.merged_cell_ranges or []
        ):
            raw.merges.append(
                MergedRange(first_row + 1, first_column, last_row + 1, last_column)
            )
    except python_calamine.CalamineError as exc:
        raise ValidationError(
            f"{source}, sheet {entry.name!r}: cannot read the sheet ({exc})",
            reason="bad-workbook",
        ) from exc
    logger.debug("%s, sheet %r: %d non-empty rows", source, entry.name, len(raw.rows))
    return raw


def _read_rows(worksheet: python_calamine.CalamineSheet, raw: RawSheet) -> None:
    # iter_rows starts at the sheet's first row even when the used range starts
    # lower, but at the used range's first column.
    offset = worksheet.start[1] if worksheet.start is not None else 0
    for index, values in enumerate(worksheet.iter_rows()):
        number = index + 1
        cells: Cells = [None] * offset
        for position, value in enumerate(values, start=offset):
            cells.append(_cell_text(value, raw, row=number, column=position))
        if any(cell is not None for cell in cells):
            raw.rows.append((number, cells))


def _cell_text(value: object, raw: RawSheet, *, row: int, column: int) -> str | None:
    """Return a cell value as text, or `None` for an empty cell.

    Numbers go through `number_cell`, dates and times become ISO 8601 and
    durations ISO 8601 durations (`PT255H10M10S`). Strings stay as they are.

    NOTE: python-calamine 0.9 passes error cells such as `#N/A` and `#REF!` as
    empty strings, so they read as empty cells without a note.
    """
    if isinstance(value, str):
        return value if value != "" else None
    kind: CellKind
    text: str | None
    if isinstance(value, bool):
        kind, text = "bool", "TRUE" if value else "FALSE"
    elif isinstance(value, int | float):
        kind = "number"
        text, note = number_cell(value, row=row, column=column)
        if note is not None:
            raw.notes.append(note)
    elif isinstance(value, datetime.datetime | datetime.date):
        kind, text = "date", value.isoformat()
    elif isinstance(value, datetime.time):
        kind, text = "time", value.isoformat()
    elif isinstance(value, datetime.timedelta):
        kind, text = "duration", duration_text(value)
    else:
        return str(value)
    raw.kinds[row, column] = kind
    return text
