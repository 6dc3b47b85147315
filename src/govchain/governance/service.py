"""Steward operations on a node: clean a version, classify it, override a grade.

Each operation reads a version from the department's dataset store, works on it
with Polars, and records the outcome on the ledger signed by the resource's
owner. The source version is never changed: cleaning publishes a new version
whose parent is the source.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from govchain.catalog._handlers import VERSION_NS
from govchain.catalog.service import get_resource, publish_version
from govchain.datasets import Dataset, DatasetStore
from govchain.errors import ValidationError
from govchain.governance._handlers import CLASSIFICATION_NS, check_override_reason
from govchain.governance.classify import (
    DEFAULT_RULES,
    Classification,
    ClassificationRules,
    classify_frame,
)
from govchain.governance.cleaning import RuleSet, clean_frame, frame_of, rows_of
from govchain.ledger.canonical import canonical_json
from govchain.ledger.state import StateReader
from govchain.node._node import Node, Receipt
from govchain.standards import (
    QualityReport,
    build_report,
    load_standard,
    registry,
    render_json,
    validate_table,
)
from govchain.tabular import Table

logger = logging.getLogger(__name__)

__all__ = [
    "CleanOutcome",
    "classify_version",
    "clean_version",
    "get_classification",
    "get_version",
    "load_version",
    "override_grade",
]


@dataclass(frozen=True)
class CleanOutcome:
    """A cleaned version, its source, and what each rule changed."""

    version_id: str
    parent: str
    rows_in: int
    rows_out: int
    changes: list[dict[str, Any]]
    report_hash: str
    """SHA-256 of the cleaning report kept beside the datasets."""
    quality: QualityReport | None = None
    """Quality report of the cleaned rows against the source version's standard,
    `None` when the source was imported without one."""

    def to_dict(self) -> dict[str, Any]:
        """Return the outcome as JSON-ready values; the score is a decimal string."""
        return {
            "version": self.version_id,
            "parent": self.parent,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "changes": self.changes,
            "report_hash": self.report_hash,
            "quality_score": None if self.quality is None else str(self.quality.score),
        }


def get_version(
    state: StateReader, resource_id: str, version_id: str | None = None
) -> dict[str, Any]:
    """Return a version record: `version_id`, or the resource's latest version.

    Raises `ValidationError` when the resource has no such version.
    """
    record = get_resource(state, resource_id)
    wanted = version_id or record.get("latest_version")
    if not wanted:
        raise ValidationError(
            f"resource {resource_id!r} has no version yet; import one with "
            "`govchain data import`",
            reason="no-version",
        )
    version = state.get(VERSION_NS, wanted)
    if version is None or version["resource"] != resource_id:
        raise ValidationError(
            f"version {wanted!r} is not a version of resource {resource_id!r}",
            reason="unknown-version",
        )
    return version


def load_version(
    node: Node, store: DatasetStore, resource_id: str, version_id: str | None = None
) -> tuple[dict[str, Any], Dataset]:
    """Return a version record and its rows, checked against the ledger's hash."""
    version = get_version(node.store, resource_id, version_id)
    return version, store.get(version["content_hash"])


def clean_version(
    node: Node,
    store: DatasetStore,
    owner: str,
    resource_id: str,
    rule_set: RuleSet,
    *,
    version_id: str | None = None,
) -> CleanOutcome:
    """Clean a version (the latest by default) into a new version of the resource.

    The new version names the source as its parent and records the rule set's
    `name@version` and digest as its transformation. The rule set and a report
    of the changed-cell counts are kept beside the datasets. When the source
    was imported with a standard, the cleaned rows are validated against it
    and the new version records its own quality report hash and score.
    Nothing is recorded when a rule names a missing field, the source's
    standard cannot be found, or the ledger rejects the version.
    """
    source, dataset = load_version(node, store, resource_id, version_id)
    frame = frame_of(dataset.field_names, dataset.rows)
    result = clean_frame(frame, rule_set)
    cleaned = Dataset(fields=dataset.fields, rows=rows_of(result.frame))
    store.put_blob("rule-sets", rule_set.canonical_bytes())
    report = {
        "format": "govchain-cleaning-report/1",
        "source": source["id"],
        "rule_set": rule_set.ref,
        "rule_set_hash": rule_set.digest,
        "rows_in": len(dataset.rows),
        "rows_out": len(cleaned.rows),
        "changes": result.changes,
    }
    report_hash = store.put_blob("cleaning-reports", canonical_json(report))
    quality_report, quality = _quality_of(
        node, store, source, cleaned, label=f"{source['id']} cleaned by {rule_set.ref}"
    )
    new_id = publish_version(
        node,
        store,
        owner,
        resource_id,
        cleaned,
        parents=[source["id"]],
        transformation=f"clean {rule_set.ref}",
        transformation_hash=rule_set.digest,
        quality=quality,
    )
    logger.info(
        "cleaned %s into %s with %s (%d of %d rows kept)",
        source["id"],
        new_id,
        rule_set.ref,
        len(cleaned.rows),
        len(dataset.rows),
    )
    return CleanOutcome(
        new_id,
        source["id"],
        len(dataset.rows),
        len(cleaned.rows),
        result.changes,
        report_hash,
        quality_report,
    )


