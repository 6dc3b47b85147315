"""The standards registry on the ledger: register, list and show data standards."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from govchain.errors import ValidationError
from govchain.governance.personal_data import check_free_text
from govchain.ledger.state import StateReader
from govchain.node._node import Node
from govchain.standards._handlers import NAME_RE, STANDARD_NS, document_text_of
from govchain.standards.schema import (
    Standard,
    StandardError,
    parse_standard,
)

logger = logging.getLogger(__name__)

__all__ = [
    "find_by_hash",
    "get_standard",
    "list_standards",
    "register_document",
    "register_standard",
    "standard_of",
]


def register_standard(
    node: Node,
    dept: str,
    path: Path,
    *,
    name: str | None = None,
    version: str | None = None,
) -> dict[str, Any]:
    """Check a Table Schema file and register it as `name@version`.

    `name` and `version` default to the document's own `name` and `version`
    properties. Returns the registry record. Raises `StandardError` when the
    document is invalid, and `ValidationError` (reason `personal-data`) when
    any string or number in it contains an ID or mobile number, or when the
    ledger rejects it (such as a `name@version` that is already registered).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StandardError(
            [f"{path.name}: cannot read the standard ({exc.strerror})"]
        ) from exc
    return register_document(
        node, dept, data, source=path.name, name=name, version=version
    )


def register_document(
    node: Node,
    dept: str,
    data: bytes,
    *,
    source: str,
    name: str | None = None,
    version: str | None = None,
) -> dict[str, Any]:
    """Register the bytes of a Table Schema document; see `register_standard`."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StandardError(
            [f"{source}: the standard is not UTF-8 text; save it as UTF-8"]
        ) from exc
    try:
        document = json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as exc:
        raise StandardError(
            [
                f"{source}: invalid JSON at line {exc.lineno}, column {exc.colno} "
                f"({exc.msg})"
            ]
        ) from exc
    # A rejected transaction keeps its payload on the ledger, so personal data
    # is caught before signing. It is caught before the document is parsed
    # too, because parse errors quote the values they reject.
    check_free_text(document_text_of(document))
    parse_standard(document, source=source)
    name = name or document.get("name")
    version = version or document.get("version")
    for label, value in (("name", name), ("version", version)):
        if not isinstance(value, str) or not NAME_RE.match(value):
            raise ValidationError(
                f"{source}: the standard needs a {label} of letters, digits and "
                f". _ -; pass --{label} or add a {label!r} property to the document",
                reason="bad-standard",
            )
    payload = {
        "name": name,
        "version": version,
        "document": text,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    receipt = node.act(dept, "standard.register", payload)
    if not receipt.applied:
        raise ValidationError(receipt.message, reason=receipt.reason)
    logger.info("registered standard %s@%s by %s", name, version, dept)
    return get_standard(node.store, f"{name}@{version}")


def list_standards(state: StateReader, name: str = "") -> list[dict[str, Any]]:
    """Return the registered standards (without their documents), by id."""
    prefix = f"{name}@" if name else ""
    return [
        {k: v for k, v in record.items() if k != "document"}
        for _key, record in state.scan(STANDARD_NS, prefix)
    ]


def get_standard(state: StateReader, reference: str) -> dict[str, Any]:
    """Return the registry record of `name@version`, its document included."""
    record = state.get(STANDARD_NS, reference)
    if record is None:
        raise ValidationError(
            f"standard {reference} is not registered; list them with "
            "`govchain data standard list`",
            reason="unknown-standard",
        )
    return record


def find_by_hash(state: StateReader, sha256: str) -> Standard | None:
    """Return the registered standard whose document hashes to `sha256`, if any."""
    for _key, record in state.scan(STANDARD_NS):
        if record["sha256"] == sha256:
            return standard_of(record)
    return None


def standard_of(record: dict[str, Any]) -> Standard:
    """Return the `Standard` of a registry record, checked against its SHA-256."""
    text = record["document"]
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != record["sha256"]:
        raise StandardError(
            [f"standard {record['id']}: document does not match its hash"]
        )
    parsed = parse_standard(
        json.loads(text.removeprefix("\ufeff")), source=record["id"]
    )
    return Standard(
        fields=parsed.fields,
        missing_values=parsed.missing_values,
        primary_key=parsed.primary_key,
        title=parsed.title,
        source=record["id"],
        sha256=record["sha256"],
        document=text.encode("utf-8"),
    )
