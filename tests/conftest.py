"""Fixtures shared by the tests: node homes on disk with the demo consortium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.api.api_support import Api, serve_in_thread

import govchain.data
from govchain.api import create_app
from govchain.api.auth import create_token
from govchain.demo.scenarios import DemoClock
from govchain.ledger.orderer import SoloOrderer
from govchain.node import Node, NodeHome, init_node

#: A Monday, 2026-03-02 09:00 at UTC+8, in unix milliseconds.
GENESIS_TIME = 1_772_413_200_000


@pytest.fixture
def demo_consortium() -> Path:
    return Path(govchain.data.__file__).parent / "consortium" / "demo.toml"


@pytest.fixture
def clock() -> DemoClock:
    """The orderer's clock: starts at genesis and moves only when advanced."""
    return DemoClock(GENESIS_TIME)


@pytest.fixture
def node(tmp_path: Path, demo_consortium: Path, clock: DemoClock) -> Iterator[Node]:
    home = NodeHome(tmp_path / "home")
    opened = init_node(
        home,
        demo_consortium,
        encrypt=False,
        genesis_time=GENESIS_TIME,
        orderer=SoloOrderer(clock=clock),
    )
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def api(node: Node, clock: DemoClock) -> Iterator[Api]:
    """The `node` fixture's node served by real uvicorn on 127.0.0.1."""
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
