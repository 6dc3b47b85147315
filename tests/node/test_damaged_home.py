"""A node home whose ledger file is missing or damaged: clear errors, no new chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.cli_support import run_govchain

from govchain.errors import ConfigError
from govchain.ledger.store import LedgerStore
from govchain.ledger.verify import verify_ledger
from govchain.node import Node, NodeHome


def _closed_home(node: Node) -> NodeHome:
    home = node.home
    node.close()
    return home


def test_missing_ledger_not_started_again(node: Node) -> None:
    home = _closed_home(node)
    for path in home.path.glob("ledger.sqlite*"):
        path.unlink()
    with pytest.raises(ConfigError, match="is missing, so the node cannot start"):
        Node(home)
    assert not home.ledger_path.exists()


def test_empty_ledger_not_started_again(node: Node) -> None:
    home = _closed_home(node)
    for path in home.path.glob("ledger.sqlite*"):
        path.unlink()
    home.ledger_path.write_bytes(b"")
    with pytest.raises(ConfigError, match=r"cannot be read \(no such table: blocks\)"):
        Node(home)


def test_cli_on_missing_ledger(node: Node) -> None:
    home = _closed_home(node)
    for path in home.path.glob("ledger.sqlite*"):
        path.unlink()
    for args in (["status"], ["verify"]):
        result = run_govchain(*args, home=home.path)
        assert result.returncode == 2, result.stderr
        assert "is missing" in result.stderr
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "damage",
    ["drop-table", "random-bytes", "truncated"],
)
def test_verify_reports_unreadable_ledger(node: Node, damage: str) -> None:
    home = _closed_home(node)
    path: Path = home.ledger_path
    if damage == "drop-table":
        store = LedgerStore(path)
        store.db.execute("DROP TABLE tx_subjects")
        store.close()
    elif damage == "random-bytes":
        path.write_bytes(bytes(range(256)) * 64)
    else:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    report = verify_ledger(LedgerStore(path, readonly=True))
    assert report.problem is not None
    assert "cannot be read" in str(report.problem)
    result = run_govchain("verify", home=home.path)
    assert result.returncode == 1, result.stderr
    assert "does NOT verify" in result.stderr
    assert "Traceback" not in result.stderr
