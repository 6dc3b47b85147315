"""Fixtures of the API tests: the `node` fixture's node served by real uvicorn."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from api_support import Api, serve_in_thread

from govchain.api import create_app
from govchain.api.auth import create_token
from govchain.node import Node


@pytest.fixture
def api(node: Node) -> Iterator[Api]:
    node.start()
    tokens = {dept: create_token(node.home, dept).token for dept in node.home.hosts}
    url, stop = serve_in_thread(create_app(node))
    client = httpx.Client(base_url=url, timeout=60)
    try:
        yield Api(url=url, client=client, tokens=tokens, node=node)
    finally:
        client.close()
        stop()
        node.stop()
