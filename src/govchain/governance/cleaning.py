"""Cleaning rule sets: documented, hashed steps that turn a raw version into a clean one.

A rule set is a JSON or TOML document (docs/cleaning.md describes it):

```toml
name = "people-register"
version = "1"

[[rules]]
op = "trim"
fields = ["*"]

[[rules]]
op = "dedup"
key = ["身份证号"]
```

Its digest is the SHA-256 of its canonical JSON, so the ledger can record which
rules produced a version, and anyone holding the document can check it. Every
rule is a Polars expression over whole columns. `clean_frame` never changes its
input frame. It returns a new frame with counts of the cells each rule changed,
and never records which values changed, because the values are personal data.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args

import polars as pl

from govchain.errors import ValidationError
from govchain.governance.personal_data import find_personal_data
from govchain.ledger.canonical import canonical_json

logger = logging.getLogger(__name__)

__all__ = [
    "RULE_OPS",
    "CleanResult",
    "CleaningRule",
    "RuleSet",
    "clean_frame",
    "load_rule_set",
    "parse_rule_set",
]

RuleOp = Literal["trim", "half_width", "iso_date", "phone", "upper_check", "dedup"]
RULE_OPS: tuple[str, ...] = get_args(RuleOp)

#: Full-width digits, Latin letters and the ideographic space, with their ASCII
#: forms. Other full-width forms (，：（) are ordinary Chinese punctuation.
_FULL_WIDTH = [chr(c) for c in range(0xFF10, 0xFF1A)] + [
    chr(c) for c in [*range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]
]
_HALF_WIDTH = [chr(ord(c) - 0xFEE0) for c in _FULL_WIDTH]
_FULL_WIDTH.append("\u3000")
_HALF_WIDTH.append(" ")

#: Dates written year first with any of `-` `/` `.` or 年月日, or as 8 digits.
_DATE_PARTS = (
    r"^\s*(?P<y>[12][0-9]{3})\s*(?:[-/.年]\s*(?P<m>[0-9]{1,2})\s*[-/.月]\s*"
    r"(?P<d>[0-9]{1,2})\s*日?|(?P<m8>[0-9]{2})(?P<d8>[0-9]{2}))\s*$"
)
#: Separators people put inside phone numbers.
_PHONE_SEPARATORS = r"[\s\-()（）.]"
_MOBILE = r"^(?:\+?86|0086)?(1[3-9][0-9]{9})$"
#: Area codes are 010 and 020-029 (three digits) or 0[3-9]xx (four digits), and
#: local numbers have 7 or 8 digits and start with 2-9.
_LANDLINE = r"^(010|02[0-9]|0[3-9][0-9]{2})([2-9][0-9]{6,7})$"
#: 18-character resident ID numbers and unified social credit codes, whose last
#: character may be a letter that people type in lower case.
_CHECK_CHARACTER = r"^(?:[0-9]{17}[xX]|[0-9A-Za-z]{18})$"

MAX_RULES = 100


@dataclass(frozen=True)
class CleaningRule:
    """One step of a rule set: an operation over some fields.

    `fields` lists the columns the step touches, `("*",)` for every column.
    `key` is only used by `dedup`: the fields whose equal values make two rows
    duplicates (every field when empty).
    """

    op: RuleOp
    fields: tuple[str, ...] = ("*",)
    key: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        if self.op == "dedup":
            return {"op": self.op, "key": list(self.key)}
        return {"op": self.op, "fields": list(self.fields)}


@dataclass(frozen=True)
class RuleSet:
    """A named, versioned list of cleaning rules, applied in order."""

    name: str
    version: str
    rules: tuple[CleaningRule, ...]
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "rules": [rule.to_dict() for rule in self.rules],
        }

    def canonical_bytes(self) -> bytes:
        return canonical_json(self.to_dict())

    @property
    def digest(self) -> str:
        """Hex SHA-256 of the canonical JSON of the rule set."""
        return hashlib.sha256(self.canonical_bytes()).hexdigest()

    @property
    def ref(self) -> str:
        """`name@version`, as lineage shows it."""
        return f"{self.name}@{self.version}"


def load_rule_set(path: Path | str) -> RuleSet:
    """Read a rule set from a .json or .toml file.

    Raises `ValidationError` naming the file and the faulty entry.
    """
    path = Path(path)
    check_rule_file_suffix(path, "rule set")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(
            f"{path.name}: cannot read the rule set ({exc}); pass a UTF-8 "
            ".json or .toml file",
            reason="bad-rule-set",
        ) from exc
    try:
        if path.suffix.lower() == ".toml":
            document: Any = tomllib.loads(text)
        else:
            document = json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(
            f"{path.name}: the rule set is not valid "
            f"{'TOML' if path.suffix.lower() == '.toml' else 'JSON'}: {exc}",
            reason="bad-rule-set",
        ) from exc
    return parse_rule_set(document, source=path.name)


def check_rule_file_suffix(
    path: Path, what: str, *, reason: str = "bad-rule-set"
) -> None:
    """Raise `ValidationError` unless `path` ends in .json or .toml.

    `what` names the file's role in the message, such as "rule set", and
    `reason` is the error's reason code.
    """
    if path.suffix.lower() not in (".json", ".toml"):
        raise ValidationError(
            f"{path.name}: a {what} is a .json or .toml file, and "
            f"{path.suffix or 'no suffix'} is neither; convert the file to JSON "
            "or TOML and name it so",
            reason=reason,
        )


def parse_rule_set(document: Any, *, source: str = "rule set") -> RuleSet:
    """Build a `RuleSet` from a parsed JSON or TOML document."""

    def bad(message: str) -> ValidationError:
        return ValidationError(f"{source}: {message}", reason="bad-rule-set")

    if not isinstance(document, Mapping):
        raise bad("the rule set must be an object with name, version and rules")
    name = document.get("name")
    version = document.get("version")
    if not isinstance(name, str) or not name.strip():
        raise bad("name is missing; give the rule set a name such as people-register")
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)
    if not isinstance(version, str) or not version.strip():
        raise bad("version is missing; give a version such as 1")
    description = document.get("description", "")
    if not isinstance(description, str):
        raise bad("description must be a string")
    # The name is recorded with each cleaned version, and the description is
    # kept with its report.
    for label, text in (("name", name), ("description", description)):
        kind = find_personal_data(text)
        if kind is not None:
            raise ValidationError(
                f"{source}: {label} contains a {kind}; remove the personal data "
                "from the rule set",
                reason="personal-data",
            )
    items = document.get("rules")
    if not isinstance(items, list) or not items:
        raise bad("rules must be a non-empty list of {op, fields} objects")
    if len(items) > MAX_RULES:
        raise bad(f"has {len(items)} rules, over the limit of {MAX_RULES}")
    rules = tuple(_parse_rule(item, f"rules[{i}]", bad) for i, item in enumerate(items))
    return RuleSet(name.strip(), version.strip(), rules, description)


def _parse_rule(item: Any, path: str, bad: Any) -> CleaningRule:
    if not isinstance(item, Mapping):
        raise bad(f"{path} must be an object with op and fields")
    op = item.get("op")
    if op not in RULE_OPS:
        raise bad(f"{path}.op {op!r} is not one of {', '.join(RULE_OPS)}")
    unknown = sorted(set(item) - {"op", "fields", "key"})
    if unknown:
        raise bad(f"{path} has unknown properties {unknown}")
    names = _names(item.get("fields", ["*"]), f"{path}.fields", bad)
    key = _names(item.get("key", []), f"{path}.key", bad)
    if op == "dedup" and "fields" in item:
        raise bad(f"{path}: dedup takes key, the fields that identify a row")
    if op != "dedup" and "key" in item:
        raise bad(f"{path}: only dedup takes key; use fields for {op}")
    return CleaningRule(cast(RuleOp, op), names if op != "dedup" else ("*",), key)


def _names(value: Any, path: str, bad: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad(f"{path} must be a list of field names")
    return tuple(value)


@dataclass
class CleanResult:
    """A cleaned frame and how many cells or rows each rule changed.

    `changes` has one entry per rule in order: the rule, the changed-cell count
    per field, and for `dedup` the data row numbers (1-based positions in the
    input) that were removed as duplicates.
    """

    frame: pl.DataFrame
    changes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def removed_rows(self) -> int:
        return sum(len(change.get("removed", [])) for change in self.changes)


def clean_frame(frame: pl.DataFrame, rule_set: RuleSet) -> CleanResult:
    """Apply every rule of `rule_set` in order to a frame of text columns.

    Raises `ValidationError` when a rule names a field the frame lacks.
    """
    _check_fields(frame, rule_set)
    result = CleanResult(frame)
    for rule in rule_set.rules:
        if rule.op == "dedup":
            result.frame, change = _dedup(result.frame, rule)
        else:
            result.frame, change = _rewrite(result.frame, rule)
        result.changes.append(change)
    logger.debug(
        "rule set %s: %d rules, %d rows removed",
        rule_set.ref,
        len(rule_set.rules),
        result.removed_rows,
    )
    return result


def _check_fields(frame: pl.DataFrame, rule_set: RuleSet) -> None:
    for number, rule in enumerate(rule_set.rules):
        named = [n for n in (*rule.fields, *rule.key) if n != "*"]
        missing = [n for n in named if n not in frame.columns]
        if missing:
            raise ValidationError(
                f"rule set {rule_set.ref}: rules[{number}] ({rule.op}) names "
                f"field(s) {missing} that the dataset lacks; its fields are "
                f"{frame.columns}",
                reason="unknown-field",
            )


def _targets(frame: pl.DataFrame, rule: CleaningRule) -> list[str]:
    if "*" in rule.fields:
        return [n for n, t in frame.schema.items() if t == pl.String]
    return list(rule.fields)


def _rewrite(
    frame: pl.DataFrame, rule: CleaningRule
) -> tuple[pl.DataFrame, dict[str, Any]]:
    names = _targets(frame, rule)
    cleaned = frame.with_columns(
        [_rewrite_column(frame.get_column(n).cast(pl.String), rule.op) for n in names]
    )
    counts = frame.select(
        [
            (~pl.col(n).eq_missing(cleaned.get_column(n))).sum().cast(pl.Int64).alias(n)
            for n in names
        ]
    )
    changed = {n: int(counts.item(0, n)) for n in names} if names else {}
    return cleaned, {"rule": rule.to_dict(), "changed": changed}


def _rewrite_column(column: pl.Series, op: RuleOp) -> pl.Series:
    """Apply one rule to a column, skipping values the rule is known to keep."""
    build = _EXPRESSIONS[op]
    kept = _UNCHANGED.get(op)
    if kept is None:
        return pl.select(build(pl.lit(column)).alias(column.name)).to_series()
    todo = column.str.contains(kept).fill_null(True).not_().arg_true()
    if todo.len() == 0:
        return column
    changed = pl.select(build(pl.lit(column.gather(todo)))).to_series()
    return column.clone().scatter(todo, changed)


def _dedup(
    frame: pl.DataFrame, rule: CleaningRule
) -> tuple[pl.DataFrame, dict[str, Any]]:
    key = list(rule.key) or frame.columns
    numbered = frame.with_row_index("__row", offset=1)
    # A row with an empty key cell identifies nothing, so it is never a duplicate.
    complete = pl.all_horizontal([pl.col(n).is_not_null() for n in key])
    duplicate = complete & pl.struct(key).is_first_distinct().not_()
    flags = numbered.select(pl.col("__row"), duplicate.alias("__dup"))
    removed = flags.filter(pl.col("__dup")).get_column("__row").to_list()
    kept = frame.filter(flags.get_column("__dup").not_())
    return kept, {"rule": rule.to_dict(), "removed": removed}


def _trim(value: pl.Expr) -> pl.Expr:
    text = value.str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text)


def _half_width(value: pl.Expr) -> pl.Expr:
    return value.str.replace_many(_FULL_WIDTH, _HALF_WIDTH)


def _iso_date(value: pl.Expr) -> pl.Expr:
    parts = value.str.extract_groups(_DATE_PARTS)
    year = parts.struct.field("y")
    month = pl.coalesce(parts.struct.field("m"), parts.struct.field("m8"))
    day = pl.coalesce(parts.struct.field("d"), parts.struct.field("d8"))
    iso = pl.concat_str([year, month.str.zfill(2), day.str.zfill(2)], separator="-")
    # Only a date that exists replaces the text, so 2023-02-30 stays for the
    # quality report to flag.
    exists = iso.str.to_date("%Y-%m-%d", strict=False).is_not_null()
    return pl.when(exists).then(iso).otherwise(value)


def _phone(value: pl.Expr) -> pl.Expr:
    bare = value.str.replace_all(_PHONE_SEPARATORS, "")
    mobile = bare.str.extract(_MOBILE, 1)
    area = bare.str.extract(_LANDLINE, 1)
    local = bare.str.extract(_LANDLINE, 2)
    landline = pl.concat_str([area, local], separator="-")
    return (
        pl.when(mobile.is_not_null())
        .then(mobile)
        .when(landline.is_not_null())
        .then(landline)
        .otherwise(value)
    )


def _upper_check(value: pl.Expr) -> pl.Expr:
    matches = value.str.contains(_CHECK_CHARACTER)
    return pl.when(matches).then(value.str.to_uppercase()).otherwise(value)


#: Values each rule leaves as they are, so only the others are rewritten: an
#: ISO 8601 date (or an impossible one in that form, which stays for the
#: quality report) and a bare mobile number.
_UNCHANGED = {
    "iso_date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    "phone": r"^1[3-9][0-9]{9}$",
}

_EXPRESSIONS = {
    "trim": _trim,
    "half_width": _half_width,
    "iso_date": _iso_date,
    "phone": _phone,
    "upper_check": _upper_check,
}


def frame_of(
    field_names: Sequence[str], rows: Sequence[Sequence[str | None]]
) -> pl.DataFrame:
    """Return a frame of text columns from row lists, as datasets store them."""
    return pl.DataFrame(
        [list(row) for row in rows],
        schema={name: pl.String for name in field_names},
        orient="row",
    )


def rows_of(frame: pl.DataFrame) -> list[list[str | None]]:
    """Return the rows of a frame of text columns as lists."""
    return [list(row) for row in frame.iter_rows()]
