"""Read one worksheet of an .xlsx or .xlsm workbook by streaming its XML parts.

python-calamine reads the other workbook formats. For Office Open XML this module
reads the zip parts with `zipfile` and `xml.etree.ElementTree.iterparse` instead,
because python-calamine 0.9 hides what an importer has to report:

- it stores a sheet as a dense grid, so one stray space in cell E1048576 makes it
  allocate and return 1,048,576 rows (about 160 MB). Here only rows that contain a
  value are kept, whatever the sheet's `<dimension>` claims;
- it turns date serials 59 and 60 alike into 1900-02-28, so the non-existent
  1900-02-29 cannot be reported. Here the stored serial is converted;
- it does not expose formulas without a saved result, hidden rows or hidden
  columns.

The parts are parsed with expat, which since version 2.4 limits entity expansion
("billion laughs"), and ElementTree never loads external entities. Rows are
processed and dropped one at a time, so memory grows with the number of filled
cells and of shared strings, not with the size the sheet claims.

Every part is read through `_limits.LimitedPart`, so a cell or text run too
long for a spreadsheet program is rejected before it is parsed into a string.

NOTE: the uncompressed size of a part is not limited, so a small file that
inflates to millions of filled cells (a zip bomb) costs memory for all of them.
"""

from __future__ import annotations

import functools
import logging
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

from govchain.errors import ValidationError
from govchain.tabular._limits import (
    MAX_CELL_CHARS,
    open_limited,
    read_limited,
    too_long_error,
)
from govchain.tabular._raw import (
    CellKind,
    CellNote,
    Cells,
    MergedRange,
    RawSheet,
    cell_reference,
)
from govchain.tabular._sheet import SheetEntry, choose_sheet, sheet_notes
from govchain.tabular._values import (
    BUILTIN_FORMATS,
    FormatClass,
    classify_format,
    number_cell,
    serial_cell,
)

logger = logging.getLogger(__name__)

#: Relationship types end with these names in both transitional and strict OOXML.
WORKSHEET_TYPE = "/worksheet"
OFFICE_DOCUMENT_TYPE = "/officeDocument"

_REFERENCE = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")
#: OOXML escapes characters that XML cannot carry as `_xHHHH_`, and a literal
#: `_x` sequence as `_x005F_x...` (ECMA-376 Part 1, 22.9.2.19 ST_Xstring).
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")

_TRUE = {"1", "true"}

#: Kind of a numeric cell by its number format: a datetime is a date with a time.
_KINDS: dict[FormatClass, CellKind] = {
    "date": "date",
    "datetime": "date",
    "time": "time",
    "duration": "duration",
}


@dataclass
class _Book:
    """Sheets, date system and part names read from the workbook part."""

    sheets: list[SheetEntry]
    date1904: bool
    styles_part: str | None
    strings_part: str | None


@dataclass
class _Context:
    """Shared strings, number formats and date system for cell conversion, and
    the kinds and notes that conversion records."""

    source: str
    sheet: str
    strings: list[str]
    formats: list[FormatClass | None]
    date1904: bool
    kinds: dict[tuple[int, int], CellKind] = field(default_factory=dict)
    notes: list[CellNote] = field(default_factory=list)


