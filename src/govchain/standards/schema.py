"""Data standards: Frictionless Table Schema documents, loaded and checked.

A standard is a Table Schema (https://specs.frictionlessdata.io/table-schema/,
version 1) with two govchain extensions: the `cn-*` string formats for Chinese
identifiers, listed in `govchain.standards.formats`, and a boolean field
property `quasiIdentifier` that marks the fields a k-anonymity check combines.

`load_standard` reads a JSON file and `parse_standard` checks a decoded
document. Both collect every problem before raising one `StandardError`, whose
message has one line per problem in the form
`health.json: fields[2].constraints.minimum: "abc" is not a number`.
docs/standards.md describes what each type accepts.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, TypeAlias, cast, get_args

import polars as pl

from govchain.errors import ValidationError
from govchain.governance.personal_data import mask_personal_data
from govchain.standards import formats

FieldType: TypeAlias = Literal[
    "string", "integer", "number", "boolean", "date", "datetime", "year", "any"
]
#: A logical value: what a cell of a field's type means once parsed.
Value: TypeAlias = str | int | float | bool | date | datetime

FIELD_TYPES: tuple[str, ...] = get_args(FieldType)
#: Types whose values are ordered, so `minimum` and `maximum` apply.
ORDERED_TYPES = frozenset({"integer", "number", "date", "datetime", "year"})
#: Types whose cells are compared as text, so `minLength` and `maxLength` apply.
TEXT_TYPES = frozenset({"string", "any"})
CONSTRAINT_NAMES = (
    "required",
    "unique",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "enum",
)
#: Table Schema's default `trueValues` and `falseValues`, plus 是 and 否.
DEFAULT_TRUE_VALUES = ("true", "True", "TRUE", "1", "是")
DEFAULT_FALSE_VALUES = ("false", "False", "FALSE", "0", "否")
#: Field properties of Table Schema that change how a number is read. govchain
#: does not implement them, so a standard that sets one is rejected instead of
#: being read differently from what its author meant.
UNSUPPORTED_FIELD_PROPERTIES = ("decimalChar", "groupChar", "bareNumber")

INTEGER_PATTERN = r"^[+-]?[0-9]+$"
NUMBER_PATTERN = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
YEAR_PATTERN = r"^[0-9]{4}$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
DATETIME_PATTERN = (
    r"^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?)"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?$"
)


class StandardError(ValidationError):
    """A standard document that cannot be used: unreadable, not JSON, or invalid.

    `problems` lists every problem found, each naming the file and the JSON path.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems), reason="bad-standard")
        self.problems = list(problems)


@dataclass(frozen=True)
class Constraints:
    """The `constraints` of a field, with bounds and enum values parsed to its type."""

    required: bool = False
    unique: bool = False
    minimum: Value | None = None
    maximum: Value | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    enum: tuple[Value, ...] | None = None


@dataclass(frozen=True)
class Field:
    """One field (column) of a standard."""

    name: str
    type: FieldType = "string"
    format: str = "default"
    title: str = ""
    description: str = ""
    constraints: Constraints = field(default_factory=Constraints)
    quasi_identifier: bool = False
    """Set by `quasiIdentifier: true`: the field is part of a k-anonymity key."""
    true_values: tuple[str, ...] = DEFAULT_TRUE_VALUES
    false_values: tuple[str, ...] = DEFAULT_FALSE_VALUES


@dataclass(frozen=True)
class Standard:
    """A data standard: the fields a table must have and the rules on its cells."""

    fields: tuple[Field, ...]
    missing_values: tuple[str, ...] = ("",)
    primary_key: tuple[str, ...] = ()
    title: str = ""
    source: str = ""
    """File name the standard was loaded from, for messages."""
    sha256: str = ""
    """Hex SHA-256 of the file's bytes, empty when parsed from a mapping."""
    document: bytes = field(default=b"", compare=False, repr=False)
    """The file's bytes, which hash to `sha256`; empty when parsed from a mapping.
    An import keeps them beside the datasets, so a later cleaning can check the
    cleaned rows against the same standard."""

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def quasi_identifiers(self) -> tuple[str, ...]:
        """Names of the fields marked `quasiIdentifier: true`, in field order."""
        return tuple(f.name for f in self.fields if f.quasi_identifier)

    def field(self, name: str) -> Field:
        """Return the field called `name`; raises `KeyError` when there is none."""
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)


