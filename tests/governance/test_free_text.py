"""ID and mobile numbers in free text of governance and catalog transactions.

Each case is checked twice: through the service, which must reject it before
signing (a rejected transaction keeps its payload on the ledger), and through
the handler with a hand-made payload, which must reject it deterministically.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from tests.block_support import commit_signed

from govchain.catalog import service as catalog
from govchain.datasets import Dataset, DatasetStore
from govchain.errors import ValidationError
from govchain.governance.cleaning import load_rule_set
from govchain.governance.service import classify_version, override_grade
from govchain.node import Node
from govchain.standards import registry

ID_NUMBER = "110101199003074514"
MOBILE = "13800138000"
FIELDS = [
    {"name": "身份证号", "type": "string", "description": ""},
    {"name": "街道", "type": "string", "description": ""},
]


def _classified(node: Node, tmp_path: Path) -> str:
    store = DatasetStore(tmp_path / "o")
    resource_id = catalog.register_resource(
        node, "city-health", title="人员", level=1, sharing="conditional", fields=FIELDS
    )
    dataset = Dataset(fields=FIELDS, rows=[[ID_NUMBER, "东城"]])
    catalog.publish_version(node, store, "city-health", resource_id, dataset)
    classify_version(node, store, "city-health", resource_id)
    return resource_id


def _assert_rejected(error: ValidationError, field: str) -> None:
    message = str(error)
    assert error.reason == "personal-data"
    assert f"field {field} contains a" in message
    assert ID_NUMBER not in message
    assert MOBILE not in message


def test_override_reason_with_id_rejected(node: Node, tmp_path: Path) -> None:
    resource_id = _classified(node, tmp_path)
    size = node.store.log_size()
    reason = f"raised after the complaint of {ID_NUMBER}"
    with pytest.raises(ValidationError) as refused:
        override_grade(node, "city-health", resource_id, "街道", level=3, reason=reason)
    _assert_rejected(refused.value, "reason")
    assert node.store.log_size() == size


def test_override_handler_rejects_mobile(node: Node, tmp_path: Path) -> None:
    resource_id = _classified(node, tmp_path)
    payload = {
        "resource": resource_id,
        "field": "街道",
        "level": 3,
        "reason": "resident at 138-0013-8000 asked for it",
    }
    receipt = commit_signed(node, "city-health", "governance.override", payload)
    assert not receipt.applied
    assert receipt.reason == "personal-data"
    assert "field reason contains a mobile number" in receipt.message
    assert "8000" not in receipt.message


def test_override_level_checked_first(node: Node, tmp_path: Path) -> None:
    resource_id = _classified(node, tmp_path)
    with pytest.raises(ValidationError, match="level 9 is invalid") as refused:
        override_grade(node, "city-health", resource_id, "街道", level=9, reason="x")
    assert "reason" not in str(refused.value)
    payload = {"resource": resource_id, "field": "街道", "level": 9, "reason": "x"}
    receipt = commit_signed(node, "city-health", "governance.override", payload)
    assert not receipt.applied
    assert "level must be an integer from 1 to 4, got 9" in receipt.message


def test_catalog_description_mobile_rejected(node: Node) -> None:
    size = node.store.log_size()
    with pytest.raises(ValidationError) as refused:
        catalog.register_resource(
            node,
            "city-health",
            title="人员",
            description=f"contact {MOBILE} for access",
            level=1,
            sharing="conditional",
        )
    _assert_rejected(refused.value, "description")
    assert node.store.log_size() == size
    fields = [{"name": "a", "type": "string", "description": f"e.g. {ID_NUMBER}"}]
    payload = {"title": "人员", "level": 1, "sharing": "conditional", "fields": fields}
    receipt = commit_signed(node, "city-health", "catalog.register", payload)
    assert receipt.reason == "personal-data"
    assert "field fields[0].description contains a resident ID" in receipt.message


def test_catalog_update_checked(node: Node, tmp_path: Path) -> None:
    resource_id = catalog.register_resource(
        node, "city-health", title="人员", level=1, sharing="conditional"
    )
    with pytest.raises(ValidationError) as refused:
        catalog.update_resource(node, "city-health", resource_id, tags=[MOBILE])
    _assert_rejected(refused.value, "tags")
    dataset = Dataset(fields=FIELDS, rows=[["x", "东城"]])
    with pytest.raises(ValidationError) as refused:
        catalog.publish_version(
            node,
            DatasetStore(tmp_path / "o"),
            "city-health",
            resource_id,
            dataset,
            transformation=f"import {ID_NUMBER}.csv",
        )
    _assert_rejected(refused.value, "transformation")


def test_standard_description_id_rejected(node: Node, tmp_path: Path) -> None:
    document = {
        "name": "people",
        "version": "1",
        "fields": [{"name": "id", "description": f"such as {ID_NUMBER}"}],
    }
    path = tmp_path / "people.json"
    path.write_text(json.dumps(document), "utf-8")
    size = node.store.log_size()
    with pytest.raises(ValidationError) as refused:
        registry.register_standard(node, "city-health", path)
    _assert_rejected(refused.value, "fields[0].description")
    assert node.store.log_size() == size


def test_rule_set_mobile_rejected(tmp_path: Path) -> None:
    path = tmp_path / "r1.json"
    document = {
        "name": "people",
        "version": "1",
        "description": f"asked for by {MOBILE}",
        "rules": [{"op": "trim", "fields": ["a"]}],
    }
    path.write_text(json.dumps(document), "utf-8")
    with pytest.raises(ValidationError) as refused:
        load_rule_set(path)
    assert refused.value.reason == "personal-data"
    assert MOBILE not in str(refused.value)


def test_rule_set_yaml_named(tmp_path: Path) -> None:
    path = tmp_path / "r1.yaml"
    path.write_text("name: people\n", "utf-8")
    with pytest.raises(ValidationError) as refused:
        load_rule_set(path)
    message = str(refused.value)
    assert "r1.yaml: a rule set is a .json or .toml file" in message
    assert "not valid JSON" not in message


def test_standard_handler_rejects_mobile(node: Node) -> None:
    document = json.dumps(
        {"title": f"people, ask {MOBILE}", "fields": [{"name": "id"}]}
    )
    payload = {
        "name": "people",
        "version": "1",
        "document": document,
        "sha256": hashlib.sha256(document.encode("utf-8")).hexdigest(),
    }
    receipt = commit_signed(node, "city-health", "standard.register", payload)
    assert not receipt.applied
    assert receipt.reason == "personal-data"
    assert "field title contains a mobile number" in receipt.message
    assert MOBILE not in receipt.message


@pytest.mark.parametrize(
    "reason",
    [f"checked ID{ID_NUMBER}", f"tel{MOBILE}", f"call {MOBILE}ext"],
)
def test_override_reason_glued_number(node: Node, tmp_path: Path, reason: str) -> None:
    resource_id = _classified(node, tmp_path)
    size = node.store.log_size()
    with pytest.raises(ValidationError) as refused:
        override_grade(node, "city-health", resource_id, "街道", level=3, reason=reason)
    _assert_rejected(refused.value, "reason")
    assert node.store.log_size() == size
    payload = {"resource": resource_id, "field": "街道", "level": 3, "reason": reason}
    receipt = commit_signed(node, "city-health", "governance.override", payload)
    assert not receipt.applied
    assert receipt.reason == "personal-data"
    assert ID_NUMBER not in receipt.message
    assert MOBILE not in receipt.message


def test_catalog_title_glued_id_rejected(node: Node) -> None:
    title = f"体检 ID{ID_NUMBER}"
    with pytest.raises(ValidationError) as refused:
        catalog.register_resource(
            node, "city-health", title=title, level=1, sharing="conditional"
        )
    _assert_rejected(refused.value, "title")
    payload = {"title": title, "level": 1, "sharing": "conditional"}
    receipt = commit_signed(node, "city-health", "catalog.register", payload)
    assert not receipt.applied
    assert receipt.reason == "personal-data"
    assert "field title contains a resident ID number" in receipt.message


def test_transformation_with_digest_accepted(node: Node, tmp_path: Path) -> None:
    resource_id = catalog.register_resource(
        node, "city-health", title="人员", level=1, sharing="conditional", fields=FIELDS
    )
    # A digest whose decimal digits include a run shaped like a mobile number.
    digest = "ab" * 20 + MOBILE + "c" * 13
    version_id = catalog.publish_version(
        node,
        DatasetStore(tmp_path / "o"),
        "city-health",
        resource_id,
        Dataset(fields=FIELDS, rows=[["x", "东城"]]),
        transformation=f"clean people@1 sha256:{digest}",
    )
    assert version_id == f"{resource_id}@1"


@pytest.mark.parametrize(
    ("key", "value", "label"),
    [
        ("name", f"r{ID_NUMBER}", "name"),
        ("description", f"asked for by tel{MOBILE}", "description"),
    ],
)
def test_rule_set_glued_number_rejected(
    tmp_path: Path, key: str, value: str, label: str
) -> None:
    document = {
        "name": "people",
        "version": "1",
        "rules": [{"op": "trim", "fields": ["a"]}],
    }
    document[key] = value
    path = tmp_path / "r1.json"
    path.write_text(json.dumps(document), "utf-8")
    with pytest.raises(ValidationError) as refused:
        load_rule_set(path)
    message = str(refused.value)
    assert refused.value.reason == "personal-data"
    assert f"r1.json: {label} contains a" in message
    assert ID_NUMBER not in message
    assert MOBILE not in message


def test_standard_description_glued_rejected(node: Node, tmp_path: Path) -> None:
    document = {
        "name": "people",
        "version": "1",
        "description": f"ask tel{MOBILE}",
        "fields": [{"name": "id"}],
    }
    path = tmp_path / "people.json"
    path.write_text(json.dumps(document), "utf-8")
    with pytest.raises(ValidationError) as refused:
        registry.register_standard(node, "city-health", path)
    _assert_rejected(refused.value, "description")
