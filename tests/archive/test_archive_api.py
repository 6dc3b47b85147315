"""The archive routes, served by real uvicorn on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.api.api_support import serve_in_thread

from govchain.api import create_app
from govchain.api.auth import create_token
from govchain.archive import Archive, verify_item_proof
from govchain.archive.anchoring import file_sha256
from govchain.archive.store import pack_path
from govchain.evidence import read_trust_file
from govchain.evidence.keys import trust_file_text
from govchain.node import Node


@pytest.fixture
def served(
    node: Node, folder: tuple[Path, Path]
) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    with Archive(node.home) as archive:
        archive.ingest(node, [folder[0]], folder[1])
    node.start()
    tokens = {d: create_token(node.home, d).token for d in ("city-bdb", "city-health")}
    url, stop = serve_in_thread(create_app(node))
    client = httpx.Client(base_url=url, timeout=60)
    try:
        yield client, {d: f"Bearer {t}" for d, t in tokens.items()}
    finally:
        client.close()
        stop()
        node.stop()


def test_api_search_needs_token(served: tuple[httpx.Client, dict[str, str]]) -> None:
    client, _tokens = served
    assert client.get("/v1/archive/items").status_code == 401


def test_api_search_and_show(served: tuple[httpx.Client, dict[str, str]]) -> None:
    client, tokens = served
    auth = {"Authorization": tokens["city-bdb"]}
    found = client.get("/v1/archive/items", params={"volume": "V1"}, headers=auth)
    assert found.status_code == 200
    assert [i["item"] for i in found.json()["items"]] == ["F01/V1/1", "F01/V1/2"]
    shown = client.get("/v1/archive/items/F01/V2/1", headers=auth)
    assert shown.status_code == 200
    assert shown.json()["batch"]["status"] == "anchored"
    missing = client.get("/v1/archive/items/F01/V9/1", headers=auth)
    assert missing.status_code == 404


def test_api_proof_verifies(
    served: tuple[httpx.Client, dict[str, str]], node: Node, folder: tuple[Path, Path]
) -> None:
    client, tokens = served
    response = client.get(
        "/v1/archive/proofs/F01/V1/2", headers={"Authorization": tokens["city-bdb"]}
    )
    assert response.status_code == 200
    trust = node.home.path / "trust.txt"
    trust.write_text(trust_file_text(node.store), "utf-8")
    digest, _size = file_sha256(folder[0] / "v1" / "b.txt")
    result = verify_item_proof(response.json(), digest, read_trust_file(trust))
    assert result["item"] == "F01/V1/2"


def test_api_audit_repairs_and_records(
    served: tuple[httpx.Client, dict[str, str]], node: Node
) -> None:
    client, tokens = served
    with Archive(node.home) as archive:
        pack = archive.index.live_objects()[0].pack
        assert pack is not None
        pack_path(archive.config.replicas[0], pack).unlink()
    rejected = client.post(
        "/v1/archive/audits", headers={"Authorization": tokens["city-health"]}
    )
    assert rejected.status_code == 403
    auth = {"Authorization": tokens["city-bdb"]}
    done = client.post("/v1/archive/audits", params={"repair": True}, headers=auth)
    assert done.status_code == 201
    assert done.json()["result"] == "repaired"
    listed = client.get("/v1/archive/audits", headers=auth).json()["audits"]
    assert listed[0]["id"] == done.json()["audit"]
    report = client.get(f"/v1/archive/audits/{listed[0]['id']}", headers=auth)
    assert report.json()["repaired"] == 2


def test_api_appraisal(served: tuple[httpx.Client, dict[str, str]]) -> None:
    client, tokens = served
    due = client.get(
        "/v1/archive/appraisal",
        params={"as_of": "2030-06-01"},
        headers={"Authorization": tokens["city-bdb"]},
    )
    assert due.status_code == 200
    assert [i["item"] for i in due.json()["items"]] == ["F01/V1/1"]