def load_standard(path: Path | str) -> Standard:
    """Read and check the Table Schema document in the JSON file at `path`.

    Raises `StandardError` naming the file when it cannot be read or decoded,
    and listing every problem with its JSON path when the document is invalid.
    """
    path = Path(path)
    source = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StandardError(
            [f"{source}: cannot read the standard ({exc.strerror})"]
        ) from exc
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise StandardError(
            [f"{source}: the standard is not UTF-8 text; save it as UTF-8"]
        ) from exc
    except json.JSONDecodeError as exc:
        raise StandardError(
            [
                f"{source}: invalid JSON at line {exc.lineno}, column {exc.colno} "
                f"({exc.msg})"
            ]
        ) from exc
    standard = parse_standard(document, source=source)
    return Standard(
        fields=standard.fields,
        missing_values=standard.missing_values,
        primary_key=standard.primary_key,
        title=standard.title,
        source=source,
        sha256=hashlib.sha256(data).hexdigest(),
        document=data,
    )


def parse_standard(document: Any, *, source: str = "standard") -> Standard:
    """Check a decoded Table Schema document and return it as a `Standard`.

    `source` names the document in messages. Raises `StandardError` listing
    every problem found.
    """
    problems = _Problems(source)
    if not isinstance(document, Mapping):
        problems.add("", f"is {_json_kind(document)}, expected an object")
        problems.raise_if_any()
    fields = _parse_fields(document.get("fields"), problems)
    missing_values = _parse_missing_values(document.get("missingValues"), problems)
    # Fields with other problems still count as named, so that the key is
    # checked against every name the author wrote.
    raw_fields = document.get("fields")
    names = [
        item["name"]
        for item in (raw_fields if isinstance(raw_fields, list) else [])
        if isinstance(item, Mapping) and isinstance(item.get("name"), str)
    ]
    primary_key = _parse_primary_key(document.get("primaryKey"), names, problems)
    if "foreignKeys" in document:
        problems.add(
            "foreignKeys",
            "is not supported: govchain checks one table at a time; remove it",
        )
    title = document.get("title", "")
    if not isinstance(title, str):
        problems.add("title", f"{_show(title)} is not a string")
        title = ""
    problems.raise_if_any()
    return Standard(
        fields=tuple(fields),
        missing_values=missing_values,
        primary_key=primary_key,
        title=title,
        source=source,
    )


