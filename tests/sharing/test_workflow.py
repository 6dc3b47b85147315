"""The sharing workflow on a real node: requests, approvals, grants, deliveries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from govchain.catalog import service as catalog
from govchain.datasets import Dataset, DatasetStore
from govchain.demo.scenarios import DemoClock
from govchain.errors import PolicyError, ValidationError
from govchain.ledger.orderer import Batch
from govchain.node import Node
from govchain.sharing import service as sharing

FIELDS = [
    {"name": "机构代码", "type": "string", "description": ""},
    {"name": "机构名称", "type": "string", "description": ""},
    {"name": "床位数", "type": "integer", "description": ""},
]
ROWS: list[list[str | None]] = [["A001", "第一医院", "500"], ["A002", "第二医院", None]]


def _resource(node: Node, tmp_path: Path, *, sharing_type: str, level: int = 2) -> str:
    resource_id = catalog.register_resource(
        node,
        "city-health",
        title="医疗机构",
        level=level,
        sharing=sharing_type,
        fields=FIELDS,
    )
    catalog.publish_version(
        node,
        DatasetStore(tmp_path / "objects"),
        "city-health",
        resource_id,
        Dataset(fields=FIELDS, rows=ROWS),
    )
    return resource_id


def _request(
    node: Node, consumer: str, resource_id: str, term_days: int = 30
) -> dict[str, Any]:
    return sharing.request_access(
        node,
        consumer,
        resource_id,
        fields=["机构代码", "床位数"],
        purpose="planning",
        term_days=term_days,
    )


def test_unconditional_granted_at_once(node: Node, tmp_path: Path) -> None:
    resource_id = _resource(node, tmp_path, sharing_type="unconditional")
    req = _request(node, "city-market", resource_id)
    assert req["status"] == "granted"
    assert req["steps"] == []
    grant = node.store.get("grant", req["grant"])
    assert grant is not None
    assert grant["fields"] == ["床位数", "机构代码"]


def test_conditional_needs_owner(node: Node, tmp_path: Path) -> None:
    resource_id = _resource(node, tmp_path, sharing_type="conditional")
    req = _request(node, "city-cdc", resource_id)
    assert req["status"] == "pending"
    assert [s["approver"] for s in req["steps"]] == ["city-health"]
    with pytest.raises(PolicyError) as refused:
        sharing.approve(node, "city-market", req["id"])
    assert refused.value.reason == "not-approver"
    approved = sharing.approve(node, "city-health", req["id"])
    assert approved["status"] == "granted"


def test_repeated_request_refused_while_pending(node: Node, tmp_path: Path) -> None:
    resource_id = _resource(node, tmp_path, sharing_type="conditional")
    first = _request(node, "city-cdc", resource_id)
    with pytest.raises(PolicyError) as refused:
        _request(node, "city-cdc", resource_id)
    assert refused.value.reason == "duplicate-request"
    assert first["id"] in str(refused.value)
    # Other terms are another request, and a decided one may be asked again.
    assert _request(node, "city-cdc", resource_id, term_days=60)["status"] == "pending"
    sharing.reject(node, "city-health", first["id"], "no legal basis")
    assert _request(node, "city-cdc", resource_id)["status"] == "pending"


def test_personal_data_kept_off_ledger(node: Node, tmp_path: Path) -> None:
    resource_id = _resource(node, tmp_path, sharing_type="conditional")
    height = node.store.height()
    with pytest.raises(ValidationError) as refused:
        sharing.request_access(
            node,
            "city-cdc",
            resource_id,
            fields=["床位数"],
            purpose="check holder 11010519491231002X",
            term_days=30,
        )
    assert refused.value.reason == "personal-data"
    assert "11010519491231002X" not in str(refused.value)
    req = _request(node, "city-cdc", resource_id)
    with pytest.raises(ValidationError) as refused:
        sharing.reject(node, "city-health", req["id"], "call 13800138000 first")
    assert refused.value.reason == "personal-data"
    # Nothing was signed for either attempt: one block, for the valid request.
    assert node.store.height() == height + 1


def test_personal_data_refused_before_ordering(node: Node, tmp_path: Path) -> None:
    resource_id = _resource(node, tmp_path, sharing_type="conditional")
    payload = {
        "resource": resource_id,
        "fields": ["床位数"],
        "purpose": "holder 138 0013 8000",
        "term_days": 30,
    }
    size = node.store.log_size()
    with pytest.raises(
        ValidationError, match=r"payload\.purpose contains a mobile"
    ) as caught:
        node.act("city-cdc", "sharing.request", payload)
    assert caught.value.reason == "personal-data"
    assert "8000" not in str(caught.value)
    assert node.store.log_size() == size


def test_personal_data_refused_by_rules(node: Node, tmp_path: Path) -> None:
    # A block from elsewhere, not through this node's submission check: the
    # ledger's rules still reject the request.
    resource_id = _resource(node, tmp_path, sharing_type="conditional")
    payload = {
        "resource": resource_id,
        "fields": ["床位数"],
        "purpose": "holder 138 0013 8000",
        "term_days": 30,
    }
    tx = node.sign("city-cdc", "sharing.request", payload)
    last = node.store.header(node.store.height())
    assert last is not None
    node.commit_batch(Batch(last.time + 1, [tx.canonical_bytes()]), last)
    stored = node.store.tx_by_id(tx.id)
    assert stored is not None
    assert (stored.status, stored.reason) == ("rejected", "personal-data")


def test_level_four_needs_operator_first(node: Node, tmp_path: Path) -> None:
    resource_id = _resource(node, tmp_path, sharing_type="conditional", level=4)
    req = _request(node, "city-market", resource_id)
    assert [s["approver"] for s in req["steps"]] == ["city-bdb", "city-health"]
    with pytest.raises(PolicyError):
        sharing.approve(node, "city-health", req["id"])
    assert sharing.approve(node, "city-bdb", req["id"])["status"] == "pending"
    assert sharing.approve(node, "city-health", req["id"])["status"] == "granted"


def test_cross_region_needs_operator(node: Node, tmp_path: Path) -> None:
    resource_id = catalog.register_resource(
        node,
        "yuexiu-health",
        title="越秀床位",
        level=2,
        sharing="conditional",
        fields=FIELDS,
    )
    req = _request(node, "tianhe-health", resource_id)
    assert req["rule"] == "cross-region"
    assert [s["approver"] for s in req["steps"]] == ["city-bdb", "yuexiu-health"]


def test_reject_requires_reason(node: Node, tmp_path: Path) -> None:
    resource_id = _resource(node, tmp_path, sharing_type="conditional")
    req = _request(node, "city-market", resource_id)
    with pytest.raises(PolicyError) as refused:
        sharing.reject(node, "city-health", req["id"], "  ")
    assert refused.value.reason == "reason-required"
    rejected = sharing.reject(node, "city-health", req["id"], "no legal basis")
    assert rejected["status"] == "rejected"
    assert rejected["reason"] == "no legal basis"


def test_not_shared_always_refused(node: Node, tmp_path: Path) -> None:
    resource_id = _resource(node, tmp_path, sharing_type="not_shared")
    with pytest.raises(PolicyError) as refused:
        _request(node, "city-market", resource_id)
    assert refused.value.reason == "not-shared"
    rows = node.store.query_txs(subject=f"resource:{resource_id}")
    assert [(r.type, r.status, r.reason) for r in rows][-1] == (
        "sharing.request",
        "rejected",
        "not-shared",
    )


def test_unknown_field_refused(node: Node, tmp_path: Path) -> None:
    resource_id = _resource(node, tmp_path, sharing_type="unconditional")
    with pytest.raises(PolicyError) as refused:
        sharing.request_access(
            node,
            "city-market",
            resource_id,
            fields=["身份证号"],
            purpose="x",
            term_days=1,
        )
    assert refused.value.reason == "unknown-field"


def test_delivery_only_granted_fields(node: Node, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "objects")
    resource_id = _resource(node, tmp_path, sharing_type="unconditional", level=1)
    req = _request(node, "city-market", resource_id)
    delivery = sharing.deliver(
        node, store, "city-market", grant_id=req["grant"], resource_id=resource_id
    )
    package = delivery.package
    assert [f["name"] for f in package["fields"]] == ["机构代码", "床位数"]
    assert package["rows"] == [["A001", "500"], ["A002", None]]
    record = sharing.check_package(node.store, package)
    assert record["content_hash"] == package["content_hash"]
    receipt = sharing.receive(node, package)
    assert receipt.applied


def test_tampered_package_fails_check(node: Node, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "objects")
    resource_id = _resource(node, tmp_path, sharing_type="unconditional")
    req = _request(node, "city-market", resource_id)
    package = sharing.deliver(
        node, store, "city-market", grant_id=req["grant"], resource_id=resource_id
    ).package
    package["rows"][0][1] = "9999"
    with pytest.raises(Exception, match="signature"):
        sharing.check_package(node.store, package)


def test_expired_grant_refused(node: Node, tmp_path: Path, clock: DemoClock) -> None:
    store = DatasetStore(tmp_path / "objects")
    resource_id = _resource(node, tmp_path, sharing_type="unconditional")
    req = _request(node, "city-market", resource_id, term_days=1)
    clock.advance(2)
    with pytest.raises(PolicyError) as refused:
        sharing.deliver(
            node, store, "city-market", grant_id=req["grant"], resource_id=resource_id
        )
    assert refused.value.reason == "expired"
    last = node.store.query_txs(subject=f"grant:{req['grant']}")[-1]
    assert (last.type, last.status, last.reason) == (
        "sharing.deliver",
        "rejected",
        "expired",
    )


def test_revoked_grant_refused(node: Node, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "objects")
    resource_id = _resource(node, tmp_path, sharing_type="unconditional")
    req = _request(node, "city-market", resource_id)
    sharing.revoke(node, "city-health", req["grant"], "purpose ended")
    with pytest.raises(PolicyError) as refused:
        sharing.deliver(
            node, store, "city-market", grant_id=req["grant"], resource_id=resource_id
        )
    assert refused.value.reason == "revoked"


def test_delivery_to_other_consumer_refused(node: Node, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "objects")
    resource_id = _resource(node, tmp_path, sharing_type="unconditional")
    req = _request(node, "city-market", resource_id)
    with pytest.raises(PolicyError) as refused:
        sharing.deliver(
            node, store, "city-cdc", grant_id=req["grant"], resource_id=resource_id
        )
    assert refused.value.reason == "wrong-consumer"


def test_no_grant_refused(node: Node, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "objects")
    resource_id = _resource(node, tmp_path, sharing_type="conditional")
    with pytest.raises(PolicyError) as refused:
        sharing.deliver(
            node, store, "city-market", grant_id=None, resource_id=resource_id
        )
    assert refused.value.reason == "no-grant"


def test_overdue_request_escalated(
    node: Node, tmp_path: Path, clock: DemoClock
) -> None:
    resource_id = _resource(node, tmp_path, sharing_type="conditional")
    req = _request(node, "city-market", resource_id)
    # Monday 2026-03-02 plus 5 working days is Monday 2026-03-09, end of day.
    assert sharing.overdue_requests(node.store, clock.now) == []
    clock.advance(9)
    assert [r["id"] for r in sharing.overdue_requests(node.store, clock.now)] == [
        req["id"]
    ]
    receipts = sharing.escalate_overdue(node, clock.now)
    assert [r.applied for r in receipts] == [True]
    escalated = node.store.get("request", req["id"])
    assert escalated is not None
    assert escalated["escalated"] is True


def test_escalation_before_deadline_rejected(node: Node, tmp_path: Path) -> None:
    resource_id = _resource(node, tmp_path, sharing_type="conditional")
    req = _request(node, "city-market", resource_id)
    receipt = node.act("city-bdb", "sharing.escalate", {"request": req["id"]})
    assert receipt.reason == "not-overdue"


def test_only_owner_updates_resource(node: Node, tmp_path: Path) -> None:
    resource_id = _resource(node, tmp_path, sharing_type="conditional")
    receipt = node.act(
        "city-bdb", "catalog.update", {"resource": resource_id, "title": "x"}
    )
    assert receipt.reason == "not-owner"
    record = node.store.get("resource", resource_id)
    assert record is not None
    assert record["title"] == "医疗机构"


def test_grant_for_other_resource_refused(node: Node, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "objects")
    granted = _resource(node, tmp_path, sharing_type="unconditional")
    other = _resource(node, tmp_path, sharing_type="unconditional")
    req = _request(node, "city-market", granted)
    with pytest.raises(PolicyError) as refused:
        sharing.deliver(
            node, store, "city-market", grant_id=req["grant"], resource_id=other
        )
    assert refused.value.reason == "wrong-resource"
    trail = node.store.query_txs(subject=f"resource:{other}")
    assert (trail[-1].type, trail[-1].status) == ("sharing.deliver", "rejected")


def test_unknown_grant_in_resource_trail(node: Node, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "objects")
    resource_id = _resource(node, tmp_path, sharing_type="conditional")
    with pytest.raises(PolicyError) as refused:
        sharing.deliver(
            node, store, "city-market", grant_id="grant-nope", resource_id=resource_id
        )
    assert refused.value.reason == "no-grant"
    trail = node.store.query_txs(subject=f"resource:{resource_id}")
    assert (trail[-1].type, trail[-1].reason) == ("sharing.deliver", "no-grant")


def test_unpublished_resource_not_delivered(node: Node, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "objects")
    resource_id = catalog.register_resource(
        node,
        "city-health",
        title="空表",
        level=1,
        sharing="unconditional",
        fields=FIELDS,
    )
    req = _request(node, "city-market", resource_id)
    with pytest.raises(PolicyError) as refused:
        sharing.deliver(
            node, store, "city-market", grant_id=req["grant"], resource_id=resource_id
        )
    assert refused.value.reason == "no-version"


PEOPLE_FIELDS: list[dict[str, Any]] = [
    {"name": "编号", "type": "string", "description": "", "level": 1},
    {"name": "姓名", "type": "string", "description": "", "level": 3, "kind": "name"},
    {
        "name": "身份证号",
        "type": "string",
        "description": "",
        "level": 4,
        "kind": "id_number",
    },
    {
        "name": "手机号",
        "type": "string",
        "description": "",
        "level": 2,
        "kind": "phone",
    },
]
PEOPLE: list[list[str | None]] = [
    ["1", "张三", "440104199001011237", "13812345678"],
    ["2", "欧阳娜娜", "44010619851231002X", "13912345678"],
]


def _people(node: Node, tmp_path: Path) -> str:
    resource_id = catalog.register_resource(
        node,
        "city-health",
        title="体检登记",
        level=4,
        sharing="conditional",
        fields=PEOPLE_FIELDS,
    )
    catalog.publish_version(
        node,
        DatasetStore(tmp_path / "objects"),
        "city-health",
        resource_id,
        Dataset(fields=PEOPLE_FIELDS, rows=PEOPLE),
    )
    return resource_id


def _granted(node: Node, resource_id: str, consumer: str) -> str:
    req = sharing.request_access(
        node,
        consumer,
        resource_id,
        fields=["编号", "姓名", "身份证号", "手机号"],
        purpose="disease control",
        term_days=30,
    )
    sharing.approve(node, "city-bdb", req["id"])
    return str(sharing.approve(node, "city-health", req["id"])["grant"])


def test_delivery_desensitized_per_level(node: Node, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "objects")
    resource_id = _people(node, tmp_path)
    grant = _granted(node, resource_id, "city-cdc")
    package = sharing.deliver(
        node, store, "city-cdc", grant_id=grant, resource_id=resource_id
    ).package
    rows = package["rows"]
    assert [r[0] for r in rows] == ["1", "2"]
    flat = json.dumps(rows, ensure_ascii=False)
    for person in PEOPLE:
        for value in person[1:]:
            assert value is not None
            assert value not in flat
    kinds = {f["name"]: f["desensitization"] for f in package["fields"]}
    assert kinds["编号"] == "keep"
    assert kinds["身份证号"] == "pseudonymize"
    record = node.store.get("delivery", package["delivery"])
    assert record is not None
    assert record["policy"].startswith("govchain-default@1:")


def test_pseudonyms_differ_per_consumer(node: Node, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "objects")
    resource_id = _people(node, tmp_path)
    packages = []
    for consumer in ("city-cdc", "tianhe-market"):
        grant = _granted(node, resource_id, consumer)
        packages.append(
            sharing.deliver(
                node, store, consumer, grant_id=grant, resource_id=resource_id
            )
        )
    first = [row[2] for row in packages[0].package["rows"]]
    second = [row[2] for row in packages[1].package["rows"]]
    assert len(set(first)) == 2
    assert not set(first) & set(second)
    again = sharing.deliver(
        node,
        store,
        "city-cdc",
        grant_id=packages[0].package["grant"],
        resource_id=resource_id,
    )
    assert [row[2] for row in again.package["rows"]] == first


K_FIELDS: list[dict[str, Any]] = [
    {"name": "编号", "type": "string", "description": "", "level": 1},
    {
        "name": "出生日期",
        "type": "date",
        "description": "",
        "level": 1,
        "kind": "birth_date",
        "quasi_identifier": True,
    },
    {"name": "结论", "type": "string", "description": "", "level": 1},
]


def _k_resource(node: Node, tmp_path: Path, rows: list[list[str | None]]) -> str:
    resource_id = catalog.register_resource(
        node,
        "city-health",
        title="出生",
        level=1,
        sharing="unconditional",
        fields=K_FIELDS,
        min_k=2,
    )
    catalog.publish_version(
        node,
        DatasetStore(tmp_path / "objects"),
        "city-health",
        resource_id,
        Dataset(fields=K_FIELDS, rows=rows),
    )
    return resource_id


def test_delivery_generalized_to_reach_k(node: Node, tmp_path: Path) -> None:
    rows: list[list[str | None]] = [
        ["1", "1990-01-05", "合格"],
        ["2", "1990-01-20", "合格"],
        ["3", "1991-03-02", "合格"],
        ["4", "1991-07-11", "不合格"],
    ]
    resource_id = _k_resource(node, tmp_path, rows)
    req = sharing.request_access(
        node,
        "city-market",
        resource_id,
        fields=["编号", "出生日期", "结论"],
        purpose="statistics",
        term_days=30,
    )
    delivery = sharing.deliver(
        node,
        DatasetStore(tmp_path / "objects"),
        "city-market",
        grant_id=req["grant"],
        resource_id=resource_id,
    )
    births = [row[1] for row in delivery.package["rows"]]
    assert births == ["1990", "1990", "1991", "1991"]
    record = node.store.get("delivery", delivery.package["delivery"])
    assert record is not None
    assert record["k_anonymity"]["k"] == 2
    assert record["k_anonymity"]["steps"] == 2
    assert record["k_anonymity"]["met"] is True


def test_delivery_below_k_refused(node: Node, tmp_path: Path) -> None:
    resource_id = _k_resource(node, tmp_path, [["1", "1990-01-05", "合格"]])
    req = sharing.request_access(
        node, "city-market", resource_id, fields=["出生日期"], purpose="x", term_days=30
    )
    with pytest.raises(PolicyError) as refused:
        sharing.deliver(
            node,
            DatasetStore(tmp_path / "objects"),
            "city-market",
            grant_id=req["grant"],
            resource_id=resource_id,
        )
    assert refused.value.reason == "k-anonymity"
    trail = node.store.query_txs(subject=f"resource:{resource_id}")
    assert (trail[-1].type, trail[-1].reason) == ("sharing.deliver", "k-anonymity")