def _quality_of(
    node: Node,
    store: DatasetStore,
    source: dict[str, Any],
    cleaned: Dataset,
    *,
    label: str,
) -> tuple[QualityReport | None, dict[str, str]]:
    """Validate cleaned rows against the standard of their source version.

    `label` is the report's source, since the cleaned rows have no file.

    Returns the report and the version fields that record it, or `(None, {})`
    when the source has no standard. The standard is looked up by its hash in
    the ledger's registry, then among the standards kept by imports on this
    node. Raises `ValidationError` when it is in neither, because the cleaned
    version would otherwise lose the quality score its source had.
    """
    digest = source.get("standard_hash")
    if not digest:
        return None, {}
    standard = registry.find_by_hash(node.store, digest)
    kept = store.root / "standards" / f"{digest}.json"
    if standard is None and kept.exists():
        standard = load_standard(kept)
    if standard is None or standard.sha256 != digest:
        raise ValidationError(
            f"the standard of {source['id']} (sha256 {digest[:12]}) is neither "
            "registered nor kept on this node, so the cleaned rows cannot be "
            "scored; register it with `govchain data standard register`",
            reason="unknown-standard",
        )
    table = Table(
        source=label,
        sheet=None,
        header=tuple(cleaned.field_names),
        rows=[tuple(row) for row in cleaned.rows],
        # Row 1 is the header, as in a file exported from the version.
        row_numbers=list(range(2, len(cleaned.rows) + 2)),
        encoding=None,
        header_row=1,
    )
    report = build_report(validate_table(table, standard))
    body = render_json(report)
    store.put_blob("reports", body)
    return report, {
        "standard_hash": digest,
        "quality_report_hash": hashlib.sha256(body).hexdigest(),
        "quality_score": str(report.score),
    }


def _applied(receipt: Receipt) -> Receipt:
    if not receipt.applied:
        raise ValidationError(receipt.message, reason=receipt.reason)
    return receipt


def classify_version(
    node: Node,
    store: DatasetStore,
    owner: str,
    resource_id: str,
    *,
    rules: ClassificationRules = DEFAULT_RULES,
    version_id: str | None = None,
    record: bool = True,
) -> tuple[str, Classification]:
    """Classify a version (the latest by default); return its id and the result.

    With `record`, the grades go on the ledger and into the catalog entry (see
    `govchain.governance._handlers`); without it, nothing is written.
    """
    version, dataset = load_version(node, store, resource_id, version_id)
    result = classify_frame(frame_of(dataset.field_names, dataset.rows), rules)
    if record:
        payload = {
            "resource": resource_id,
            "version": version["id"],
            "rules": result.rules,
            "rules_hash": result.rules_hash,
            "fields": [grade.to_dict() for grade in result.fields],
        }
        _applied(node.act(owner, "governance.classify", payload))
        logger.info(
            "classified %s with %s: level %d", version["id"], result.rules, result.level
        )
    return version["id"], result


def override_grade(
    node: Node,
    owner: str,
    resource_id: str,
    field: str,
    *,
    level: int,
    reason: str,
    category: str | None = None,
    kind: str | None = None,
) -> dict[str, Any]:
    """Record a steward's level (and optionally category and kind) for one field.

    Returns the resource's classification entry after the override. Raises
    `ValidationError` with the ledger's reason when it is rejected. A level
    other than 1 to 4 and an unfit reason (too short, or containing an ID or
    mobile number) raise before signing, because a rejected transaction
    keeps its payload on the ledger.
    """
    if isinstance(level, bool) or not 1 <= level <= 4:
        raise ValidationError(
            f"level {level} is invalid; give a level from 1 to 4",
            reason="bad-payload",
        )
    check_override_reason(reason)
    payload: dict[str, Any] = {
        "resource": resource_id,
        "field": field,
        "level": level,
        "reason": reason,
    }
    if category is not None:
        payload["category"] = category
    if kind is not None:
        payload["kind"] = kind
    _applied(node.act(owner, "governance.override", payload))
    logger.info("override of %s field %s to level %d", resource_id, field, level)
    return get_classification(node.store, resource_id)


def get_classification(state: StateReader, resource_id: str) -> dict[str, Any]:
    """Return the recorded classification of a resource.

    Raises `ValidationError` when the resource was never classified.
    """
    entry = state.get(CLASSIFICATION_NS, resource_id)
    if entry is None:
        raise ValidationError(
            f"resource {resource_id!r} has no classification; run `govchain data "
            "classify`",
            reason="not-classified",
        )
    return entry
