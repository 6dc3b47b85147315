"""Helpers of the API tests: a served node, its client and common steps.

The server runs on a background thread, bound to 127.0.0.1 on a port the
kernel picks, and the tests talk to it with a real httpx client.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from govchain.node import Node

#: Departments of the demo consortium that the tests act as.
OPERATOR = "city-bdb"
OWNER = "city-health"
CONSUMER = "city-cdc"
OTHER = "city-market"

FIELDS = [
    {"name": "org_code", "type": "string", "description": "organisation code"},
    {"name": "beds", "type": "integer", "description": "open beds"},
    {"name": "district", "type": "string", "description": ""},
]
ROWS: list[list[str | None]] = [
    ["440104001", "120", "越秀区"],
    ["440106002", "85", "天河区"],
]


@dataclass
class Api:
    """A running API and a client with one token per hosted department."""

    url: str
    client: httpx.Client
    tokens: dict[str, str]
    node: Node

    def auth(self, dept: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[dept]}"}

    def get(self, path: str, dept: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = self.auth(dept) if dept else {}
        return self.client.get(path, headers=headers, **kwargs)

    def post(self, path: str, dept: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = self.auth(dept) if dept else {}
        return self.client.post(path, headers=headers, **kwargs)

    def register(self, sharing: str = "conditional", level: int = 2) -> str:
        response = self.post(
            "/v1/catalog/resources",
            OWNER,
            json={
                "title": "医疗机构床位",
                "fields": FIELDS,
                "level": level,
                "sharing": sharing,
                "category": "health",
            },
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def publish(self, resource_id: str) -> str:
        response = self.post(
            f"/v1/catalog/resources/{resource_id}/versions",
            OWNER,
            json={"fields": FIELDS, "rows": ROWS},
        )
        assert response.status_code == 201, response.text
        return str(response.json()["version"])

    def grant(self, resource_id: str, fields: list[str] | None = None) -> str:
        """Request `fields` as the consumer, approve every step, return the grant."""
        response = self.post(
            "/v1/requests",
            CONSUMER,
            json={
                "resource": resource_id,
                "fields": fields or ["org_code", "beds"],
                "purpose": "epidemic bed planning",
                "term_days": 30,
            },
        )
        assert response.status_code == 201, response.text
        record = response.json()["request"]
        for step in record["steps"]:
            response = self.post(
                f"/v1/requests/{record['id']}/approve", step["approver"]
            )
            assert response.status_code == 200, response.text
            record = response.json()["request"]
        return str(record["grant"])


def serve_in_thread(app: Any) -> tuple[str, Callable[[], None]]:
    """Serve `app` on a free loopback port; return its URL and a stop function."""
    sock = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    ready = threading.Event()

    def wait_started() -> None:
        while not server.started and thread.is_alive():
            ready.wait(0.01)

    wait_started()
    assert server.started, "uvicorn did not start"

    def stop() -> None:
        server.should_exit = True
        thread.join()
        sock.close()

    return f"http://127.0.0.1:{sock.getsockname()[1]}", stop
