"""The certificate registry and key routes, and their bad input, on loopback.

The server runs with a small request size limit, so a body over it is cheap
to send.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.api.api_support import serve_in_thread
from tests.certs.conftest import ISSUER, OTHER, TEMPLATE, holders

from govchain.api import create_app
from govchain.api.auth import create_token
from govchain.demo.scenarios import DemoClock
from govchain.node import Node

OPERATOR = "city-bdb"
#: Request size limit of the test server, in bytes.
MAX_BODY = 16 * 1024


@pytest.fixture
def http(node: Node, clock: DemoClock) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    node.start()
    tokens = {d: create_token(node.home, d).token for d in (OPERATOR, ISSUER, OTHER)}
    app = create_app(node, clock=lambda: clock.now, max_body_bytes=MAX_BODY)
    url, stop = serve_in_thread(app)
    client = httpx.Client(base_url=url, timeout=60)
    try:
        yield client, tokens
    finally:
        client.close()
        stop()
        node.stop()


def _auth(tokens: dict[str, str], dept: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[dept]}"}


def _post(
    http: tuple[httpx.Client, dict[str, str]],
    path: str,
    dept: str,
    body: dict[str, Any],
    method: str = "POST",
) -> httpx.Response:
    client, tokens = http
    return client.request(method, path, json=body, headers=_auth(tokens, dept))


def _registry(http: tuple[httpx.Client, dict[str, str]]) -> str:
    """Define the template, authorize the issuer, create a key; return its kid."""
    defined = _post(http, "/v1/certs/templates", OPERATOR, {"template": TEMPLATE})
    assert defined.status_code == 201, defined.text
    assert defined.json()["version"] == 1
    body = {"types": ["food-health"]}
    path = f"/v1/certs/issuers/{ISSUER}"
    authorized = _post(http, path, OPERATOR, body, method="PUT")
    assert authorized.status_code == 200, authorized.text
    assert authorized.json()["receipt"]["status"] == "applied"
    created = _post(http, "/v1/certs/keys", ISSUER, {"valid_days": 30})
    assert created.status_code == 201, created.text
    return str(created.json()["kid"])


def test_registry_routes_then_issue(
    http: tuple[httpx.Client, dict[str, str]], node: Node
) -> None:
    kid = _registry(http)
    assert (node.home.keys_dir / "certs" / f"{ISSUER}-{kid}.json").is_file()
    person = holders(1)[0]
    body = {
        "type": "food-health",
        "holders": [
            {
                "holder_id": person.holder_id,
                "name": person.name,
                "claims": person.claims,
            }
        ],
    }
    issued = _post(http, "/v1/certs/issue", ISSUER, body)
    assert issued.status_code == 201, issued.text
    result = issued.json()
    assert result["title"] == TEMPLATE["title"]
    assert result["labels"]["occupation"] == "从业类别"
    assert result["certificates"][0]["kid"] == kid

    revoked = _post(
        http, f"/v1/certs/keys/{kid}/revoke", ISSUER, {"reason": "key-retired"}
    )
    assert revoked.status_code == 200, revoked.text
    client, _tokens = http
    keys = client.get("/v1/certs/trust-list").json()["keys"]
    assert [k["status"] for k in keys if k["kid"] == kid] == ["revoked"]


def test_template_next_version(http: tuple[httpx.Client, dict[str, str]]) -> None:
    _registry(http)
    changed = copy.deepcopy(TEMPLATE)
    changed["validity_days"] = 180
    response = _post(http, "/v1/certs/templates", OPERATOR, {"template": changed})
    assert response.status_code == 201, response.text
    assert response.json()["version"] == 2


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/v1/certs/templates", {}, "template"),
        ("PUT", f"/v1/certs/issuers/{ISSUER}", {}, "types"),
        ("POST", "/v1/certs/keys", {"valid_days": 0}, "valid_days"),
        ("POST", "/v1/certs/keys/00/revoke", {}, "reason"),
    ],
)
def test_route_names_missing_field(
    http: tuple[httpx.Client, dict[str, str]],
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    response = _post(http, path, OPERATOR, body, method=method)
    assert response.status_code == 422
    problem = response.json()
    assert problem["reason"] == "bad-request"
    assert f"body.{field}" in problem["error"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/certs/templates"),
        ("PUT", f"/v1/certs/issuers/{ISSUER}"),
        ("POST", "/v1/certs/keys"),
        ("POST", "/v1/certs/keys/00/revoke"),
    ],
)
def test_route_body_too_large(
    http: tuple[httpx.Client, dict[str, str]], method: str, path: str
) -> None:
    client, tokens = http
    response = client.request(
        method,
        path,
        content=b"{" + b" " * MAX_BODY + b"}",
        headers={**_auth(tokens, OPERATOR), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["reason"] == "too-large"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/certs/templates", {"template": TEMPLATE}),
        ("PUT", f"/v1/certs/issuers/{ISSUER}", {"types": []}),
        ("POST", "/v1/certs/keys", {}),
        ("POST", "/v1/certs/keys/00/revoke", {"reason": "key-retired"}),
    ],
)
def test_route_needs_token(
    http: tuple[httpx.Client, dict[str, str]],
    method: str,
    path: str,
    body: dict[str, Any],
) -> None:
    client, _tokens = http
    response = client.request(method, path, json=body)
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/certs/templates", {"template": TEMPLATE}),
        ("PUT", f"/v1/certs/issuers/{ISSUER}", {"types": []}),
    ],
)
def test_registry_route_wrong_department(
    http: tuple[httpx.Client, dict[str, str]],
    method: str,
    path: str,
    body: dict[str, Any],
) -> None:
    response = _post(http, path, ISSUER, body, method=method)
    assert response.status_code == 403
    problem = response.json()
    assert problem["reason"] == "not-operator"
    assert "operator's API token" in problem["error"]


def test_key_routes_wrong_department(
    http: tuple[httpx.Client, dict[str, str]],
) -> None:
    kid = _registry(http)
    # city-market is no authorized issuer, so it may register no key.
    refused = _post(http, "/v1/certs/keys", OTHER, {})
    assert refused.status_code == 403
    assert refused.json()["reason"] == "not-issuer"
    taken = _post(
        http, f"/v1/certs/keys/{kid}/revoke", OTHER, {"reason": "key-compromise"}
    )
    assert taken.status_code == 403
    assert taken.json()["reason"] == "not-owner"


def test_routes_in_openapi(http: tuple[httpx.Client, dict[str, str]]) -> None:
    client, _tokens = http
    paths = client.get("/openapi.json").json()["paths"]
    assert "post" in paths["/v1/certs/templates"]
    assert "put" in paths["/v1/certs/issuers/{department}"]
    assert "post" in paths["/v1/certs/keys"]
    assert "post" in paths["/v1/certs/keys/{kid}/revoke"]
