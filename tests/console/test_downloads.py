"""The officer's CSV and JSON downloads, fetched over HTTP from the served console."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from tests.console.conftest import PASSWORD, USERS, Console

from govchain.catalog import service as catalog
from govchain.console.requests import spreadsheet_cell
from govchain.datasets import Dataset, DatasetStore
from govchain.sharing import service as sharing

FIELDS = [
    {"name": "note", "type": "string", "description": "备注"},
    {"name": "change", "type": "string", "description": "变化"},
]
#: Cells a spreadsheet would run as formulas, beside values it must get unchanged.
ROWS: list[list[str | None]] = [
    ["=cmd|' /C calc'!A0", "-5"],
    ['=HYPERLINK("http://127.0.0.1/x","点此")', "+3.5"],
    ["@SUM(1+1)", "-1+2"],
    ["+1+1", "\t=1+1"],
    ["\r=1+1", None],
    ["普通文本", "12"],
]
#: The cells of ROWS as the CSV download must write them.
SAFE_ROWS = [
    ["'=cmd|' /C calc'!A0", "-5"],
    ['\'=HYPERLINK("http://127.0.0.1/x","点此")', "+3.5"],
    ["'@SUM(1+1)", "'-1+2"],
    ["'+1+1", "'\t=1+1"],
    ["'\r=1+1", ""],
    ["普通文本", "12"],
]


@pytest.fixture(scope="module")
def grant(console: Console) -> str:
    """A level-1 resource of city-health, granted at once to city-cdc."""
    node = console.node
    resource = catalog.register_resource(
        node,
        "city-health",
        title="公式单元格",
        fields=FIELDS,
        level=1,
        sharing="unconditional",
        category="health",
    )
    store = DatasetStore(node.home.path / "objects")
    catalog.publish_version(
        node, store, "city-health", resource, Dataset(fields=FIELDS, rows=ROWS)
    )
    record = sharing.request_access(
        node,
        "city-cdc",
        resource,
        fields=["note", "change"],
        purpose="检查下载",
        term_days=30,
    )
    assert record["status"] == "granted"
    return str(record["grant"])


@dataclass
class Officer:
    """An HTTP client logged in as the officer, and the session's form token."""

    client: httpx.Client
    csrf: str

    def download(self, grant: str, format: str) -> httpx.Response:
        return self.client.post(
            f"/console/grants/{grant}/download",
            data={"csrf": self.csrf, "format": format},
        )


@pytest.fixture
def officer(console: Console) -> Iterator[Officer]:
    with httpx.Client(base_url=console.url) as client:
        form = client.get("/console/login")
        login_token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert login_token is not None
        name, _dept = USERS["officer"]
        client.post(
            "/console/login",
            data={"username": name, "password": PASSWORD, "csrf": login_token[1]},
        )
        grants = client.get("/console/grants")
        assert grants.status_code == 200
        token = re.search(r'name="csrf" value="([^"]+)"', grants.text)
        assert token is not None
        yield Officer(client, token[1])


def test_csv_download_neutralises_formulas(officer: Officer, grant: str) -> None:
    response = officer.download(grant, "csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert sorted(rows[0]) == ["change", "note"]
    by_name = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    got = [[row["note"], row["change"]] for row in by_name]
    assert len(got) == len(SAFE_ROWS)
    for written, expected in zip(got, SAFE_ROWS, strict=True):
        assert written == expected


def test_json_download_keeps_values(
    console: Console, officer: Officer, grant: str
) -> None:
    response = officer.download(grant, "json")
    assert response.status_code == 200
    package = json.loads(response.content)
    names = [field["name"] for field in package["fields"]]
    got = [dict(zip(names, row, strict=True)) for row in package["rows"]]
    assert [[row["note"], row["change"]] for row in got] == ROWS
    # The package is what the ledger's content hash covers, so it stays as stored.
    delivery = console.node.store.get("delivery", package["delivery"])
    assert delivery is not None
    assert delivery["content_hash"] == package["content_hash"]


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("-2+3", "'-2+3"),
        ("-", "'-"),
        ("+", "'+"),
        ("-.5", "-.5"),
        ("-1e5", "-1e5"),
        ("+12", "+12"),
        ("a=1", "a=1"),
        ("", ""),
        (None, None),
        (7, 7),
    ],
)
def test_spreadsheet_cell(value: object, written: object) -> None:
    assert spreadsheet_cell(value) == written
