"""Presented checkpoints count only node and witness keys; a stopped node warns."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.cli_support import run_govchain

from govchain.crypto.keys import SigningKey
from govchain.errors import IntegrityError
from govchain.evidence.trust import UntrustedCheckpointError
from govchain.ledger.checkpoint import Checkpoint, NoteSigner, sign_note
from govchain.node import Node, NodeHome
from govchain.node._node import BEHIND_KEY, NodeBehindError
from govchain.node.presented import check_presented_checkpoint

PAYLOAD = {"level": 1, "sharing": "unconditional"}
OUTSIDER = "tianhe-cdc"


def _register(node: Node, title: str) -> None:
    assert node.act(
        "city-health", "catalog.register", {"title": title, **PAYLOAD}
    ).applied


def _admit_outsider(node: Node) -> SigningKey:
    key = SigningKey.generate()
    receipt = node.act(
        "city-bdb",
        "consortium.admit",
        {
            "department": {
                "id": OUTSIDER,
                "name": "天河区疾病预防控制中心",
                "region": "440106",
                "level": "county",
                "line": "health",
            },
            "public_key": key.public_key.to_b64(),
        },
    )
    assert receipt.applied, receipt.message
    return key


def _govchain(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_govchain(*args, home=home)


def test_department_note_changes_nothing(node: Node) -> None:
    key = _admit_outsider(node)
    body = Checkpoint(node.origin, node.compact.size + 10, b"\x07" * 32).body()
    note = sign_note(body, [NoteSigner(OUTSIDER, key)])
    with pytest.raises(UntrustedCheckpointError, match="no node or witness key"):
        check_presented_checkpoint(node, note)
    assert node.store.get_meta(BEHIND_KEY) is None
    _register(node, "still commits")


def test_stuck_node_warns_at_start(
    node: Node, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _register(node, "a")
    home = node.home
    node.close()
    backup = tmp_path / "backup"
    shutil.copytree(home.path, backup)
    live = Node(home)
    _register(live, "b")
    latest = live.store.latest_checkpoint()
    assert latest is not None
    live.close()

    restored = Node(NodeHome(backup))
    try:
        with pytest.raises(IntegrityError, match="restored from an older backup"):
            check_presented_checkpoint(restored, latest[1])
        with pytest.raises(NodeBehindError) as caught:
            _register(restored, "c")
        assert (
            f"behind a checkpoint of size {latest[0]} signed by node-city-bdb"
            in str(caught.value)
        )
    finally:
        restored.close()

    status = _govchain(backup, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert "restore a newer backup" in json.loads(status.stdout)["behind"]

    caplog.set_level(logging.WARNING, logger="govchain.node._node")
    reopened = Node(NodeHome(backup))
    reopened.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(
        f"behind a checkpoint of size {latest[0]} signed by node-city-bdb" in w
        and "restore a newer backup" in w
        for w in warnings
    ), warnings


def test_cli_rejects_department_note(node: Node, tmp_path: Path) -> None:
    key = _admit_outsider(node)
    body = Checkpoint(node.origin, node.compact.size + 10, b"\x07" * 32).body()
    note_file = tmp_path / "note.txt"
    note_file.write_bytes(sign_note(body, [NoteSigner(OUTSIDER, key)]))
    home = node.home.path
    node.close()
    done = _govchain(home, "checkpoint", str(note_file))
    assert done.returncode == 1, done.stdout
    assert "no node or witness key" in done.stderr
    assert f"{OUTSIDER} (department key" in done.stderr
    assert "Traceback" not in done.stderr
    reopened = Node(NodeHome(home))
    try:
        assert reopened.store.get_meta(BEHIND_KEY) is None
    finally:
        reopened.close()
