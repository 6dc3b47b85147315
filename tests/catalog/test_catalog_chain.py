"""Catalog chain on a real node: registering, searching and importing catalogs."""

from __future__ import annotations

from pathlib import Path

import pytest

from govchain.catalog import service as catalog
from govchain.data import demo_file
from govchain.errors import ValidationError
from govchain.node import Node


def test_taoyuan_catalog_imports(node: Node) -> None:
    report = catalog.import_catalog(
        node, demo_file("taoyuan_opendata_supply_list_2018.xls"), region="440100"
    )
    assert len(report.registered) + len(report.refused) == 1429
    assert len(report.registered) == 1429
    assert len(report.admitted) == 34
    social = node.store.get("dept", "380120000j")
    assert social is not None
    assert social["name"] == "社會局"
    owned = catalog.search(
        node.store, catalog.SearchQuery(department="380120000j"), limit=5000
    )
    assert owned
    assert all(r["owner"] == "380120000j" for r in owned)


def test_yilan_catalog_reports_rows(node: Node) -> None:
    report = catalog.import_catalog(
        node, demo_file("yilan_opendata_catalog_2018-03-20.big5.csv"), region="440100"
    )
    assert len(report.registered) == 353
    assert [row for row, _column, _reason in report.refused] == [105, 246, 338]
    assert all("duplicate" in reason for _row, _column, reason in report.refused)


def test_import_again_refuses_duplicates(node: Node) -> None:
    path = demo_file("yilan_opendata_catalog_2018-03-20.big5.csv")
    catalog.import_catalog(node, path, region="440100")
    again = catalog.import_catalog(node, path, region="440100")
    assert again.registered == []
    assert again.admitted == []
    assert len(again.refused) == 356


def test_import_unknown_region_fails(node: Node) -> None:
    with pytest.raises(ValidationError, match="region"):
        catalog.import_catalog(
            node,
            demo_file("yilan_opendata_catalog_2018-03-20.big5.csv"),
            region="999999",
        )


def test_search_filters(node: Node) -> None:
    catalog.register_resource(
        node,
        "city-health",
        title="医疗机构名录",
        level=1,
        sharing="unconditional",
        category="卫生健康",
        tags=["医院"],
    )
    catalog.register_resource(
        node,
        "city-market",
        title="企业登记",
        level=3,
        sharing="conditional",
        category="市场监管",
    )

    def titles(**kwargs: object) -> list[str]:
        query = catalog.SearchQuery(**kwargs)  # type: ignore[arg-type]
        return [r["title"] for r in catalog.search(node.store, query)]

    assert titles(keyword="医院") == ["医疗机构名录"]
    assert titles(department="city-market") == ["企业登记"]
    assert titles(sharing="conditional") == ["企业登记"]
    assert titles(level=1) == ["医疗机构名录"]
    assert titles(category="卫生健康") == ["医疗机构名录"]


def test_register_rejects_bad_level(node: Node) -> None:
    with pytest.raises(ValidationError) as refused:
        catalog.register_resource(
            node, "city-health", title="x", level=5, sharing="conditional"
        )
    assert refused.value.reason == "bad-payload"
    assert "level must be an integer from 1 to 4" in str(refused.value)


def test_version_records_hashes(node: Node, tmp_path: Path) -> None:
    from govchain.datasets import Dataset, DatasetStore

    fields = [{"name": "a", "type": "string", "description": ""}]
    resource_id = catalog.register_resource(
        node, "city-health", title="x", level=1, sharing="unconditional", fields=fields
    )
    dataset = Dataset(fields=fields, rows=[["1"], ["2"]])
    version_id = catalog.publish_version(
        node, DatasetStore(tmp_path / "o"), "city-health", resource_id, dataset
    )
    version = node.store.get("version", version_id)
    assert version is not None
    assert version["row_count"] == 2
    assert version["content_hash"] == dataset.content_hash
    assert catalog.versions(node.store, resource_id)[0]["id"] == version_id


def test_retired_resource_not_found_by_default(node: Node) -> None:
    resource_id = catalog.register_resource(
        node, "city-health", title="旧表", level=1, sharing="unconditional"
    )
    catalog.retire_resource(node, "city-health", resource_id)
    assert catalog.search(node.store, catalog.SearchQuery(keyword="旧表")) == []
    found = catalog.search(
        node.store, catalog.SearchQuery(keyword="旧表", include_retired=True)
    )
    assert [r["status"] for r in found] == ["retired"]