def read_xlsx(path: Path, *, source: str, sheet: str | None) -> RawSheet:
    """Return the rows of one worksheet of an .xlsx or .xlsm file.

    `sheet=None` reads the first visible worksheet. Raises `ValidationError` when
    the file is not a readable workbook or has no such sheet.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _bad_workbook(source, exc) from exc
    with archive:
        try:
            book = _read_book(archive, source=source)
            entry = choose_sheet(book.sheets, source=source, sheet=sheet)
            context = _Context(
                source=source,
                sheet=entry.name,
                strings=_read_strings(
                    archive, book.strings_part, place=_place(source, entry.name)
                ),
                formats=_read_formats(archive, book.styles_part, source=source),
                date1904=book.date1904,
            )
            raw = _read_plain(archive, entry, context)
            if raw is None:
                context = replace(context, kinds={}, notes=[])
                raw = _read_worksheet(archive, entry, context)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise _bad_workbook(source, exc) from exc
        except ElementTree.ParseError as exc:
            raise ValidationError(
                f"{source}: the workbook contains malformed XML ({exc}); open it "
                "in a spreadsheet program and save it again",
                reason="bad-workbook",
            ) from exc
    raw.notes[:0] = sheet_notes(book.sheets, entry)
    logger.debug("%s, sheet %r: %d non-empty rows", source, entry.name, len(raw.rows))
    return raw


#: Largest uncompressed sheet part read whole for the regular-expression path.
PLAIN_PART_LIMIT = 1 << 30


def _read_plain(
    archive: zipfile.ZipFile, entry: SheetEntry, context: _Context
) -> RawSheet | None:
    """Return the sheet read by `_xlsx_plain`, or None to parse it with ElementTree."""
    info = archive.NameToInfo.get(entry.part)
    if info is None or info.file_size > PLAIN_PART_LIMIT:
        return None
    # Imported here because `_xlsx_plain` builds on this module's cell functions.
    from govchain.tabular._xlsx_plain import read_plain_sheet

    place = _place(context.source, entry.name)
    data = read_limited(archive.open(entry.part), place)
    plain = read_plain_sheet(data, entry.name, context)
    if plain is None:
        logger.debug(
            "%s, sheet %r: not plain, parsing as XML", context.source, entry.name
        )
        return None
    raw, merges = plain
    raw.merges = merges
    return raw


def _bad_workbook(source: str, exc: BaseException) -> ValidationError:
    return ValidationError(
        f"{source}: cannot open the workbook ({exc}); check that the file is a "
        "complete, unencrypted .xlsx, .xls, .xlsb or .ods file",
        reason="bad-workbook",
    )


@functools.lru_cache(maxsize=1024)
def _local(tag: str) -> str:
    """Return an element or attribute name without its namespace."""
    return tag.rsplit("}", 1)[-1]


def _place(source: str, sheet: str) -> str:
    return f"{source}, sheet {sheet!r}"


def _parse(archive: zipfile.ZipFile, part: str, *, source: str) -> ElementTree.Element:
    with _open_part(archive, part, f"{source}, part {part}") as stream:
        return ElementTree.parse(stream).getroot()


def _open_part(archive: zipfile.ZipFile, part: str, place: str) -> IO[bytes]:
    """Open `part`, raising `ValidationError` on a text run too long for a cell."""
    try:
        return open_limited(archive.open(part), place)
    except KeyError:
        raise zipfile.BadZipFile(f"part {part!r} is missing") from None


def _relationships(
    archive: zipfile.ZipFile, part: str, *, source: str
) -> dict[str, tuple[str, str]]:
    """Return the relationships of `part` as id: (type, target part)."""
    folder, name = posixpath.split(part)
    rels_part = posixpath.join(folder, "_rels", f"{name}.rels")
    if rels_part not in archive.NameToInfo:
        return {}
    relations: dict[str, tuple[str, str]] = {}
    for element in _parse(archive, rels_part, source=source):
        target = element.get("Target", "")
        if element.get("TargetMode") == "External":
            continue
        if target.startswith("/"):
            resolved = target.lstrip("/")
        else:
            resolved = posixpath.normpath(posixpath.join(folder, target))
        relations[element.get("Id", "")] = (element.get("Type", ""), resolved)
    return relations


def _read_book(archive: zipfile.ZipFile, *, source: str) -> _Book:
    book_part = "xl/workbook.xml"
    for kind, target in _relationships(archive, "", source=source).values():
        if kind.endswith(OFFICE_DOCUMENT_TYPE):
            book_part = target
    relations = _relationships(archive, book_part, source=source)
    root = _parse(archive, book_part, source=source)
    date1904 = False
    sheets: list[SheetEntry] = []
    for element in root.iter():
        name = _local(element.tag)
        if name == "workbookPr":
            date1904 = element.get("date1904", "").lower() in _TRUE
        elif name == "sheet":
            relation_id = next(
                (value for key, value in element.attrib.items() if _local(key) == "id"),
                "",
            )
            kind, target = relations.get(relation_id, ("", ""))
            sheets.append(
                SheetEntry(
                    name=element.get("name", ""),
                    state=element.get("state", "visible"),
                    is_worksheet=kind.endswith(WORKSHEET_TYPE),
                    part=target,
                )
            )
    parts = {kind.rsplit("/", 1)[-1]: target for kind, target in relations.values()}
    return _Book(
        sheets=sheets,
        date1904=date1904,
        styles_part=parts.get("styles"),
        strings_part=parts.get("sharedStrings"),
    )


def _read_strings(
    archive: zipfile.ZipFile, part: str | None, *, place: str
) -> list[str]:
    """Return the shared strings table, streaming it so that it is held only once.

    Raises `ValidationError` as soon as the text of one item passes
    `MAX_CELL_CHARS`, so an item of many short runs cannot grow without bound.
    """
    if part is None or part not in archive.NameToInfo:
        return []
    strings: list[str] = []
    length = 0
    with _open_part(archive, part, place) as stream:
        root: ElementTree.Element | None = None
        for event, element in ElementTree.iterparse(stream, events=("start", "end")):
            if root is None:
                root = element
                continue
            if event == "start":
                continue
            name = _local(element.tag)
            if name == "t":
                length += len(element.text or "")
                if length > MAX_CELL_CHARS:
                    raise too_long_error(f"{place}, shared string {len(strings)}")
            elif name == "si":
                strings.append(_rich_text(element))
                root.clear()
                length = 0
    return strings


def _rich_text(element: ElementTree.Element) -> str:
    """Return the text of an `<si>` or `<is>` element without phonetic runs."""
    parts: list[str] = []
    for child in element:
        name = _local(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts.extend(run.text or "" for run in child if _local(run.tag) == "t")
    return unescape("".join(parts))


def unescape(text: str) -> str:
    """Replace OOXML `_xHHHH_` escapes by the characters they stand for."""
    if "_x" not in text:
        return text
    return _ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)


def _read_formats(
    archive: zipfile.ZipFile, part: str | None, *, source: str
) -> list[FormatClass | None]:
    """Return, for each cell style index, how a number with that style is shown."""
    if part is None or part not in archive.NameToInfo:
        return []
    root = _parse(archive, part, source=source)
    custom: dict[int, FormatClass | None] = {}
    formats: list[FormatClass | None] = []
    for element in root:
        name = _local(element.tag)
        if name == "numFmts":
            for number_format in element:
                identifier = _int(number_format.get("numFmtId"))
                custom[identifier] = classify_format(
                    number_format.get("formatCode", "")
                )
        elif name == "cellXfs":
            for style in element:
                identifier = _int(style.get("numFmtId"))
                if identifier in custom:
                    formats.append(custom[identifier])
                else:
                    formats.append(BUILTIN_FORMATS.get(identifier))
    return formats


def _int(text: str | None) -> int:
    try:
        return int(text or "0")
    except ValueError:
        return 0


def _read_worksheet(
    archive: zipfile.ZipFile, entry: SheetEntry, context: _Context
) -> RawSheet:
    raw = RawSheet(name=entry.name, rows=[])
    number = 0
    place = _place(context.source, entry.name)
    with _open_part(archive, entry.part, place) as stream:
        for element in _sheet_elements(stream, place):
            name = _local(element.tag)
            if name == "row":
                # A row without `r` follows the previous one.
                number = _int(element.get("r")) or number + 1
                _add_row(raw, element, context, number)
            elif name == "mergeCell":
                merged = parse_range(element.get("ref", ""))
                if merged is not None:
                    raw.merges.append(merged)
            elif name == "col" and element.get("hidden", "").lower() in _TRUE:
                first, last = _int(element.get("min")), _int(element.get("max"))
                raw.hidden_columns.update(range(max(first, 1) - 1, last))
    raw.rows.sort(key=lambda row: row[0])
    raw.kinds = context.kinds
    raw.notes = context.notes
    return raw


def _sheet_elements(stream: IO[bytes], place: str) -> Iterator[ElementTree.Element]:
    """Yield each finished `<row>`, `<mergeCell>` and `<col>` of a sheet part.

    Processed rows are removed from `<sheetData>`, so the tree never contains
    more than one row. Raises `ValidationError` as soon as the text of one cell
    passes `MAX_CELL_CHARS`, so a cell of many short runs cannot grow without
    bound.
    """
    sheet_data: ElementTree.Element | None = None
    cell = ""
    length = 0
    for event, element in ElementTree.iterparse(stream, events=("start", "end")):
        name = _local(element.tag)
        if event == "start":
            if name == "sheetData":
                sheet_data = element
            elif name == "c":
                cell = element.get("r", "")
                length = 0
            continue
        if name in ("t", "v"):
            length += len(element.text or "")
            if length > MAX_CELL_CHARS:
                raise too_long_error(f"{place}, cell {cell}" if cell else place)
        if name in ("row", "mergeCell", "col"):
            yield element
            if name == "row" and sheet_data is not None:
                sheet_data.clear()


def _add_row(
    raw: RawSheet, element: ElementTree.Element, context: _Context, number: int
) -> None:
    values: dict[int, str] = {}
    column = -1
    for cell in element:
        if _local(cell.tag) != "c":
            continue
        reference = _REFERENCE.fullmatch(cell.get("r", ""))
        column = _column_index(reference.group(1)) if reference else column + 1
        text = _cell_text(cell, context, row=number, column=column)
        check_length(context, text, row=number, column=column)
        if text is not None and text != "":
            values[column] = text
    if not values:
        return
    cells: Cells = [None] * (max(values) + 1)
    for index, text in values.items():
        cells[index] = text
    raw.rows.append((number, cells))
    if element.get("hidden", "").lower() in _TRUE:
        raw.hidden_rows.add(number)


def check_length(context: _Context, text: str | None, *, row: int, column: int) -> None:
    """Raise `ValidationError` when a cell's text passes `MAX_CELL_CHARS`."""
    if text is not None and len(text) > MAX_CELL_CHARS:
        place = f"{_place(context.source, context.sheet)}, row {row}"
        raise too_long_error(f"{place}, cell {cell_reference(row, column)}")


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def parse_range(reference: str) -> MergedRange | None:
    """Return a range such as `B1:C1` as a `MergedRange`, `None` if malformed."""
    first, _, last = reference.upper().partition(":")
    start = _REFERENCE.fullmatch(first)
    end = _REFERENCE.fullmatch(last)
    if start is None or end is None:
        return None
    return MergedRange(
        first_row=int(start.group(2)),
        first_column=_column_index(start.group(1)),
        last_row=int(end.group(2)),
        last_column=_column_index(end.group(1)),
    )


