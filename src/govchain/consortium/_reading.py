"""Readers for the values of a parsed TOML document, collecting problems.

Each reader records a problem in a `Report` and returns None when a value is
missing or malformed. The caller then goes on to check the other fields, so the
user sees every problem of a file in one run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Any

#: Marks a key that is absent, where None could be a value.
MISSING: Any = object()
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Report:
    """Problems found so far, one line each, in the order they were found."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{self.source}: {where}: {message}")


def show(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | date | time):
        return f"{type_name(value)} {value}"
    return type_name(value)


def type_name(value: object) -> str:
    names: list[tuple[type, str]] = [
        (bool, "boolean"),
        (int, "integer"),
        (float, "float"),
        (str, "string"),
        (list, "array"),
        (dict, "table"),
        (datetime, "date-time"),
        (date, "date"),
        (time, "time"),
    ]
    for kind, name in names:
        if isinstance(value, kind):
            return name
    return type(value).__name__


def join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def check_fields(
    report: Report, where: str, table: Mapping[str, Any], known: Iterable[str]
) -> None:
    allowed = tuple(known)
    for key in table:
        if key not in allowed:
            report.add(
                join(where, key),
                f"unknown field; check the spelling (known: {', '.join(allowed)})",
            )


def read_table(
    report: Report, parent: Mapping[str, Any], key: str
) -> dict[str, Any] | None:
    value = parent.get(key, MISSING)
    if value is MISSING:
        report.add(key, f"missing table; add a [{key}] table")
        return None
    if not isinstance(value, dict):
        report.add(key, f"expected a table, got {show(value)}; write it as [{key}]")
        return None
    return value


def read_tables(
    report: Report, parent: Mapping[str, Any], where: str, key: str
) -> list[tuple[str, dict[str, Any]]]:
    """Return the tables of the array `key` with their paths, skipping bad entries."""
    value = parent.get(key, MISSING)
    path = join(where, key)
    if value is MISSING:
        report.add(path, f"missing; add at least one [[{path}]] entry")
        return []
    if not isinstance(value, list) or not value:
        report.add(path, f"expected a non-empty array of tables, got {show(value)}")
        return []
    entries = []
    for index, entry in enumerate(value):
        entry_path = f"{path}[{index}]"
        if isinstance(entry, dict):
            entries.append((entry_path, entry))
        else:
            report.add(entry_path, f"expected a table, got {show(entry)}")
    return entries


def read_string(
    report: Report,
    table: Mapping[str, Any],
    where: str,
    key: str,
    *,
    pattern: re.Pattern[str] | None = None,
    hint: str = "",
    required: bool = True,
) -> str | None:
    value = table.get(key, MISSING)
    path = join(where, key)
    if value is MISSING:
        if required:
            report.add(path, f'missing; add {key} = "..."')
        return None
    if not isinstance(value, str):
        report.add(path, f"expected a string, got {show(value)}; quote the value")
        return None
    if not value.strip():
        report.add(path, "empty; give a value")
        return None
    if pattern is not None and not pattern.fullmatch(value):
        report.add(path, f"{show(value)} is invalid; use {hint}")
        return None
    return value


def personal_data_kind(text: str) -> str | None:
    """Return the kind of the first ID or mobile number in `text`, or None."""
    # Imported here because govchain.governance imports govchain.consortium.
    from govchain.governance.personal_data import find_personal_data

    return find_personal_data(text)


def check_personal_data(report: Report, where: str, text: str) -> bool:
    """Report `text` if it contains an ID or mobile number; return whether it is clean.

    The problem names the field and the kind of number, never the text, because
    consortium values end up on the ledger and in messages.
    """
    kind = personal_data_kind(text)
    if kind is None:
        return True
    report.add(
        where,
        f"contains a {kind}; personal data must not be recorded on the ledger, "
        "so remove it",
    )
    return False


def read_integer(
    report: Report,
    table: Mapping[str, Any],
    where: str,
    key: str,
    *,
    low: int,
    high: int,
    default: int | None = None,
    hint: str = "",
) -> int | None:
    value = table.get(key, MISSING)
    path = join(where, key)
    if value is MISSING:
        if default is None:
            report.add(path, f"missing; add {key} = <integer>")
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        report.add(path, f"expected an integer, got {show(value)}")
        return None
    if not low <= value <= high:
        limit = f" (the {hint})" if hint else ""
        report.add(path, f"{value} is out of range; use {low} to {high}{limit}")
        return None
    return value


def read_choices(
    report: Report,
    table: Mapping[str, Any],
    where: str,
    key: str,
    allowed: tuple[str, ...],
) -> tuple[str, ...] | None:
    """Read an optional non-empty array of distinct strings taken from `allowed`."""
    value = table.get(key, MISSING)
    path = join(where, key)
    if value is MISSING:
        return None
    if not isinstance(value, list) or not value:
        report.add(
            path,
            f"expected a non-empty array of strings, got {show(value)}; "
            f"list some of {', '.join(allowed)} or remove {key}",
        )
        return None
    chosen: list[str] = []
    valid = True
    for index, item in enumerate(value):
        if item not in allowed:
            report.add(
                f"{path}[{index}]",
                f"{show(item)} is not one of {', '.join(allowed)}",
            )
            valid = False
        elif item in chosen:
            report.add(f"{path}[{index}]", f"{show(item)} is listed twice")
            valid = False
        else:
            chosen.append(item)
    return tuple(chosen) if valid else None


def read_date(report: Report, path: str, value: object) -> date | None:
    # TOML has a native date type; a quoted ISO date is accepted as well.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    report.add(path, f'{show(value)} is not a date; write it as "YYYY-MM-DD"')
    return None


def read_dates(
    report: Report, table: Mapping[str, Any], where: str, key: str
) -> frozenset[date]:
    value = table.get(key, [])
    path = join(where, key)
    if not isinstance(value, list):
        report.add(path, f"expected an array of dates, got {show(value)}")
        return frozenset()
    days: set[date] = set()
    for index, item in enumerate(value):
        day = read_date(report, f"{path}[{index}]", item)
        if day is None:
            continue
        if day in days:
            report.add(f"{path}[{index}]", f"{day} is listed twice; remove one")
        days.add(day)
    return frozenset(days)
