"""`read_table`: one entry point for delimited text files and workbooks."""

from __future__ import annotations

import logging
from pathlib import Path

from govchain.errors import ValidationError
from govchain.tabular._cleanup import clean_text_cells
from govchain.tabular._dates import settle_date_columns
from govchain.tabular._fast import read_plain_csv
from govchain.tabular._header_check import (
    check_header,
    header_confirmed,
    note_repeated_names,
)
from govchain.tabular._raw import CellNote, RawSheet, cell_reference
from govchain.tabular._shape import HeaderOptions, Shaped, shape_rows
from govchain.tabular._sheet import read_sheet
from govchain.tabular._table import ImportNote, Table, TableError
from govchain.tabular._text import decode, split_records
from govchain.tabular._xlsx import read_xlsx
from govchain.tabular._xlsx_grid import read_plain_workbook

logger = logging.getLogger(__name__)

#: Delimiter of each text file type, `None` to detect it.
TEXT_SUFFIXES = {".csv": None, ".tsv": "\t"}
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"}
OOXML_SUFFIXES = {".xlsx", ".xlsm"}
SUPPORTED_SUFFIXES = sorted({*TEXT_SUFFIXES, *WORKBOOK_SUFFIXES})

#: Error notes quoted in the message of a `TableError`. The rest are in `notes`.
ERRORS_IN_MESSAGE = 3


def read_table(
    path: Path,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    encoding: str | None = None,
    header_rows: int | None = None,
    header_separator: str = "/",
    fill_merged: bool = True,
    normalize_width: bool = True,
    strict: bool = True,
) -> Table:
    """Read a table from a .csv, .tsv, .xlsx, .xlsm, .xlsb, .xls or .ods file.

    The file's suffix picks the reader. For text files the encoding is detected
    unless `encoding` names a Python codec (GBK and GB2312 are read as their
    superset GB18030), and the delimiter of a .csv file (comma, tab or
    semicolon) is detected. Every cell of a text file stays text. For workbooks
    `sheet` names the worksheet, and by default the first visible one is read.

    `header_row` is the 1-based physical row where the header starts. By default
    it is the first row near the top that is about as wide as the data, which
    skips title and note rows. 0 means that the file has no header row, so every
    row is data and the columns are named `column_1` to `column_<n>`.
    `header_rows` is the number of rows the header spans. By default the header
    is one row, extended down over labels merged across several rows, and the
    labels of each column are joined with `header_separator` (`基本信息/姓名`).

    `fill_merged` copies the value of a merged range in the data into each of its
    cells. `normalize_width` turns full-width digits, letters and spaces into
    ASCII, leaving Chinese punctuation alone. Each change is listed in
    `Table.notes`.

    A cell whose value cannot be trusted, such as an 18-digit ID stored as a
    number or the non-existent date 1900-02-29, gets an `error` note. With
    `strict` (the default) any such cell raises `TableError` listing them. With
    `strict=False` those cells are `None` and the table is returned.

    Raises `ValidationError` naming the file, and where it applies the sheet, row
    and column, when the file cannot be read, decoded or parsed, when the header
    row holds an ID or mobile number (it is then a data row, and the message
    names its columns but not their values), and when a header row has no data
    rows below it.
    """
    try:
        table = _read_table(
            Path(path),
            sheet=sheet,
            header_row=header_row,
            encoding=encoding,
            header_rows=header_rows,
            header_separator=header_separator,
            fill_merged=fill_merged,
            normalize_width=normalize_width,
            strict=strict,
        )
    except TableError as exc:
        # The notes name their columns, which are values when a data row was
        # taken for the header. That fault is raised instead, without the
        # notes as its context, so a traceback does not show the values.
        try:
            check_header(exc.table)
        except ValidationError as header_error:
            raise header_error from None
        raise
    check_header(table)
    return note_repeated_names(table)


def _read_table(
    path: Path,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    encoding: str | None = None,
    header_rows: int | None = None,
    header_separator: str = "/",
    fill_merged: bool = True,
    normalize_width: bool = True,
    strict: bool = True,
) -> Table:
    path = Path(path)
    source = path.name
    suffix = path.suffix.lower()
    _check_request(source, suffix, sheet)

    codec: str | None = None
    if suffix in TEXT_SUFFIXES:
        data = _read_bytes(path, source=source)
        fast = read_plain_csv(
            data,
            source=source,
            delimiter=TEXT_SUFFIXES[suffix],
            encoding=encoding,
            header_row=header_row,
            header_rows=header_rows,
            header_separator=header_separator,
            normalize_width=normalize_width,
        )
        if fast is not None:
            return fast
        raw, codec = _read_text(data, source=source, suffix=suffix, encoding=encoding)
    elif suffix in OOXML_SUFFIXES:
        grid = read_plain_workbook(
            path,
            source=source,
            sheet=sheet,
            header_row=header_row,
            header_rows=header_rows,
            header_separator=header_separator,
            normalize_width=normalize_width,
        )
        if grid is not None:
            return grid
        # TODO: `_xlsx_grid` reads only even grids of text cells (all inline or
        # all shared strings). Sheets with numbers, dates or gaps are split by
        # `_xlsx_plain`, and the clean-up and shaping below visit every cell in
        # Python, about ten microseconds a cell.
        raw = read_xlsx(path, source=source, sheet=sheet)
    else:
        raw = read_sheet(path, source=source, sheet=sheet)
    clean_text_cells(raw, text_file=codec is not None, normalize_width=normalize_width)

    options = HeaderOptions(
        header_row=header_row,
        header_rows=header_rows,
        fill_merged=fill_merged,
        separator=header_separator,
    )
    shaped = shape_rows(raw, options, source=source, check_width=codec is not None)
    rows = [list(row) for row in shaped.rows]
    columns = [shaped.first_column + index for index in range(len(shaped.header))]
    notes = raw.notes + shaped.notes
    notes += settle_date_columns(rows, shaped.row_numbers, columns, raw.kinds)
    notes += _hidden_notes(raw, shaped, columns)

    table = Table(
        source=source,
        sheet=raw.name,
        header=shaped.header,
        rows=[tuple(row) for row in rows],
        row_numbers=shaped.row_numbers,
        encoding=codec,
        header_row=shaped.header_row,
        notes=_import_notes(notes, raw, shaped),
        header_rows=shaped.header_rows,
    )
    if table.notes:
        logger.debug("%s: %d import notes", source, len(table.notes))
    if strict and table.errors():
        # A detected header on the first row with data may be a person's
        # record, so its cells are quoted only when a column confirms it.
        in_doubt = header_row is None and bool(raw.rows)
        in_doubt = in_doubt and shaped.header_row == raw.rows[0][0]
        in_doubt = in_doubt and not header_confirmed(table)
        raise TableError(_errors_message(table, name_columns=not in_doubt), table=table)
    return table


