"""Classification and grading: which fields are sensitive, of what category, how much.

A `ClassificationRules` document lists categories. Each category has a field
kind (the same kinds that desensitization policies use) and a level from 1
(not sensitive) to 4 (highly sensitive). It is recognised by patterns matched
against field names, and optionally by a value check on a sample of values. A field takes
the highest level among the categories whose name pattern or value check
matches it, and level 1 (`public`) when none does. The resource's level is the
highest of its fields' levels.

`DEFAULT_RULES` follows the four public-data grades: L1 not sensitive, L2
internal (organisation codes, region codes, ages), L3 sensitive personal
information (names, phones, addresses, birth dates), and L4 personal
identifiers and health data. docs/classification.md lists every category.

Value checks look at a deterministic sample of at most `sample_size` non-empty
values, spread evenly over the rows, and match when at least `min_percent` percent
of them pass (`min_percent`, 80 by default). Results carry counts and shares, never a value.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast, get_args

import polars as pl

from govchain.errors import ValidationError
from govchain.governance.cleaning import check_rule_file_suffix
from govchain.governance.personal_data import PersonalDataKind, find_personal_data
from govchain.governance.policy import FieldKind
from govchain.identifiers import vectorised
from govchain.ledger.canonical import canonical_json

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_RULES",
    "VALUE_CHECKS",
    "Category",
    "Classification",
    "ClassificationRules",
    "FieldClass",
    "classify_frame",
    "load_classification_rules",
    "parse_classification_rules",
]

#: Percentage of sampled values that must pass a value check for a match.
DEFAULT_MIN_PERCENT = 80
DEFAULT_SAMPLE_SIZE = 1000

_ADDRESS = r"(?:省|市|区|县|镇|乡|街道|路|街|巷|号|村)"
_DATE = r"^[12][0-9]{3}[-/.年][0-9]{1,2}[-/.月][0-9]{1,2}日?$|^[12][0-9]{3}[01][0-9][0-3][0-9]$"
_EMAIL = r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$"


def _valid(check: Callable[[pl.Series], pl.Series]) -> Callable[[pl.Series], pl.Series]:
    """Turn an identifier check (reason or null) into a pass mask."""
    return lambda series: check(series).is_null()


def _matches(pattern: str) -> Callable[[pl.Series], pl.Series]:
    return lambda series: series.str.contains(pattern)


#: Value checks a category may name. Each returns a Boolean mask per value.
VALUE_CHECKS: dict[str, Callable[[pl.Series], pl.Series]] = {
    "resident_id": _valid(vectorised.check_resident_id),
    "uscc": _valid(vectorised.check_uscc),
    "mobile": _valid(vectorised.check_mobile),
    "phone": _valid(vectorised.check_phone),
    "region_code": _valid(vectorised.check_region_code),
    "email": _matches(_EMAIL),
    "date": _matches(_DATE),
    "address": lambda series: series.str.count_matches(_ADDRESS) >= 2,
}


@dataclass(frozen=True)
class Category:
    """A kind of data with its level and how to recognise it."""

    name: str
    level: int
    kind: FieldKind
    names: tuple[str, ...]
    """Regular expressions searched for in field names, ignoring case."""
    values: str | None = None
    """Name of a value check in `VALUE_CHECKS`, or None to match by name only."""
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "level": self.level,
            "kind": self.kind,
            "names": list(self.names),
            "values": self.values,
            "description": self.description,
        }


@dataclass(frozen=True)
class ClassificationRules:
    """A named, versioned set of categories; its digest goes on the ledger."""

    name: str
    version: str
    categories: tuple[Category, ...]
    levels: Mapping[int, str]
    """Label of each level 1 to 4, such as `L4 sensitive`."""
    min_percent: int = DEFAULT_MIN_PERCENT
    sample_size: int = DEFAULT_SAMPLE_SIZE

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "levels": {str(k): v for k, v in sorted(self.levels.items())},
            "min_percent": self.min_percent,
            "sample_size": self.sample_size,
            "categories": [c.to_dict() for c in self.categories],
        }

    @property
    def digest(self) -> str:
        """Hex SHA-256 of the canonical JSON of the rules."""
        return hashlib.sha256(canonical_json(self.to_dict())).hexdigest()

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class FieldClass:
    """The category and level of one field, and what matched."""

    field: str
    category: str
    kind: FieldKind
    level: int
    evidence: tuple[str, ...]
    """`name` when a name pattern matched, `values 97% resident_id` when a
    value check passed on that share of the sample."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "category": self.category,
            "kind": self.kind,
            "level": self.level,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True)
class Classification:
    """Every field's class under one rule set, and the resource's level."""

    rules: str
    rules_hash: str
    fields: tuple[FieldClass, ...]
    sampled: int

    @property
    def level(self) -> int:
        return max((f.level for f in self.fields), default=1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rules": self.rules,
            "rules_hash": self.rules_hash,
            "level": self.level,
            "sampled": self.sampled,
            "fields": [f.to_dict() for f in self.fields],
        }


