"""Error responses and the OpenAPI description."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from tests.api.api_support import OWNER, Api, serve_in_thread

from govchain._types import TxId
from govchain.api import create_app
from govchain.api._errors import TransactionRejected, Unauthenticated, status_for
from govchain.errors import (
    ConfigError,
    GovchainError,
    IntegrityError,
    PolicyError,
    ValidationError,
    VerificationError,
)
from govchain.node import Node, Receipt


def _receipt(reason: str) -> Receipt:
    return Receipt(
        tx_id=TxId("ab" * 32),
        height=3,
        index=7,
        status="rejected",
        reason=reason,
        message="rejected",
        block_time=0,
    )


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (Unauthenticated("no token"), 401),
        (ValidationError("bad", reason="bad-payload"), 422),
        (ValidationError("gone", reason="unknown-resource"), 404),
        (ValidationError("not yours", reason="not-owner"), 403),
        (PolicyError("no", reason="not-shared"), 403),
        (PolicyError("no", reason="unknown-request"), 404),
        (ConfigError("bad home"), 400),
        (IntegrityError("forked"), 409),
        (VerificationError("bad proof"), 422),
        (GovchainError("other"), 500),
        (TransactionRejected(_receipt("wrong-consumer")), 403),
        (TransactionRejected(_receipt("stale-nonce")), 422),
    ],
)
def test_status_for_error(error: GovchainError, status: int) -> None:
    assert status_for(error) == status


def test_status_for_receipt_reason() -> None:
    error = PolicyError("field salary is unknown", reason="unknown-field")
    assert status_for(error) == 403
    assert status_for(error, _receipt("unknown-field")) == 422


def test_unknown_route_json(api: Api) -> None:
    response = api.get("/v1/nothing-here", OWNER)
    assert response.status_code == 404
    assert response.json() == {"error": "not found", "reason": "not-found"}


def test_wrong_method_json(api: Api) -> None:
    response = api.client.delete("/v1/status")
    assert response.status_code == 405
    assert response.json()["reason"] == "method-not-allowed"


def test_invalid_json_body(api: Api) -> None:
    response = api.client.post(
        "/v1/requests",
        headers={**api.auth(OWNER), "Content-Type": "application/json"},
        content=b"{not json",
    )
    assert response.status_code == 422
    assert response.json()["reason"] == "bad-request"


def test_openapi_documents_bodies(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    assert spec["info"]["title"] == "govchain"
    paths = spec["paths"]
    for path in (
        "/v1/status",
        "/v1/catalog/resources",
        "/v1/requests",
        "/v1/grants/{grant_id}/delivery",
        "/v1/deliveries/{delivery_id}/receipt",
        "/v1/audit",
        "/v1/evidence/{tx_id}",
        "/v1/proofs/inclusion",
        "/v1/proofs/consistency",
        "/v1/checkpoints",
        "/v1/transactions",
        "/v1/verify",
    ):
        assert path in paths, path
    assert set(paths["/v1/grants/{grant_id}/delivery"]) == {"post"}
    schemas = spec["components"]["schemas"]
    for name in ("ResourceRegistration", "AccessRequest", "SignedTransaction"):
        assert name in schemas, name
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_docs_page_served(api: Api) -> None:
    response = api.client.get("/docs")
    assert response.status_code == 200
    assert "swagger" in response.text.lower()
    assert "/openapi.json" in response.text


def test_docs_page_needs_no_other_host(api: Api) -> None:
    page = api.client.get("/docs").text
    urls = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", page)
    assert urls, page
    assert "cdn" not in page
    for url in urls:
        assert not url.startswith(("http:", "https:", "//")), url
        asset = api.client.get(url)
        assert asset.status_code == 200, url


@pytest.fixture
def small_api(node: Node) -> Iterator[str]:
    node.start()
    url, stop = serve_in_thread(create_app(node, max_body_bytes=1000))
    try:
        yield url
    finally:
        stop()
        node.stop()


def test_body_limit_declared_length(small_api: str) -> None:
    body = {"note": "x" * 2000}
    response = httpx.post(small_api + "/v1/checkpoints", json=body)
    assert response.status_code == 413
    assert response.json()["reason"] == "too-large"


def test_body_limit_chunked(small_api: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"note": "'
        for _ in range(10):
            yield b"x" * 200
        yield b'"}'

    response = httpx.post(
        small_api + "/v1/checkpoints",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["reason"] == "too-large"


def test_body_limit_small_body_passes(small_api: str) -> None:
    # Past the size limit, the request reaches authentication.
    response = httpx.post(small_api + "/v1/checkpoints", json={"note": "x"})
    assert response.status_code == 401
    assert response.json()["reason"] == "unauthenticated"


@pytest.mark.parametrize(
    ("path", "size"),
    [("/v1/transactions", 3 * 1024 * 1024), ("/v1/checkpoints", 100_000)],
)
def test_anonymous_routes_have_small_body_limit(api: Api, path: str, size: int) -> None:
    # The limit applies before the token is read, so an anonymous caller cannot
    # make the server read a large body.
    response = api.client.post(
        path,
        content=b"{" + b" " * size + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["reason"] == "too-large"
    assert path in response.json()["error"]
    assert api.node.store.log_size() == 1
