"""ID and mobile numbers in catalog field names and in imported files' names.

A field name stays on the ledger with its resource, and an imported file's
name stays there in the version's transformation, so both are checked before
signing. Messages name the field or the file and never the number.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.api.api_support import FIELDS, Api
from tests.block_support import commit_signed
from typer.testing import CliRunner

from govchain.catalog import service as catalog
from govchain.cli._app import app as cli_app
from govchain.datasets import DatasetStore
from govchain.errors import ValidationError
from govchain.node import Node

ID_NUMBER = "110101199003074514"
MOBILE = "13800138000"
OWNER = "city-health"


def _home(node: Node) -> list[str]:
    return ["--home", str(node.home.path)]


def test_cli_register_field_mobile(node: Node) -> None:
    size = node.store.log_size()
    node.close()
    args = ["catalog", "register", "--as", OWNER, "--title", "人员", "--level", "1"]
    args += ["--sharing", "conditional", "--field", "name", "--field", MOBILE]
    result = CliRunner().invoke(cli_app, [*_home(node), *args])
    assert result.exit_code != 0
    assert isinstance(result.exception, ValidationError)
    assert result.exception.reason == "personal-data"
    message = str(result.exception)
    assert "field fields[1].name contains a mobile number" in message
    assert MOBILE not in message
    assert MOBILE not in result.output
    reopened = Node(node.home)
    try:
        assert reopened.store.log_size() == size
    finally:
        reopened.close()


def test_update_field_id_rejected(node: Node) -> None:
    resource_id = catalog.register_resource(
        node, OWNER, title="人员", level=1, sharing="conditional"
    )
    size = node.store.log_size()
    fields = [{"name": f"ID{ID_NUMBER}", "type": "string", "description": ""}]
    with pytest.raises(ValidationError) as refused:
        catalog.update_resource(node, OWNER, resource_id, fields=fields)
    assert refused.value.reason == "personal-data"
    assert "field fields[0].name contains a resident ID number" in str(refused.value)
    assert ID_NUMBER not in str(refused.value)
    assert node.store.log_size() == size


def test_handler_rejects_field_name(node: Node) -> None:
    fields = [{"name": ID_NUMBER, "type": "string", "description": ""}]
    payload = {"title": "人员", "level": 1, "sharing": "conditional", "fields": fields}
    receipt = node.act(OWNER, "catalog.register", payload)
    assert not receipt.applied
    assert receipt.reason == "personal-data"
    assert "field fields[0].name contains a resident ID number" in receipt.message
    assert ID_NUMBER not in receipt.message


def test_handler_checks_before_repeats(node: Node) -> None:
    # A repeated name is reported with its value, so personal data comes first.
    field = {"name": MOBILE, "type": "string", "description": ""}
    payload = {
        "title": "人员",
        "level": 1,
        "sharing": "conditional",
        "fields": [field, field],
    }
    receipt = commit_signed(node, OWNER, "catalog.register", payload)
    assert not receipt.applied
    assert receipt.reason == "personal-data"
    assert MOBILE not in receipt.message


def test_import_catalog_refuses_row(node: Node, tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text(
        "資料名稱,資料集提供機關,資料集描述,主要欄位\n"
        "床位,380120000J 【社會局】,病床數,床位、區域\n"
        f"住戶,380120000J 【社會局】,住戶名冊,姓名、{ID_NUMBER}\n",
        "utf-8",
    )
    report = catalog.import_catalog(node, path, region="440100")
    assert len(report.registered) == 1
    assert len(report.refused) == 1
    row, column, reason = report.refused[0]
    assert row == 3
    assert column == ""
    assert reason.startswith("personal-data: field fields[1].name contains a resident")
    assert ID_NUMBER not in reason
    stored = node.store.query_txs(limit=10_000)
    registrations = [tx for tx in stored if tx.type == "catalog.register"]
    assert [tx.status for tx in registrations] == ["applied"]
    assert not any(ID_NUMBER.encode() in tx.data for tx in stored)


def test_api_register_field_mobile(api: Api) -> None:
    size = api.node.store.log_size()
    fields = [{"name": f"tel{MOBILE}", "type": "string", "description": ""}]
    response = api.post(
        "/v1/catalog/resources",
        OWNER,
        json={"title": "人员", "fields": fields, "level": 1, "sharing": "conditional"},
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert "field fields[0].name contains a mobile number" in error
    assert MOBILE not in response.text
    assert api.node.store.log_size() == size


def _resource(node: Node) -> str:
    return catalog.register_resource(
        node, OWNER, title="床位", level=1, sharing="conditional", fields=FIELDS
    )


def _assert_file_name_rejected(message: str, number: str) -> None:
    assert "the file name contains a" in message
    assert "rename the file" in message
    assert "field transformation" not in message
    assert number not in message


def test_import_file_name_id(node: Node, tmp_path: Path) -> None:
    resource_id = _resource(node)
    size = node.store.log_size()
    path = tmp_path / f"体检 ID{ID_NUMBER}.csv"
    path.write_text("org_code,beds,district\n440104001,120,越秀区\n", "utf-8")
    with pytest.raises(ValidationError) as refused:
        catalog.import_version(
            node, DatasetStore(tmp_path / "o"), OWNER, resource_id, path
        )
    assert refused.value.reason == "personal-data"
    message = str(refused.value)
    _assert_file_name_rejected(message, ID_NUMBER)
    assert message.startswith(
        "体检 ID<ID number>.csv: the file name contains a resident"
    )
    assert node.store.log_size() == size


def test_cli_import_file_name_id(node: Node, tmp_path: Path) -> None:
    resource_id = _resource(node)
    size = node.store.log_size()
    node.close()
    path = tmp_path / f"{ID_NUMBER}.csv"
    path.write_text("org_code,beds,district\n440104001,120,越秀区\n", "utf-8")
    args = ["data", "import", str(path), "--as", OWNER, "--resource", resource_id]
    result = CliRunner().invoke(cli_app, [*_home(node), *args])
    assert result.exit_code != 0
    assert isinstance(result.exception, ValidationError)
    _assert_file_name_rejected(str(result.exception), ID_NUMBER)
    reopened = Node(node.home)
    try:
        assert reopened.store.log_size() == size
    finally:
        reopened.close()


def test_api_import_file_name_mobile(api: Api) -> None:
    resource_id = api.register()
    size = api.node.store.log_size()
    response = api.post(
        f"/v1/data/resources/{resource_id}/import",
        OWNER,
        params={"filename": f"beds-tel{MOBILE}.csv"},
        content="org_code,beds,district\n440104001,120,越秀区\n".encode(),
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    _assert_file_name_rejected(error, MOBILE)
    assert error.startswith("beds-tel<mobile number>.csv: the file name contains a")
    assert MOBILE not in response.text
    assert api.node.store.log_size() == size
