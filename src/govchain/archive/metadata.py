"""Archival metadata of an item: reference code, title, date, retention, security.

A metadata file lists one row per archived file. It is CSV (UTF-8, a header
row) or JSON (a list of objects) with these columns; the Chinese archival
names are accepted as headers too:

| column | also | meaning |
|---|---|---|
| path | 路径 | file path relative to the ingested folder or bag payload |
| fonds | 全宗号 | fonds code |
| volume | 案卷号 | volume (file unit) number within the fonds |
| item | 件号 | item number within the volume |
| title | 题名 | title (may name people: it never leaves the node) |
| date | 日期 | date of the document: YYYY, YYYY-MM or YYYY-MM-DD |
| retention | 保管期限 | `permanent` (永久) or a number of years: `30y`, `10年` |
| classification | 密级 | `public`, `internal`, `secret`, `confidential`, `top_secret` |
| creator | 责任者 | optional: the department or office that made it |
| description | 附注 | optional free text |

The ledger holds only the SHA-256 of the canonical JSON of an item's metadata
(`metadata_hash`), never the metadata itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govchain.errors import ValidationError
from govchain.ledger.canonical import canonical_json

PERMANENT = "permanent"
CLASSIFICATIONS = ("public", "internal", "secret", "confidential", "top_secret")
_CLASSIFICATION_ALIASES = {
    "公开": "public",
    "内部": "internal",
    "秘密": "secret",
    "机密": "confidential",
    "绝密": "top_secret",
}
_HEADER_ALIASES = {
    "路径": "path",
    "全宗号": "fonds",
    "案卷号": "volume",
    "件号": "item",
    "题名": "title",
    "日期": "date",
    "保管期限": "retention",
    "密级": "classification",
    "责任者": "creator",
    "附注": "description",
}
REQUIRED = ("fonds", "volume", "item", "title", "date", "retention", "classification")
OPTIONAL = ("creator", "description")
_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_YEARS_RE = re.compile(r"^(\d{1,3})\s*(?:y|years?|年)$")
_CONTROL_RE = re.compile(
    "[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]"
)


@dataclass(frozen=True)
class Metadata:
    """The archival description of one item, checked and normalized."""

    fonds: str
    volume: str
    item: str
    title: str
    date: str
    retention: str
    classification: str
    creator: str = ""
    description: str = ""

    @property
    def reference(self) -> str:
        """The item's reference code `fonds/volume/item`, unique in the archive."""
        return f"{self.fonds}/{self.volume}/{self.item}"

    def to_dict(self) -> dict[str, str]:
        # Written out because `dataclasses.asdict` copies recursively and was
        # the largest cost of ingesting many small files.
        return {
            "fonds": self.fonds,
            "volume": self.volume,
            "item": self.item,
            "title": self.title,
            "date": self.date,
            "retention": self.retention,
            "classification": self.classification,
            "creator": self.creator,
            "description": self.description,
        }

    def digest(self) -> str:
        """Return the hex SHA-256 of the canonical JSON of `to_dict()`."""
        return hashlib.sha256(canonical_json(self.to_dict())).hexdigest()

    def retain_until(self) -> str:
        """Return the first day the item may be disposed of, or `permanent`.

        Retention counts whole years from 1 January after the document's year,
        as archival retention schedules do, so a 10-year item dated 2014-05-03
        may be disposed of from 2025-01-01.
        """
        if self.retention == PERMANENT:
            return PERMANENT
        years = int(self.retention.removesuffix("y"))
        return f"{int(self.date[:4]) + 1 + years:04d}-01-01"


