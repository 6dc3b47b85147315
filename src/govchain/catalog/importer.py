"""Import whole open-data catalogs published by local governments.

`read_catalog` reads a catalog file with `govchain.tabular.read_table`, picks
the layout by its header columns and turns every row into a `CatalogEntry`, or
into one or more `RowProblem`s that give the reason why not. Two layouts are known:

- the Taoyuan City supply list (資料集目錄), whose agency cells carry the
  national agency code, such as `380120000J 【社會局】`;
- the Yilan County catalog, whose 資料來源 names a department and section, such
  as `民政處_宗教禮俗科`, without a code.

Contact columns (聯絡人, 電話, 電子郵件) are personal data and are never read.
E-mail addresses and telephone numbers that appear inside free text are cut out
before the text reaches an entry.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from govchain.errors import ValidationError
from govchain.governance.personal_data import mask_personal_data
from govchain.tabular import Table, read_table

logger = logging.getLogger(__name__)

__all__ = [
    "Agency",
    "CatalogEntry",
    "CatalogImport",
    "RowProblem",
    "read_catalog",
]


@dataclass(frozen=True)
class Agency:
    """A government agency that provides datasets."""

    code: str
    """Agency code: the national code where the catalog gives one, else a derived id."""
    name: str


@dataclass(frozen=True)
class CatalogEntry:
    """One dataset as a catalog describes it, without contact details."""

    row: int
    """1-based physical row of the entry in the catalog file."""
    title: str
    description: str
    agency: Agency
    category: str
    """Category name, "" when the catalog has none."""
    update_frequency: str
    """Update frequency as published (每月, 不定期), "" when the catalog has none."""
    fields: tuple[str, ...]
    """Main field names where the catalog lists them."""
    tags: tuple[str, ...]
    formats: tuple[str, ...]
    """File formats in upper case, such as CSV and JSON."""


@dataclass(frozen=True)
class RowProblem:
    """A reason why a catalog row did not become an entry."""

    row: int
    column: str | None
    """Column at fault, `None` when the fault concerns the whole row."""
    message: str


@dataclass(frozen=True)
class CatalogImport:
    """Result of importing one catalog file."""

    source: str
    """File name without its folder."""
    entries: list[CatalogEntry]
    problems: list[RowProblem]
    agencies: list[Agency]
    """Agencies named by the entries, sorted by code."""


# -- Free-text cleaning ------------------------------------------------------

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: Telephone numbers as Taiwan and mainland catalogs write them: landlines with
#: an area code such as (03)925-1000, 03-3322101#6307, 0800-033-355 or
#: 010-12345678, Taiwan mobiles such as 0912-345-678 and mainland mobiles such as
#: 13812345678.
PHONE = re.compile(
    r"(?<!\d)(?:\(0\d{1,3}\)\s?|0\d{1,3}-)\d{3,4}-?\d{3,4}"
    r"(?:\s?(?:#|分機|轉|ext\.?)\s?\d{1,5})?(?!\d)"
    r"|(?<!\d)09\d{2}-?\d{3}-?\d{3}(?!\d)"
    r"|(?<!\d)1[3-9]\d{9}(?!\d)"
)
CONTACT_REMOVED = "[contact removed]"

#: Separators between list items, outside brackets.
LIST_SEPARATORS = frozenset("、，,；;\t\r\n")
OPENING_BRACKETS = "(（[【"
CLOSING_BRACKETS = ")）]】"
#: A main-fields item longer than this is prose, not a field name.
MAX_FIELD_NAME_CHARS = 40


def _text(cell: str | None) -> str:
    return (cell or "").strip()


def _remove_contacts(text: str) -> str:
    """Return `text` with e-mail addresses and telephone numbers replaced."""
    return PHONE.sub(CONTACT_REMOVED, EMAIL.sub(CONTACT_REMOVED, text))


def _has_contact(text: str) -> bool:
    return bool(EMAIL.search(text) or PHONE.search(text))


def _split_list(text: str) -> list[str]:
    """Split a published list on 、 , ; tabs and line breaks outside brackets."""
    items: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in OPENING_BRACKETS:
            depth += 1
        elif char in CLOSING_BRACKETS:
            depth = max(depth - 1, 0)
        if depth == 0 and char in LIST_SEPARATORS:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _tags(cell: str | None) -> tuple[str, ...]:
    return _unique([tag for tag in _split_list(_text(cell)) if not _has_contact(tag)])


def _formats(*cells: str | None) -> tuple[str, ...]:
    return _unique(
        [item.upper() for cell in cells for item in _split_list(_text(cell))]
    )


def _field_names(cell: str | None) -> tuple[str, ...]:
    """Return the field names of a main-fields cell.

    Items look like `通報日期(通報日期)` or `電話：03-3322101`, so each name is
    the text before the first bracket or colon. Example values, which may be
    telephone numbers, sit after it and are dropped.

    NOTE: some agencies paste prose or whole regulations into this column, so
    the result is a best effort. Items longer than MAX_FIELD_NAME_CHARS are
    taken as prose and left out.
    """
    names: list[str] = []
    for item in _split_list(_text(cell)):
        name = re.split(r"[(（:：]", item, maxsplit=1)[0].strip(" \"'\u3000")
        if name and len(name) <= MAX_FIELD_NAME_CHARS and not _has_contact(name):
            names.append(name)
    return _unique(names)


# -- Layouts -----------------------------------------------------------------

#: Row values by column name, only for the columns that a layout reads.
Row = dict[str, str | None]


@dataclass(frozen=True)
class _Parsed:
    """Values a layout reads from one row, before the checks common to all layouts."""

    title: str
    description: str
    agency: Agency | RowProblem
    category: str = ""
    update_frequency: str = ""
    fields: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Layout:
    name: str
    title_column: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    parse: Callable[[int, Row], _Parsed]


TAOYUAN_AGENCY = re.compile(r"^([0-9A-Z]{10})\s*(?:【\s*(.+?)\s*】|\s(.+))$")
#: A trailing count such as the `(146)` of `生活安全及品質 (146)`, which the
#: Taoyuan portal adds to each category name.
CATEGORY_COUNT = re.compile(r"\s*[(（]\s*\d+\s*[)）]\s*$")


def _parse_taoyuan(row_number: int, row: Row) -> _Parsed:
    agency_column = "資料集提供機關"
    agency_cell = _text(row[agency_column]) or _text(row.get("資料來源"))
    agency: Agency | RowProblem
    match = TAOYUAN_AGENCY.match(agency_cell)
    if not agency_cell:
        agency = RowProblem(row_number, agency_column, "missing providing agency")
    elif match is None:
        agency = RowProblem(
            row_number,
            agency_column,
            "providing agency has no agency code, "
            "expected the form 380120000J 【社會局】",
        )
    else:
        agency = Agency(code=match.group(1), name=match.group(2) or match.group(3))
    return _Parsed(
        title=_remove_contacts(_text(row["資料名稱"])),
        description=_remove_contacts(_text(row["資料集描述"])),
        agency=agency,
        category=CATEGORY_COUNT.sub("", _text(row.get("分類及編號"))),
        update_frequency=_text(row.get("更新頻率")),
        fields=_field_names(row.get("主要欄位")),
        tags=_tags(row.get("標籤/關鍵字")),
        formats=_formats(row.get("檔案格式"), row.get("資源格式")),
    )


def _yilan_agency(department: str) -> Agency:
    """Return the agency for a Yilan County department such as `民政處`.

    The Yilan catalog gives no agency codes. The code is `yilan-` and the first
    10 hex digits of SHA-256 over the department name in UTF-8, so it is ASCII,
    fits catalog identifiers and stays the same across imports.
    """
    digest = hashlib.sha256(department.encode("utf-8")).hexdigest()
    return Agency(code=f"yilan-{digest[:10]}", name=department)


def _parse_yilan(row_number: int, row: Row) -> _Parsed:
    # 資料來源 is `department_section`, and the department is the agency.
    department = _text(row["資料來源"]).split("_", 1)[0].strip()
    agency: Agency | RowProblem
    if department:
        agency = _yilan_agency(department)
    else:
        agency = RowProblem(row_number, "資料來源", "missing providing department")
    return _Parsed(
        title=_remove_contacts(_text(row["資料集名稱"])),
        description=_remove_contacts(_text(row["資料說明"])),
        agency=agency,
    )


LAYOUTS = (
    _Layout(
        name="Taoyuan supply list",
        title_column="資料名稱",
        required=("資料名稱", "資料集提供機關", "資料集描述"),
        optional=(
            "資料來源",
            "分類及編號",
            "更新頻率",
            "主要欄位",
            "標籤/關鍵字",
            "檔案格式",
            "資源格式",
        ),
        parse=_parse_taoyuan,
    ),
    _Layout(
        name="Yilan catalog",
        title_column="資料集名稱",
        required=("資料集名稱", "資料來源", "資料說明"),
        optional=(),
        parse=_parse_yilan,
    ),
)


def _choose_layout(table: Table) -> _Layout:
    for layout in LAYOUTS:
        if all(column in table.header for column in layout.required):
            return layout
    expected = "; ".join(
        f"{layout.name}: {', '.join(layout.required)}" for layout in LAYOUTS
    )
    # The header may be a data row, so ID and mobile numbers in it are masked.
    header = ", ".join(mask_personal_data(name) for name in table.header)
    raise ValidationError(
        f"{table.source}: unknown catalog layout, the header has {header}; "
        f"expected the columns of a known layout ({expected})",
        reason="unknown-layout",
    )


# -- Import ------------------------------------------------------------------


def read_catalog(path: Path) -> CatalogImport:
    """Read a catalog file and return its entries, row problems and agencies.

    Every data row becomes either an entry or at least one `RowProblem`: a
    missing title, a missing or uncoded agency, or a repeat of an earlier row in
    every field that an entry carries.

    Raises `ValidationError` when the file cannot be read or its header matches
    no known layout.
    """
    table = read_table(Path(path))
    layout = _choose_layout(table)
    logger.debug("%s: reading as %s", table.source, layout.name)
    columns = [
        (name, table.header.index(name))
        for name in layout.required + layout.optional
        if name in table.header
    ]

    entries: list[CatalogEntry] = []
    problems: list[RowProblem] = []
    first_rows: dict[CatalogEntry, int] = {}
    for row_number, cells in zip(table.row_numbers, table.rows, strict=True):
        row: Row = {name: cells[index] for name, index in columns}
        result = _entry_or_problems(layout, row_number, row)
        if isinstance(result, list):
            problems.extend(result)
            continue
        # Identical rows collide once the row number is zeroed.
        key = replace(result, row=0)
        if key in first_rows:
            message = (
                f"duplicate of row {first_rows[key]}, every catalog field is the same"
            )
            problems.append(RowProblem(row_number, None, message))
            continue
        first_rows[key] = row_number
        entries.append(result)

    return CatalogImport(
        source=table.source,
        entries=entries,
        problems=problems,
        agencies=_agencies(entries),
    )


def _entry_or_problems(
    layout: _Layout, row_number: int, row: Row
) -> CatalogEntry | list[RowProblem]:
    parsed = layout.parse(row_number, row)
    problems = []
    if not parsed.title:
        problems.append(
            RowProblem(row_number, layout.title_column, "missing dataset title")
        )
    agency = parsed.agency
    if isinstance(agency, RowProblem):
        return [*problems, agency]
    if problems:
        return problems
    return CatalogEntry(
        row=row_number,
        title=parsed.title,
        description=parsed.description,
        agency=agency,
        category=parsed.category,
        update_frequency=parsed.update_frequency,
        fields=parsed.fields,
        tags=parsed.tags,
        formats=parsed.formats,
    )


def _agencies(entries: list[CatalogEntry]) -> list[Agency]:
    """Return the distinct agencies of `entries` sorted by code."""
    by_code: dict[str, Agency] = {}
    for entry in entries:
        by_code.setdefault(entry.agency.code, entry.agency)
    return [by_code[code] for code in sorted(by_code)]
