"""A node home restored from an older backup is caught by a newer checkpoint."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from govchain.errors import IntegrityError
from govchain.node import Node, NodeHome
from govchain.node.presented import check_presented_checkpoint

PAYLOAD = {"level": 1, "sharing": "unconditional"}


def _register(node: Node, title: str) -> None:
    assert node.act(
        "city-health", "catalog.register", {"title": title, **PAYLOAD}
    ).applied


def test_restored_home_noticed(node: Node, tmp_path: Path) -> None:
    _register(node, "a")
    home = node.home
    node.close()
    backup = tmp_path / "backup"
    shutil.copytree(home.path, backup)
    live = Node(home)
    _register(live, "b")
    _register(live, "c")
    latest = live.store.latest_checkpoint()
    assert latest is not None
    live.close()

    restored = Node(NodeHome(backup))
    try:
        with pytest.raises(IntegrityError, match="restored from an older backup"):
            check_presented_checkpoint(restored, latest[1])
        # The node refuses to fork the history others have seen.
        with pytest.raises(IntegrityError, match="catch up"):
            restored.act("city-health", "catalog.register", {"title": "d", **PAYLOAD})
        assert restored.store.log_size() == 2
    finally:
        restored.close()


def test_older_checkpoint_consistent(node: Node) -> None:
    _register(node, "a")
    old = node.store.checkpoint(2)
    assert old is not None
    _register(node, "b")
    assert check_presented_checkpoint(node, old) == 2


def test_forked_checkpoint_noticed(node: Node, tmp_path: Path) -> None:
    home = node.home
    node.close()
    twin = tmp_path / "twin"
    shutil.copytree(home.path, twin)
    ours = Node(home)
    theirs = Node(NodeHome(twin))
    try:
        _register(ours, "ours")
        _register(theirs, "theirs")
        note = theirs.store.latest_checkpoint()
        assert note is not None
        with pytest.raises(IntegrityError, match="forked"):
            check_presented_checkpoint(ours, note[1])
    finally:
        ours.close()
        theirs.close()