def parse_metadata(values: dict[str, Any], where: str) -> Metadata:
    """Check one row of metadata; `where` names it in errors (file and row).

    Raises `ValidationError` naming the row and the column at fault. Values
    are never quoted in messages because a title may name a person.
    """
    fields: dict[str, str] = {}
    for name in (*REQUIRED, *OPTIONAL):
        raw = values.get(name, "")
        if raw is None:
            raw = ""
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)
        if not isinstance(raw, str):
            raise _bad(where, name, "must be text")
        text = raw.strip()
        if _CONTROL_RE.search(text):
            raise _bad(where, name, "contains control characters; remove them")
        if name in REQUIRED and not text:
            raise _bad(where, name, "is required and empty")
        fields[name] = text
    for name in ("fonds", "volume", "item"):
        if not _CODE_RE.match(fields[name]):
            raise _bad(where, name, "must be 1 to 32 letters, digits, '.', '_' or '-'")
    if len(fields["title"]) > 1000:
        raise _bad(where, "title", "is over 1000 characters")
    fields["date"] = _date(fields["date"], where)
    fields["retention"] = _retention(fields["retention"], where)
    fields["classification"] = _classification(fields["classification"], where)
    return Metadata(**fields)


def _bad(where: str, column: str, fault: str) -> ValidationError:
    return ValidationError(f"{where}, column {column}: {fault}", reason="bad-metadata")


def _date(text: str, where: str) -> str:
    match = _DATE_RE.match(text)
    if match is None:
        raise _bad(where, "date", "must be YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = match.groups()
    try:
        dt.date(int(year), int(month or 1), int(day or 1))
    except ValueError as exc:
        raise _bad(where, "date", f"is not a calendar date ({exc})") from exc
    return text


def _retention(text: str, where: str) -> str:
    lowered = text.casefold()
    if lowered in (PERMANENT, "永久"):
        return PERMANENT
    match = _YEARS_RE.match(lowered)
    if match is None or int(match.group(1)) == 0:
        raise _bad(
            where, "retention", "must be permanent (永久) or years such as 30y or 10年"
        )
    return f"{int(match.group(1))}y"


def _classification(text: str, where: str) -> str:
    value = _CLASSIFICATION_ALIASES.get(text, text.casefold())
    if value not in CLASSIFICATIONS:
        raise _bad(
            where, "classification", f"must be one of {', '.join(CLASSIFICATIONS)}"
        )
    return value


def read_metadata_file(path: Path) -> dict[str, Metadata]:
    """Read a CSV or JSON metadata file into `{relative path: Metadata}`.

    Raises `ValidationError` naming the file, row and column of the first bad
    value, or a path listed twice.
    """
    try:
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(
            f"metadata file {path} is unreadable: {exc}; save it as UTF-8 CSV or JSON",
            reason="bad-metadata",
        ) from exc
    rows = _json_rows(text, path) if path.suffix.lower() == ".json" else None
    if rows is None:
        rows = _csv_rows(text, path)
    out: dict[str, Metadata] = {}
    for number, row in rows:
        where = f"{path}, row {number}"
        relative = str(row.get("path", "")).strip().replace("\\", "/")
        if not relative:
            raise _bad(where, "path", "is required and empty")
        if relative in out:
            raise _bad(where, "path", "lists a file that an earlier row lists too")
        out[relative] = parse_metadata(row, where)
    return out


def _csv_rows(text: str, path: Path) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = [
            _HEADER_ALIASES.get(h.strip(), h.strip().lower()) for h in next(reader)
        ]
    except StopIteration as exc:
        raise ValidationError(
            f"metadata file {path} is empty; add a header row and one row per file",
            reason="bad-metadata",
        ) from exc
    missing = [c for c in ("path", *REQUIRED) if c not in header]
    if missing:
        raise ValidationError(
            f"metadata file {path}: header lacks the column(s) {', '.join(missing)}",
            reason="bad-metadata",
        )
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise ValidationError(
                f"metadata file {path}, row {number}: {len(cells)} cells for "
                f"{len(header)} columns; quote values that contain commas",
                reason="bad-metadata",
            )
        rows.append((number, dict(zip(header, cells, strict=True))))
    return rows


def _json_rows(text: str, path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValidationError(
            f"metadata file {path} is not valid JSON: {exc}", reason="bad-metadata"
        ) from exc
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise ValidationError(
            f"metadata file {path} must be a JSON list of objects, one per file",
            reason="bad-metadata",
        )
    return [
        (n, {_HEADER_ALIASES.get(k, k): v for k, v in row.items()})
        for n, row in enumerate(data, start=1)
    ]
