"""State handlers of classification: a resource's grades and a steward's overrides.

`governance.classify` records the category, kind and level of each field of a
version under a named rule set, and `governance.override` records a steward's
correction of one field with the reason. Both are signed by the resource's
owner. A reason or evidence text with an ID or mobile number is rejected
(reason `personal-data`). Each applies the effective grades (overrides win) to the catalog
entry: the fields' `level` and `kind`, and the resource's `level`, which is
the highest field level. Desensitized deliveries and the sharing approvals
then follow the recorded grades. Only field names, categories, levels and
counts reach the ledger, never a value.
"""

from __future__ import annotations

import re
from typing import Any

from govchain.catalog._handlers import (
    FIELD_KINDS,
    RESOURCE_NS,
    VERSION_NS,
    get_resource,
)
from govchain.errors import PolicyError, ValidationError
from govchain.governance.personal_data import check_free_text
from govchain.ledger.state import TxContext, handler

CLASSIFICATION_NS = "classification"

_HEX64_RE = re.compile(r"^[0-9a-f]{64}$")
_CATEGORY_RE = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
MIN_REASON_CHARS = 10


def _bad(message: str) -> ValidationError:
    return ValidationError(message, reason="bad-payload")


def check_override_reason(reason: Any) -> str:
    """Return `reason` when it is fit for an override; raise `ValidationError` if not.

    It must be a string of 10 to 1000 characters without an ID or mobile
    number (reason `personal-data`), because it stays on the ledger.
    """
    if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON_CHARS:
        raise _bad(
            f"an override needs a reason of at least {MIN_REASON_CHARS} characters"
        )
    if len(reason) > 1000:
        raise _bad("the reason is over 1000 characters")
    check_free_text({"reason": reason})
    return reason


def _owned(ctx: TxContext) -> dict[str, Any]:
    record = get_resource(ctx, ctx.tx.payload.get("resource"))
    if record["owner"] != ctx.tx.dept:
        raise PolicyError(
            f"resource {record['id']!r} belongs to {record['owner']!r}; only its "
            f"steward may grade it, not {ctx.tx.dept!r}",
            reason="not-owner",
        )
    return record


