"""State handlers of the catalog chain: resources and their versions.

A resource record names its owner department, and every later change to it
must be signed by that owner, so no other department (the operator included)
can alter a catalog entry behind its owner's back. Free text that holds an ID
or mobile number is rejected (reason `personal-data`), because it would stay
on the ledger.
"""

from __future__ import annotations

import re
from typing import Any

from govchain.errors import PolicyError, ValidationError
from govchain.governance.personal_data import check_free_text
from govchain.ledger.state import TxContext, handler
from govchain.standards._handlers import resolve_reference

RESOURCE_NS = "resource"
VERSION_NS = "version"

SHARING_TYPES = ("unconditional", "conditional", "not_shared")
FIELD_TYPES = (
    "string",
    "integer",
    "number",
    "boolean",
    "date",
    "datetime",
    "year",
    "any",
)
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{2,127}$")
_HEX64_RE = re.compile(r"^[0-9a-f]{64}$")
#: C0 and C1 controls other than tab, line feed and carriage return (text from
#: spreadsheets ends lines with CR LF), and the Unicode bidirectional
#: embedding, override and isolate characters.
_CONTROL_RE = re.compile(
    "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]"
)
#: Fields a steward may change with catalog.update.
UPDATABLE = (
    "title",
    "description",
    "fields",
    "standard",
    "category",
    "level",
    "sharing",
    "update_frequency",
    "tags",
    "min_k",
)


def _bad(message: str) -> ValidationError:
    return ValidationError(message, reason="bad-payload")


def _text(payload: dict[str, Any], name: str, *, required: bool, limit: int) -> str:
    value = payload.get(name, "")
    if not isinstance(value, str):
        raise _bad(f"field {name} must be a string")
    value = value.strip()
    if _CONTROL_RE.search(value):
        raise _bad(
            f"field {name} contains control or bidirectional-override characters; "
            "remove them (they can make a title display as something else)"
        )
    if required and not value:
        raise _bad(f"field {name} is required and empty")
    if len(value) > limit:
        raise _bad(
            f"field {name} is {len(value)} characters, over the limit of {limit}"
        )
    return value


#: What a field contains, which decides how deliveries desensitize it; the
#: same names as `govchain.governance.policy.FieldKind`.
FIELD_KINDS = (
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
)


def _fields(value: Any) -> list[dict[str, Any]]:
    """Check a field list: name, type, description, and optional level and kind."""
    if not isinstance(value, list):
        raise _bad("field fields must be a list of {name, type, description} objects")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise _bad(f"fields[{i}] must be an object with a string name")
        name = item["name"].strip()
        if not name:
            raise _bad(f"fields[{i}].name is empty")
        if name in seen:
            raise _bad(f"fields[{i}].name {name!r} is declared twice")
        seen.add(name)
        kind = item.get("type", "string")
        if kind not in FIELD_TYPES:
            raise _bad(
                f"fields[{i}].type {kind!r} is not one of {', '.join(FIELD_TYPES)}"
            )
        description = item.get("description", "")
        if not isinstance(description, str):
            raise _bad(f"fields[{i}].description must be a string")
        field: dict[str, Any] = {"name": name, "type": kind, "description": description}
        if "level" in item:
            field["level"] = _level(item["level"])
        if "kind" in item:
            if item["kind"] not in FIELD_KINDS:
                raise _bad(
                    f"fields[{i}].kind {item['kind']!r} is not one of "
                    f"{', '.join(FIELD_KINDS)}"
                )
            field["kind"] = item["kind"]
        if "quasi_identifier" in item:
            if not isinstance(item["quasi_identifier"], bool):
                raise _bad(f"fields[{i}].quasi_identifier must be true or false")
            field["quasi_identifier"] = item["quasi_identifier"]
        out.append(field)
    return out


