"""The standards registry on a real node, and catalog references to it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from govchain.catalog import service as catalog
from govchain.cli._app import app as cli_app
from govchain.errors import ValidationError
from govchain.node import Node
from govchain.standards import StandardError
from govchain.standards.registry import (
    get_standard,
    list_standards,
    register_standard,
    standard_of,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "standards"


def _standard(tmp_path: Path, version: str = "1", **extra: object) -> Path:
    document = {
        "name": "people",
        "version": version,
        "title": "people register",
        "fields": [{"name": "id", "type": "string", "format": "cn-resident-id"}],
        **extra,
    }
    path = tmp_path / f"people-{version}.json"
    path.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    return path


def test_register_records_hash(node: Node, tmp_path: Path) -> None:
    path = _standard(tmp_path)
    record = register_standard(node, "city-bdb", path)
    assert record["id"] == "people@1"
    assert record["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert record["publisher"] == "city-bdb"
    assert standard_of(record).field_names == ("id",)


def test_register_twice_rejected(node: Node, tmp_path: Path) -> None:
    register_standard(node, "city-bdb", _standard(tmp_path))
    with pytest.raises(ValidationError, match="already registered") as caught:
        register_standard(node, "city-bdb", _standard(tmp_path, title="changed"))
    assert caught.value.reason == "duplicate"


def test_versions_listed(node: Node, tmp_path: Path) -> None:
    register_standard(node, "city-bdb", _standard(tmp_path, "1"))
    register_standard(node, "city-bdb", _standard(tmp_path, "2"))
    register_standard(
        node, "city-bdb", FIXTURES / "counts.json", name="counts", version="1"
    )
    assert [r["id"] for r in list_standards(node.store, "people")] == [
        "people@1",
        "people@2",
    ]
    assert len(list_standards(node.store)) == 3
    assert "document" not in list_standards(node.store)[0]


def test_register_invalid_document(node: Node, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"name": "x", "version": "1", "fields": "none"}', "utf-8")
    with pytest.raises(StandardError, match=r"bad\.json"):
        register_standard(node, "city-bdb", path)


def test_register_needs_name(node: Node) -> None:
    with pytest.raises(ValidationError, match="pass --name"):
        register_standard(node, "city-bdb", FIXTURES / "counts.json")


def test_resource_references_standard(node: Node, tmp_path: Path) -> None:
    record = register_standard(node, "city-bdb", _standard(tmp_path))
    resource_id = catalog.register_resource(
        node,
        "city-health",
        title="x",
        level=1,
        sharing="unconditional",
        standard="people@1",
    )
    resource = catalog.get_resource(node.store, resource_id)
    assert resource["standard_hash"] == record["sha256"]
    catalog.update_resource(node, "city-health", resource_id, standard="GB/T 2260")
    resource = catalog.get_resource(node.store, resource_id)
    assert "standard_hash" not in resource


def test_resource_unknown_standard_rejected(node: Node) -> None:
    with pytest.raises(ValidationError, match="people@9 is not registered"):
        catalog.register_resource(
            node,
            "city-health",
            title="x",
            level=1,
            sharing="unconditional",
            standard="people@9",
        )


def test_get_unknown_standard(node: Node) -> None:
    with pytest.raises(ValidationError, match="nope@1 is not registered"):
        get_standard(node.store, "nope@1")


def test_cli_register_list_show(node: Node, tmp_path: Path) -> None:
    node.close()
    path = _standard(tmp_path)
    home = ["--home", str(node.home.path), "data", "standard"]
    result = CliRunner().invoke(
        cli_app, [*home, "register", str(path), "--as", "city-bdb"]
    )
    assert result.exit_code == 0, result.output
    assert "registered people@1" in result.output
    result = CliRunner().invoke(cli_app, [*home, "list", "--json"])
    assert [r["id"] for r in json.loads(result.output)] == ["people@1"]
    result = CliRunner().invoke(cli_app, [*home, "show", "people@1", "--document"])
    assert result.output == path.read_text("utf-8")


def _import_with_cli(node: Node, fields: list[str], text: str, *options: str) -> Any:
    """Register a resource with `fields`, close the node and import `text` as ids.csv."""
    resource_id = catalog.register_resource(
        node,
        "city-health",
        title="x",
        level=1,
        sharing="unconditional",
        fields=[{"name": n, "type": "string", "description": ""} for n in fields],
    )
    node.close()
    data = node.home.path.parent / "ids.csv"
    data.write_text(text, "utf-8")
    home = ["--home", str(node.home.path), "data", "import", str(data)]
    owner = ["--as", "city-health", "--resource", resource_id]
    return resource_id, CliRunner().invoke(cli_app, [*home, *owner, *options])


def test_cli_import_with_registered_standard(node: Node, tmp_path: Path) -> None:
    register_standard(node, "city-bdb", _standard(tmp_path))
    _, result = _import_with_cli(
        node, ["id"], "id\n11010519851111996X\n123\n", "--standard", "people@1"
    )
    assert result.exit_code == 0, result.output
    assert "imported ids.csv" in result.output


def test_cli_import_header_row_and_notes(node: Node) -> None:
    # A title row as wide as the data, then a header that repeats a name.
    resource_id, result = _import_with_cli(
        node, ["id", "id_2"], "登记,表\nid,id\nA1,B1\nA2,B2\n", "--header-row", "2"
    )
    assert result.exit_code == 0, result.output
    assert f"imported ids.csv as {resource_id}@1: 2 rows" in result.output
    assert "reader notes (1):" in result.output
    assert "warning duplicate-header" in result.output


def test_cli_validate_with_registered_standard(node: Node, tmp_path: Path) -> None:
    register_standard(node, "city-bdb", _standard(tmp_path))
    node.close()
    data = tmp_path / "ids.csv"
    data.write_text("id\n11010519851111996X\n123\n", "utf-8")
    result = CliRunner().invoke(
        cli_app,
        [
            "--home",
            str(node.home.path),
            "data",
            "validate",
            str(data),
            "--standard",
            "people@1",
            "--json",
        ],
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert [f["row"] for f in report["findings"]] == [3]
