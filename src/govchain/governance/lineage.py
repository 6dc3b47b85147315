"""Lineage of a resource: its versions, how each was derived, and its deliveries.

`lineage_graph` reads the ledger state and returns a directed graph. Its nodes
are the resource's versions and the deliveries made from them. An edge runs
from each parent version to the version derived from it, labelled with the
transformation (such as `clean people@1`) and its digest, and from a version to
each delivery of it, labelled with the desensitization policy. A version
without parents is a raw import. The graph contains ids, hashes and counts only,
never a cell value.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from rich.text import Text
from rich.tree import Tree

from govchain.catalog._handlers import VERSION_NS
from govchain.catalog.service import get_resource, versions
from govchain.ledger.state import StateReader

__all__ = ["LineageEdge", "LineageGraph", "LineageNode", "lineage_graph", "render_tree"]

#: State namespace of deliveries, written by `govchain.sharing._handlers`.
DELIVERY_NS = "delivery"

NodeKind = Literal["import", "derived", "delivery"]


@dataclass(frozen=True)
class LineageNode:
    """A version or a delivery in a lineage graph."""

    id: str
    kind: NodeKind
    label: str
    """One line for people, such as `import a.xlsx, 120 rows`."""
    details: dict[str, Any] = field(default_factory=dict)
    """Hashes, counts and times as the ledger records them."""


@dataclass(frozen=True)
class LineageEdge:
    """A derivation from `source` to `target` and how it was made."""

    source: str
    target: str
    transformation: str
    transformation_hash: str = ""


@dataclass(frozen=True)
class LineageGraph:
    """The versions and deliveries of one resource, in ledger order."""

    resource: str
    nodes: list[LineageNode]
    edges: list[LineageEdge]

    def to_dict(self) -> dict[str, Any]:
        """Return the graph as JSON-ready `{resource, nodes, edges}`."""
        return {
            "resource": self.resource,
            "nodes": [asdict(node) for node in self.nodes],
            "edges": [asdict(edge) for edge in self.edges],
        }

    def children(self, node_id: str) -> list[LineageEdge]:
        return [edge for edge in self.edges if edge.source == node_id]

    def roots(self) -> list[LineageNode]:
        """Return the nodes that no edge inside the graph leads to."""
        targets = {edge.target for edge in self.edges}
        return [node for node in self.nodes if node.id not in targets]


def lineage_graph(state: StateReader, resource_id: str) -> LineageGraph:
    """Return the lineage graph of a resource from the ledger state.

    A parent version of another resource appears as a node too, so a derived
    resource shows where its rows came from. Raises `ValidationError` when the
    resource is not in the catalog.
    """
    get_resource(state, resource_id)
    nodes: dict[str, LineageNode] = {}
    edges: list[LineageEdge] = []
    for version in versions(state, resource_id):
        nodes[version["id"]] = _version_node(version)
        for parent in version.get("parents", []):
            if parent not in nodes:
                record = state.get(VERSION_NS, parent)
                if record is not None:
                    nodes[parent] = _version_node(record)
            edges.append(
                LineageEdge(
                    parent,
                    version["id"],
                    version.get("transformation", ""),
                    version.get("transformation_hash", ""),
                )
            )
    # TODO: scans every delivery of the ledger; an index by resource is needed
    # once a node has many thousands of deliveries.
    for key, delivery in state.scan(DELIVERY_NS):
        if delivery.get("resource") != resource_id:
            continue
        node = _delivery_node(key, delivery)
        nodes[node.id] = node
        if delivery.get("version") in nodes:
            policy = str(delivery.get("policy", ""))
            edges.append(
                LineageEdge(
                    delivery["version"],
                    node.id,
                    f"deliver to {delivery['consumer']}",
                    policy.rsplit(":", 1)[-1] if ":" in policy else "",
                )
            )
    return LineageGraph(resource_id, list(nodes.values()), edges)


def _version_node(version: dict[str, Any]) -> LineageNode:
    parents = version.get("parents", [])
    kind: NodeKind = "derived" if parents else "import"
    transformation = version.get("transformation") or kind
    details = {
        "content_hash": version["content_hash"],
        "row_count": version["row_count"],
        "raw_hash": version.get("raw_hash", ""),
        "quality_score": version.get("quality_score", ""),
        "published": version["published"],
        "tx": version["tx"],
    }
    label = f"{transformation}, {version['row_count']} rows"
    if version.get("quality_score"):
        label += f", quality {version['quality_score']}"
    return LineageNode(version["id"], kind, label, details)


def _delivery_node(key: str, delivery: dict[str, Any]) -> LineageNode:
    details = {
        "consumer": delivery["consumer"],
        "grant": delivery["grant"],
        "purpose": delivery["purpose"],
        "policy": delivery.get("policy", ""),
        "content_hash": delivery.get("content_hash", ""),
        "row_count": delivery["row_count"],
        "fields": delivery["fields"],
        "delivered": delivery["delivered"],
        "received": delivery.get("received"),
    }
    label = (
        f"delivery to {delivery['consumer']} under {delivery['grant']}, "
        f"{delivery['row_count']} rows"
    )
    return LineageNode(delivery.get("id", key), "delivery", label, details)


def render_tree(graph: LineageGraph) -> Tree:
    """Return the graph as a Rich tree from each raw import down to deliveries.

    A version with several parents appears under each of them. Each line names
    its hashes, shortened to 12 hex digits: the content hash of the version or
    delivered rows, the digest of the transformation that derived a version,
    and the digest of the policy that desensitized a delivery.
    """
    tree = Tree(f"lineage of {graph.resource}")
    by_id = {node.id: node for node in graph.nodes}

    def add(
        branch: Tree, node: LineageNode, via: LineageEdge | None, depth: int
    ) -> None:
        # Text, not markup, because labels carry file names that may hold brackets.
        text = Text(f"{node.id}  {node.label}")
        for name, digest in _hashes(node, via):
            text.append(f"  {name} {digest[:12]}", style="dim")
        child = branch.add(text)
        if depth > len(graph.nodes):
            return
        for edge in graph.children(node.id):
            add(child, by_id[edge.target], edge, depth + 1)

    for root in graph.roots():
        add(tree, root, None, 0)
    return tree


def _hashes(node: LineageNode, via: LineageEdge | None) -> list[tuple[str, str]]:
    """Return the labelled hashes shown beside a node, leaving out missing ones."""
    found = [("content hash", str(node.details.get("content_hash") or ""))]
    if via is not None:
        # A delivery edge carries the policy's digest, a derivation edge the
        # transformation's, such as a cleaning rule set's SHA-256.
        name = "policy digest" if node.kind == "delivery" else "transformation digest"
        found.append((name, via.transformation_hash))
    return [(name, digest) for name, digest in found if digest]
