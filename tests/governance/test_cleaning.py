"""Cleaning rule sets: parsing, each rule, and cleaned versions on a real node."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from govchain.catalog import service as catalog
from govchain.cli._app import app as cli_app
from govchain.datasets import Dataset, DatasetStore
from govchain.errors import ValidationError
from govchain.governance.cleaning import (
    clean_frame,
    frame_of,
    load_rule_set,
    parse_rule_set,
)
from govchain.governance.service import clean_version
from govchain.node import Node
from govchain.standards import load_standard

ALL_RULES = {
    "name": "people",
    "version": "1",
    "rules": [
        {"op": "trim"},
        {"op": "half_width"},
        {"op": "iso_date", "fields": ["born"]},
        {"op": "phone", "fields": ["phone"]},
        {"op": "upper_check", "fields": ["id"]},
        {"op": "dedup", "key": ["id"]},
    ],
}


def _clean(column: str, values: Sequence[str | None], op: str) -> list[str | None]:
    rule_set = parse_rule_set(
        {"name": "t", "version": "1", "rules": [{"op": op, "fields": [column]}]}
    )
    frame = pl.DataFrame({column: list(values)}, schema={column: pl.String})
    return clean_frame(frame, rule_set).frame.get_column(column).to_list()


def test_trim_blank_becomes_null() -> None:
    assert _clean("a", ["  x ", "   ", None, "y"], "trim") == ["x", None, None, "y"]


def test_half_width_digits_and_space() -> None:
    cleaned = _clean("a", ["１２３ＡＢｃ", "a\u3000b", "（注）"], "half_width")
    assert cleaned == ["123ABc", "a b", "（注）"]


def test_iso_date_forms() -> None:
    values = ["2024/1/5", "2024年1月5日", "2024.12.31", "20240105", "2024-01-05"]
    assert _clean("d", values, "iso_date") == ["2024-01-05"] * 2 + [
        "2024-12-31",
        "2024-01-05",
        "2024-01-05",
    ]


def test_iso_date_keeps_impossible_dates() -> None:
    assert _clean("d", ["2023-02-30", "soon", None], "iso_date") == [
        "2023-02-30",
        "soon",
        None,
    ]


def test_phone_forms() -> None:
    values = ["138 1234 5678", "+86 138-1234-5678", "(010)62345678", "12345"]
    assert _clean("p", values, "phone") == [
        "13812345678",
        "13812345678",
        "010-62345678",
        "12345",
    ]


def test_upper_check_only_identifiers() -> None:
    values = ["11010519851111996x", "91350100m000100y1a", "abc"]
    assert _clean("id", values, "upper_check") == [
        "11010519851111996X",
        "91350100M000100Y1A",
        "abc",
    ]


def test_dedup_reports_removed_rows() -> None:
    rule_set = parse_rule_set(
        {"name": "t", "version": "1", "rules": [{"op": "dedup", "key": ["id"]}]}
    )
    frame = frame_of(["id", "n"], [["1", "a"], ["2", "b"], ["1", "c"], [None, "d"]])
    frame = pl.concat([frame, frame_of(["id", "n"], [[None, "e"]])])
    result = clean_frame(frame, rule_set)
    assert result.frame.get_column("n").to_list() == ["a", "b", "d", "e"]
    assert result.changes[0]["removed"] == [3]
    assert result.removed_rows == 1


def test_clean_counts_changes_without_values() -> None:
    frame = frame_of(
        ["id", "born", "phone"], [[" 1 ", "2024/1/5", "１３８１２３４５６７８"]]
    )
    result = clean_frame(frame, parse_rule_set(ALL_RULES))
    assert result.changes[0]["changed"] == {"id": 1, "born": 0, "phone": 0}
    assert result.changes[1]["changed"]["phone"] == 1
    assert "13812345678" not in json.dumps(result.changes)
    assert result.frame.row(0) == ("1", "2024-01-05", "13812345678")


def test_clean_unknown_field_rejected() -> None:
    rule_set = parse_rule_set(
        {"name": "t", "version": "1", "rules": [{"op": "trim", "fields": ["x"]}]}
    )
    with pytest.raises(ValidationError, match=r"field\(s\) \['x'\]"):
        clean_frame(frame_of(["a"], [["1"]]), rule_set)


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ({"version": "1", "rules": [{"op": "trim"}]}, "name is missing"),
        ({"name": "a", "version": "1", "rules": []}, "non-empty list"),
        ({"name": "a", "version": "1", "rules": [{"op": "zap"}]}, "'zap'"),
        (
            {"name": "a", "version": "1", "rules": [{"op": "trim", "key": ["a"]}]},
            "only dedup takes key",
        ),
        (
            {"name": "a", "version": "1", "rules": [{"op": "trim", "x": 1}]},
            "unknown properties ['x']",
        ),
    ],
)
def test_rule_set_invalid(document: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_rule_set(document, source="r.json")
    assert fragment in str(caught.value)
    assert str(caught.value).startswith("r.json: ")


def test_rule_set_toml_and_json_same_digest(tmp_path: Path) -> None:
    toml = tmp_path / "r.toml"
    toml.write_text(
        'name = "people"\nversion = "1"\n'
        '[[rules]]\nop = "trim"\n'
        '[[rules]]\nop = "half_width"\n'
        '[[rules]]\nop = "iso_date"\nfields = ["born"]\n'
        '[[rules]]\nop = "phone"\nfields = ["phone"]\n'
        '[[rules]]\nop = "upper_check"\nfields = ["id"]\n'
        '[[rules]]\nop = "dedup"\nkey = ["id"]\n',
        "utf-8",
    )
    as_json = tmp_path / "r.json"
    as_json.write_text(json.dumps(ALL_RULES), "utf-8")
    assert load_rule_set(toml).digest == load_rule_set(as_json).digest
    changed = dict(ALL_RULES, version="2")
    assert parse_rule_set(changed).digest != load_rule_set(as_json).digest


def test_rule_set_bad_toml_names_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("name = ", "utf-8")
    with pytest.raises(
        ValidationError, match=r"broken\.toml: the rule set is not valid"
    ):
        load_rule_set(path)


FIELDS = [
    {"name": "id", "type": "string", "description": ""},
    {"name": "born", "type": "string", "description": ""},
    {"name": "phone", "type": "string", "description": ""},
]
RAW_ROWS: list[list[str | None]] = [
    ["11010519851111996x", "1985/11/11", "138 1234 5678"],
    ["11010519851111996X", "1985-11-11", "13812345678"],
    ["44010619900307002X", "1990年3月7日", None],
]


def _raw_version(node: Node, store: DatasetStore) -> tuple[str, str]:
    resource_id = catalog.register_resource(
        node,
        "city-health",
        title="people",
        level=3,
        sharing="conditional",
        fields=FIELDS,
    )
    raw = Dataset(fields=FIELDS, rows=[list(row) for row in RAW_ROWS])
    version_id = catalog.publish_version(
        node, store, "city-health", resource_id, raw, transformation="import a.csv"
    )
    return resource_id, version_id


def test_clean_version_records_lineage(node: Node, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "objects")
    resource_id, raw_id = _raw_version(node, store)
    rule_set = parse_rule_set(ALL_RULES)
    outcome = clean_version(node, store, "city-health", resource_id, rule_set)
    version = node.store.get("version", outcome.version_id)
    assert version is not None
    assert version["parents"] == [raw_id]
    assert version["transformation"] == "clean people@1"
    assert version["transformation_hash"] == rule_set.digest
    assert version["row_count"] == 2
    assert outcome.changes[-1]["removed"] == [2]
    cleaned = store.get(version["content_hash"])
    assert cleaned.rows[0] == ["11010519851111996X", "1985-11-11", "13812345678"]
    raw = node.store.get("version", raw_id)
    assert raw is not None
    assert store.get(raw["content_hash"]).rows == RAW_ROWS


def test_clean_version_failure_records_nothing(node: Node, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "objects")
    resource_id, raw_id = _raw_version(node, store)
    rule_set = parse_rule_set(
        {"name": "t", "version": "1", "rules": [{"op": "trim", "fields": ["名"]}]}
    )
    with pytest.raises(ValidationError, match="lacks"):
        clean_version(node, store, "city-health", resource_id, rule_set)
    assert catalog.get_resource(node.store, resource_id)["latest_version"] == raw_id


def test_cli_clean_prints_counts(node: Node, tmp_path: Path) -> None:
    store = DatasetStore(node.home.path / "objects")
    resource_id, raw_id = _raw_version(node, store)
    node.close()
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(ALL_RULES), "utf-8")
    result = CliRunner().invoke(
        cli_app,
        [
            "--home",
            str(node.home.path),
            "data",
            "clean",
            resource_id,
            "--rules",
            str(rules),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"cleaned {raw_id} into {resource_id}@2 with people@1" in result.output
    assert "1 duplicate rows removed" in result.output


@pytest.mark.parametrize("op", ["iso_date", "phone"])
def test_skipped_values_match_full_rewrite(op: str) -> None:
    from govchain.governance.cleaning import _EXPRESSIONS, _rewrite_column

    values = [
        "2024-01-05",
        "2023-02-30",
        "2024/1/5",
        "13812345678",
        "138 1234 5678",
        "+8613812345678",
        "(010)62345678",
        "",
        None,
        "x",
    ]
    column = pl.Series("v", values, dtype=pl.String)
    full = pl.select(_EXPRESSIONS[op](pl.lit(column))).to_series()
    assert _rewrite_column(column, op).to_list() == full.to_list()  # type: ignore[arg-type]


def test_clean_version_records_quality(node: Node, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "objects")
    resource_id = catalog.register_resource(
        node, "city-health", title="people", level=3, sharing="conditional"
    )
    standard_path = tmp_path / "people.json"
    born = {"name": "born", "type": "date"}
    standard_path.write_text(json.dumps({"fields": [{"name": "id"}, born]}), "utf-8")
    data = tmp_path / "a.csv"
    data.write_text("id,born\nA1,1985/11/11\nA2,1990-03-07\n", "utf-8")
    imported = catalog.import_version(
        node,
        store,
        "city-health",
        resource_id,
        data,
        standard=load_standard(standard_path),
    )
    assert imported.report is not None
    assert imported.report.errors == 1
    rule_set = parse_rule_set(
        {"name": "t", "version": "1", "rules": [{"op": "iso_date", "fields": ["born"]}]}
    )
    outcome = clean_version(node, store, "city-health", resource_id, rule_set)
    assert outcome.quality is not None
    assert outcome.quality.errors == 0
    version = node.store.get("version", outcome.version_id)
    raw = node.store.get("version", imported.version_id)
    assert version is not None
    assert raw is not None
    assert version["standard_hash"] == raw["standard_hash"]
    assert version["quality_score"] == str(outcome.quality.score)
    assert version["quality_score"] != raw["quality_score"]
    report = store.root / "reports" / f"{version['quality_report_hash']}.json"
    assert report.exists()


def test_clean_version_without_standard(node: Node, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "objects")
    resource_id, _ = _raw_version(node, store)
    outcome = clean_version(
        node, store, "city-health", resource_id, parse_rule_set(ALL_RULES)
    )
    assert outcome.quality is None
    version = node.store.get("version", outcome.version_id)
    assert version is not None
    assert not version["quality_report_hash"]