def _level(value: Any, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 4:
        raise _bad(f"{path} must be an integer from 1 to 4, got {value!r}")
    return value


def _grade(item: Any, path: str) -> dict[str, Any]:
    if not isinstance(item, dict) or not isinstance(item.get("field"), str):
        raise _bad(f"{path} must be an object with a string field")
    category = item.get("category")
    if not isinstance(category, str) or not _CATEGORY_RE.match(category):
        raise _bad(f"{path}.category must be 1 to 64 lower-case letters, digits or -")
    kind = item.get("kind", "other")
    if kind not in FIELD_KINDS:
        raise _bad(f"{path}.kind {kind!r} is not one of {', '.join(FIELD_KINDS)}")
    evidence = item.get("evidence", [])
    if not isinstance(evidence, list) or not all(
        isinstance(e, str) and len(e) <= 100 for e in evidence
    ):
        raise _bad(f"{path}.evidence must be a list of short strings")
    check_free_text({f"{path}.evidence": evidence})
    return {
        "field": item["field"],
        "category": category,
        "kind": kind,
        "level": _level(item.get("level"), f"{path}.level"),
        "evidence": evidence,
    }


def _apply(ctx: TxContext, record: dict[str, Any], entry: dict[str, Any]) -> None:
    """Write the effective grades to the catalog entry of the resource."""
    effective = {g["field"]: dict(g) for g in entry["fields"]}
    for name, override in entry["overrides"].items():
        effective.setdefault(name, {"field": name})
        effective[name].update(
            level=override["level"],
            kind=override["kind"],
            category=override["category"],
        )
    for field in record["fields"]:
        grade = effective.get(field["name"])
        if grade is not None:
            field["level"] = grade["level"]
            field["kind"] = grade["kind"]
    entry["level"] = max((g["level"] for g in effective.values()), default=1)
    record["level"] = entry["level"]
    record["updated"] = ctx.block_time
    ctx.state.put(RESOURCE_NS, record["id"], record)


@handler("governance.classify")
def classify(ctx: TxContext) -> None:
    """Record the grades of a version's fields and apply them to the catalog."""
    record = _owned(ctx)
    payload = ctx.tx.payload
    version_id = payload.get("version")
    version = (
        ctx.state.get(VERSION_NS, version_id) if isinstance(version_id, str) else None
    )
    if version is None or version["resource"] != record["id"]:
        raise ValidationError(
            f"version {version_id!r} is not a version of {record['id']!r}",
            reason="unknown-version",
        )
    rules = payload.get("rules")
    if not isinstance(rules, str) or not 0 < len(rules) <= 200:
        raise _bad("field rules must name the rule set as name@version")
    rules_hash = payload.get("rules_hash")
    if not isinstance(rules_hash, str) or not _HEX64_RE.match(rules_hash):
        raise _bad("field rules_hash must be a 64-character lower-case hex digest")

    items = payload.get("fields")
    if not isinstance(items, list) or not items:
        raise _bad("field fields must be a non-empty list of grades")
    grades = [_grade(item, f"fields[{i}]") for i, item in enumerate(items)]
    names = [g["field"] for g in grades]
    known = {f["name"] for f in record["fields"]}
    unknown = sorted(set(names) - known) if known else []
    if unknown or len(set(names)) != len(names):
        raise _bad(
            f"fields {unknown or names} are unknown or repeated; grade each field of "
            f"resource {record['id']!r} once"
        )

    previous = ctx.state.get(CLASSIFICATION_NS, record["id"]) or {}
    entry = {
        "resource": record["id"],
        "version": version_id,
        "rules": rules,
        "rules_hash": rules_hash,
        "fields": grades,
        # An override stays until the steward overrides the field again, so a
        # new classification does not silently undo a reasoned decision.
        "overrides": previous.get("overrides", {}),
        "classified": ctx.block_time,
        "tx": ctx.tx.id,
    }
    _apply(ctx, record, entry)
    ctx.state.put(CLASSIFICATION_NS, record["id"], entry)
    ctx.add_subject(f"version:{version_id}")


@handler("governance.override")
def override(ctx: TxContext) -> None:
    """Record a steward's grade for one field, with the reason, and apply it."""
    record = _owned(ctx)
    payload = ctx.tx.payload
    entry = ctx.state.get(CLASSIFICATION_NS, record["id"])
    if entry is None:
        raise ValidationError(
            f"resource {record['id']!r} has no classification to override; run "
            "`govchain data classify` first",
            reason="not-classified",
        )

    field = payload.get("field")
    graded = {g["field"]: g for g in entry["fields"]}
    if field not in graded:
        raise ValidationError(
            f"field {field!r} is not a graded field of {record['id']!r}; the "
            f"graded fields are {', '.join(sorted(graded))}",
            reason="unknown-field",
        )

    # The grade is checked before the reason, so a steward who mistyped the
    # level hears about the level first.
    base = graded[field]
    grade = _grade(
        {
            "field": field,
            "category": payload.get("category", base["category"]),
            "kind": payload.get("kind", base["kind"]),
            "level": payload.get("level"),
        },
        "override",
    )
    reason = check_override_reason(payload.get("reason"))
    entry["overrides"][field] = {
        "level": grade["level"],
        "category": grade["category"],
        "kind": grade["kind"],
        "was": base["level"],
        "reason": reason.strip(),
        "by": ctx.tx.dept,
        "time": ctx.block_time,
        "tx": ctx.tx.id,
    }
    _apply(ctx, record, entry)
    ctx.state.put(CLASSIFICATION_NS, record["id"], entry)
