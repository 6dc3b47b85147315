"""Fixtures shared by the tests: node homes on disk with the demo consortium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import govchain.data
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
