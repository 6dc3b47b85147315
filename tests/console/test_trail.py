"""Audit trails newest first and restricted to given transactions, as the
console's audit page reads them, against a node's SQLite ledger."""

from __future__ import annotations

from govchain import audit
from govchain.catalog import service as catalog
from govchain.node import Node

FIELDS = [{"name": "beds", "type": "integer", "description": ""}]


def _register(node: Node, title: str) -> str:
    return catalog.register_resource(
        node, "city-health", title=title, fields=FIELDS, level=1, sharing="conditional"
    )


def _updates(node: Node, resource: str, count: int) -> list[str]:
    return [
        catalog.update_resource(node, "city-health", resource, title=f"t{n}").tx_id
        for n in range(count)
    ]


def test_trail_newest_first(node: Node) -> None:
    resource = _register(node, "床位")
    _updates(node, resource, 4)
    oldest = audit.trail(node.store, audit.TrailQuery(resource=resource, limit=3))
    newest = audit.trail(
        node.store, audit.TrailQuery(resource=resource, limit=3, newest_first=True)
    )
    everything = audit.trail(node.store, audit.TrailQuery(resource=resource))
    indexes = [row["index"] for row in everything]
    assert len(indexes) == 5
    assert [row["index"] for row in oldest] == indexes[:3]
    assert [row["index"] for row in newest] == indexes[::-1][:3]
    assert newest[0] == everything[-1]


def test_trail_by_transaction_ids(node: Node) -> None:
    resource = _register(node, "门诊")
    other = _register(node, "急诊")
    chosen = _updates(node, resource, 3)[::2]
    _updates(node, other, 2)
    query = audit.TrailQuery(tx_ids=frozenset(chosen), newest_first=True)
    rows = audit.trail(node.store, query)
    assert [row["tx_id"] for row in rows] == chosen[::-1]
    oldest = audit.trail(node.store, audit.TrailQuery(tx_ids=frozenset(chosen)))
    assert [row["tx_id"] for row in oldest] == chosen


def test_trail_ids_with_filters(node: Node) -> None:
    resource = _register(node, "药品")
    other = _register(node, "疫苗")
    mine = _updates(node, resource, 2) + _updates(node, other, 2)
    query = audit.TrailQuery(resource=other, tx_ids=frozenset(mine), limit=1)
    rows = audit.trail(node.store, query)
    assert [row["tx_id"] for row in rows] == [mine[2]]
    none = audit.TrailQuery(department="city-cdc", tx_ids=frozenset(mine))
    assert audit.trail(node.store, none) == []
    assert audit.trail(node.store, audit.TrailQuery(tx_ids=frozenset())) == []


def test_trail_ids_beyond_one_chunk(node: Node) -> None:
    resource = _register(node, "病床")
    chosen = _updates(node, resource, 3)
    unknown = {f"{n:064x}" for n in range(audit.ID_CHUNK + 10)}
    query = audit.TrailQuery(tx_ids=frozenset(unknown | set(chosen)))
    assert [row["tx_id"] for row in audit.trail(node.store, query)] == chosen
