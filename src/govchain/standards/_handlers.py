"""State handler of the standards registry: data standards by name and version.

A registered standard is the exact text of its Table Schema file, its SHA-256
(the same digest an import records as `standard_hash`), a name and a version.
`name@version` is registered once and never changed, so a catalog resource
that references it, and every version validated against it, points at fixed
rules. A new revision is a new version.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from govchain.errors import ValidationError
from govchain.governance.personal_data import check_free_text
from govchain.ledger.state import TxContext, handler

STANDARD_NS = "standard"

#: Names and versions: letters, digits and `. _ -`, so `name@version` is unambiguous.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
REFERENCE_RE = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]{0,99})@([A-Za-z0-9][A-Za-z0-9._-]{0,99})$"
)
MAX_DOCUMENT_CHARS = 200_000


def _bad(message: str) -> ValidationError:
    return ValidationError(message, reason="bad-payload")


@handler("standard.register")
def register(ctx: TxContext) -> None:
    """Record a data standard under `name@version`; each pair only once."""
    payload = ctx.tx.payload
    name, version = payload.get("name"), payload.get("version")
    for label, value in (("name", name), ("version", version)):
        if not isinstance(value, str) or not NAME_RE.match(value):
            raise _bad(
                f"field {label} must be 1 to 100 letters, digits and . _ - "
                "starting with a letter or digit"
            )
    key = f"{name}@{version}"
    ctx.add_subject(f"standard:{key}")
    if ctx.state.get(STANDARD_NS, key) is not None:
        raise ValidationError(
            f"standard {key} is already registered; register the revision as a "
            "new version",
            reason="duplicate",
        )
    document = payload.get("document")
    if not isinstance(document, str) or len(document) > MAX_DOCUMENT_CHARS:
        raise _bad(
            f"field document must be the standard's text, at most "
            f"{MAX_DOCUMENT_CHARS} characters"
        )
    digest = hashlib.sha256(document.encode("utf-8")).hexdigest()
    if payload.get("sha256") != digest:
        raise _bad("field sha256 is not the SHA-256 of the document's UTF-8 bytes")
    try:
        parsed = json.loads(document.removeprefix("\ufeff"))
    except json.JSONDecodeError as exc:
        raise _bad(f"the document is not JSON: {exc.msg}") from exc
    fields = parsed.get("fields") if isinstance(parsed, dict) else None
    if not isinstance(fields, list) or not fields:
        raise _bad("the document must be a Table Schema with a non-empty fields list")
    check_free_text(document_text_of(parsed))
    title = parsed.get("title", "")
    ctx.state.put(
        STANDARD_NS,
        key,
        {
            "id": key,
            "name": name,
            "version": version,
            "sha256": digest,
            "title": title if isinstance(title, str) else "",
            "field_count": len(fields),
            "document": document,
            "publisher": ctx.tx.dept,
            "registered": ctx.block_time,
            "tx": ctx.tx.id,
        },
    )


def document_text_of(document: Any) -> dict[str, object]:
    """Return the free text of a Table Schema document by where it sits.

    These are the document's title and description and each field's title
    and description, which `check_free_text` searches for ID and mobile
    numbers. Patterns and enums are left out: they are rules, not prose.
    """
    if not isinstance(document, dict):
        return {}
    texts: dict[str, object] = {
        name: document.get(name) for name in ("title", "description")
    }
    fields = document.get("fields")
    for i, item in enumerate(fields if isinstance(fields, list) else []):
        if isinstance(item, dict):
            for name in ("title", "description"):
                texts[f"fields[{i}].{name}"] = item.get(name)
    return texts


def resolve_reference(ctx: TxContext, reference: str) -> str | None:
    """Return the SHA-256 of a registered `name@version`, None for free text.

    Raises `ValidationError` when `reference` has the `name@version` form but
    no such standard is registered.
    """
    if not REFERENCE_RE.match(reference):
        return None
    record = ctx.state.get(STANDARD_NS, reference)
    if record is None:
        raise ValidationError(
            f"standard {reference} is not registered; register it with "
            "`govchain data standard register` or list them with "
            "`govchain data standard list`",
            reason="unknown-standard",
        )
    return str(record["sha256"])
