"""Desensitization policies: which operator each field of a delivery gets.

A `Policy` is an ordered list of `Rule`s. For every field the first rule that
matches decides the operator. A rule can match on the field's sensitivity
level (1 to 4), its kind (ID number, phone, birth date, ...), its name, the
resource's sharing type, the grant's purpose and consumer, and whether the
grant allows the field explicitly. The last rule must match every field, so
each field gets exactly one operator.

A policy has a name, a version and a canonical JSON form
(`govchain.ledger.canonical.canonical_json` of `to_dict()`). `Policy.digest`,
the SHA-256 of that form, is what a delivery record names, so a change to a
policy needs a new version.

`DEFAULT_POLICY` passes level 1 through, masks level 2 partially,
pseudonymizes identifiers and generalizes quasi-identifiers at level 3, and
suppresses level 4 unless the grant allows the field, in which case it is
pseudonymized. docs/desensitization.md has the full table.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType
from typing import Any, Literal, get_args

import polars as pl

from govchain.consortium import (
    MAX_SENSITIVITY,
    MIN_SENSITIVITY,
    SHARING_TYPES,
    SharingType,
)
from govchain.errors import PolicyError, ValidationError
from govchain.governance.desensitize import (
    GeneralizeAddress,
    GeneralizeAge,
    GeneralizeDate,
    GeneralizeNumber,
    GeneralizeRegion,
    Keep,
    Mask,
    MaskName,
    Operator,
    Pseudonymize,
    ScrubText,
    Suppress,
    derive_consumer_key,
    operator_from_dict,
)
from govchain.ledger.canonical import canonical_json

logger = logging.getLogger(__name__)

#: What a field contains, which decides how it is desensitized at one level.
FieldKind = Literal[
    "id_number",
    "phone",
    "name",
    "uscc",
    "birth_date",
    "age",
    "address",
    "region_code",
    "number",
    "text",
    "other",
]
FIELD_KINDS: tuple[FieldKind, ...] = get_args(FieldKind)
#: Kinds that identify a person or organisation on their own.
IDENTIFIER_KINDS: tuple[FieldKind, ...] = ("id_number", "phone", "name", "uscc")

_CONDITIONS = ("levels", "kinds", "fields", "sharing", "purposes", "consumers")


@dataclass(frozen=True)
class FieldContext:
    """A field of one delivery, as the rules of a policy see it."""

    field: str
    level: int
    kind: FieldKind
    sharing: SharingType
    consumer: str
    purpose: str | None = None
    allowed: bool = False


@dataclass(frozen=True)
class Rule:
    """One rule of a policy: the fields it matches and the operator they get.

    Each condition is a tuple of accepted values, or None to accept any value.
    `allowed` of True matches only fields the grant allows explicitly, False
    only the others, and None both. Tuples are sorted and deduplicated, so
    rules that match the same fields have the same canonical form.
    """

    operator: Operator
    levels: tuple[int, ...] | None = None
    kinds: tuple[FieldKind, ...] | None = None
    fields: tuple[str, ...] | None = None
    sharing: tuple[SharingType, ...] | None = None
    purposes: tuple[str, ...] | None = None
    consumers: tuple[str, ...] | None = None
    allowed: bool | None = None

    def __post_init__(self) -> None:
        for name in _CONDITIONS:
            values = getattr(self, name)
            if values is None:
                continue
            if isinstance(values, str) or not values:
                raise ValidationError(
                    f"policy rule: {name} must be a non-empty list of values, or "
                    f"null to match any, got {values!r}",
                    reason="bad-policy",
                )
            object.__setattr__(self, name, tuple(sorted(set(values))))
        _check_values(
            "levels", self.levels, range(MIN_SENSITIVITY, MAX_SENSITIVITY + 1)
        )
        _check_values("kinds", self.kinds, FIELD_KINDS)
        _check_values("sharing", self.sharing, SHARING_TYPES)
        for name in ("fields", "purposes", "consumers"):
            _check_values(name, getattr(self, name), None)
        if self.allowed not in (None, True, False):
            raise ValidationError(
                f"policy rule: allowed must be true, false or null, "
                f"got {self.allowed!r}",
                reason="bad-policy",
            )

    @property
    def matches_all(self) -> bool:
        """Whether the rule has no condition and so matches every field."""
        conditions = [getattr(self, name) for name in _CONDITIONS]
        return self.allowed is None and all(value is None for value in conditions)

    def matches(self, context: FieldContext) -> bool:
        """Return whether the field described by `context` meets every condition."""
        checks: list[tuple[tuple[Any, ...] | None, object]] = [
            (self.levels, context.level),
            (self.kinds, context.kind),
            (self.fields, context.field),
            (self.sharing, context.sharing),
            (self.purposes, context.purpose),
            (self.consumers, context.consumer),
        ]
        if any(
            accepted is not None and value not in accepted for accepted, value in checks
        ):
            return False
        return self.allowed is None or self.allowed == context.allowed

    def to_dict(self) -> dict[str, Any]:
        form: dict[str, Any] = {"operator": self.operator.to_dict()}
        for name in _CONDITIONS:
            values = getattr(self, name)
            form[name] = None if values is None else list(values)
        form["allowed"] = self.allowed
        return form

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rule:
        expected = {"operator", "allowed", *_CONDITIONS}
        if not isinstance(data, Mapping) or set(data) != expected:
            keys = sorted(data) if isinstance(data, Mapping) else type(data).__name__
            raise ValidationError(
                f"policy rule: form has keys {keys}, expected {sorted(expected)}",
                reason="bad-policy",
            )
        conditions: dict[str, Any] = {}
        for name in _CONDITIONS:
            values = data[name]
            if values is not None and not isinstance(values, list):
                raise ValidationError(
                    f"policy rule: {name} must be a list or null, "
                    f"got {type(values).__name__}",
                    reason="bad-policy",
                )
            conditions[name] = None if values is None else tuple(values)
        return cls(
            operator=operator_from_dict(data["operator"]),
            allowed=data["allowed"],
            **conditions,
        )


def _check_values(
    name: str, values: tuple[Any, ...] | None, accepted: Collection[Any] | None
) -> None:
    """Raise `ValidationError` unless every value is in `accepted`.

    Levels must be integers and every other value a string. `accepted` of None
    accepts any non-empty string.
    """
    if values is None:
        return
    for value in values:
        if name == "levels":
            valid = type(value) is int and accepted is not None and value in accepted
        elif accepted is None:
            valid = isinstance(value, str) and value != ""
        else:
            valid = isinstance(value, str) and value in accepted
        if not valid:
            expected = "non-empty strings" if accepted is None else list(accepted)
            raise ValidationError(
                f"policy rule: {name} contains {value!r}, expected one of {expected}",
                reason="bad-policy",
            )


@dataclass(frozen=True)
class Policy:
    """A named, versioned desensitization policy.

    `kinds` maps field names to their `FieldKind`. A field not listed there is
    of kind `other` unless `apply_policy` is given its kind. `rules` are tried
    in order and the last must match every field.
    """

    name: str
    version: int
    rules: tuple[Rule, ...]
    kinds: Mapping[str, FieldKind] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValidationError(
                f"policy name must be a non-empty string, got {self.name!r}",
                reason="bad-policy",
            )
        if type(self.version) is not int or self.version < 1:
            raise ValidationError(
                f"policy {self.name!r}: version must be an integer of at least 1, "
                f"got {self.version!r}",
                reason="bad-policy",
            )
        if not all(isinstance(rule, Rule) for rule in self.rules):
            raise ValidationError(
                f"policy {self.name!r}: rules must be Rule objects",
                reason="bad-policy",
            )
        if not self.rules or not self.rules[-1].matches_all:
            raise ValidationError(
                f"policy {self.name!r}: the last rule must match every field; "
                "end the rules with one that has no condition",
                reason="bad-policy",
            )
        for field_name, kind in self.kinds.items():
            if kind not in FIELD_KINDS:
                raise ValidationError(
                    f"policy {self.name!r}: field {field_name!r} has kind "
                    f"{kind!r}; use one of {list(FIELD_KINDS)}",
                    reason="bad-policy",
                )
        object.__setattr__(self, "rules", tuple(self.rules))
        object.__setattr__(self, "kinds", MappingProxyType(dict(self.kinds)))

    def kind_of(self, field_name: str) -> FieldKind:
        """Return the kind the policy gives `field_name`, `other` if unlisted."""
        return self.kinds.get(field_name, "other")

    def operator_for(self, context: FieldContext) -> Operator:
        """Return the operator of the first rule that matches `context`."""
        for rule in self.rules:
            if rule.matches(context):
                return rule.operator
        raise AssertionError("the last rule of a policy matches every field")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "kinds": dict(self.kinds),
            "rules": [rule.to_dict() for rule in self.rules],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """Rebuild a policy from `to_dict()`, raising `ValidationError` if malformed."""
        expected = {"name", "version", "kinds", "rules"}
        if not isinstance(data, Mapping) or set(data) != expected:
            keys = sorted(data) if isinstance(data, Mapping) else type(data).__name__
            raise ValidationError(
                f"policy: form has keys {keys}, expected {sorted(expected)}",
                reason="bad-policy",
            )
        if not isinstance(data["rules"], list) or not isinstance(data["kinds"], dict):
            raise ValidationError(
                "policy: rules must be a list and kinds an object",
                reason="bad-policy",
            )
        return cls(
            name=data["name"],
            version=data["version"],
            rules=tuple(Rule.from_dict(rule) for rule in data["rules"]),
            kinds=data["kinds"],
        )

    def canonical_bytes(self) -> bytes:
        """Return the canonical JSON of `to_dict()`, the bytes `digest` hashes."""
        return canonical_json(self.to_dict())

    @cached_property
    def digest(self) -> str:
        """Lower-case hex SHA-256 of `canonical_bytes()`."""
        return hashlib.sha256(self.canonical_bytes()).hexdigest()


def plan_policy(
    policy: Policy,
    columns: Collection[str],
    *,
    field_levels: Mapping[str, int],
    consumer: str,
    allowed: Collection[str] = (),
    sharing: SharingType = "conditional",
    purpose: str | None = None,
    field_kinds: Mapping[str, FieldKind] | None = None,
) -> dict[str, Operator]:
    """Return the operator `policy` gives each of `columns`, in column order.

    Every column needs a level in `field_levels`. `field_kinds` overrides the
    kinds the policy lists. `{name: op.to_dict()}` of the result is the form
    to record with a delivery next to `policy.digest`. Raises `PolicyError`
    for a not-shared resource and `ValidationError` for a column without a
    level or with a level outside 1 to 4.
    """
    if sharing == "not_shared":
        raise PolicyError(
            "resource is not shared, so it is never delivered; change its "
            "sharing type in the catalog first",
            reason="not-shared",
        )
    if sharing not in SHARING_TYPES:
        raise ValidationError(
            f"sharing type {sharing!r} is unknown; use one of {list(SHARING_TYPES)}",
            reason="bad-sharing-type",
        )
    _check_levels(columns, field_levels)
    kinds = dict(field_kinds or {})
    unknown = {name: kind for name, kind in kinds.items() if kind not in FIELD_KINDS}
    if unknown:
        raise ValidationError(
            f"field kinds {unknown} are unknown; use one of {list(FIELD_KINDS)}",
            reason="bad-field-kind",
        )
    plan: dict[str, Operator] = {}
    for name in columns:
        context = FieldContext(
            field=name,
            level=field_levels[name],
            kind=kinds.get(name) or policy.kind_of(name),
            sharing=sharing,
            consumer=consumer,
            purpose=purpose,
            allowed=name in allowed,
        )
        plan[name] = policy.operator_for(context)
        if isinstance(plan[name], Keep) and context.level >= 3:
            logger.warning(
                "policy %s v%d passes field %r at sensitivity level %d through "
                "unchanged",
                policy.name,
                policy.version,
                name,
                context.level,
            )
    return plan


def _check_levels(columns: Collection[str], field_levels: Mapping[str, int]) -> None:
    missing = [name for name in columns if name not in field_levels]
    if missing:
        raise ValidationError(
            f"fields {missing} have no sensitivity level; grade every field of "
            "the resource before delivering it",
            reason="ungraded-field",
        )
    bad = {
        name: field_levels[name]
        for name in columns
        if type(field_levels[name]) is not int
        or not MIN_SENSITIVITY <= field_levels[name] <= MAX_SENSITIVITY
    }
    if bad:
        raise ValidationError(
            f"sensitivity levels {bad} are not integers from {MIN_SENSITIVITY} "
            f"to {MAX_SENSITIVITY}; fix the grading of these fields",
            reason="bad-level",
        )


def apply_policy(
    df: pl.DataFrame,
    policy: Policy,
    *,
    field_levels: dict[str, int],
    consumer: str,
    master_key: bytes,
    allowed: set[str],
    sharing: SharingType = "conditional",
    purpose: str | None = None,
    field_kinds: Mapping[str, FieldKind] | None = None,
) -> pl.DataFrame:
    """Desensitize `df` for delivery to `consumer` under `policy`.

    `field_levels` grades every column, `allowed` names the fields the grant
    allows explicitly, and `master_key` is the secret that each consumer's
    pseudonym key is derived from (only read when a field is pseudonymized).
    The result has the same columns in the same order. Raises as
    `plan_policy` does, and `ConfigError` when a field is pseudonymized and
    the master key is missing or too short.
    """
    plan = plan_policy(
        policy,
        df.columns,
        field_levels=field_levels,
        consumer=consumer,
        allowed=allowed,
        sharing=sharing,
        purpose=purpose,
        field_kinds=field_kinds,
    )
    key: bytes | None = None
    columns = []
    for name, operator in plan.items():
        if isinstance(operator, Pseudonymize):
            key = key or derive_consumer_key(master_key, consumer)
            operator = replace(operator, key=key)
        columns.append(operator.apply(df.get_column(name)))
    logger.debug(
        "applied policy %s v%d (%s) to %d fields for %s",
        policy.name,
        policy.version,
        policy.digest,
        len(plan),
        consumer,
    )
    return pl.DataFrame(columns)


def _default_kinds() -> dict[str, FieldKind]:
    names: dict[FieldKind, tuple[str, ...]] = {
        "id_number": ("身份证号", "身份证号码", "公民身份号码", "证件号码", "证件号"),
        "phone": ("手机号", "手机号码", "联系电话", "电话", "电话号码", "联系方式"),
        "name": ("姓名", "联系人", "法定代表人"),
        "uscc": ("统一社会信用代码",),
        "birth_date": ("出生日期", "出生年月"),
        "age": ("年龄",),
        "address": ("地址", "住址", "家庭住址", "户籍地址", "居住地址", "联系地址"),
        "region_code": ("行政区划代码", "区划代码"),
        "text": ("备注", "说明"),
    }
    kinds: dict[str, FieldKind] = {}
    for kind, fields in names.items():
        for name in (*fields, kind):
            kinds[name] = kind
    return kinds


def _default_rules() -> tuple[Rule, ...]:
    level2: list[tuple[FieldKind, Operator]] = [
        ("id_number", Mask.id_number()),
        ("phone", Mask.phone()),
        ("name", MaskName()),
        ("uscc", Mask(keep_first=8, keep_last=2)),
        ("text", ScrubText()),
        ("birth_date", GeneralizeDate("month")),
        ("age", GeneralizeAge()),
        ("address", GeneralizeAddress()),
        ("region_code", GeneralizeRegion("city")),
        ("number", GeneralizeNumber(10)),
    ]
    level3: list[tuple[FieldKind, Operator]] = [
        ("birth_date", GeneralizeDate("year")),
        ("age", GeneralizeAge((18, 60))),
        ("address", GeneralizeAddress()),
        ("region_code", GeneralizeRegion("province")),
        ("number", GeneralizeNumber(100)),
        ("text", Suppress()),
    ]
    return (
        Rule(Pseudonymize(), levels=(4,), allowed=True),
        Rule(Suppress(), levels=(4,)),
        Rule(Keep(), levels=(1,)),
        *(Rule(op, levels=(2,), kinds=(kind,)) for kind, op in level2),
        Rule(Mask(keep_first=1, keep_last=1), levels=(2,)),
        Rule(Pseudonymize(), levels=(3,), kinds=IDENTIFIER_KINDS),
        *(Rule(op, levels=(3,), kinds=(kind,)) for kind, op in level3),
        Rule(Pseudonymize(), levels=(3,)),
        # Every level is handled above; suppressing keeps the policy closed.
        Rule(Suppress()),
    )


#: The platform's default desensitization policy (see the module docstring).
DEFAULT_POLICY = Policy(
    name="govchain-default",
    version=1,
    rules=_default_rules(),
    kinds=_default_kinds(),
)
