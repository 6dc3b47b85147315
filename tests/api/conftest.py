"""Fixtures of the API tests: the `node` fixture's node served by real uvicorn."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.api.api_support import Api, serve_in_thread

from govchain.api import create_app
from govchain.api.auth import create_token
from govchain.demo.scenarios import DemoClock
from govchain.node import Node


@pytest.fixture
def api(node: Node, clock: DemoClock) -> Iterator[Api]:
    node.start()
    tokens = {dept: create_token(node.home, dept).token for dept in node.home.hosts}
    # The API judges grants and deadlines on the orderer's simulated clock.
    url, stop = serve_in_thread(create_app(node, clock=lambda: clock.now))
    client = httpx.Client(base_url=url, timeout=60)
    try:
        yield Api(url=url, client=client, tokens=tokens, node=node)
    finally:
        client.close()
        stop()
        node.stop()
