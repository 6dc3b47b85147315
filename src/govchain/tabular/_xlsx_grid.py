"""A Polars fast path for workbooks whose sheet is a plain grid of text.

`_xlsx_plain` still turns every cell into a Python string, and the clean-up
and shaping then visit each one, about ten microseconds a cell. Many exported
registers are simpler: one worksheet part in which every row contains the
same number of text cells, one per column from A, with rows numbered 1, 2, 3
and so on. The cells are all inline strings (as openpyxl writes them) or all
shared strings (as Excel and WPS write them). For such a part, Polars splits
the rows, proves each row's shape with one regular expression and splits out
the cell text, or the shared string index it then looks up. The checks below
then prove that the table is the one the general reader returns:

1. the workbook opens, the sheet chosen is visible and no other worksheet is
   hidden (those cases carry notes), and its part is UTF-8;
2. no row is hidden, no merged ranges follow `<sheetData>`, and no cell text
   contains `&`, a carriage return or `_x` (OOXML escapes), so a cell's text
   is its bytes. Each shared string is one plain `<t>` element: rich text
   runs and phonetic hints send the workbook to the general reader;
3. every row matches the one row pattern for its width and the row numbers
   run from 1 without gaps;
4. no cell text contains what the cell clean-up acts on (the triggers of the
   CSV fast path in `_fast`), row 1 is the header the general reader would
   pick, no row is blank and no edge column empty.

Any failed check returns None and the caller reads the workbook the general
way, which also produces every note and error message. The part is read in
blocks of whole rows, so memory follows the size of the cells, not the XML.
"""

from __future__ import annotations

import logging
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

import polars as pl

from govchain.errors import ValidationError
from govchain.tabular._fast import (
    CLEANUP_MARKERS,
    cells_need_cleanup,
    cells_too_long,
    row_checks_pass,
)
from govchain.tabular._limits import open_limited, read_limited
from govchain.tabular._shape import _column_names, _flatten
from govchain.tabular._sheet import choose_sheet, sheet_notes
from govchain.tabular._table import FrameRows, Table
from govchain.tabular._xlsx import _read_book
from govchain.tabular._xlsx_plain import is_utf8_part

logger = logging.getLogger(__name__)

#: Widest sheet the row pattern is built for; wider sheets take the general path.
MAX_COLUMNS = 64
#: Bytes of the sheet part read at a time.
BLOCK_SIZE = 1 << 25

_ROW_START = r'^<row r="([0-9]{1,7})"(?: [A-Za-z0-9:]+="[^"]*")*>'
_CELL_START = r'^.*?<is><t(?: xml:space="preserve")?>'
_CELL_END = "</t></is></c>"
_CELL_TEXT = (
    r'<c(?: r="{letters}[0-9]{{1,7}}")?(?: s="[0-9]{{1,6}}")? t="inlineStr">'
    r'<is><t(?: xml:space="preserve")?>[^<]*</t></is></c>'
)
_SHARED_START = r"^.*?<v>"
_SHARED_END = "</v></c>"
_CELL_SHARED = (
    r'<c(?: r="{letters}[0-9]{{1,7}}")?(?: s="[0-9]{{1,6}}")? t="s">'
    r"<v>[0-9]{{1,9}}</v></c>"
)
#: One item of the shared strings table, split at `</si>`, when it is plain text.
_PLAIN_ITEM = r'^<si><t(?: xml:space="preserve")?>[^<]*</t>$'
_ITEM_START = r'^<si><t(?: xml:space="preserve")?>'

#: Text after which a cell's value is not simply its bytes: an entity, a
#: carriage return (XML turns it into a line feed) or an OOXML `_xHHHH_` escape.
_NOT_PLAIN = ["&", "\r", "_x"]
_MARKERS = _NOT_PLAIN + CLEANUP_MARKERS


def read_plain_workbook(
    path: Path,
    *,
    source: str,
    sheet: str | None,
    header_row: int | None,
    header_rows: int | None,
    header_separator: str,
    normalize_width: bool,
) -> Table | None:
    """Return the table of a plain text grid workbook, or None to read it in general."""
    if header_row not in (None, 1) or header_rows not in (None, 1):
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            book = _read_book(archive, source=source)
            entry = choose_sheet(book.sheets, source=source, sheet=sheet)
            if sheet_notes(book.sheets, entry) or entry.part not in archive.NameToInfo:
                return None
            place = f"{source}, sheet {entry.name!r}"
            with open_limited(archive.open(entry.part), place) as stream:
                frame = _grid(
                    stream,
                    normalize_width=normalize_width,
                    strings=lambda: _shared_strings(archive, book.strings_part, place),
                )
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        ElementTree.ParseError,
        ValidationError,
    ):
        # The general reader raises the error that names the fault.
        return None
    if frame is None or frame.height < 2 or not row_checks_pass(frame):
        return None
    header = _flatten([list(frame.row(0))], 0, frame.width, header_separator)
    rows = frame.slice(1)
    logger.debug(
        "%s, sheet %r: grid fast path, %d rows", source, entry.name, rows.height
    )
    return Table(
        source=source,
        sheet=entry.name,
        header=_column_names(header),
        rows=FrameRows(rows),
        row_numbers=range(2, rows.height + 2),
        encoding=None,
        header_row=1,
        notes=(),
        header_rows=1,
    )


