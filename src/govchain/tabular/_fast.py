"""A Polars fast path for plain CSV and TSV files, used only when it is provably equal.

The general reader splits records with the `csv` module and looks at every cell
in Python, which runs at tens of thousands of rows per second. Many files that
departments export are plain: one header line, no quotes, no title rows and no
cell that the import would change. For those, Polars splits the records (every
column as text, so identifiers keep their leading zeros) and this module checks
that the general reader would have returned the same table:

1. the bytes decode with the same strict decoder, the codec is UTF-8 or GB18030,
   and there is no quote character, NUL or lone carriage return, so a record is
   exactly one line and splitting on the delimiter is all the `csv` module does;
2. the header detection of the general reader, run on the first rows, picks the
   first line, and no row is empty or contains only spaces;
3. no byte sequence occurs that the cell clean-up acts on: a leading tab or
   apostrophe guard, full-width forms (when normalizing widths), a number in
   scientific notation, U+FEFF, or the separators U+001C to U+001F;
4. the first and last columns have a value somewhere, so no edge column is
   trimmed;
5. no cell is longer than `MAX_CELL_CHARS`, which the general reader rejects.

Any failed check returns None and the caller uses the general reader, which
also produces every note and error message. tests/tabular/test_fast_csv.py
compares both readers on every CSV fixture.
"""

from __future__ import annotations

import io
import logging

import polars as pl

from govchain.tabular._limits import MAX_CELL_CHARS
from govchain.tabular._raw import RawRow
from govchain.tabular._shape import (
    HEADER_SCAN_ROWS,
    _column_names,
    _detect_header,
    _flatten,
)
from govchain.tabular._table import FrameRows, Table
from govchain.tabular._text import DELIMITER_SAMPLE_CHARS, decode, detect_delimiter

logger = logging.getLogger(__name__)

#: Codecs whose text the fast path reads; UTF-16 and Big5 files take the general path.
FAST_CODECS = frozenset({"utf-8", "utf-8-sig", "gb18030"})

#: A character that Python's `str.strip` keeps, so the row is not blank.
_SUBSTANCE = r"[^\s\x1c-\x1f]"


def read_plain_csv(
    data: bytes,
    *,
    source: str,
    delimiter: str | None,
    encoding: str | None,
    header_row: int | None,
    header_rows: int | None,
    header_separator: str,
    normalize_width: bool,
) -> Table | None:
    """Return the table of a plain delimited file, or None to use the general reader.

    Raises the general reader's `ValidationError` when the bytes do not decode.
    """
    if header_row not in (None, 1) or header_rows not in (None, 1):
        return None
    if b'"' in data or b"\x00" in data or data.count(b"\r") != data.count(b"\r\n"):
        return None
    decoded = _decode(data, source=source, encoding=encoding)
    if decoded is None:
        return None
    body, sample, codec = decoded
    if delimiter is None:
        delimiter = detect_delimiter(sample)
    frame = _split(body, delimiter)
    if frame is None or frame.height < 2:
        return None
    newlines = body.count(b"\n")
    if newlines != frame.height - (0 if body.endswith(b"\n") else 1):
        return None
    if cells_too_long(frame):
        return None
    markers = CLEANUP_MARKERS + ([] if delimiter == "\t" else ["\t"])
    if cells_need_cleanup(frame, normalize_width=normalize_width, markers=markers):
        return None
    if not row_checks_pass(frame):
        return None
    header_cells = list(frame.row(0))
    width = frame.width
    names = _column_names(_flatten([header_cells], 0, width, header_separator))
    rows = frame.slice(1)
    logger.debug("%s: fast path, encoding %s, %d rows", source, codec, rows.height)
    return Table(
        source=source,
        sheet=None,
        header=names,
        rows=FrameRows(rows),
        row_numbers=range(2, rows.height + 2),
        encoding=codec,
        header_row=1,
        notes=(),
        header_rows=1,
    )


def _decode(
    data: bytes, *, source: str, encoding: str | None
) -> tuple[bytes, str, str] | None:
    """Return the UTF-8 body, a text sample for delimiter detection, and the codec.

    A file that starts like UTF-8 is not decoded here in full: Polars rejects
    invalid UTF-8 while it splits, and the general reader then reports the
    fault. Other files go through the general reader's strict decoder.
    """
    if encoding is None and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        body = data.removeprefix(b"\xef\xbb\xbf")
        prefix = body[: 4 * DELIMITER_SAMPLE_CHARS]
        try:
            sample = prefix.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(prefix) - 3:
                return _decode_other(data, source=source, encoding=encoding)
            sample = prefix[: exc.start].decode("utf-8")
        codec = "utf-8-sig" if len(body) < len(data) else "utf-8"
        return body, sample[:DELIMITER_SAMPLE_CHARS], codec
    return _decode_other(data, source=source, encoding=encoding)