def _check_request(source: str, suffix: str, sheet: str | None) -> None:
    if suffix not in TEXT_SUFFIXES and suffix not in WORKBOOK_SUFFIXES:
        # Excel saves "Unicode text" as a tab-separated UTF-16 .txt file.
        hint = (
            "; rename a tab-separated text export to .tsv" if suffix == ".txt" else ""
        )
        raise ValidationError(
            f"{source}: unsupported file type {suffix or '(no suffix)'!r}, "
            f"use one of {', '.join(SUPPORTED_SUFFIXES)}{hint}",
            reason="unsupported-format",
        )
    if suffix in TEXT_SUFFIXES and sheet is not None:
        raise ValidationError(
            f"{source}: a sheet name was given but a {suffix} file has no sheets",
            reason="no-sheet",
        )


def _read_bytes(path: Path, *, source: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValidationError(
            f"{source}: cannot read the file ({exc.strerror})", reason="unreadable"
        ) from exc


def _read_text(
    data: bytes, *, source: str, suffix: str, encoding: str | None
) -> tuple[RawSheet, str]:
    text, codec = decode(data, source=source, encoding=encoding)
    rows, delimiter = split_records(
        text, source=source, delimiter=TEXT_SUFFIXES[suffix]
    )
    logger.debug("%s: encoding %s, delimiter %r", source, codec, delimiter)
    return RawSheet(name=None, rows=rows), codec


def _hidden_notes(raw: RawSheet, shaped: Shaped, columns: list[int]) -> list[CellNote]:
    """Return a warning for each hidden row and column that is part of the table."""
    notes: list[CellNote] = []
    header_numbers = range(shaped.header_row, shaped.header_row + shaped.header_rows)
    for number in [*header_numbers, *shaped.row_numbers]:
        if number in raw.hidden_rows:
            notes.append(
                CellNote(
                    "hidden-row",
                    "warning",
                    number,
                    None,
                    "row is hidden in the workbook but was read like the other "
                    "rows; check that it belongs in the import",
                )
            )
    for column in columns:
        if column in raw.hidden_columns:
            notes.append(
                CellNote(
                    "hidden-column",
                    "warning",
                    None,
                    column,
                    "column is hidden in the workbook but was read like the other "
                    "columns; check that it belongs in the import",
                )
            )
    return notes


def _import_notes(
    notes: list[CellNote], raw: RawSheet, shaped: Shaped
) -> tuple[ImportNote, ...]:
    """Name the columns of `notes`, drop those on title rows and sort them.

    Title rows above the header are not part of the table, so notes on their
    cells would point at nothing that was imported.
    """
    kept: list[ImportNote] = []
    for note in sorted(notes, key=_reading_order):
        if note.row is not None and note.row < shaped.header_row:
            continue
        column_name = None
        position = None if note.column is None else note.column - shaped.first_column
        if position is not None and 0 <= position < len(shaped.header):
            column_name = shaped.header[position]
        cell = None
        if raw.name is not None and note.row is not None and note.column is not None:
            cell = cell_reference(note.row, note.column)
        kept.append(
            ImportNote(
                kind=note.kind,
                severity=note.severity,
                sheet=note.sheet if note.sheet is not None else raw.name,
                row=note.row,
                column=column_name,
                message=note.message,
                cell=cell,
            )
        )
    return tuple(kept)


def _place(note: ImportNote, table: Table, *, name_columns: bool) -> str:
    if name_columns or note.column not in table.header:
        return note.place(table.source)
    return note.place(table.source, position=table.header.index(note.column) + 1)


def _reading_order(note: CellNote) -> tuple[int, int, int]:
    """Sort notes about sheets first, then by row and column."""
    if note.row is None:
        return (0, 0, -1 if note.column is None else note.column)
    return (1, note.row, -1 if note.column is None else note.column)


def _errors_message(table: Table, *, name_columns: bool) -> str:
    """Return the message of a `TableError` quoting the first error notes.

    Without `name_columns` each column is named by its 1-based position.
    """
    errors = table.errors()
    shown = "; ".join(
        f"{_place(note, table, name_columns=name_columns)}: {note.message}"
        for note in errors[:ERRORS_IN_MESSAGE]
    )
    more = len(errors) - ERRORS_IN_MESSAGE
    rest = f"; and {more} more" if more > 0 else ""
    if len(errors) == 1:
        head = "1 cell cannot be imported as it is, fix it"
    else:
        head = f"{len(errors)} cells cannot be imported as they are, fix them"
    return f"{table.source}: {head} in the file and import it again: {shown}{rest}"