def _grid(
    stream: IO[bytes],
    *,
    normalize_width: bool,
    strings: Callable[[], pl.Series | None],
) -> pl.DataFrame | None:
    """Return the cells of a plain grid part as text columns, or None.

    `strings` loads the shared strings table, which is read only when the
    first row's cells are shared strings.

    The part is read in blocks of whole rows, so memory stays near the size
    of the cells rather than of the XML.
    """
    buffer = b""
    while (start := buffer.find(b"<sheetData>")) < 0:
        block = stream.read(BLOCK_SIZE)
        if not block:
            return None
        buffer += block
    if not is_utf8_part(buffer):
        return None
    if b"hidden" in buffer[:start]:
        return None

    buffer = buffer[start + len(b"<sheetData>") :]
    frames: list[pl.DataFrame] = []
    width = count = 0
    table: pl.Series | None = None
    while True:
        block = stream.read(BLOCK_SIZE)
        buffer += block
        end = buffer.find(b"</sheetData>")
        if end >= 0:
            rows, rest = buffer[:end], buffer[end:]
        elif not block:
            return None
        else:
            # A block that ends inside a row keeps that row for the next one.
            cut = buffer.rfind(b"</row>")
            cut = 0 if cut < 0 else cut + len(b"</row>")
            rows, rest = buffer[:cut], buffer[cut:]
        buffer = rest
        if rows:
            if not width:
                # The first row sets the width and the cell kind, and the row
                # pattern then requires both of every row.
                first = rows[: rows.find(b"</row>")]
                width = first.count(b"<c")
                if b't="s"' in first and (table := strings()) is None:
                    return None
            frame = _rows(rows, width, count, table)
            if (
                frame is None
                or cells_too_long(frame)
                or cells_need_cleanup(
                    frame, normalize_width=normalize_width, markers=_MARKERS
                )
            ):
                return None
            frames.append(frame)
            count += frame.height
        if end >= 0:
            break
    if b"<mergeCell" in buffer + stream.read():
        return None
    return pl.concat(frames) if frames else None


def _rows(
    rows: bytes, width: int, before: int, table: pl.Series | None
) -> pl.DataFrame | None:
    """Return the cells of whole `<row>` elements that follow `before` rows.

    The cells are inline strings, or indexes into `table` when it is given.
    """
    if not 0 < width <= MAX_COLUMNS or not rows.endswith(b"</row>"):
        return None
    if b"hidden" in rows:
        return None
    cell_pattern = _CELL_TEXT if table is None else _CELL_SHARED
    pattern = (
        _ROW_START
        + "".join(
            cell_pattern.format(letters=_letters(index)) for index in range(width)
        )
        + "$"
    )
    try:
        text = pl.Series("row", [rows[: -len(b"</row>")]]).cast(pl.String)
    except pl.exceptions.PolarsError:
        return None
    lines = text.str.split("</row>").explode().to_frame()
    # Matching without captures is several times faster than extracting
    # groups, so the pattern only proves the shape and the cells are split.
    if not lines.select(pl.col("row").str.contains(pattern).all()).item():
        return None
    parts = lines.select(
        pl.col("row").str.extract(_ROW_START, 1).cast(pl.Int64).alias("number"),
        pl.col("row")
        .str.split(_CELL_END if table is None else _SHARED_END)
        .alias("cells"),
    )
    expected = pl.int_range(before + 1, before + parts.height + 1, eager=True)
    if not parts.get_column("number").equals(expected, check_names=False):
        return None

    # Each piece before a cell end is the cell's start tags, after the row's
    # start tag for the first cell, then the text, which has no `<`. The
    # general reader takes an empty `<t></t>` for an empty cell.
    cell = pl.col("cells").list
    if table is not None:
        return _look_up(parts, width, table)
    return parts.select(
        pl.when(value != "").then(value).alias(f"column_{index + 1}")
        for index, value in (
            (index, cell.get(index).str.replace(_CELL_START, ""))
            for index in range(width)
        )
    )


def _look_up(parts: pl.DataFrame, width: int, table: pl.Series) -> pl.DataFrame | None:
    """Return the shared strings that the cells of `parts` point to, or None.

    An index past the end of the table sends the workbook to the general
    reader, which names the cell in its error.
    """
    cell = pl.col("cells").list
    indexes = parts.select(
        cell.get(index).str.replace(_SHARED_START, "").cast(pl.UInt32).alias(str(index))
        for index in range(width)
    )
    if indexes.select(pl.max_horizontal(pl.all()).max()).item() >= table.len():
        return None
    columns = []
    for index in range(width):
        value = table.gather(indexes.get_column(str(index)))
        columns.append(
            pl.select(pl.when(value != "").then(value))
            .to_series()
            .alias(f"column_{index + 1}")
        )
    return pl.DataFrame(columns)


def _shared_strings(
    archive: zipfile.ZipFile, part: str | None, place: str
) -> pl.Series | None:
    """Return the shared strings table as text, or None unless every item is plain."""
    if part is None or part not in archive.NameToInfo:
        return None
    data = read_limited(archive.open(part), place)
    if not is_utf8_part(data):
        return None
    start, end = data.find(b"<si>"), data.rfind(b"</si>")
    if start < 0 or end < start:
        return None
    try:
        items = pl.Series("item", [data[start:end]]).cast(pl.String)
    except pl.exceptions.PolarsError:
        return None
    items = items.str.split("</si>").explode()
    if not items.str.contains(_PLAIN_ITEM).all():
        return None
    return items.str.replace(_ITEM_START, "").str.strip_suffix("</t>")


def _letters(index: int) -> str:
    """Return the column letters of zero-based `index` (0 is A, 26 is AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
