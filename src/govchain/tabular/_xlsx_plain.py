"""Read the rows of a plainly written worksheet part with regular expressions.

ElementTree builds an element per cell, which limits `_xlsx` to a few thousand
rows per second. Spreadsheet programs write `<sheetData>` in one fixed shape:
`<row r=.. ...>` elements holding `<c r=.. s=.. t=..>` cells with a `<v>`
value or an `<is><t>` inline string, and nothing between them. This module
reads that shape with two regular expressions and hands each cell to the same
`typed_text` as the ElementTree reader, so numbers, dates, booleans, errors
and shared strings are converted and noted the same way.

It returns None, and the caller parses the part with ElementTree, unless the
row and cell patterns tile the whole of `<sheetData>` with nothing left over.
A formula, rich text, a phonetic run, a comment, white space between
elements, a namespace prefix or an attribute the patterns do not list all
break the tiling. Character references, CDATA sections, hidden rows or
columns and a declared encoding other than UTF-8 are sent to ElementTree as
well. Text gets the XML line-end normalization and the five predefined
entities, as an XML parser would apply them.
"""

from __future__ import annotations

import re

from govchain.tabular._raw import Cells, MergedRange, RawSheet
from govchain.tabular._xlsx import (
    _column_index,
    _Context,
    _shared_string,
    check_length,
    parse_range,
    typed_text,
    unescape,
)

_ROW = re.compile(rb'<row((?: [A-Za-z:]+="[^"]*")*)(?:/>|>(.*?)</row>)', re.DOTALL)
_ROW_NUMBER = re.compile(rb' r="([0-9]{1,7})"')
#: One cell. The value and inline-string groups keep their tags, because
#: `findall` gives b"" for a group that did not take part, and an empty `<v></v>`
#: must stay apart from a missing one.
_CELL_TEXT = (
    rb'<c(?: r="([A-Z]{1,3})[0-9]{1,7}")?(?: s="([0-9]{1,6})")?'
    rb'(?: t="([A-Za-z]{1,9})")?'
    rb'(?:/>|>(<v>[^<]*</v>|<is><t(?: xml:space="preserve")?>[^<]*</t></is>)?</c>)'
)
_CELL = re.compile(_CELL_TEXT)
_CELLS = re.compile(rb"(?:" + _CELL_TEXT + rb")*")
_INLINE_START = re.compile(rb'<is><t(?: xml:space="preserve")?>')
_MERGE = re.compile(rb'<mergeCell ref="([A-Z0-9:]{2,32})"/>')
_ENTITIES = (
    (b"&lt;", b"<"),
    (b"&gt;", b">"),
    (b"&quot;", b'"'),
    (b"&apos;", b"'"),
    (b"&amp;", b"&"),
)


class _NotPlain(Exception):
    """The part is not in the plain shape; parse it with ElementTree."""


def is_utf8_part(part: bytes) -> bool:
    """Return whether an XML part declares no encoding or UTF-8.

    The plain readers split bytes, so they read only UTF-8 parts.
    """
    prolog = part[:200]
    return b"encoding=" not in prolog or b'encoding="UTF-8"' in prolog.replace(
        b"utf-8", b"UTF-8"
    )


def read_plain_sheet(
    data: bytes, name: str, context: _Context
) -> tuple[RawSheet, list[MergedRange]] | None:
    """Return the rows and merged ranges of a plain sheet part, or None.

    Conversions record their kinds and notes in `context`, as the ElementTree
    reader does. A None result may leave some in it, so the caller starts
    again with a fresh context.
    """
    if not is_utf8_part(data):
        return None
    start = data.find(b"<sheetData>")
    end = data.find(b"</sheetData>")
    if start < 0 or end < start:
        return None
    head, tail = data[:start], data[end:]
    if b"hidden" in head or b"mergeCell" in head:
        return None
    if b"<![CDATA[" in data or b"&#" in data:
        return None
    merges_found = _MERGE.findall(tail)
    if tail.count(b"mergeCell ") != len(merges_found) or b":mergeCell" in tail:
        return None
    raw = RawSheet(name=name, rows=[])
    try:
        _read_rows(data, start + len(b"<sheetData>"), end, raw, context)
    except (_NotPlain, UnicodeDecodeError):
        return None
    merges = [parse_range(ref.decode("ascii")) for ref in merges_found]
    raw.rows.sort(key=lambda row: row[0])
    raw.kinds = context.kinds
    raw.notes = context.notes
    return raw, [m for m in merges if m is not None]


def _read_rows(
    data: bytes, start: int, end: int, raw: RawSheet, context: _Context
) -> None:
    position = start
    number = 0
    for row in _ROW.finditer(data, start, end):
        if row.start() != position:
            raise _NotPlain
        position = row.end()
        attributes, body = row.group(1), row.group(2)
        if b"hidden" in attributes:
            raise _NotPlain
        given = _ROW_NUMBER.search(attributes)
        number = int(given.group(1)) if given else number + 1
        if not body:
            continue
        if not _CELLS.fullmatch(body):
            raise _NotPlain
        values: dict[int, str] = {}
        column = -1
        for letters, style, kind, stored in _CELL.findall(body):
            column = _column_index(letters.decode("ascii")) if letters else column + 1
            value = inline = None
            if stored.startswith(b"<v>"):
                value = stored[3:-4]
            elif stored:
                inline = stored[_INLINE_START.match(stored).end() : -9]  # type: ignore[union-attr]
            # The two cell types of plain text, spelled out because they are
            # nearly every cell; `typed_text` gives the same for them.
            if kind == b"inlineStr" and inline is not None:
                text: str | None = _text(inline)
            elif kind == b"s" and value is not None:
                text = _shared_string(context, _text(value), row=number, column=column)
            else:
                text = typed_text(
                    context,
                    kind.decode("ascii") if kind else "n",
                    value=None if value is None else _text(value),
                    inline=None if inline is None else _text(inline),
                    has_formula=False,
                    style=style.decode("ascii") if style else None,
                    row=number,
                    column=column,
                )
            check_length(context, text, row=number, column=column)
            if text is not None and text != "":
                values[column] = text
        if values:
            cells: Cells = [None] * (max(values) + 1)
            for index, text in values.items():
                cells[index] = text
            raw.rows.append((number, cells))
    if position != end:
        raise _NotPlain


def _text(value: bytes) -> str:
    """Decode element text as an XML parser would, with OOXML `_xHHHH_` escapes."""
    if b"\r" not in value and b"&" not in value and b"_x" not in value:
        return value.decode("utf-8")
    if b"\r" in value:
        value = value.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if b"&" in value:
        # Any other entity is undefined in OOXML parts, and ElementTree rejects it.
        if value.count(b"&") != sum(value.count(e) for e, _ in _ENTITIES):
            raise _NotPlain
        for entity, character in _ENTITIES:
            value = value.replace(entity, character)
    return unescape(value.decode("utf-8"))