def _decode_other(
    data: bytes, *, source: str, encoding: str | None
) -> tuple[bytes, str, str] | None:
    text, codec = decode(data, source=source, encoding=encoding)
    if codec not in FAST_CODECS:
        return None
    return text.encode("utf-8"), text[:DELIMITER_SAMPLE_CHARS], codec


def _split(body: bytes, delimiter: str) -> pl.DataFrame | None:
    try:
        return pl.read_csv(
            io.BytesIO(body),
            has_header=False,
            separator=delimiter,
            quote_char=None,
            infer_schema=False,
        )
    except (pl.exceptions.PolarsError, ValueError):
        # Ragged rows and other faults: the general reader reports them.
        return None


def row_checks_pass(frame: pl.DataFrame) -> bool:
    """Return whether the general reader would take row 1 as the only header row,
    keep every row and trim no edge column of `frame`, read without a header."""
    return _header_first(frame) and _cells_plain(frame)


def _header_first(frame: pl.DataFrame) -> bool:
    """Return whether the general reader's header detection picks line 1."""
    window: list[RawRow] = [
        (number, list(cells))
        for number, cells in enumerate(frame.head(HEADER_SCAN_ROWS).rows(), start=1)
    ]
    return _detect_header(window, {}) == 1


#: Text that the cell clean-up acts on: an apostrophe guard, `E+` of
#: scientific notation, U+FEFF and U+001C to U+001F. In text files a leading
#: tab is a guard too, so a tab is added when it is not the delimiter.
CLEANUP_MARKERS = ["'", "E+", "e+", "\ufeff", "\x1c", "\x1d", "\x1e", "\x1f"]
#: Full-width digits, letters and the ideographic space: U+FF00 to U+FF7F and
#: U+3000, as ranges of a regular expression character class.
FULL_WIDTH_RANGES = r"\x{FF00}-\x{FF7F}\x{3000}"


def cells_need_cleanup(
    frame: pl.DataFrame, *, normalize_width: bool, markers: list[str]
) -> bool:
    """Return whether a cell of `frame` contains one of `markers`, or a
    full-width character when widths are normalized.

    A match only sends the file to the general reader. One regular
    expression per column costs less than a search per marker.
    """
    pattern = _any_of(markers, FULL_WIDTH_RANGES if normalize_width else "")
    found = [pl.col(name).str.contains(pattern) for name in frame.columns]
    return bool(frame.select(pl.any_horizontal(found).any()).item())


def cells_too_long(frame: pl.DataFrame) -> bool:
    """Return whether a cell of `frame` has more than `MAX_CELL_CHARS` characters.

    Such a file goes to the general reader, which rejects the cell by its place.
    """
    lengths = [pl.col(name).str.len_chars().max() for name in frame.columns]
    longest = frame.select(pl.max_horizontal(lengths)).item()
    return longest is not None and longest > MAX_CELL_CHARS


def _any_of(markers: list[str], ranges: str) -> str:
    """Return a regular expression matching any of `markers` or a character in `ranges`.

    Every character is written as `\\x{...}`, so none is taken as syntax.
    """

    def literal(text: str) -> str:
        return "".join(f"\\x{{{ord(c):X}}}" for c in text)

    single = "".join(literal(m) for m in markers if len(m) == 1) + ranges
    longer = [literal(m) for m in markers if len(m) > 1]
    return "|".join(([f"[{single}]"] if single else []) + longer)


def _cells_plain(frame: pl.DataFrame) -> bool:
    """Return whether no row is blank and neither edge column is empty everywhere."""
    columns = frame.columns
    substance = [pl.col(c).str.contains(_SUBSTANCE).fill_null(False) for c in columns]
    # Most rows have substance in their first cell, so only the others are
    # checked across every column.
    doubtful = frame.filter(~substance[0])
    checks = frame.select(
        pl.col(columns[0]).is_not_null().any().alias("first"),
        pl.col(columns[-1]).is_not_null().any().alias("last"),
    ).row(0)
    blank = doubtful.select(pl.any_horizontal(substance).not_().any()).item()
    return bool(checks[0]) and bool(checks[1]) and not blank