class _Problems:
    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[str] = []

    def add(self, path: str, message: str) -> None:
        where = f"{self.source}: {path}" if path else self.source
        self.items.append(f"{where}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise StandardError(self.items)


def _parse_fields(value: Any, problems: _Problems) -> list[Field]:
    if value is None:
        problems.add("fields", "is missing; list the table's columns there")
        return []
    if not isinstance(value, list) or not value:
        problems.add("fields", "must be a non-empty array of field objects")
        return []
    fields: list[Field] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(value):
        path = f"fields[{index}]"
        name = item.get("name") if isinstance(item, Mapping) else None
        if isinstance(name, str) and name in first_index:
            problems.add(
                f"{path}.name",
                f"{_show(name)} repeats fields[{first_index[name]}].name",
            )
            continue
        if isinstance(name, str):
            first_index[name] = index
        parsed = _parse_field(item, path, problems)
        if parsed is not None:
            fields.append(parsed)
    return fields


def _parse_field(item: Any, path: str, problems: _Problems) -> Field | None:
    if not isinstance(item, Mapping):
        problems.add(path, f"is {_json_kind(item)}, expected an object")
        return None
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.add(f"{path}.name", "must be a non-empty string")
        return None
    kind = item.get("type", "string")
    if kind not in FIELD_TYPES:
        problems.add(
            f"{path}.type",
            f"{_show(kind)} is not a type; use one of {', '.join(FIELD_TYPES)}",
        )
        return None
    field_type = cast(FieldType, kind)

    for key in UNSUPPORTED_FIELD_PROPERTIES:
        if key in item:
            problems.add(f"{path}.{key}", "is not supported; remove it")
    text_props: dict[str, str] = {}
    for key in ("title", "description"):
        text = item.get(key, "")
        if not isinstance(text, str):
            problems.add(f"{path}.{key}", f"{_show(text)} is not a string")
            text = ""
        text_props[key] = text
    quasi = item.get("quasiIdentifier", False)
    if not isinstance(quasi, bool):
        problems.add(f"{path}.quasiIdentifier", f"{_show(quasi)} is not a boolean")
        quasi = False
    true_values, false_values = _parse_boolean_values(item, field_type, path, problems)

    return Field(
        name=name,
        type=field_type,
        format=_parse_format(item.get("format", "default"), field_type, path, problems),
        title=text_props["title"],
        description=text_props["description"],
        constraints=_parse_constraints(
            item.get("constraints", {}), field_type, path, problems
        ),
        quasi_identifier=quasi,
        true_values=true_values,
        false_values=false_values,
    )


def _parse_format(value: Any, kind: FieldType, path: str, problems: _Problems) -> str:
    if not isinstance(value, str):
        problems.add(f"{path}.format", f"{_show(value)} is not a string")
        return "default"
    allowed = ["default", *formats.format_names()] if kind == "string" else ["default"]
    if value not in allowed:
        problems.add(
            f"{path}.format",
            f"{_show(value)} is not a format of type {kind}; use one of "
            f"{', '.join(allowed)}",
        )
        return "default"
    return value


def _parse_boolean_values(
    item: Mapping[str, Any], kind: FieldType, path: str, problems: _Problems
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {
        "trueValues": DEFAULT_TRUE_VALUES,
        "falseValues": DEFAULT_FALSE_VALUES,
    }
    for key in found:
        if key not in item:
            continue
        value = item[key]
        if kind != "boolean":
            problems.add(f"{path}.{key}", f"applies to boolean fields, not {kind}")
        elif not _is_string_list(value) or not value:
            problems.add(f"{path}.{key}", "must be a non-empty array of strings")
        else:
            found[key] = tuple(value)
    both = set(found["trueValues"]) & set(found["falseValues"])
    if both:
        problems.add(
            f"{path}.falseValues",
            f"{', '.join(_show(v) for v in sorted(both))} is also in trueValues",
        )
    return found["trueValues"], found["falseValues"]


def _parse_constraints(
    value: Any, kind: FieldType, path: str, problems: _Problems
) -> Constraints:
    path = f"{path}.constraints"
    if not isinstance(value, Mapping):
        problems.add(path, f"is {_json_kind(value)}, expected an object")
        return Constraints()
    for key in value:
        if key not in CONSTRAINT_NAMES:
            problems.add(
                f"{path}.{key}",
                f"is not a constraint; use one of {', '.join(CONSTRAINT_NAMES)}",
            )

    flags: dict[str, bool] = {}
    for key in ("required", "unique"):
        flag = value.get(key, False)
        if not isinstance(flag, bool):
            problems.add(f"{path}.{key}", f"{_show(flag)} is not a boolean")
            flag = False
        flags[key] = flag

    low, high = _parse_bounds(value, kind, path, problems)
    shortest, longest = _parse_lengths(value, kind, path, problems)
    return Constraints(
        required=flags["required"],
        unique=flags["unique"],
        minimum=low,
        maximum=high,
        min_length=shortest,
        max_length=longest,
        pattern=_parse_pattern(value.get("pattern"), f"{path}.pattern", problems),
        enum=_parse_enum(value.get("enum"), kind, f"{path}.enum", problems),
    )


def _parse_bounds(
    value: Mapping[str, Any], kind: FieldType, path: str, problems: _Problems
) -> tuple[Value | None, Value | None]:
    bounds: dict[str, Value | None] = {}
    for key in ("minimum", "maximum"):
        bounds[key] = None
        if key not in value:
            continue
        if kind not in ORDERED_TYPES:
            problems.add(f"{path}.{key}", f"does not apply to type {kind}")
            continue
        bounds[key] = _parse_value(value[key], kind, f"{path}.{key}", problems)
    low, high = bounds["minimum"], bounds["maximum"]
    # Both bounds were parsed to the field's type, so they compare.
    if low is not None and high is not None and low > high:  # type: ignore[operator]
        problems.add(f"{path}.minimum", "is greater than maximum")
    return low, high


def _parse_lengths(
    value: Mapping[str, Any], kind: FieldType, path: str, problems: _Problems
) -> tuple[int | None, int | None]:
    lengths: dict[str, int | None] = {}
    for key in ("minLength", "maxLength"):
        lengths[key] = None
        if key not in value:
            continue
        length = value[key]
        if kind not in TEXT_TYPES:
            problems.add(f"{path}.{key}", f"does not apply to type {kind}")
        elif isinstance(length, bool) or not isinstance(length, int) or length < 0:
            problems.add(
                f"{path}.{key}", f"{_show(length)} is not a length (0 or more)"
            )
        else:
            lengths[key] = length
    shortest, longest = lengths["minLength"], lengths["maxLength"]
    if shortest is not None and longest is not None and shortest > longest:
        problems.add(f"{path}.minLength", "is greater than maxLength")
    return shortest, longest


def _parse_pattern(value: Any, path: str, problems: _Problems) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems.add(path, f"{_show(value)} is not a string")
        return None
    # Polars runs the pattern, so its regex engine (Rust's `regex` crate, with
    # no look-around and no back-references) decides what compiles.
    try:
        pl.Series([""]).str.contains(value)
    except pl.exceptions.PolarsError as exc:
        problems.add(
            path,
            f"{_show(value)} is not a supported regular expression "
            f"({_regex_error(str(exc))}); write it in the syntax of Rust's regex "
            "crate, which has no look-around and no back-references",
        )
        return None
    return value


def _regex_error(message: str) -> str:
    """Return the `error: ...` line of a Polars regex error, without the expression."""
    for line in message.splitlines():
        if line.startswith("error: "):
            return line.removeprefix("error: ")
    return message.strip().splitlines()[0] if message.strip() else "no reason given"


def _parse_enum(
    value: Any, kind: FieldType, path: str, problems: _Problems
) -> tuple[Value, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        problems.add(path, "must be a non-empty array")
        return None
    parsed = [
        _parse_value(v, kind, f"{path}[{i}]", problems) for i, v in enumerate(value)
    ]
    if any(v is None for v in parsed):
        return None
    return tuple(cast(list[Value], parsed))


def _parse_value(
    value: Any, kind: FieldType, path: str, problems: _Problems
) -> Value | None:
    """Parse a bound or an enum entry given in the field's logical type.

    Numbers and booleans may also be given as the text a cell would hold.
    """
    parsed = _value_of(value, kind)
    if parsed is None:
        problems.add(path, f"{_show(value)} is not {_TYPE_PHRASES[kind]}")
    elif (
        isinstance(parsed, int)
        and not isinstance(parsed, bool)
        and not _INT64_MIN <= parsed <= _INT64_MAX
    ):
        # Integer columns are checked as 64-bit integers.
        problems.add(
            path,
            f"{_show(value)} is outside the 64-bit integer range "
            f"({_INT64_MIN} to {_INT64_MAX}); use a smaller bound, or type "
            "string with a pattern for longer codes",
        )
        return None
    return parsed


_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


_TYPE_PHRASES = {
    "string": "a string",
    "any": "a string",
    "integer": "an integer",
    "year": "a year (four digits)",
    "number": "a number",
    "boolean": "a boolean",
    "date": "an ISO 8601 date (YYYY-MM-DD)",
    "datetime": "an ISO 8601 date and time (YYYY-MM-DDTHH:MM:SS)",
}


def _value_of(value: Any, kind: FieldType) -> Value | None:
    if kind in TEXT_TYPES:
        return value if isinstance(value, str) else None
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    if isinstance(value, bool):
        return None
    if kind in ("integer", "year"):
        if isinstance(value, str) and re.fullmatch(
            INTEGER_PATTERN if kind == "integer" else YEAR_PATTERN, value
        ):
            return int(value)
        return value if isinstance(value, int) else None
    if kind == "number":
        if isinstance(value, str) and re.fullmatch(NUMBER_PATTERN, value):
            value = float(value)
        if isinstance(value, int | float) and abs(value) != float("inf"):
            return value
        return None
    if not isinstance(value, str):
        return None
    if kind == "date":
        return _date_of(value)
    return _datetime_of(value)


def _date_of(text: str) -> date | None:
    if not re.fullmatch(DATE_PATTERN, text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _datetime_of(text: str) -> datetime | None:
    """Parse an ISO 8601 date and time; one with an offset becomes naive UTC."""
    match = re.fullmatch(DATETIME_PATTERN, text)
    if match is None:
        return None
    wall, offset = match.groups()
    # Python keeps microseconds, so digits past the sixth are dropped.
    wall = wall[:26]
    try:
        if offset is None:
            return datetime.fromisoformat(wall)
        aware = datetime.fromisoformat(wall + ("+00:00" if offset == "Z" else offset))
    except ValueError:
        return None
    return aware.astimezone(UTC).replace(tzinfo=None)


def _parse_missing_values(value: Any, problems: _Problems) -> tuple[str, ...]:
    if value is None:
        return ("",)
    if not _is_string_list(value):
        problems.add("missingValues", "must be an array of strings")
        return ("",)
    return tuple(value)


def _parse_primary_key(
    value: Any, names: Sequence[str], problems: _Problems
) -> tuple[str, ...]:
    if value is None:
        return ()
    keys = [value] if isinstance(value, str) else value
    if not _is_string_list(keys) or not keys:
        problems.add("primaryKey", "must be a field name or a non-empty array of them")
        return ()
    if len(set(keys)) != len(keys):
        problems.add("primaryKey", "names a field more than once")
    for key in keys:
        if key not in names:
            problems.add("primaryKey", f"{_show(key)} is not the name of a field")
    return tuple(dict.fromkeys(keys))


def _is_string_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _show(value: Any) -> str:
    """Show a value of the standard document as JSON, shortened for messages.

    ID and mobile numbers in the value are masked: messages never carry them.
    """
    text = mask_personal_data(json.dumps(value, ensure_ascii=False))
    return text if len(text) <= 60 else text[:57] + "..."
