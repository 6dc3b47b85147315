"""`read_table`: one entry point for delimited text files and workbooks."""

from __future__ import annotations

import logging
from pathlib import Path

from govchain.errors import ValidationError
from govchain.tabular._shape import RawRow, shape_rows
from govchain.tabular._sheet import read_sheet
from govchain.tabular._table import Table
from govchain.tabular._text import decode, split_records

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = {".csv": None, ".tsv": "\t"}
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"}
SUPPORTED_SUFFIXES = sorted({*TEXT_SUFFIXES, *WORKBOOK_SUFFIXES})


def read_table(
    path: Path,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    encoding: str | None = None,
) -> Table:
    """Read a table from a .csv, .tsv, .xlsx, .xlsm, .xlsb, .xls or .ods file.

    The file's suffix picks the reader. For text files the encoding is detected
    unless `encoding` names a Python codec, and a .csv file's delimiter (comma,
    tab or semicolon) is detected. For workbooks `sheet` names the worksheet, and
    by default the first visible one is read.

    `header_row` is the 1-based physical row of the header. By default it is the
    first row near the top that is about as wide as the data, which skips title
    and note rows. 0 means that the file has no header row, so every row is data
    and the columns are named `column_1` to `column_<n>`.

    Raises `ValidationError` naming the file, and where it applies the sheet and
    row, when the file cannot be read, decoded or parsed.
    """
    path = Path(path)
    source = path.name
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES and suffix not in WORKBOOK_SUFFIXES:
        raise ValidationError(
            f"{source}: unsupported file type {suffix or '(no suffix)'!r}, "
            f"use one of {', '.join(SUPPORTED_SUFFIXES)}",
            reason="unsupported-format",
        )
    if suffix in TEXT_SUFFIXES and sheet is not None:
        raise ValidationError(
            f"{source}: a sheet name was given but a {suffix} file has no sheets",
            reason="no-sheet",
        )

    raw_rows: list[RawRow]
    sheet_name: str | None = None
    codec: str | None = None
    if suffix in TEXT_SUFFIXES:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ValidationError(
                f"{source}: cannot read the file ({exc.strerror})", reason="unreadable"
            ) from exc
        text, codec = decode(data, source=source, encoding=encoding)
        raw_rows, delimiter = split_records(
            text, source=source, delimiter=TEXT_SUFFIXES[suffix]
        )
        logger.debug("%s: encoding %s, delimiter %r", source, codec, delimiter)
    else:
        sheet_name, raw_rows = read_sheet(path, source=source, sheet=sheet)

    shaped = shape_rows(
        raw_rows,
        source=source,
        sheet=sheet_name,
        header_row=header_row,
        check_width=codec is not None,
    )
    return Table(
        source=source,
        sheet=sheet_name,
        header=shaped.header,
        rows=shaped.rows,
        row_numbers=shaped.row_numbers,
        encoding=codec,
        header_row=shaped.header_row,
    )