def test_publish_checks_columns(node: Node, tmp_path: Path) -> None:
    from govchain.tabular import read_table

    fields = [
        {"name": "代码", "type": "string", "description": ""},
        {"name": "床位", "type": "integer", "description": "beds"},
    ]
    resource_id = catalog.register_resource(
        node, "city-health", title="x", level=1, sharing="unconditional", fields=fields
    )
    record = catalog.get_resource(node.store, resource_id)
    good = tmp_path / "good.csv"
    good.write_text("床位,代码\n10,A1\n", "utf-8")
    dataset = catalog.dataset_from_table(record, read_table(good))
    assert [f["name"] for f in dataset.fields] == ["代码", "床位"]
    assert dataset.fields[1]["type"] == "integer"
    assert dataset.rows == [["A1", "10"]]
    bad = tmp_path / "bad.csv"
    bad.write_text("代码,病床\nA1,10\n", "utf-8")
    with pytest.raises(ValidationError) as refused:
        catalog.dataset_from_table(record, read_table(bad))
    message = str(refused.value)
    assert "bad.csv" in message
    assert "missing column(s) ['床位']" in message
    assert "['病床']" in message


def test_field_kinds_match_governance() -> None:
    from govchain.catalog._handlers import FIELD_KINDS
    from govchain.governance.policy import FIELD_KINDS as POLICY_KINDS

    assert tuple(FIELD_KINDS) == tuple(POLICY_KINDS)


def test_field_level_and_kind_checked(node: Node) -> None:
    with pytest.raises(ValidationError, match=r"fields\[0\]\.kind"):
        catalog.register_resource(
            node,
            "city-health",
            title="x",
            level=2,
            sharing="conditional",
            fields=[{"name": "a", "type": "string", "kind": "passport"}],
        )
    with pytest.raises(ValidationError, match="level must be an integer from 1 to 4"):
        catalog.register_resource(
            node,
            "city-health",
            title="x",
            level=2,
            sharing="conditional",
            fields=[{"name": "a", "type": "string", "level": 7}],
        )


def test_import_rejects_data_row_header(node: Node, tmp_path: Path) -> None:
    from govchain.datasets import DatasetStore

    fields = [
        {"name": name, "type": "string", "description": ""}
        for name in ("姓名", "身份证号", "手机")
    ]
    resource_id = catalog.register_resource(
        node, "city-health", title="x", level=3, sharing="conditional", fields=fields
    )
    path = tmp_path / "noheader.csv"
    path.write_text("张三,男,35\n李四,女,41\n", "utf-8")
    with pytest.raises(ValidationError) as refused:
        catalog.import_version(
            node, DatasetStore(tmp_path / "o"), "city-health", resource_id, path
        )
    message = str(refused.value)
    assert refused.value.reason == "data-in-header"
    assert "noheader.csv: the header row is missing or is a data row" in message
    assert "张三" not in message
    assert catalog.versions(node.store, resource_id) == []


def test_publish_masks_extra_columns(node: Node) -> None:
    from govchain.tabular import Table

    fields = [{"name": "代码", "type": "string", "description": ""}]
    resource_id = catalog.register_resource(
        node, "city-health", title="x", level=1, sharing="unconditional", fields=fields
    )
    record = catalog.get_resource(node.store, resource_id)
    table = Table(
        source="t.csv",
        sheet=None,
        header=("代码", "13800138000"),
        rows=[("A1", "x")],
        row_numbers=[2],
        encoding="utf-8",
        header_row=1,
    )
    with pytest.raises(ValidationError) as refused:
        catalog.dataset_from_table(record, table)
    assert "13800138000" not in str(refused.value)
    assert "<mobile number>" in str(refused.value)