def _level(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 4:
        raise _bad(f"field level must be an integer from 1 to 4, got {value!r}")
    return value


def _sharing(value: Any) -> str:
    if value not in SHARING_TYPES:
        raise _bad(f"field sharing {value!r} is not one of {', '.join(SHARING_TYPES)}")
    return str(value)


def _tags(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise _bad("field tags must be a list of strings")
    return sorted({t.strip() for t in value if t.strip()})


def free_text_of(payload: dict[str, Any]) -> dict[str, object]:
    """Return the free-text values of a catalog payload by field name.

    These are the values `check_free_text` searches for ID and mobile numbers:
    title, description, the text fields, tags, the fields' names and
    descriptions and a version's transformation.
    """
    texts: dict[str, object] = {
        name: payload[name]
        for name in (
            "title",
            "description",
            "standard",
            "category",
            "update_frequency",
            "tags",
            "transformation",
        )
        if name in payload
    }
    fields = payload.get("fields")
    if isinstance(fields, list):
        for i, item in enumerate(fields):
            if isinstance(item, dict):
                texts[f"fields[{i}].name"] = item.get("name")
                texts[f"fields[{i}].description"] = item.get("description")
    return texts


def _clean(payload: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    # Checked first, because the messages below quote some of the values.
    check_free_text(
        free_text_of({name: payload[name] for name in names if name in payload})
    )
    out: dict[str, Any] = {}
    for name in names:
        if name not in payload:
            continue
        value = payload[name]
        if name == "title":
            out[name] = _text(payload, name, required=True, limit=300)
        elif name == "description":
            out[name] = _text(payload, name, required=False, limit=20_000)
        elif name in ("standard", "category", "update_frequency"):
            out[name] = _text(payload, name, required=False, limit=200)
        elif name == "fields":
            out[name] = _fields(value)
        elif name == "level":
            out[name] = _level(value)
        elif name == "sharing":
            out[name] = _sharing(value)
        elif name == "tags":
            out[name] = _tags(value)
        elif name == "min_k":
            if (
                not isinstance(value, int)
                or isinstance(value, bool)
                or not 1 <= value <= 1000
            ):
                raise _bad("field min_k must be an integer from 1 (no check) to 1000")
            out[name] = value
    return out


def resource_id_for(ctx: TxContext) -> str:
    """Return the id a registration creates: the payload's, or one from the tx id."""
    given = ctx.tx.payload.get("id")
    if given is None:
        return ctx.new_id("res")
    if not isinstance(given, str) or not _ID_RE.match(given):
        raise _bad(
            "field id must be 3 to 128 characters of letters, digits and . _ : -"
        )
    return given


def get_resource(ctx: TxContext, resource_id: Any) -> dict[str, Any]:
    if not isinstance(resource_id, str):
        raise _bad("field resource is missing or not a string")
    record = ctx.state.get(RESOURCE_NS, resource_id)
    if record is None:
        raise ValidationError(
            f"resource {resource_id!r} is not in the catalog", reason="unknown-resource"
        )
    ctx.add_subject(f"resource:{resource_id}")
    return record


def _owned(ctx: TxContext) -> dict[str, Any]:
    record = get_resource(ctx, ctx.tx.payload.get("resource"))
    if record["owner"] != ctx.tx.dept:
        raise PolicyError(
            f"resource {record['id']!r} belongs to {record['owner']!r}; only its owner "
            f"may change it, not {ctx.tx.dept!r}",
            reason="not-owner",
        )
    if record["status"] != "active":
        raise ValidationError(f"resource {record['id']!r} is retired", reason="retired")
    return record


@handler("catalog.register")
def register(ctx: TxContext) -> None:
    payload = ctx.tx.payload
    resource_id = resource_id_for(ctx)
    if ctx.state.get(RESOURCE_NS, resource_id) is not None:
        # The attempt belongs to the existing resource's trail.
        ctx.add_subject(f"resource:{resource_id}")
        raise ValidationError(
            f"resource {resource_id!r} already exists", reason="duplicate"
        )
    for required in ("title", "level", "sharing"):
        if required not in payload:
            raise _bad(f"field {required} is required")
    record: dict[str, Any] = {
        "id": resource_id,
        "owner": ctx.tx.dept,
        "title": "",
        "description": "",
        "fields": [],
        "standard": "",
        "category": "",
        "update_frequency": "",
        "tags": [],
        "status": "active",
        "versions": 0,
        "created": ctx.block_time,
        "updated": ctx.block_time,
    }
    record.update(_clean(payload, UPDATABLE))
    _link_standard(ctx, record)
    # A rejected registration creates no resource, so it names none: its id
    # would point the audit trail at a resource that does not exist.
    ctx.add_subject(f"resource:{resource_id}")
    ctx.state.put(RESOURCE_NS, resource_id, record)


def _link_standard(ctx: TxContext, record: dict[str, Any]) -> None:
    """Record the SHA-256 of a standard referenced as a registered `name@version`.

    Other text (such as `GB/T 2260`) stays a free-text reference without a hash.
    """
    digest = resolve_reference(ctx, record["standard"])
    if digest is not None:
        record["standard_hash"] = digest
    else:
        record.pop("standard_hash", None)


@handler("catalog.update")
def update(ctx: TxContext) -> None:
    record = _owned(ctx)
    changes = _clean(ctx.tx.payload, UPDATABLE)
    if not changes:
        raise _bad(f"an update must change at least one of {', '.join(UPDATABLE)}")
    record.update(changes)
    if "standard" in changes:
        _link_standard(ctx, record)
    record["updated"] = ctx.block_time
    ctx.state.put(RESOURCE_NS, record["id"], record)


@handler("catalog.retire")
def retire(ctx: TxContext) -> None:
    record = _owned(ctx)
    record["status"] = "retired"
    record["updated"] = ctx.block_time
    ctx.state.put(RESOURCE_NS, record["id"], record)


def _hex(payload: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = payload.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not _HEX64_RE.match(value):
        raise _bad(f"field {name} must be a 64-character lower-case hex SHA-256 digest")
    return value


@handler("catalog.publish_version")
def publish_version(ctx: TxContext) -> None:
    record = _owned(ctx)
    payload = ctx.tx.payload
    row_count = payload.get("row_count")
    if not isinstance(row_count, int) or isinstance(row_count, bool) or row_count < 0:
        raise _bad("field row_count must be a non-negative integer")
    parents = payload.get("parents", [])
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise _bad("field parents must be a list of version ids")
    for parent in parents:
        if ctx.state.get(VERSION_NS, parent) is None:
            raise ValidationError(
                f"parent version {parent!r} is unknown", reason="bad-lineage"
            )
    transformation = _text(payload, "transformation", required=False, limit=500)
    check_free_text({"transformation": transformation})
    number = record["versions"] + 1
    version_id = f"{record['id']}@{number}"
    version = {
        "id": version_id,
        "resource": record["id"],
        "number": number,
        "content_hash": _hex(payload, "content_hash"),
        "schema_hash": _hex(payload, "schema_hash"),
        "raw_hash": _hex(payload, "raw_hash", required=False),
        "row_count": row_count,
        "parents": parents,
        "transformation": transformation,
        "standard_hash": _hex(payload, "standard_hash", required=False),
        "quality_report_hash": _hex(payload, "quality_report_hash", required=False),
        "quality_score": _text(payload, "quality_score", required=False, limit=16),
        "published": ctx.block_time,
        "tx": ctx.tx.id,
    }
    # The rule set or policy digest of a derived version; left out when absent so
    # that versions recorded before it existed replay to the same state.
    transformation_hash = _hex(payload, "transformation_hash", required=False)
    if transformation_hash:
        version["transformation_hash"] = transformation_hash
    ctx.state.put(VERSION_NS, version_id, version)
    record["versions"] = number
    record["latest_version"] = version_id
    record["updated"] = ctx.block_time
    ctx.state.put(RESOURCE_NS, record["id"], record)
    ctx.add_subject(f"version:{version_id}")
