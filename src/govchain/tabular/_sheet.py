"""Read one worksheet of an Excel or OpenDocument workbook as raw rows of text.

python-calamine parses the workbook. It sizes a sheet by the cells the file
contains and ignores the dimension the file claims. Rows are converted one at a
time here and empty rows are dropped, so a sheet claiming a million rows costs
only the rows it has.

NOTE: calamine stores a sheet as a dense grid, so a single stray cell far from the
data (say at XFD1048576) still makes it allocate the whole grid in between.
"""

from __future__ import annotations

import datetime
import logging
import math
from pathlib import Path

import python_calamine

from govchain.errors import ValidationError
from govchain.tabular._shape import Cells, RawRow

logger = logging.getLogger(__name__)


def read_sheet(
    path: Path, *, source: str, sheet: str | None
) -> tuple[str, list[RawRow]]:
    """Return the name of the sheet read and its non-empty rows as text.

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

    name = _choose_sheet(workbook, source=source, sheet=sheet)
    try:
        worksheet = workbook.get_sheet_by_name(name)
        rows: list[RawRow] = []
        # iter_rows starts at the sheet's first row even when the used range
        # starts lower, so the index gives the physical row number.
        for index, values in enumerate(worksheet.iter_rows()):
            cells: Cells = [cell_text(value) for value in values]
            if any(cell is not None for cell in cells):
                rows.append((index + 1, cells))
    except python_calamine.CalamineError as exc:
        raise ValidationError(
            f"{source}, sheet {name!r}: cannot read the sheet ({exc})",
            reason="bad-workbook",
        ) from exc
    logger.debug("%s, sheet %r: %d non-empty rows", source, name, len(rows))
    return name, rows


def _choose_sheet(
    workbook: python_calamine.CalamineWorkbook, *, source: str, sheet: str | None
) -> str:
    names: list[str] = list(workbook.sheet_names)
    if sheet is not None:
        if sheet not in names:
            raise ValidationError(
                f"{source}: sheet {sheet!r} not found, the workbook has "
                f"{', '.join(repr(name) for name in names)}",
                reason="no-sheet",
            )
        return sheet
    visible = [
        meta.name
        for meta in workbook.sheets_metadata
        if meta.typ == python_calamine.SheetTypeEnum.WorkSheet
        and meta.visible == python_calamine.SheetVisibleEnum.Visible
    ]
    if visible:
        return str(visible[0])
    if names:
        return names[0]
    raise ValidationError(f"{source}: the workbook has no sheets", reason="no-sheet")


def cell_text(value: object) -> str | None:
    """Return a cell value as text, or `None` for an empty cell.

    Whole numbers lose the `.0` that Excel's float storage adds (`123`), other
    numbers get at most 15 significant digits as Excel shows them (`29.02`, not
    `29.020000000000003`), dates and times become ISO 8601 and durations ISO 8601
    durations (`PT255H10M10S`). Strings stay as they are.

    NOTE: python-calamine 0.9 passes error cells such as `#N/A` and `#REF!` as
    empty strings, so they read as empty cells.
    """
    if isinstance(value, str):
        return value if value != "" else None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return _duration_text(value)
    return str(value)


def _number_text(value: float) -> str:
    if math.isfinite(value) and value.is_integer():
        return str(int(value))
    return format(value, ".15g")


def _duration_text(value: datetime.timedelta) -> str:
    sign = "-" if value < datetime.timedelta(0) else ""
    total = abs(value)
    hours, rest = divmod(total, datetime.timedelta(hours=1))
    minutes, rest = divmod(rest, datetime.timedelta(minutes=1))
    seconds = rest.total_seconds()
    seconds_text = str(int(seconds)) if seconds.is_integer() else format(seconds, "g")
    return f"{sign}PT{hours}H{minutes}M{seconds_text}S"
