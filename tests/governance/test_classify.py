"""Classification and grading: detection, rule documents, ledger records, overrides."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from govchain.catalog import service as catalog
from govchain.cli._app import app as cli_app
from govchain.datasets import Dataset, DatasetStore
from govchain.errors import ValidationError
from govchain.governance import DEFAULT_POLICY, apply_policy
from govchain.governance.classify import (
    DEFAULT_RULES,
    classify_frame,
    load_classification_rules,
    parse_classification_rules,
)
from govchain.governance.service import (
    classify_version,
    get_classification,
    override_grade,
)
from govchain.identifiers.cn import ric
from govchain.node import Node


def _ids(count: int) -> list[str]:
    """Return valid resident ID numbers born in 1980 in Beijing Dongcheng."""
    out = []
    for day in range(count):
        body = f"110101198001{day % 28 + 1:02d}{day % 900 + 100:03d}"
        out.append(body + ric.calc_check_char(body))
    return out


def test_detect_by_name() -> None:
    frame = pl.DataFrame(
        {"姓名": ["甲"], "证件号码": ["x"], "联系电话": ["y"], "出生日期": ["z"]}
    )
    grades = {g.field: g for g in classify_frame(frame, DEFAULT_RULES).fields}
    assert grades["姓名"].category == "personal-name"
    assert grades["证件号码"].level == 4
    assert grades["联系电话"].kind == "phone"
    assert grades["出生日期"].evidence == ("name",)


def test_detect_by_values() -> None:
    frame = pl.DataFrame(
        {
            "col_a": _ids(50),
            "col_b": ["138" + f"{i:08d}" for i in range(50)],
            "col_c": [f"{i}" for i in range(50)],
        }
    )
    result = classify_frame(frame, DEFAULT_RULES)
    grades = {g.field: g for g in result.fields}
    assert grades["col_a"].category == "personal-identifier"
    assert grades["col_a"].evidence == ("values 100% resident_id",)
    assert grades["col_b"].category == "personal-contact"
    assert grades["col_c"].category == "public"
    assert grades["col_c"].level == 1
    assert result.level == 4


def test_values_below_threshold_graded_as_text() -> None:
    values = _ids(7) + ["无"] * 3
    result = classify_frame(pl.DataFrame({"code": values}), DEFAULT_RULES)
    grade = result.fields[0]
    assert (grade.category, grade.kind, grade.level) == (
        "personal-identifier",
        "text",
        4,
    )
    assert grade.evidence == ("values 70% contain a resident ID number",)


def test_numbers_inside_remarks_graded() -> None:
    ids = _ids(2)
    remarks = [
        f"本人已核验，身份证{ids[0]}，备案",
        "电话13800138000，下午联系",
        "无异常",
        f"证件{ids[1]}",
    ]
    result = classify_frame(pl.DataFrame({"col_3": remarks}), DEFAULT_RULES)
    grade = result.fields[0]
    assert (grade.category, grade.kind, grade.level) == (
        "personal-identifier",
        "text",
        4,
    )
    assert grade.evidence == ("values 50% contain a resident ID number",)
    assert result.level == 4


def test_remarks_with_ids_never_delivered_in_clear() -> None:
    ids = _ids(2)
    frame = pl.DataFrame({"备注": [f"身份证{ids[0]}，已核验", f"证件{ids[1]}"]})
    grades = classify_frame(frame, DEFAULT_RULES)
    view = apply_policy(
        frame,
        DEFAULT_POLICY,
        field_levels={g.field: g.level for g in grades.fields},
        field_kinds={g.field: g.kind for g in grades.fields},
        consumer="city-cdc",
        master_key=b"\x07" * 32,
        allowed=set(),
    )
    assert view.get_column("备注").to_list() == [None, None]


def test_mobile_inside_remarks_graded() -> None:
    remarks = ["电话13800138000，下午联系", "无异常"]
    grade = classify_frame(pl.DataFrame({"备注": remarks}), DEFAULT_RULES).fields[0]
    assert (grade.category, grade.kind, grade.level) == ("personal-contact", "text", 3)


def test_numbers_that_are_no_ids_stay_public() -> None:
    values = ["订单 20240501", "12345678901234567", "床位 120"]
    grade = classify_frame(pl.DataFrame({"说明": values}), DEFAULT_RULES).fields[0]
    assert grade.category == "public"


def test_sample_is_bounded() -> None:
    rules = parse_classification_rules({**DEFAULT_RULES.to_dict(), "sample_size": 10})
    frame = pl.DataFrame({"a": [str(i) for i in range(1000)]})
    assert classify_frame(frame, rules).sampled == 10


def test_result_contains_no_values() -> None:
    ids = _ids(20)
    result = classify_frame(pl.DataFrame({"x": ids}), DEFAULT_RULES)
    text = json.dumps(result.to_dict())
    assert all(value not in text for value in ids)


def test_custom_rules_toml(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        'name = "health-bureau"\nversion = "3"\nmin_percent = 50\n'
        "[levels]\n1 = 'open'\n2 = 'internal'\n3 = 'secret'\n4 = 'top'\n"
        "[[categories]]\nname = 'patient'\nlevel = 4\nkind = 'text'\n"
        "names = ['患者']\n",
        "utf-8",
    )
    rules = load_classification_rules(path)
    assert rules.ref == "health-bureau@3"
    result = classify_frame(pl.DataFrame({"患者编号": ["1"]}), rules)
    assert result.fields[0].level == 4
    assert rules.digest != DEFAULT_RULES.digest


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"min_percent": 0}, "min_percent must be an integer from 1 to 100"),
        ({"levels": {"1": "a"}}, "levels must give a label"),
        ({"categories": [{"name": "A", "level": 1, "names": ["x"]}]}, ".name must"),
        ({"categories": [{"name": "a", "level": 5, "names": ["x"]}]}, ".level must"),
        (
            {"categories": [{"name": "a", "level": 1, "names": ["("]}]},
            "invalid regular",
        ),
        ({"categories": [{"name": "a", "level": 1, "values": "dna"}]}, "'dna'"),
        ({"categories": [{"name": "a", "level": 1}]}, "needs names or values"),
    ],
)
def test_rules_invalid(change: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_classification_rules({**DEFAULT_RULES.to_dict(), **change}, source="r")
    assert fragment in str(caught.value)


FIELDS = [
    {"name": "身份证号", "type": "string", "description": ""},
    {"name": "姓名", "type": "string", "description": ""},
    {"name": "街道", "type": "string", "description": ""},
]


def _resource(node: Node, store: DatasetStore) -> str:
    resource_id = catalog.register_resource(
        node, "city-health", title="人员", level=1, sharing="conditional", fields=FIELDS
    )
    rows: list[list[str | None]] = [[i, "某人", "东城"] for i in _ids(5)]
    catalog.publish_version(
        node, store, "city-health", resource_id, Dataset(fields=FIELDS, rows=rows)
    )
    return resource_id


def test_classify_records_and_applies(node: Node, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "o")
    resource_id = _resource(node, store)
    version_id, result = classify_version(node, store, "city-health", resource_id)
    assert result.level == 4
    entry = get_classification(node.store, resource_id)
    assert entry["version"] == version_id
    assert entry["rules_hash"] == DEFAULT_RULES.digest
    record = catalog.get_resource(node.store, resource_id)
    assert record["level"] == 4
    levels = {f["name"]: (f["level"], f["kind"]) for f in record["fields"]}
    assert levels == {
        "身份证号": (4, "id_number"),
        "姓名": (3, "name"),
        "街道": (1, "other"),
    }


def test_classify_dry_run_records_nothing(node: Node, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "o")
    resource_id = _resource(node, store)
    classify_version(node, store, "city-health", resource_id, record=False)
    with pytest.raises(ValidationError, match="has no classification"):
        get_classification(node.store, resource_id)
    assert catalog.get_resource(node.store, resource_id)["level"] == 1


def test_override_needs_reason(node: Node, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "o")
    resource_id = _resource(node, store)
    classify_version(node, store, "city-health", resource_id)
    with pytest.raises(ValidationError, match="reason of at least 10"):
        override_grade(node, "city-health", resource_id, "街道", level=2, reason="no")


def test_override_recorded_and_kept(node: Node, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "o")
    resource_id = _resource(node, store)
    classify_version(node, store, "city-health", resource_id)
    reason = "street names narrow residents down in small villages"
    entry = override_grade(
        node, "city-health", resource_id, "街道", level=3, reason=reason, kind="address"
    )
    done = entry["overrides"]["街道"]
    assert (done["was"], done["level"], done["reason"]) == (1, 3, reason)
    record = catalog.get_resource(node.store, resource_id)
    assert [f["level"] for f in record["fields"]] == [4, 3, 3]
    # A new classification keeps the steward's decision.
    classify_version(node, store, "city-health", resource_id)
    record = catalog.get_resource(node.store, resource_id)
    assert record["fields"][2]["level"] == 3
    assert record["fields"][2]["kind"] == "address"


def test_override_unknown_field_lists_fields(node: Node, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "o")
    resource_id = _resource(node, store)
    classify_version(node, store, "city-health", resource_id)
    with pytest.raises(ValidationError, match="graded fields are 姓名, 街道, 身份证号"):
        override_grade(
            node, "city-health", resource_id, "不存在", level=2, reason="not a field"
        )


def test_override_lowers_resource_level(node: Node, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "o")
    resource_id = _resource(node, store)
    classify_version(node, store, "city-health", resource_id)
    for name in ("身份证号", "姓名"):
        override_grade(
            node,
            "city-health",
            resource_id,
            name,
            level=2,
            reason="test register of fictitious people only",
        )
    assert catalog.get_resource(node.store, resource_id)["level"] == 2


def test_override_by_other_department_rejected(node: Node, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "o")
    resource_id = _resource(node, store)
    classify_version(node, store, "city-health", resource_id)
    with pytest.raises(ValidationError, match="only its steward") as caught:
        override_grade(
            node,
            "city-market",
            resource_id,
            "街道",
            level=1,
            reason="not my data at all",
        )
    assert caught.value.reason == "not-owner"


def test_override_before_classify_rejected(node: Node, tmp_path: Path) -> None:
    resource_id = _resource(node, DatasetStore(tmp_path / "o"))
    with pytest.raises(ValidationError, match="no classification to override"):
        override_grade(
            node,
            "city-health",
            resource_id,
            "街道",
            level=2,
            reason="long enough reason",
        )


def test_cli_classify_and_override(node: Node) -> None:
    resource_id = _resource(node, DatasetStore(node.home.path / "objects"))
    node.close()
    home = ["--home", str(node.home.path), "data"]
    result = CliRunner().invoke(cli_app, [*home, "classify", resource_id, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["level"] == 4
    result = CliRunner().invoke(
        cli_app,
        [
            *home,
            "override",
            resource_id,
            "--field",
            "姓名",
            "--level",
            "4",
            "--reason",
            "names of patients are health data here",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "field 姓名: level 3 -> 4" in result.output
    result = CliRunner().invoke(
        cli_app, [*home, "classify", resource_id, "--dry-run"], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 0, result.output
    assert "level 4 kept (names of patients are health data here)" in result.output
    assert "before the overrides (dry run, nothing recorded)" in result.output
