"""Which resource the audit trail names for registrations."""

from __future__ import annotations

from govchain.audit import TrailQuery, trail
from govchain.node import Node


def _last_record(node: Node) -> dict[str, object]:
    records = trail(node.store, TrailQuery(department="city-health", newest_first=True))
    return records[0]


def test_rejected_registration_names_no_resource(node: Node) -> None:
    receipt = node.act(
        "city-health", "catalog.register", {"title": "x", "level": 9, "sharing": "x"}
    )
    assert receipt.status == "rejected"
    record = _last_record(node)
    assert record["tx_id"] == receipt.tx_id
    assert record["target"] == ""
    assert record["subjects"] == []


def test_registration_names_its_resource(node: Node) -> None:
    receipt = node.act(
        "city-health",
        "catalog.register",
        {"title": "beds", "level": 1, "sharing": "unconditional"},
    )
    assert receipt.applied
    record = _last_record(node)
    assert str(record["target"]).startswith("res-")
    assert record["subjects"] == [f"resource:{record['target']}"]


def test_duplicate_registration_names_existing_resource(node: Node) -> None:
    payload = {
        "id": "beds-2026",
        "title": "beds",
        "level": 1,
        "sharing": "unconditional",
    }
    assert node.act("city-health", "catalog.register", payload).applied
    receipt = node.act("city-health", "catalog.register", payload)
    assert (receipt.status, receipt.reason) == ("rejected", "duplicate")
    record = _last_record(node)
    assert record["target"] == "beds-2026"
