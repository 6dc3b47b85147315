"""Decode delimited text files and split them into raw rows.

Government files arrive in UTF-8 (with or without a byte order mark), UTF-16 (what
Excel saves as "Unicode text", with a byte order mark, rarely without one),
Big5/CP950 (Taiwan, Hong Kong) and GB18030 or its subsets GBK and GB2312
(mainland China). Latin-1 and other single-byte code pages are never guessed,
because every byte sequence decodes in them, so a wrong guess goes unnoticed.
Decoding is always strict: a byte sequence that the chosen codec cannot decode
raises `ValidationError` rather than being replaced, because a silently changed
character in a name or an identifier would be recorded on the ledger as fact.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
from collections import Counter

import charset_normalizer

from govchain.errors import ValidationError
from govchain.tabular._limits import MAX_CELL_CHARS, too_long_error
from govchain.tabular._raw import RawRow

logger = logging.getLogger(__name__)

#: Codecs that charset-normalizer may propose after UTF-8 has failed. Restricting
#: the search keeps a short Big5 file from being read as some Western code page.
DETECTED_CODECS = ["big5", "gb18030"]

#: Codec to decode with for each codec that detection names. CP950 and
#: Big5-HKSCS extend Big5, and GB18030 extends GBK and GB2312, so the wider codec
#: decodes every file the narrower one does.
WIDER_CODECS = {
    "big5": ["cp950", "big5hkscs"],
    "gb18030": ["gb18030"],
}

BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]

#: Codecs that a caller may name but that lack characters found in real names.
#: GB18030 decodes every GBK and GB2312 file identically and adds the characters
#: those lack, such as 䶮 (U+4DAE) and 𠈌 (U+2020C), so they are read as GB18030.
SUPERSET_CODECS = {"gbk": "gb18030", "gb2312": "gb18030"}

#: Bytes at the start of a file that BOM-less UTF-16 detection looks at.
UTF16_SAMPLE_BYTES = 4096

DELIMITERS = [",", "\t", ";"]

#: Characters of text that delimiter detection looks at.
DELIMITER_SAMPLE_CHARS = 64 * 1024
#: Records of that sample that delimiter detection compares.
DELIMITER_SAMPLE_ROWS = 50

ENCODING_HINT = (
    "pass the file's encoding with --encoding, such as big5, gb18030 or utf-16"
)


def decode(data: bytes, *, source: str, encoding: str | None) -> tuple[str, str]:
    """Decode `data` strictly and return the text and the codec used.

    With `encoding` given, only that codec is tried, except that GBK and GB2312
    are read as GB18030. Otherwise the order is a byte order mark, then UTF-16
    recognised by its NUL bytes, then UTF-8, then what charset-normalizer finds
    among Big5 and GB18030. A leading byte order mark never stays in the text.
    """
    if encoding is not None:
        codec = _known_codec(encoding, source=source)
        return _decode_with(data, codec, source=source), codec

    for bom, codec in BOMS:
        if data.startswith(bom):
            return _decode_with(data, codec, source=source), codec

    utf16 = _utf16_without_bom(data)
    if utf16 is not None:
        return _decode_with(data, utf16, source=source), utf16

    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        detected = _decode_detected(data, source=source)
        if detected is not None:
            return detected
        place = _place_of(data, utf8_error.start, "utf-8")
        raise ValidationError(
            f"{source}: cannot detect the text encoding, the file is neither "
            f"Big5/CP950 nor GB18030 nor valid UTF-8, which fails at byte offset "
            f"{utf8_error.start} ({place}); {ENCODING_HINT}",
            reason="bad-encoding",
        ) from utf8_error


def _known_codec(encoding: str, *, source: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError as exc:
        raise ValidationError(
            f"{source}: unknown text encoding {encoding!r}; {ENCODING_HINT}",
            reason="bad-encoding",
        ) from exc
    return SUPERSET_CODECS.get(name, name)


def _utf16_without_bom(data: bytes) -> str | None:
    """Return `utf-16-le` or `utf-16-be` when NUL bytes show UTF-16 text.

    Text in UTF-8 or a legacy code page has no NUL bytes. UTF-16 text has one in
    every ASCII character (delimiters, digits, line ends), always in the high byte
    of the pair, so the NUL bytes crowd into odd offsets for little-endian and
    into even offsets for big-endian.
    """
    sample = data[: UTF16_SAMPLE_BYTES - UTF16_SAMPLE_BYTES % 2]
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    if odd >= pairs / 5 and odd >= 4 * even:
        return "utf-16-le"
    if even >= pairs / 5 and even >= 4 * odd:
        return "utf-16-be"
    return None


def _decode_with(data: bytes, codec: str, *, source: str) -> str:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"{source}: invalid {codec} byte sequence "
            f"{data[exc.start : exc.end].hex(' ')} at byte offset {exc.start} "
            f"({_place_of(data, exc.start, codec)}); {ENCODING_HINT}",
            reason="bad-encoding",
        ) from exc
    return text.removeprefix("\ufeff")


def _decode_detected(data: bytes, *, source: str) -> tuple[str, str] | None:
    """Return text and codec for the first detected codec that decodes `data`."""
    matches = charset_normalizer.from_bytes(data, cp_isolation=DETECTED_CODECS)
    for match in matches:
        for codec in WIDER_CODECS.get(match.encoding, [match.encoding]):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                logger.debug(
                    "%s: detected %s but %s does not decode it",
                    source,
                    match.encoding,
                    codec,
                )
                continue
            logger.debug("%s: decoded as %s", source, codec)
            return text, codec
    return None


def _place_of(data: bytes, offset: int, codec: str) -> str:
    """Return the line and column number of byte `offset`, for a message.

    The bytes before `offset` are decoded with replacement characters only to
    count lines and delimiters, never to produce values. The column counts
    delimiters on the line and ignores quoting, so it is an estimate for lines
    with quoted delimiters. The column is named by its position, because the
    first line may be a data row rather than a header, and its cells may be
    personal data.
    """
    before = data[:offset].decode(codec, errors="replace")
    line = before.count("\n") + 1
    if line == 1:
        return "line 1"
    delimiter = detect_delimiter(before)
    line_text = before.rsplit("\n", 1)[-1]
    return f"line {line}, column {line_text.count(delimiter) + 1}"


def split_records(
    text: str, *, source: str, delimiter: str | None
) -> tuple[list[RawRow], str]:
    """Split delimited `text` into raw rows and return them with the delimiter.

    A row's number is the line on which its record starts, since a quoted cell
    may run over several lines. Empty cells become `None`. `delimiter=None`
    detects a comma, tab or semicolon. A cell longer than `MAX_CELL_CHARS`
    raises `ValidationError` naming its row and column number.
    """
    if delimiter is None:
        delimiter = detect_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[RawRow] = []
    line = 1
    try:
        for record in reader:
            if record and max(map(len, record)) > MAX_CELL_CHARS:
                position = next(
                    index
                    for index, cell in enumerate(record, start=1)
                    if len(cell) > MAX_CELL_CHARS
                )
                raise too_long_error(f"{source}, row {line}, column {position}")
            rows.append((line, [cell if cell != "" else None for cell in record]))
            line = reader.line_num + 1
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            # The csv module stops before the field ends, and at 131,072
            # characters by default, so the column is found by counting.
            position = _long_field_position(text, line, delimiter)
            raise too_long_error(f"{source}, row {line}, column {position}") from None
        raise ValidationError(
            f"{source}, row {line}: invalid delimited text ({exc}); check the "
            "quotes in that record",
            reason="bad-csv",
        ) from exc
    return rows, delimiter


def _long_field_position(text: str, line: int, delimiter: str) -> int:
    """Return the 1-based position of the first over-long field of the record
    that starts on `line`, following the quoting rules of the `csv` module."""
    lines = io.StringIO(text, newline="")
    for _ in range(line - 1):
        lines.readline()
    position = 1
    length = 0
    quoted = False
    previous = ""
    for index in range(lines.tell(), len(text)):
        character = text[index]
        if quoted:
            quoted = character != '"'
        elif character == '"' and (length == 0 or previous == '"'):
            # A field's opening quote, or the second quote of a doubled one.
            quoted = True
        elif character == delimiter:
            position += 1
            length = -1
        length += 1
        previous = character
        if length > MAX_CELL_CHARS:
            break
    return position


def detect_delimiter(text: str) -> str:
    """Return the comma, tab or semicolon that splits the first records most evenly.

    Each candidate splits a sample of records. The winner gives the same number
    of fields, more than one, to the most records, and then the most fields.
    A file with one column gets a comma.
    """
    sample = text[:DELIMITER_SAMPLE_CHARS]
    best = ","
    best_score = (0, 0)
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        try:
            widths = [len(record) for record in reader if record][
                :DELIMITER_SAMPLE_ROWS
            ]
        except csv.Error:
            # The full parse reports the fault with its row number.
            continue
        if not widths:
            continue
        width, agreeing = Counter(widths).most_common(1)[0]
        if width > 1 and (agreeing, width) > best_score:
            best, best_score = delimiter, (agreeing, width)
    return best