def test_cli_import_encoding(node: Node, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from govchain.cli._app import app

    fields = [
        {"name": name, "type": "string", "description": ""} for name in ("name", "city")
    ]
    resource_id = catalog.register_resource(
        node, "city-health", title="x", level=1, sharing="unconditional", fields=fields
    )
    node.close()
    path = tmp_path / "latin.csv"
    path.write_bytes("name,city\nJosé,Zürich\n".encode("latin-1"))
    args = ["--home", str(node.home.path), "data", "import", str(path)]
    args += ["--as", "city-health", "--resource", resource_id]
    result = CliRunner().invoke(app, [*args, "--encoding", "latin-1"])
    assert result.exit_code == 0, result.output
    assert f"imported latin.csv as {resource_id}@1: 1 rows" in result.output


CELL_CASES: dict[str, tuple[str, list[str | None], list[str], str]] = {
    "integer-text": ("integer", ["12", " -3 ", None, ""], ["abc"], "not an integer"),
    "integer-full-width": ("integer", ["12"], ["１２"], "not an integer"),
    "integer-decimal": ("integer", ["0"], ["1.5"], "not an integer"),
    "number": ("number", ["1.5", "-2", "3e4", ".5"], ["1,5"], "not a number"),
    "boolean": ("boolean", ["true", "No", "是", "0"], ["maybe"], "not true or false"),
    "year": ("year", ["2024"], ["24"], "not a four-digit year"),
}


@pytest.mark.parametrize("case", sorted(CELL_CASES))
def test_publish_checks_cell_types(node: Node, tmp_path: Path, case: str) -> None:
    from govchain.datasets import Dataset, DatasetStore

    kind, good, bad, words = CELL_CASES[case]
    fields = [
        {"name": "code", "type": "string", "description": ""},
        {"name": "count", "type": kind, "description": ""},
    ]
    resource_id = catalog.register_resource(
        node, "city-health", title="x", level=1, sharing="unconditional", fields=fields
    )
    store = DatasetStore(tmp_path / "o")
    rows: list[list[str | None]] = [["A", cell] for cell in good]
    catalog.publish_version(
        node, store, "city-health", resource_id, Dataset(fields=fields, rows=rows)
    )
    size = node.store.log_size()
    with pytest.raises(ValidationError, match=words) as caught:
        catalog.publish_version(
            node,
            store,
            "city-health",
            resource_id,
            Dataset(fields=fields, rows=[*rows, ["B", bad[0]]]),
        )
    assert f"data row {len(rows) + 1}, field 'count'" in str(caught.value)
    assert bad[0] not in str(caught.value)
    assert node.store.log_size() == size


def test_publish_reports_every_bad_cell(node: Node, tmp_path: Path) -> None:
    from govchain.datasets import Dataset, DatasetStore

    fields = [
        {"name": "count", "type": "integer", "description": ""},
        {"name": "year", "type": "year", "description": ""},
    ]
    resource_id = catalog.register_resource(
        node, "city-health", title="x", level=1, sharing="unconditional", fields=fields
    )
    rows: list[list[str | None]] = [["1", "2024"] for _ in range(10)]
    for number in (2, 4, 6, 8):
        rows[number - 1] = ["x", "24"]
    with pytest.raises(ValidationError) as caught:
        catalog.publish_version(
            node,
            DatasetStore(tmp_path / "o"),
            "city-health",
            resource_id,
            Dataset(fields=fields, rows=rows),
        )
    message = str(caught.value)
    assert "data row 2, field 'count': the cell is not an integer" in message
    assert "data row 2, field 'year': the cell is not a four-digit year" in message
    assert "data row 6, field 'count'" in message
    assert "data row 6, field 'year'" not in message
    assert "and 3 more such cells" in message


def test_import_with_standard_keeps_invalid_cells(node: Node, tmp_path: Path) -> None:
    # The quality report lists the invalid cell, so the raw version keeps it.
    import json

    from govchain.datasets import DatasetStore
    from govchain.standards import load_standard

    fields = [
        {"name": "code", "type": "string", "description": ""},
        {"name": "beds", "type": "integer", "description": ""},
    ]
    resource_id = catalog.register_resource(
        node, "city-health", title="x", level=1, sharing="unconditional", fields=fields
    )
    standard_path = tmp_path / "beds.json"
    standard_path.write_text(
        json.dumps({"fields": [{"name": "code"}, {"name": "beds", "type": "integer"}]}),
        "utf-8",
    )
    data = tmp_path / "beds.csv"
    data.write_text("code,beds\nA1,12\nA2,many\n", "utf-8")
    imported = catalog.import_version(
        node,
        DatasetStore(tmp_path / "o"),
        "city-health",
        resource_id,
        data,
        standard=load_standard(standard_path),
    )
    assert imported.rows == 2
    assert imported.report is not None
    assert imported.report.errors == 1


def test_import_refuses_agency_with_personal_data(node: Node, tmp_path: Path) -> None:
    # The agency is not admitted and its rows are refused. Nothing with the
    # number is signed, so the ledger never contains it.
    from govchain.identifiers.cn import ric

    number = "44010419850612345" + ric.calc_check_char("44010419850612345")
    catalog_file = tmp_path / "catalog.csv"
    catalog_file.write_text(
        "資料名稱,資料集提供機關,資料集描述\n"
        "測試資料A,390010000A 【新測試局】,描述A\n"
        f"測試資料B,390020000A 【機關{number}】,描述B\n",
        "utf-8",
    )
    report = catalog.import_catalog(node, catalog_file, region="440100")
    assert report.admitted == ["390010000a"]
    assert [row for row, _id in report.registered] == [2]
    assert [row for row, _column, _reason in report.refused] == [3]
    assert "agency not admitted: personal-data" in report.refused[0][2]
    assert number not in report.refused[0][2]
    assert node.store.get("dept", "390020000a") is None
    assert "390020000a" not in node.dept_keys
    assert number.encode() not in node.store.path.read_bytes()