def classify_frame(frame: pl.DataFrame, rules: ClassificationRules) -> Classification:
    """Classify every column of a frame by its name and a sample of its values."""
    sample = _sample(frame, rules.sample_size)
    results = tuple(
        _classify_field(name, sample.get_column(name), rules) for name in frame.columns
    )
    logger.debug(
        "classified %d fields with %s on %d sampled rows",
        len(results),
        rules.ref,
        sample.height,
    )
    return Classification(rules.ref, rules.digest, results, sample.height)


def _sample(frame: pl.DataFrame, size: int) -> pl.DataFrame:
    """Return at most `size` rows spread evenly over the frame."""
    if frame.height <= size:
        return frame
    return frame.gather_every(-(-frame.height // size))


def _classify_field(
    name: str, values: pl.Series, rules: ClassificationRules
) -> FieldClass:
    text = values.cast(pl.String).str.strip_chars().drop_nulls()
    text = text.filter(text != "")
    best: FieldClass | None = None
    for category in rules.categories:
        evidence: list[str] = []
        if any(re.search(p, name, re.IGNORECASE) for p in category.names):
            evidence.append("name")
        if category.values is not None and text.len() > 0:
            passed = VALUE_CHECKS[category.values](text).fill_null(False)
            share = passed.sum() / text.len()
            if share * 100 >= rules.min_percent:
                evidence.append(f"values {share:.0%} {category.values}")
        if evidence and (best is None or category.level > best.level):
            best = FieldClass(
                name, category.name, category.kind, category.level, tuple(evidence)
            )
    embedded = _embedded_class(name, text, rules)
    if embedded is not None and (best is None or embedded.level > best.level):
        best = embedded
    return best or FieldClass(name, "public", "other", 1, ())


#: The whole-value check for each kind of personal data found inside free text.
_EMBEDDED_CHECKS: dict[PersonalDataKind, str] = {
    "resident ID number": "resident_id",
    "mobile number": "phone",
}


def _embedded_class(
    name: str, text: pl.Series, rules: ClassificationRules
) -> FieldClass | None:
    """Grade a field whose sampled values contain ID or mobile numbers in other text.

    A remarks column such as `本人…，身份证…，电话…` passes no whole-value
    check, and neither does a column of ID numbers mixed with `无`. Such a
    field takes the level of the category that checks that kind of value, as
    free text (`text`), so the default policy scrubs or suppresses it. Only the
    sample is read: a number in one row of many may be missed.
    """
    found: dict[PersonalDataKind, int] = {}
    for value in text.to_list():
        kind = find_personal_data(value)
        if kind is not None:
            found[kind] = found.get(kind, 0) + 1
    best: FieldClass | None = None
    for kind, count in found.items():
        category = next(
            (c for c in rules.categories if c.values == _EMBEDDED_CHECKS[kind]), None
        )
        if category is None or (best is not None and category.level <= best.level):
            continue
        share = count / text.len()
        evidence = (f"values {share:.0%} contain a {kind}",)
        best = FieldClass(name, category.name, "text", category.level, evidence)
    return best


def load_classification_rules(path: Path | str) -> ClassificationRules:
    """Read classification rules from a .json or .toml file."""
    path = Path(path)
    check_rule_file_suffix(
        path, "classification rule set", reason="bad-classification-rules"
    )
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".toml":
            document: Any = tomllib.loads(text)
        else:
            document = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValidationError(
            f"{path.name}: cannot read the classification rules ({exc}); pass a "
            "UTF-8 .json or .toml file",
            reason="bad-classification-rules",
        ) from exc
    return parse_classification_rules(document, source=path.name)


def parse_classification_rules(
    document: Any, *, source: str = "classification rules"
) -> ClassificationRules:
    """Build `ClassificationRules` from a parsed document, checking every entry."""

    def bad(message: str) -> ValidationError:
        return ValidationError(
            f"{source}: {message}", reason="bad-classification-rules"
        )

    if not isinstance(document, Mapping):
        raise bad("the rules must be an object with name, version and categories")
    name, version = document.get("name"), document.get("version")
    if not isinstance(name, str) or not name.strip():
        raise bad("name is missing")
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)
    if not isinstance(version, str) or not version.strip():
        raise bad("version is missing")
    min_percent = document.get("min_percent", DEFAULT_MIN_PERCENT)
    if (
        not isinstance(min_percent, int)
        or isinstance(min_percent, bool)
        or not 1 <= min_percent <= 100
    ):
        raise bad(f"min_percent must be an integer from 1 to 100, got {min_percent!r}")
    sample_size = document.get("sample_size", DEFAULT_SAMPLE_SIZE)
    if not isinstance(sample_size, int) or not 1 <= sample_size <= 1_000_000:
        raise bad(
            f"sample_size must be an integer from 1 to 1000000, got {sample_size!r}"
        )
    levels = _parse_levels(document.get("levels", DEFAULT_LEVELS), bad)
    items = document.get("categories")
    if not isinstance(items, list) or not items:
        raise bad("categories must be a non-empty list")
    categories = tuple(
        _parse_category(c, f"categories[{i}]", bad) for i, c in enumerate(items)
    )
    return ClassificationRules(
        name.strip(), version.strip(), categories, levels, min_percent, sample_size
    )


def _parse_levels(value: Any, bad: Callable[[str], ValidationError]) -> dict[int, str]:
    if not isinstance(value, Mapping) or sorted(str(k) for k in value) != [
        "1",
        "2",
        "3",
        "4",
    ]:
        raise bad("levels must give a label for each of the levels 1, 2, 3 and 4")
    return {int(k): str(v) for k, v in value.items()}


def _parse_category(
    item: Any, path: str, bad: Callable[[str], ValidationError]
) -> Category:
    if not isinstance(item, Mapping):
        raise bad(f"{path} must be an object")
    name = item.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9-]{0,63}", name):
        raise bad(f"{path}.name must be 1 to 64 lower-case letters, digits or -")
    level = item.get("level")
    if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 4:
        raise bad(f"{path}.level must be an integer from 1 to 4, got {level!r}")
    kind = item.get("kind", "other")
    if kind not in get_args(FieldKind):
        raise bad(
            f"{path}.kind {kind!r} is not one of {', '.join(get_args(FieldKind))}"
        )
    names = item.get("names", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise bad(f"{path}.names must be a list of regular expressions")
    for pattern in names:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise bad(
                f"{path}.names: invalid regular expression {pattern!r}: {exc}"
            ) from exc
    values = item.get("values")
    if values is not None and values not in VALUE_CHECKS:
        raise bad(f"{path}.values {values!r} is not one of {', '.join(VALUE_CHECKS)}")
    if not names and values is None:
        raise bad(f"{path} needs names or values to match anything")
    description = item.get("description", "")
    return Category(
        name, level, cast(FieldKind, kind), tuple(names), values, str(description)
    )


DEFAULT_LEVELS = {
    "1": "L1 not sensitive",
    "2": "L2 internal",
    "3": "L3 sensitive",
    "4": "L4 highly sensitive",
}

DEFAULT_RULES = parse_classification_rules(
    {
        "name": "govchain-default",
        "version": "1",
        "levels": DEFAULT_LEVELS,
        "categories": [
            {
                "name": "personal-identifier",
                "level": 4,
                "kind": "id_number",
                "names": [
                    r"身份证",
                    r"公民身份号码",
                    r"证件号",
                    r"id.?card",
                    r"resident.?id",
                    r"id.?number",
                ],
                "values": "resident_id",
                "description": "resident ID numbers (GB 11643)",
            },
            {
                "name": "health",
                "level": 4,
                "kind": "text",
                "names": [
                    r"诊断",
                    r"病史",
                    r"疾病",
                    r"病情",
                    r"体检结果",
                    r"diagnos",
                    r"disease",
                ],
                "description": "diagnoses and medical history",
            },
            {
                "name": "personal-name",
                "level": 3,
                "kind": "name",
                "names": [
                    r"姓名",
                    r"联系人",
                    r"法定代表人",
                    r"^name$",
                    r"full.?name",
                    r"person.?name",
                ],
                "description": "names of natural persons",
            },
            {
                "name": "personal-contact",
                "level": 3,
                "kind": "phone",
                "names": [r"手机", r"电话", r"联系方式", r"phone", r"mobile", r"^tel"],
                "values": "phone",
                "description": "mobile and landline numbers",
            },
            {
                "name": "personal-email",
                "level": 3,
                "kind": "other",
                "names": [r"邮箱", r"电子邮件", r"e-?mail"],
                "values": "email",
                "description": "e-mail addresses",
            },
            {
                "name": "personal-address",
                "level": 3,
                "kind": "address",
                "names": [r"地址", r"住址", r"居住地", r"address"],
                "values": "address",
                "description": "home and postal addresses",
            },
            {
                "name": "birth-date",
                "level": 3,
                "kind": "birth_date",
                "names": [r"出生", r"生日", r"birth", r"^dob$"],
                "description": "dates of birth",
            },
            {
                "name": "age",
                "level": 2,
                "kind": "age",
                "names": [r"年龄", r"^age$"],
                "description": "ages in years",
            },
            {
                "name": "organisation-code",
                "level": 2,
                "kind": "uscc",
                "names": [r"信用代码", r"uscc"],
                "values": "uscc",
                "description": "unified social credit codes (GB 32100)",
            },
            {
                "name": "region-code",
                "level": 2,
                "kind": "region_code",
                "names": [r"区划代码", r"行政区划", r"region.?code"],
                "description": "GB/T 2260 administrative region codes",
            },
        ],
    },
    source="default classification rules",
)
