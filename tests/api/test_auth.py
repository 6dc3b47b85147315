"""API tokens: stored as hashes, required on private endpoints, replaceable."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from tests.api.api_support import OWNER, Api
from typer.testing import CliRunner

from govchain.api.auth import (
    TokenStore,
    create_token,
    ensure_tokens,
    read_token,
    token_hash,
)
from govchain.cli._context import CliState
from govchain.cli._token import app as token_app
from govchain.errors import ConfigError
from govchain.node import Node


def test_auth_token_required(api: Api) -> None:
    response = api.get("/v1/catalog/resources")
    assert response.status_code == 401
    assert response.json()["reason"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_auth_wrong_token_refused(api: Api) -> None:
    headers = {"Authorization": "Bearer gct_not-a-token"}
    response = api.client.get("/v1/catalog/resources", headers=headers)
    assert response.status_code == 401
    assert "not valid" in response.json()["error"]


def test_auth_token_names_department(api: Api) -> None:
    resource_id = api.register()
    response = api.get(f"/v1/catalog/resources/{resource_id}", OWNER)
    assert response.status_code == 200
    assert response.json()["owner"] == OWNER


@pytest.mark.parametrize(
    "path",
    [
        "/healthz",
        "/v1/status",
        "/v1/checkpoint",
        "/v1/proofs/inclusion?index=0&size=1",
        "/v1/proofs/consistency?size1=1&size2=1",
        "/docs",
        "/openapi.json",
    ],
)
def test_auth_public_endpoints_open(api: Api, path: str) -> None:
    assert api.client.get(path).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/consortium/departments"),
        ("GET", "/v1/audit"),
        ("GET", "/v1/verify"),
        ("GET", "/v1/requests"),
        ("GET", "/v1/grants"),
        ("POST", "/v1/catalog/resources"),
        ("POST", "/v1/requests"),
        ("POST", "/v1/grants/grant-x/delivery"),
        ("GET", "/v1/evidence/00"),
    ],
)
def test_auth_private_endpoints_closed(api: Api, method: str, path: str) -> None:
    response = api.client.request(method, path, json={})
    assert response.status_code == 401


def test_token_stored_as_hash(node: Node) -> None:
    issued = create_token(node.home, OWNER)
    text = (node.home.path / "api_tokens.json").read_text("utf-8")
    assert issued.token not in text
    assert json.loads(text)["tokens"][OWNER]["sha256"] == token_hash(issued.token)
    assert stat.S_IMODE(issued.path.stat().st_mode) == 0o600
    assert read_token(node.home, OWNER) == issued.token


def test_token_replacement_revokes_old(api: Api) -> None:
    old = api.tokens[OWNER]
    new = create_token(api.node.home, OWNER).token
    for token, expected in ((old, 401), (new, 200)):
        headers = {"Authorization": f"Bearer {token}"}
        response = api.client.get("/v1/grants", headers=headers)
        assert response.status_code == expected


def test_token_store_unknown_token(node: Node) -> None:
    create_token(node.home, OWNER)
    store = TokenStore(node.home.path)
    assert store.department("gct_guess") is None
    assert store.department(read_token(node.home, OWNER)) == OWNER


def test_token_unhosted_department_refused(node: Node) -> None:
    with pytest.raises(ConfigError, match="not hosted"):
        create_token(node.home, "province-health")


def test_token_ensure_creates_missing_only(node: Node) -> None:
    first = create_token(node.home, OWNER)
    created = ensure_tokens(node.home)
    assert OWNER not in {t.dept for t in created}
    assert {t.dept for t in created} == set(node.home.hosts) - {OWNER}
    assert read_token(node.home, OWNER) == first.token
    assert ensure_tokens(node.home) == []


def test_token_missing_file_message(node: Node) -> None:
    with pytest.raises(ConfigError, match="govchain token create --as city-cdc"):
        read_token(node.home, "city-cdc")


def test_token_corrupt_file_refused(node: Node) -> None:
    (node.home.path / "api_tokens.json").write_text("{not json", "utf-8")
    with pytest.raises(ConfigError, match="unreadable"):
        TokenStore(node.home.path).department("gct_x")


def test_token_cli_create(node: Node) -> None:
    home: Path = node.home.path
    result = CliRunner().invoke(
        token_app, ["create", "--as", OWNER], obj=CliState(home_path=home)
    )
    assert result.exit_code == 0, result.output
    assert f"API token of {OWNER} written to" in result.output
    token = read_token(node.home, OWNER)
    assert TokenStore(home).department(token) == OWNER
