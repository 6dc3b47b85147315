"""A Polars fast path for workbooks whose first sheet is a plain grid of text.

`_xlsx_plain` still turns every cell into a Python string and the clean-up
and shaping then visit each one, about ten microseconds a cell. Many exported
registers are simpler than that: one worksheet part in which every row contains
the same number of inline-string cells, one per column from A, with rows
numbered 1, 2, 3 and so on. For such a part this module lets Polars split the
rows and pull the cell text out with one regular expression per row, then
applies the checks of the CSV fast path (`_fast`), so the table is exactly
the one the general reader returns:

1. the workbook opens, the sheet chosen is visible and no other worksheet is
   hidden (those cases carry notes), and its part is UTF-8;
2. `<sheetData>` holds no `&`, carriage return, `_x` (OOXML escapes), CDATA,
   "hidden", and no merged ranges follow it, so a cell's text is its bytes;
3. every row matches the one row pattern for its width and the row numbers
   run from 1 without gaps;
4. no cell text contains what the cell clean-up acts on, row 1 is the header
   the general reader would pick, no row is blank and no edge column empty.

Any failed check returns None and the caller reads the workbook the general
way, which also produces every note and error message.
"""

from __future__ import annotations

import logging
import zipfile
import zlib
from pathlib import Path
from xml.etree import ElementTree

import polars as pl

from govchain.errors import ValidationError
from govchain.tabular._fast import _needs_cleanup, row_checks_pass
from govchain.tabular._shape import _column_names, _flatten
from govchain.tabular._sheet import choose_sheet, sheet_notes
from govchain.tabular._table import FrameRows, Table
from govchain.tabular._xlsx import PLAIN_PART_LIMIT, _read_book

logger = logging.getLogger(__name__)

#: Widest sheet the row pattern is built for; wider sheets take the general path.
MAX_COLUMNS = 64

_ROW_START = r'^<row r="([0-9]{1,7})"(?: [A-Za-z0-9:]+="[^"]*")*>'
_CELL_TEXT = (
    r'<c(?: r="{letters}[0-9]{{1,7}}")?(?: s="[0-9]{{1,6}}")? t="inlineStr">'
    r'<is><t(?: xml:space="preserve")?>([^<]*)</t></is></c>'
)
#: Byte sequences after which the text of a cell is not simply its bytes.
_NOT_PLAIN = (b"&", b"\r", b"_x", b"<![CDATA[", b"hidden")


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
            info = archive.NameToInfo.get(entry.part)
            if sheet_notes(book.sheets, entry) or info is None:
                return None
            if info.file_size > PLAIN_PART_LIMIT:
                return None
            data = archive.read(entry.part)
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
    if _needs_cleanup(data, "\t", normalize_width):
        return None
    frame = _grid(data)
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


def _grid(data: bytes) -> pl.DataFrame | None:
    """Return the cells of a plain grid part as text columns, or None."""
    # The same encoding test as `_xlsx_plain`: only UTF-8 parts are read here.
    prolog = data[:200]
    if b"encoding=" in prolog and b'encoding="UTF-8"' not in prolog.replace(
        b"utf-8", b"UTF-8"
    ):
        return None
    start = data.find(b"<sheetData>")
    end = data.find(b"</sheetData>")
    if start < 0 or end < start or b"<mergeCell" in data[end:]:
        return None

    body = data[start + len(b"<sheetData>") : end]
    if any(marker in body for marker in _NOT_PLAIN) or b"hidden" in data[:start]:
        return None

    # The first row sets the width, and the row pattern then requires that width
    # of every row.
    first_row = body[: body.find(b"</row>")]
    width = first_row.count(b"<c")
    if not 0 < width <= MAX_COLUMNS:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text.endswith("</row>"):
        return None
    pattern = (
        _ROW_START
        + "".join(_CELL_TEXT.format(letters=_letters(index)) for index in range(width))
        + "$"
    )

    parts = (
        pl.Series("row", [text[: -len("</row>")]])
        .str.split("</row>")
        .explode()
        .to_frame()
        .select(pl.col("row").str.extract_groups(pattern).alias("cells"))
        .unnest("cells")
    )
    numbers = parts.to_series(0)
    if numbers.null_count() or not numbers.cast(pl.Int64).equals(
        pl.int_range(1, parts.height + 1, eager=True), check_names=False
    ):
        return None

    # The general reader takes an empty `<t></t>` for an empty cell.
    cells = parts.drop(parts.columns[0])
    return cells.select(
        pl.when(pl.col(name) != "").then(pl.col(name)).alias(f"column_{index + 1}")
        for index, name in enumerate(cells.columns)
    )


def _letters(index: int) -> str:
    """Return the column letters of zero-based `index` (0 is A, 26 is AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
