"""Membership transactions checked with the consortium file's rules, on a real node.

People in these tests are made up: ID numbers are built from a synthetic body
and their GB 11643 check character.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.api.api_support import Api
from tests.block_support import commit_signed

from govchain.catalog import service as catalog
from govchain.consortium import Consortium, load_demo_consortium
from govchain.consortium._membership import (
    RETIRED_KEY_NS,
    check_admission,
    check_membership_change,
)
from govchain.crypto.keys import SigningKey
from govchain.errors import ValidationError
from govchain.identifiers.cn import ric
from govchain.ledger.apply import DEPT_NS
from govchain.node import Node
from govchain.sharing.policy import approval_path

OPERATOR = "city-bdb"
#: A made-up person: a Beijing Dongcheng body born 1990-03-07, with its check character.
ID_BODY = "11010119900307123"
ID_NUMBER = ID_BODY + ric.calc_check_char(ID_BODY)
MOBILE = "13800138000"


def admission(dept_id: str = "yuexiu-market", **changes: Any) -> dict[str, Any]:
    department = {
        "id": dept_id,
        "name": "越秀区市场监管局",
        "region": "440104",
        "level": "county",
        "line": "market-regulation",
    }
    public_key = changes.pop("public_key", SigningKey.generate().public_key.to_b64())
    department.update(changes)
    return {"department": department, "public_key": public_key}


def register_payload(title: str) -> dict[str, Any]:
    return {"title": title, "level": 1, "sharing": "unconditional"}


# Admission.


def test_admit_valid_department(node: Node) -> None:
    payload = admission()
    receipt = node.act(OPERATOR, "consortium.admit", payload)
    assert receipt.applied, receipt.message
    record = node.store.get(DEPT_NS, "yuexiu-market")
    assert record is not None
    assert record["line"] == "market-regulation"
    assert record["status"] == "active"


@pytest.mark.parametrize("line", ["Health_", "BAD LINE!", "health1", "-health", ""])
def test_admit_bad_line_rejected(node: Node, line: str) -> None:
    receipt = node.act(OPERATOR, "consortium.admit", admission(line=line))
    assert receipt.status == "rejected"
    assert receipt.reason == "bad-payload"
    assert "department.line" in receipt.message
    assert node.store.get(DEPT_NS, "yuexiu-market") is None


def test_admit_bad_line_message_says_rule(node: Node) -> None:
    receipt = node.act(OPERATOR, "consortium.admit", admission(line="Health_"))
    assert receipt.message == (
        'consortium.admit: department.line: "Health_" is invalid; use lower-case '
        'letters and "-", such as health or public-security'
    )


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("id", "Yuexiu_Market", "department.id"),
        ("region", "110000", "department.region"),
        ("level", "town", "department.level"),
        ("name", "", "department.name"),
        ("name", 42, "department.name"),
        ("extra", "x", "department.extra: unknown field"),
    ],
)
def test_admit_bad_field_named(
    node: Node, field: str, value: object, expected: str
) -> None:
    payload = admission()
    payload["department"][field] = value
    receipt = node.act(OPERATOR, "consortium.admit", payload)
    assert receipt.reason == "bad-payload"
    assert expected in receipt.message


def test_admit_unknown_region_lists_declared(node: Node) -> None:
    receipt = node.act(OPERATOR, "consortium.admit", admission(region="110000"))
    assert "use a region declared at genesis: 440000, 440100" in receipt.message


def test_admit_reports_every_field(node: Node) -> None:
    payload = admission(line="Health_", level="town")
    receipt = node.act(OPERATOR, "consortium.admit", payload)
    lines = receipt.message.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("consortium.admit: department.level:")
    assert lines[1].startswith("consortium.admit: department.line:")


def test_admit_unknown_payload_field(node: Node) -> None:
    payload = admission()
    payload["note"] = "x"
    receipt = node.act(OPERATOR, "consortium.admit", payload)
    assert receipt.reason == "bad-payload"
    assert "payload field 'note' is unknown" in receipt.message


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("name", f"张三 {ID_NUMBER}", "resident ID number"),
        ("name", f"联系 {MOBILE}", "mobile number"),
        ("line", ID_NUMBER, "resident ID number"),
        ("id", ID_NUMBER, "resident ID number"),
    ],
)
def test_admit_personal_data_rejected(
    node: Node, field: str, value: str, kind: str
) -> None:
    receipt = commit_signed(
        node, OPERATOR, "consortium.admit", admission(**{field: value})
    )
    assert receipt.reason == "personal-data"
    assert f"field department.{field} contains a {kind}" in receipt.message
    assert ID_NUMBER not in receipt.message
    assert MOBILE not in receipt.message


def test_admit_existing_member_rejected(node: Node) -> None:
    receipt = node.act(OPERATOR, "consortium.admit", admission("city-health"))
    assert receipt.reason == "duplicate"
    assert "'city-health' is already a member" in receipt.message


# 32 zero bytes encode a point of small order: a valid length, but no
# signature verifies under it.
SMALL_ORDER_KEY = "A" * 43 + "="


@pytest.mark.parametrize("public_key", ["notbase64!", "AAAA", 7, SMALL_ORDER_KEY])
def test_admit_bad_key_rejected(node: Node, public_key: object) -> None:
    receipt = node.act(OPERATOR, "consortium.admit", admission(public_key=public_key))
    assert receipt.reason == "bad-payload"
    assert "payload field public_key" in receipt.message


def test_admit_key_twice_rejected(node: Node) -> None:
    key = SigningKey.generate().public_key.to_b64()
    first = node.act(OPERATOR, "consortium.admit", admission("ext-a", public_key=key))
    assert first.applied, first.message
    second = node.act(OPERATOR, "consortium.admit", admission("ext-b", public_key=key))
    assert second.status == "rejected"
    assert second.reason == "duplicate-key"
    assert "current key of department 'ext-a'" in second.message
    assert node.store.get(DEPT_NS, "ext-b") is None


def test_admit_member_key_rejected(node: Node) -> None:
    key = node.store.get(DEPT_NS, "city-health")
    assert key is not None
    payload = admission(public_key=key["public_key"])
    receipt = node.act(OPERATOR, "consortium.admit", payload)
    assert receipt.reason == "duplicate-key"
    assert "department 'city-health'" in receipt.message


def test_admit_node_key_rejected(node: Node) -> None:
    node_id, record = next(iter(node.store.scan("node")))
    payload = admission(public_key=record["public_key"])
    receipt = node.act(OPERATOR, "consortium.admit", payload)
    assert receipt.reason == "duplicate-key"
    assert f"current key of node {node_id!r}" in receipt.message


def test_admit_retired_key_rejected(node: Node) -> None:
    old = node.store.get(DEPT_NS, "city-market")
    assert old is not None
    new_key = SigningKey.generate().public_key.to_b64()
    rotation = {"department": "city-market", "public_key": new_key}
    assert node.act(OPERATOR, "consortium.rotate_key", rotation).applied
    retired = node.store.get(RETIRED_KEY_NS, old["kid"])
    assert retired is not None
    assert retired["department"] == "city-market"
    payload = admission(public_key=old["public_key"])
    receipt = node.act(OPERATOR, "consortium.admit", payload)
    assert receipt.reason == "duplicate-key"
    assert "was the key of department 'city-market'" in receipt.message


def test_bad_admit_keeps_batch(node: Node) -> None:
    bad = node.sign(OPERATOR, "consortium.admit", admission("ext-x", line="Health_"))
    good_admit = node.sign(OPERATOR, "consortium.admit", admission("ext-y"))
    others = [
        node.sign("city-health", "catalog.register", register_payload("床位")),
        node.sign("city-market", "catalog.register", register_payload("许可")),
    ]
    receipts = node.submit([bad, good_admit, *others])
    assert (receipts[0].status, receipts[0].reason) == ("rejected", "bad-payload")
    assert receipts[1].applied, receipts[1].message
    assert receipts[2].applied, receipts[2].message
    assert receipts[3].applied, receipts[3].message
    assert len({receipt.height for receipt in receipts}) == 1


def test_sharing_works_after_bad_admit(node: Node) -> None:
    bad = node.act(OPERATOR, "consortium.admit", admission("ext-x", line="Health_"))
    assert bad.status == "rejected"
    fields = [{"name": "beds", "type": "integer", "description": "open beds"}]
    resource = catalog.register_resource(
        node, "city-health", title="床位", level=1, sharing="conditional", fields=fields
    )
    request = {
        "resource": resource,
        "fields": ["beds"],
        "purpose": "统计",
        "term_days": 30,
    }
    receipt = node.act("city-cdc", "sharing.request", request)
    assert receipt.applied, receipt.message


# Suspension, reinstatement and key rotation.


def test_suspend_reason_personal_data(node: Node) -> None:
    payload = {"department": "city-market", "reason": f"联系人手机 {MOBILE}"}
    receipt = commit_signed(node, OPERATOR, "consortium.suspend", payload)
    assert receipt.reason == "personal-data"
    assert "field reason contains a mobile number" in receipt.message
    assert MOBILE not in receipt.message
    record = node.store.get(DEPT_NS, "city-market")
    assert record is not None
    assert record["status"] == "active"


def test_suspend_department_personal_data(node: Node) -> None:
    payload = {"department": ID_NUMBER, "reason": "审计"}
    receipt = node.act(OPERATOR, "consortium.suspend", payload)
    assert receipt.reason == "personal-data"
    assert ID_NUMBER not in receipt.message


def test_suspend_unknown_field(node: Node) -> None:
    payload = {"department": "city-market", "reason": "审计", "until": 5}
    receipt = node.act(OPERATOR, "consortium.suspend", payload)
    assert receipt.reason == "bad-payload"
    assert "payload field 'until' is unknown" in receipt.message


def test_suspend_and_reinstate(node: Node) -> None:
    payload = {"department": "city-market", "reason": "审计"}
    assert node.act(OPERATOR, "consortium.suspend", payload).applied
    again = node.act(OPERATOR, "consortium.reinstate", {"department": "city-market"})
    assert again.applied
    twice = node.act(OPERATOR, "consortium.reinstate", {"department": "city-market"})
    assert twice.reason == "not-suspended"


def test_rotate_to_other_department_key(node: Node) -> None:
    other = node.store.get(DEPT_NS, "city-health")
    assert other is not None
    payload = {"department": "city-market", "public_key": other["public_key"]}
    receipt = node.act(OPERATOR, "consortium.rotate_key", payload)
    assert receipt.reason == "duplicate-key"
    assert "department 'city-health'" in receipt.message


def test_rotate_back_to_retired_key(node: Node) -> None:
    old = node.store.get(DEPT_NS, "city-market")
    assert old is not None
    new_key = SigningKey.generate().public_key.to_b64()
    rotation = {"department": "city-market", "public_key": new_key}
    assert node.act(OPERATOR, "consortium.rotate_key", rotation).applied
    back = {"department": "city-market", "public_key": old["public_key"]}
    receipt = node.act(OPERATOR, "consortium.rotate_key", back)
    assert receipt.reason == "duplicate-key"


def test_rotate_same_key(node: Node) -> None:
    current = node.store.get(DEPT_NS, "city-market")
    assert current is not None
    payload = {"department": "city-market", "public_key": current["public_key"]}
    receipt = node.act(OPERATOR, "consortium.rotate_key", payload)
    assert receipt.reason == "same-key"


def test_rotate_bad_key(node: Node) -> None:
    payload = {"department": "city-market", "public_key": "AAAA"}
    receipt = node.act(OPERATOR, "consortium.rotate_key", payload)
    assert receipt.reason == "bad-payload"
    assert "32 bytes" in receipt.message


def test_rejected_suspension_has_subject(node: Node) -> None:
    payload = {"department": "city-market", "reason": " "}
    receipt = node.act(OPERATOR, "consortium.suspend", payload)
    assert receipt.reason == "reason-required"
    trail = node.store.query_txs(subject="dept:city-market")
    assert [tx.id for tx in trail][-1] == receipt.tx_id


# Reading the consortium back from ledger state.


def ledger_document(**line_by_id: str) -> dict[str, Any]:
    document = load_demo_consortium().to_dict()
    for department in document["departments"]:
        if department["id"] in line_by_id:
            department["line"] = line_by_id[department["id"]]
    return document


def test_from_ledger_sets_bad_record_aside() -> None:
    consortium = Consortium.from_ledger(ledger_document(**{"city-market": "Health_"}))
    assert not consortium.has_department("city-market")
    assert "city-market" in consortium.invalid_departments
    assert consortium.has_department("city-health")


def test_bad_record_rejects_its_requests() -> None:
    consortium = Consortium.from_ledger(ledger_document(**{"city-market": "Health_"}))
    with pytest.raises(ValidationError) as caught:
        approval_path(
            consortium,
            owner_id="city-market",
            consumer_id="city-health",
            sharing="conditional",
            level=1,
        )
    assert caught.value.reason == "invalid-department"
    message = str(caught.value)
    assert "department 'city-market': line:" in message
    assert "admits it again with valid fields" in message


def test_bad_record_spares_other_requests() -> None:
    consortium = Consortium.from_ledger(ledger_document(**{"city-market": "Health_"}))
    path = approval_path(
        consortium,
        owner_id="city-health",
        consumer_id="city-cdc",
        sharing="conditional",
        level=1,
    )
    assert not path.refused
    assert path.scope == "same-line"


def test_bad_operator_record_set_aside() -> None:
    consortium = Consortium.from_ledger(ledger_document(**{OPERATOR: "Big_Data"}))
    assert consortium.operator == OPERATOR
    assert OPERATOR in consortium.invalid_departments


def test_from_ledger_record_personal_data_hidden() -> None:
    document = ledger_document()
    document["departments"][1]["name"] = f"张三 {ID_NUMBER}"
    consortium = Consortium.from_ledger(document)
    problem = consortium.invalid_departments[document["departments"][1]["id"]]
    assert "name: contains a resident ID number" in problem
    assert ID_NUMBER not in problem


def test_from_ledger_bad_settings_is_validation_error() -> None:
    document = ledger_document()
    document["policy"]["rules"] = []
    with pytest.raises(ValidationError) as caught:
        Consortium.from_ledger(document)
    assert caught.value.reason == "invalid-consortium"


def test_from_dict_still_strict() -> None:
    document = ledger_document(**{"city-market": "Health_"})
    with pytest.raises(Exception, match=r"departments\[\d+\]\.line"):
        Consortium.from_dict(document, source="genesis")


# Checks run on a state that a release without them left behind.


class FakeState:
    """A state reader over plain dicts, with the records a real node holds."""

    def __init__(self, node: Node) -> None:
        self.data: dict[str, dict[str, dict[str, Any]]] = {}
        for ns in ("consortium", "dept", "node"):
            self.data[ns] = dict(node.store.scan(ns))

    def get(self, ns: str, key: str) -> dict[str, Any] | None:
        return self.data.get(ns, {}).get(key)

    def scan(self, ns: str, prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
        for key in sorted(self.data.get(ns, {})):
            if key.startswith(prefix):
                yield key, self.data[ns][key]


def test_readmit_replaces_invalid_record(node: Node) -> None:
    state = FakeState(node)
    state.data["dept"]["city-market"]["line"] = "Health_"
    current_key = state.data["dept"]["city-market"]["public_key"]
    dept_id, record = check_admission(
        state, admission("city-market", public_key=current_key)
    )
    assert dept_id == "city-market"
    assert record["line"] == "market-regulation"


def test_readmit_keeps_suspension(node: Node) -> None:
    state = FakeState(node)
    state.data["dept"]["city-market"].update(
        {"line": "Health_", "status": "suspended", "suspended_at": 3}
    )
    _dept_id, record = check_admission(state, admission("city-market"))
    assert record["status"] == "suspended"
    assert record["suspended_at"] == 3


def test_readmit_needs_own_key(node: Node) -> None:
    state = FakeState(node)
    state.data["dept"]["city-market"]["line"] = "Health_"
    other_key = state.data["dept"]["city-health"]["public_key"]
    with pytest.raises(ValidationError) as caught:
        check_admission(state, admission("city-market", public_key=other_key))
    assert caught.value.reason == "duplicate-key"


def test_check_unknown_transaction_type(node: Node) -> None:
    with pytest.raises(ValueError, match="not a membership transaction"):
        check_membership_change(node.store, "catalog.register", {})


# The HTTP API checks before signing.


def test_api_admit_bad_line_unsigned(api: Api) -> None:
    size = api.node.store.log_size()
    body = {**admission("ext-x", line="BAD LINE!")["department"]}
    body["public_key"] = SigningKey.generate().public_key.to_b64()
    response = api.post("/v1/consortium/departments", OPERATOR, json=body)
    assert response.status_code == 422
    assert response.json()["reason"] == "bad-payload"
    assert "department.line" in response.json()["error"]
    assert "receipt" not in response.json()
    assert api.node.store.log_size() == size


def test_api_admit_id_number_unsigned(api: Api) -> None:
    size = api.node.store.log_size()
    body = {**admission("ext-z", name=f"李四 {ID_NUMBER}")["department"]}
    body["public_key"] = SigningKey.generate().public_key.to_b64()
    response = api.post("/v1/consortium/departments", OPERATOR, json=body)
    assert response.status_code == 422
    assert response.json()["reason"] == "personal-data"
    assert ID_NUMBER not in response.text
    assert api.node.store.log_size() == size
    stored = api.node.store.query_txs(limit=10_000)
    assert not any(ID_NUMBER.encode() in tx.data for tx in stored)


def test_api_admit_key_twice(api: Api) -> None:
    key = SigningKey.generate().public_key.to_b64()
    first = {**admission("ext-a")["department"], "public_key": key}
    assert api.post("/v1/consortium/departments", OPERATOR, json=first).is_success
    second = {**admission("ext-b")["department"], "public_key": key}
    response = api.post("/v1/consortium/departments", OPERATOR, json=second)
    assert response.status_code == 422
    assert response.json()["reason"] == "duplicate-key"


def test_api_suspend_reason_checked(api: Api) -> None:
    response = api.post(
        "/v1/consortium/departments/city-market/suspend",
        OPERATOR,
        json={"reason": f"联系 {MOBILE}"},
    )
    assert response.status_code == 422
    assert response.json()["reason"] == "personal-data"
    assert MOBILE not in response.text


def test_suspend_twice_rejected(node: Node) -> None:
    payload = {"department": "city-market", "reason": "security audit"}
    assert node.act(OPERATOR, "consortium.suspend", payload).applied
    again = node.act(OPERATOR, "consortium.suspend", payload)
    assert again.reason == "already-suspended"
    assert "'city-market' is already suspended" in again.message


@pytest.mark.parametrize(
    "name",
    ["越秀区\n市场监管局", "x" * 201, "\u202e局管监场市"],
    ids=["newline", "long", "bidi"],
)
def test_admit_bad_name_rejected(node: Node, name: str) -> None:
    receipt = node.act(OPERATOR, "consortium.admit", admission(name=name))
    assert receipt.reason == "bad-payload"
    assert "department.name" in receipt.message
    assert "without control characters" in receipt.message