def _cell_text(
    cell: ElementTree.Element, context: _Context, *, row: int, column: int
) -> str | None:
    """Return a cell's value as text, recording its kind and any note.

    `t` is the cell type of ECMA-376 Part 1, 18.18.11: `s` shared string,
    `inlineStr`, `str` formula text, `b` boolean, `e` error, `d` ISO 8601 date,
    and `n` (the default) number.
    """
    cell_type = cell.get("t", "n")
    has_formula = False
    value: str | None = None
    inline: str | None = None
    for child in cell:
        name = _local(child.tag)
        if name == "f":
            has_formula = True
        elif name == "v":
            value = child.text or ""
        elif name == "is":
            inline = _rich_text(child)

    return typed_text(
        context,
        cell_type,
        value=value,
        inline=inline,
        has_formula=has_formula,
        style=cell.get("s"),
        row=row,
        column=column,
    )


def typed_text(
    context: _Context,
    cell_type: str,
    *,
    value: str | None,
    inline: str | None,
    has_formula: bool,
    style: str | None,
    row: int,
    column: int,
) -> str | None:
    """Return a cell's text from its type and stored parts; see `_cell_text`."""
    if cell_type == "inlineStr" and inline is not None:
        return inline
    # openpyxl saves a formula it has not calculated with an empty `<v/>`. Only
    # a text result (`t="str"`) can be empty and still be a saved result.
    unsaved = has_formula and value == "" and cell_type not in ("str", "inlineStr")
    if value is None or unsaved:
        if has_formula:
            context.notes.append(_formula_note(row, column))
        return None

    if cell_type == "s":
        return _shared_string(context, value, row=row, column=column)
    if cell_type in ("str", "inlineStr"):
        return unescape(value)
    if cell_type == "e":
        context.notes.append(_error_note(value, row, column))
        return None
    if cell_type == "b":
        context.kinds[row, column] = "bool"
        return "TRUE" if value.strip() in _TRUE else "FALSE"
    if cell_type == "d":
        context.kinds[row, column] = "date"
        return value.removesuffix("T00:00:00")
    return _number_text(context, value, style, row=row, column=column)


