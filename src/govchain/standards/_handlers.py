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
from govchain.governance.personal_data import check_free_text, mask_personal_data
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
    """Return every string and number of a Table Schema document by its JSON path.

    `check_free_text` searches these for ID and mobile numbers, because the
    whole document stays on the ledger: titles and descriptions, but also
    field names, patterns, enum values, bounds and `missingValues`. Property
    names are checked too, under the path `OBJECT (property name)`. A path
    shows property names masked, so a message that names it never contains
    an ID or mobile number.
    """
    texts: dict[str, object] = {}
    _collect_text(document, "", texts)
    return texts


def _collect_text(value: Any, path: str, texts: dict[str, object]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            name = mask_personal_data(str(key))
            if name != key:
                texts[f"{path or 'document'} (property name)"] = str(key)
            _collect_text(item, f"{path}.{name}" if path else name, texts)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _collect_text(item, f"{path}[{i}]", texts)
    elif isinstance(value, str):
        texts[path or "document"] = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        # NOTE: a bound such as `"minimum": 13000000000` of an integer field of
        # mobile numbers is rejected too, because it reads as a mobile number.
        texts[path or "document"] = str(value)


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
