"""ID and mobile numbers anywhere in a data standard registered on the ledger.

The whole document stays on the ledger, so every string and number in it is
checked, not only titles and descriptions. Each rejection must name the JSON
path and never the value, and must happen before signing.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from tests.api.api_support import Api
from tests.block_support import commit_signed
from typer.testing import CliRunner

from govchain.cli._app import app as cli_app
from govchain.errors import ValidationError
from govchain.node import Node
from govchain.standards.registry import list_standards, register_standard

ID_NUMBER = "110101199003074514"
MOBILE = "13800138000"


def _document(**field: Any) -> dict[str, Any]:
    return {
        "name": "people",
        "version": "1",
        "title": "people register",
        "fields": [{"name": "id", "type": "string", **field}],
    }


# (document, JSON path at fault, value that must not be shown)
CASES: list[tuple[dict[str, Any], str, str]] = [
    ({**_document(), "fields": [{"name": MOBILE}]}, "fields[0].name", MOBILE),
    (
        _document(constraints={"enum": ["a", f"ID{ID_NUMBER}"]}),
        "fields[0].constraints.enum[1]",
        ID_NUMBER,
    ),
    (
        _document(type="integer", constraints={"enum": [1, int(MOBILE)]}),
        "fields[0].constraints.enum[1]",
        MOBILE,
    ),
    (
        _document(constraints={"pattern": f"^(?:{ID_NUMBER}|[0-9]{{6}})$"}),
        "fields[0].constraints.pattern",
        ID_NUMBER,
    ),
    (
        {**_document(), "missingValues": ["", ID_NUMBER]},
        "missingValues[1]",
        ID_NUMBER,
    ),
    (
        _document(trueValues=["yes", MOBILE]),
        "fields[0].trueValues[1]",
        MOBILE,
    ),
    ({**_document(), "homepage": f"tel:{MOBILE}"}, "homepage", MOBILE),
    (
        {**_document(), "contacts": {MOBILE: "owner"}},
        "contacts (property name)",
        MOBILE,
    ),
    (
        {**_document(), "fields": [{"name": MOBILE}, {"name": MOBILE}]},
        "fields[0].name",
        MOBILE,
    ),
]
CASE_IDS = [
    "field-name",
    "enum-string",
    "enum-number",
    "pattern",
    "missing-values",
    "true-values",
    "other-property",
    "property-name",
    "repeated-name",
]


def _assert_rejected(message: str, reason: str, path: str, value: str) -> None:
    assert reason == "personal-data"
    assert f"field {path} contains a" in message
    assert value not in message


@pytest.mark.parametrize(("document", "path", "value"), CASES, ids=CASE_IDS)
def test_register_rejects_before_signing(
    node: Node, tmp_path: Path, document: dict[str, Any], path: str, value: str
) -> None:
    file = tmp_path / "people.json"
    file.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    size = node.store.log_size()
    with pytest.raises(ValidationError) as refused:
        register_standard(node, "city-bdb", file)
    _assert_rejected(str(refused.value), refused.value.reason, path, value)
    assert node.store.log_size() == size
    assert list_standards(node.store) == []


@pytest.mark.parametrize(("document", "path", "value"), CASES, ids=CASE_IDS)
def test_handler_rejects_any_string(
    node: Node, document: dict[str, Any], path: str, value: str
) -> None:
    text = json.dumps(document, ensure_ascii=False)
    payload = {
        "name": "people",
        "version": "1",
        "document": text,
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
    }
    receipt = commit_signed(node, "city-bdb", "standard.register", payload)
    assert not receipt.applied
    _assert_rejected(receipt.message, receipt.reason, path, value)


def test_number_patterns_accepted(node: Node, tmp_path: Path) -> None:
    document = {
        "name": "people",
        "version": "1",
        "fields": [
            {
                "name": "id",
                "constraints": {"pattern": "^[1-9][0-9]{5}(18|19|20)[0-9]{9}[0-9Xx]$"},
            },
            {"name": "mobile", "constraints": {"pattern": "^1[3-9][0-9]{9}$"}},
            {
                "name": "beds",
                "type": "integer",
                "constraints": {"minimum": 0, "maximum": 100000},
            },
        ],
        "missingValues": ["", "-", "NA"],
    }
    file = tmp_path / "people.json"
    file.write_text(json.dumps(document), "utf-8")
    record = register_standard(node, "city-bdb", file)
    assert record["id"] == "people@1"
    assert record["field_count"] == 3


def test_cli_register_names_path(node: Node, tmp_path: Path) -> None:
    node.close()
    file = tmp_path / "people.json"
    document = _document(constraints={"enum": [ID_NUMBER]})
    file.write_text(json.dumps(document), "utf-8")
    result = CliRunner().invoke(
        cli_app,
        [
            "--home",
            str(node.home.path),
            "data",
            "standard",
            "register",
            str(file),
            "--as",
            "city-bdb",
        ],
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, ValidationError)
    message = str(result.exception)
    _assert_rejected(
        message, result.exception.reason, "fields[0].constraints.enum[0]", ID_NUMBER
    )
    assert ID_NUMBER not in result.output


def test_api_register_names_path(api: Api) -> None:
    document = {**_document(), "missingValues": [MOBILE]}
    size = api.node.store.log_size()
    response = api.post(
        "/v1/data/standards", "city-bdb", content=json.dumps(document).encode()
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert "field missingValues[0] contains a mobile number" in error
    assert MOBILE not in response.text
    assert api.node.store.log_size() == size