def _shared_string(context: _Context, value: str, *, row: int, column: int) -> str:
    index = _int(value)
    if not 0 <= index < len(context.strings):
        raise ValidationError(
            f"{context.source}, sheet {context.sheet!r}, row {row}: cell "
            f"{cell_reference(row, column)} points to shared string {index}, but the "
            f"workbook has {len(context.strings)}; save the file again in a "
            "spreadsheet program",
            reason="bad-workbook",
        )
    return context.strings[index]


def _number_text(
    context: _Context, value: str, style: str | None, *, row: int, column: int
) -> str | None:
    try:
        number = float(value)
    except ValueError:
        raise ValidationError(
            f"{context.source}, sheet {context.sheet!r}, row {row}: cell "
            f"{cell_reference(row, column)} is a numeric cell whose stored value is "
            "not a number; save the file again in a spreadsheet program",
            reason="bad-workbook",
        ) from None
    style_index = _int(style)
    format_class = (
        context.formats[style_index] if style_index < len(context.formats) else None
    )
    if format_class is None:
        context.kinds[row, column] = "number"
        text, note = number_cell(number, row=row, column=column)
    else:
        context.kinds[row, column] = _KINDS[format_class]
        text, note = serial_cell(
            number, format_class, date1904=context.date1904, row=row, column=column
        )
    if note is not None:
        context.notes.append(note)
    return text


def _formula_note(row: int, column: int) -> CellNote:
    return CellNote(
        "formula-without-value",
        "error",
        row,
        column,
        "cell has a formula but no saved result, as in files written by programs "
        "that do not calculate; open the file in a spreadsheet program, let it "
        "calculate, save it and import it again",
    )


def _error_note(code: str, row: int, column: int) -> CellNote:
    return CellNote(
        "cell-error",
        "warning",
        row,
        column,
        f"cell holds the spreadsheet error {code.strip()[:10]}, read as an empty "
        "cell; correct the formula or enter the value in the file",
    )
