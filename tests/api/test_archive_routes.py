"""The archive upload and disposal routes, and their bad input, on loopback.

The server runs with a small request size limit, so a body over it is cheap
to send. city-bdb, the node's first hosted department, is the archive's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.api.api_support import serve_in_thread

from govchain.api import create_app
from govchain.api.auth import create_token
from govchain.archive import Archive
from govchain.node import Node

ARCHIVIST = "city-bdb"
OTHER = "city-health"
#: Request size limit of the test server, in bytes.
MAX_BODY = 64 * 1024
#: A synthetic person's name, which the title of an item may carry.
NAME = "林晓雯"


@pytest.fixture
def http(node: Node) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    node.start()
    tokens = {d: create_token(node.home, d).token for d in (ARCHIVIST, OTHER)}
    url, stop = serve_in_thread(create_app(node, max_body_bytes=MAX_BODY))
    client = httpx.Client(base_url=url, timeout=60)
    try:
        yield client, tokens
    finally:
        client.close()
        stop()
        node.stop()


def _auth(tokens: dict[str, str], dept: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[dept]}"}


def _entry(name: str, item: str, **changes: str) -> dict[str, str]:
    entry = {
        "name": name,
        "fonds": "F01",
        "volume": "V1",
        "item": item,
        "title": f"婚姻登记 {NAME}",
        "date": "2014-05-03",
        "retention": "10y",
        "classification": "internal",
    }
    entry.update(changes)
    return entry


def _upload(
    http: tuple[httpx.Client, dict[str, str]],
    entries: list[dict[str, str]],
    contents: list[bytes],
    dept: str = ARCHIVIST,
) -> httpx.Response:
    client, tokens = http
    files = [("files", (f"f{n}", data)) for n, data in enumerate(contents)]
    return client.post(
        "/v1/archive/items",
        data={"metadata": json.dumps(entries, ensure_ascii=False)},
        files=files,
        headers=_auth(tokens, dept),
    )


def test_upload_stores_and_anchors(
    http: tuple[httpx.Client, dict[str, str]], node: Node
) -> None:
    entries = [_entry("a.txt", "1"), _entry("b.txt", "2", title="second")]
    response = _upload(http, entries, [b"first item\n", b"second item\n"])
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["items"] == 2
    assert len(report["batches"]) == 1
    assert report["receipt"]["status"] == "applied"
    with Archive(node.home) as archive:
        row = archive.index.item("F01/V1/2")
        assert row is not None
        assert row.name == "b.txt"
        assert row.status == "anchored"

    client, tokens = http
    proof = client.get("/v1/archive/proofs/F01/V1/1", headers=_auth(tokens, OTHER))
    assert proof.status_code == 200, proof.text

    again = _upload(http, entries, [b"first item\n", b"second item\n"])
    assert again.status_code == 201, again.text
    assert again.json()["already_archived"] == 2
    assert again.json()["batches"] == []


def test_upload_missing_metadata(http: tuple[httpx.Client, dict[str, str]]) -> None:
    client, tokens = http
    response = client.post(
        "/v1/archive/items",
        files=[("files", ("f0", b"data"))],
        headers=_auth(tokens, ARCHIVIST),
    )
    assert response.status_code == 422
    assert "body.metadata" in response.json()["error"]


def test_upload_body_too_large(http: tuple[httpx.Client, dict[str, str]]) -> None:
    response = _upload(http, [_entry("a.bin", "1")], [b"\0" * MAX_BODY])
    assert response.status_code == 413
    assert response.json()["reason"] == "too-large"


def test_upload_wrong_department(http: tuple[httpx.Client, dict[str, str]]) -> None:
    response = _upload(http, [_entry("a.txt", "1")], [b"data"], dept=OTHER)
    assert response.status_code == 403
    problem = response.json()
    assert problem["reason"] == "not-owner"
    assert f"only the archive's department {ARCHIVIST}" in problem["error"]


@pytest.mark.parametrize(
    ("entries", "count", "expected"),
    [
        ([_entry("a.txt", "1", date="2014-13-01")], 1, "metadata entry 1, column date"),
        ([_entry("a/b.txt", "1")], 1, "metadata entry 1, field name"),
        ([_entry("..", "1")], 1, "metadata entry 1, field name"),
        ([_entry("a.txt", "1")], 2, "metadata lists 1 entries for 2 file parts"),
        ([{"name": "a.txt", "fonds": "F01"}], 1, "column volume: is required"),
    ],
)
def test_upload_bad_metadata_names_field(
    http: tuple[httpx.Client, dict[str, str]],
    entries: list[dict[str, Any]],
    count: int,
    expected: str,
) -> None:
    response = _upload(http, entries, [b"data"] * count)
    assert response.status_code == 422
    problem = response.json()
    assert problem["reason"] == "bad-metadata"
    assert expected in problem["error"]
    assert NAME not in response.text


def test_upload_metadata_not_json(http: tuple[httpx.Client, dict[str, str]]) -> None:
    client, tokens = http
    response = client.post(
        "/v1/archive/items",
        data={"metadata": f"[{NAME}"},
        files=[("files", ("f0", b"data"))],
        headers=_auth(tokens, ARCHIVIST),
    )
    assert response.status_code == 422
    assert "metadata is not valid JSON" in response.json()["error"]
    assert NAME not in response.text


def _disposable(http: tuple[httpx.Client, dict[str, str]]) -> None:
    # Dated 2000 with 10 years' retention: disposable from 2011-01-01.
    entries = [_entry("old.txt", "9", date="2000", title="old")]
    response = _upload(http, entries, [b"old item\n"])
    assert response.status_code == 201, response.text


def test_disposal_records_and_erases(
    http: tuple[httpx.Client, dict[str, str]], node: Node
) -> None:
    _disposable(http)
    client, tokens = http
    body = {"item": "F01/V1/9", "approval": "appraisal-2026-01"}
    response = client.post(
        "/v1/archive/dispositions", json=body, headers=_auth(tokens, ARCHIVIST)
    )
    assert response.status_code == 201, response.text
    done = response.json()
    assert done["item"] == "F01/V1/9"
    assert done["erased"] is True
    assert done["receipt"]["tx_id"] == done["tx_id"]
    with Archive(node.home) as archive:
        row = archive.index.item("F01/V1/9")
        assert row is not None
        assert row.status == "disposed"


def test_disposal_missing_field(http: tuple[httpx.Client, dict[str, str]]) -> None:
    client, tokens = http
    response = client.post(
        "/v1/archive/dispositions",
        json={"item": "F01/V1/9"},
        headers=_auth(tokens, ARCHIVIST),
    )
    assert response.status_code == 422
    assert "body.approval" in response.json()["error"]


def test_disposal_body_too_large(http: tuple[httpx.Client, dict[str, str]]) -> None:
    client, tokens = http
    response = client.post(
        "/v1/archive/dispositions",
        content=b"{" + b" " * MAX_BODY + b"}",
        headers={**_auth(tokens, ARCHIVIST), "Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_disposal_wrong_department(
    http: tuple[httpx.Client, dict[str, str]],
) -> None:
    _disposable(http)
    client, tokens = http
    body = {"item": "F01/V1/9", "approval": "appraisal-2026-01"}
    response = client.post(
        "/v1/archive/dispositions", json=body, headers=_auth(tokens, OTHER)
    )
    assert response.status_code == 403
    assert response.json()["reason"] == "not-owner"


def test_disposal_unknown_item(http: tuple[httpx.Client, dict[str, str]]) -> None:
    client, tokens = http
    body = {"item": "F01/V9/1", "approval": "appraisal-2026-01"}
    response = client.post(
        "/v1/archive/dispositions", json=body, headers=_auth(tokens, ARCHIVIST)
    )
    assert response.status_code == 404
    assert response.json()["reason"] == "not-found"


def test_archive_routes_need_token(
    http: tuple[httpx.Client, dict[str, str]],
) -> None:
    client, _tokens = http
    upload = client.post(
        "/v1/archive/items",
        data={"metadata": "[]"},
        files=[("files", ("f0", b"data"))],
    )
    assert upload.status_code == 401
    disposal = client.post(
        "/v1/archive/dispositions", json={"item": "F01/V1/1", "approval": "x"}
    )
    assert disposal.status_code == 401


def test_archive_routes_in_openapi(
    http: tuple[httpx.Client, dict[str, str]],
) -> None:
    client, _tokens = http
    paths = client.get("/openapi.json").json()["paths"]
    upload = paths["/v1/archive/items"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload
    assert "post" in paths["/v1/archive/dispositions"]
