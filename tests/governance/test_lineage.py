"""Lineage graphs on a real node: import, cleaned version, deliveries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from govchain.catalog import service as catalog
from govchain.cli._app import app as cli_app
from govchain.datasets import Dataset, DatasetStore
from govchain.errors import ValidationError
from govchain.governance.cleaning import parse_rule_set
from govchain.governance.lineage import lineage_graph, render_tree
from govchain.governance.service import clean_version
from govchain.node import Node
from govchain.sharing import service as sharing

FIELDS = [
    {"name": "机构代码", "type": "string", "description": ""},
    {"name": "床位数", "type": "string", "description": ""},
]
ROWS: list[list[str | None]] = [[" A001", "500"], ["A001", "500"], ["A002", None]]
RULES = parse_rule_set(
    {
        "name": "hospitals",
        "version": "2",
        "rules": [{"op": "trim"}, {"op": "dedup", "key": ["机构代码"]}],
    }
)


def _history(node: Node, store: DatasetStore) -> tuple[str, str, str, str]:
    """Import, clean and deliver once; return the ids in that order."""
    resource_id = catalog.register_resource(
        node,
        "city-health",
        title="医疗机构",
        level=1,
        sharing="unconditional",
        fields=FIELDS,
    )
    raw_id = catalog.publish_version(
        node,
        store,
        "city-health",
        resource_id,
        Dataset(fields=FIELDS, rows=ROWS),
        raw_hash="ab" * 32,
        transformation="import beds[2024].xlsx",
    )
    clean_id = clean_version(node, store, "city-health", resource_id, RULES).version_id
    request = sharing.request_access(
        node,
        "city-market",
        resource_id,
        fields=["机构代码"],
        purpose="planning",
        term_days=30,
    )
    delivery = sharing.deliver(
        node, store, "city-market", grant_id=request["grant"], resource_id=resource_id
    )
    return resource_id, raw_id, clean_id, str(delivery.package["delivery"])


def test_lineage_import_clean_delivery(node: Node, tmp_path: Path) -> None:
    resource_id, raw_id, clean_id, delivery_id = _history(
        node, DatasetStore(tmp_path / "objects")
    )
    graph = lineage_graph(node.store, resource_id)
    kinds = {n.id: n.kind for n in graph.nodes}
    assert kinds == {raw_id: "import", clean_id: "derived", delivery_id: "delivery"}
    edges = {(e.source, e.target): e for e in graph.edges}
    assert set(edges) == {(raw_id, clean_id), (clean_id, delivery_id)}
    assert edges[(raw_id, clean_id)].transformation == "clean hospitals@2"
    assert edges[(raw_id, clean_id)].transformation_hash == RULES.digest
    assert edges[(clean_id, delivery_id)].transformation == "deliver to city-market"
    assert [n.id for n in graph.roots()] == [raw_id]


def test_lineage_json_has_no_values(node: Node, tmp_path: Path) -> None:
    resource_id, *_ = _history(node, DatasetStore(tmp_path / "objects"))
    text = json.dumps(lineage_graph(node.store, resource_id).to_dict())
    assert "A001" not in text
    assert "A002" not in text


def test_lineage_tree_text(node: Node, tmp_path: Path) -> None:
    resource_id, raw_id, clean_id, delivery_id = _history(
        node, DatasetStore(tmp_path / "objects")
    )
    console = Console(width=200, record=True)
    console.print(render_tree(lineage_graph(node.store, resource_id)))
    lines = console.export_text().splitlines()
    assert lines[0] == f"lineage of {resource_id}"
    assert f"{raw_id}  import beds[2024].xlsx, 3 rows" in lines[1]
    assert f"{clean_id}  clean hospitals@2, 2 rows" in lines[2]
    assert f"transformation digest {RULES.digest[:12]}" in lines[2]
    assert f"{delivery_id}  delivery to city-market" in lines[3]


def test_lineage_unknown_resource(node: Node) -> None:
    with pytest.raises(ValidationError, match="'nope' is not in the catalog"):
        lineage_graph(node.store, "nope")


def test_cli_lineage_json(node: Node) -> None:
    store = DatasetStore(node.home.path / "objects")
    resource_id, raw_id, clean_id, _ = _history(node, store)
    node.close()
    result = CliRunner().invoke(
        cli_app, ["--home", str(node.home.path), "lineage", resource_id, "--json"]
    )
    assert result.exit_code == 0, result.output
    graph = json.loads(result.output)
    assert graph["resource"] == resource_id
    assert {"source": raw_id, "target": clean_id}.items() <= graph["edges"][0].items()


def test_cli_lineage_labels_hashes(node: Node) -> None:
    store = DatasetStore(node.home.path / "objects")
    resource_id, raw_id, clean_id, delivery_id = _history(node, store)
    raw = node.store.get("version", raw_id)
    clean = node.store.get("version", clean_id)
    delivery = node.store.get("delivery", delivery_id)
    assert raw is not None
    assert clean is not None
    assert delivery is not None
    policy_digest = delivery["policy"].rsplit(":", 1)[-1]
    node.close()
    result = CliRunner().invoke(
        cli_app,
        ["--home", str(node.home.path), "lineage", resource_id],
        env={"COLUMNS": "250"},
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"content hash {raw['content_hash'][:12]}" in lines[1]
    assert f"content hash {clean['content_hash'][:12]}" in lines[2]
    assert f"transformation digest {RULES.digest[:12]}" in lines[2]
    assert f"{delivery_id}  delivery to city-market" in lines[3]
    assert f"content hash {delivery['content_hash'][:12]}" in lines[3]
    assert f"policy digest {policy_digest[:12]}" in lines[3]
    # A bare "sha256" would not say which of these hashes it is.
    assert "sha256" not in result.output
