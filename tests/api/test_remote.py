"""How the CLI finds the server that holds a node home, and reads its errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from govchain.api.announce import api_file, api_url
from govchain.cli._context import CliState
from govchain.cli._remote import ApiClient, _error_from, server_client
from govchain.errors import (
    ConfigError,
    GovchainError,
    IntegrityError,
    PolicyError,
    ValidationError,
    VerificationError,
)
from govchain.node import Node, NodeLockedError


def _announce(node: Node, pid: int) -> None:
    record = {"url": "http://127.0.0.1:9", "pid": pid, "tls_cert": None}
    api_file(node.home).write_text(json.dumps(record), "utf-8")


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_server_client_found(node: Node) -> None:
    _announce(node, os.getpid())
    client = server_client(node.home)
    assert isinstance(client, ApiClient)
    assert client.url == "http://127.0.0.1:9"


def test_server_client_unlocked_home(node: Node) -> None:
    _announce(node, os.getpid())
    node.close()
    assert server_client(node.home) is None


def test_server_client_stale_file(node: Node) -> None:
    _announce(node, _dead_pid())
    assert server_client(node.home) is None


def test_node_or_api_locked_without_server(node: Node) -> None:
    state = CliState(home_path=node.home.path, lock_timeout=0.2)
    with pytest.raises(NodeLockedError, match="is in use"):
        state.node_or_api()


def test_node_or_api_opens_free_home(node: Node) -> None:
    node.close()
    opened = CliState(home_path=node.home.path).node_or_api()
    assert isinstance(opened, Node)
    opened.close()


def test_api_file_malformed(node: Node) -> None:
    api_file(node.home).write_text("{", "utf-8")
    with pytest.raises(ConfigError, match="unusable"):
        server_client(node.home)


@pytest.mark.parametrize(
    ("status", "reason", "kind"),
    [
        (400, "config-error", ConfigError),
        (401, "unauthenticated", ConfigError),
        (403, "not-owner", PolicyError),
        (404, "unknown-request", ValidationError),
        (409, "integrity-error", IntegrityError),
        (422, "bad-payload", ValidationError),
        (422, "verification-failed", VerificationError),
        (503, "timeout", GovchainError),
    ],
)
def test_error_from_status(status: int, reason: str, kind: type) -> None:
    error = _error_from(status, {"error": "message", "reason": reason}, "city-cdc")
    assert type(error) is kind
    assert "message" in str(error)
    if isinstance(error, ValidationError):
        assert error.reason == reason


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8000"),
        ("0.0.0.0", "http://127.0.0.1:8000"),
        ("::", "http://[::1]:8000"),
        ("::1", "http://[::1]:8000"),
        ("node.example", "http://node.example:8000"),
    ],
)
def test_api_url_for_host(host: str, url: str) -> None:
    assert api_url(host, 8000, tls=False) == url


def test_api_url_tls() -> None:
    assert api_url("127.0.0.1", 8443, tls=True) == "https://127.0.0.1:8443"


def test_api_file_path(node: Node) -> None:
    assert api_file(node.home) == node.home.path / "api.json"
