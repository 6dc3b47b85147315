"""The demo's governance step on a real node: reported import, clean, grades, deliveries."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from govchain.catalog import service as catalog
from govchain.demo.governance import RESOURCE, play_governance, write_register
from govchain.demo.people import synthetic_people
from govchain.governance.lineage import lineage_graph
from govchain.governance.service import get_classification
from govchain.node import Node
from govchain.tabular import read_table


def test_demo_workbook_is_messy(tmp_path: Path) -> None:
    path = tmp_path / "register.xlsx"
    write_register(path, synthetic_people(8, seed=33), numeric_id=False)
    table = read_table(path)
    assert table.header_row == 3
    assert table.header_rows == 2
    assert table.header[-2:] == ("体检情况/体检日期", "体检情况/体检结论")
    assert len(table.rows) == 9
    assert [n.kind for n in table.notes] == ["width-normalized"]


def test_demo_governance_step(node: Node) -> None:
    console = Console(record=True, width=1000)
    summary = play_governance(node, console)
    text = console.export_text()
    assert "import rejected, nothing recorded" in text
    assert "row 9, column '身份证号'" in text.replace("\n", " ")
    assert "cell C9" in text
    versions = catalog.versions(node.store, RESOURCE)
    assert [v["row_count"] for v in versions] == [9, 8]
    assert versions[1]["parents"] == [versions[0]["id"]]
    record = catalog.get_resource(node.store, RESOURCE)
    assert record["level"] == 4
    assert record["standard_hash"]
    overrides = get_classification(node.store, RESOURCE)["overrides"]
    assert overrides["体检情况/体检结论"]["level"] == 3
    graph = lineage_graph(node.store, RESOURCE)
    deliveries = [n for n in graph.nodes if n.kind == "delivery"]
    assert sorted(n.details["consumer"] for n in deliveries) == [
        "city-cdc",
        "tianhe-market",
    ]
    assert "delivered to city-cdc and tianhe-market" in summary
    # The two consumers' pseudonyms of the same person differ.
    lines = [line for line in text.splitlines() if " receives " in line]
    assert len(lines) == 2
    assert lines[0].split(" receives ")[1] != lines[1].split(" receives ")[1]
