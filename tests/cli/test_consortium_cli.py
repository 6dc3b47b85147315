"""`govchain consortium admit` and friends: checked before signing, exit code 2.

Each command runs as a new user runs it, in its own process on a node home on
disk. The ID number belongs to a made-up person: a synthetic body with its
GB 11643 check character.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.cli_support import run_govchain

from govchain.crypto.keys import SigningKey
from govchain.identifiers.cn import ric
from govchain.ledger.store import LedgerStore
from govchain.node import Node, NodeHome

ID_BODY = "44010419850612345"
ID_NUMBER = ID_BODY + ric.calc_check_char(ID_BODY)


def govchain(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_govchain(*args, home=home)


@pytest.fixture
def home(node: Node) -> Path:
    """The `node` fixture's home, closed so that each command can open it."""
    node.close()
    return node.home.path


def log_size(home: Path) -> int:
    store = LedgerStore(NodeHome(home).ledger_path, readonly=True)
    try:
        return store.log_size()
    finally:
        store.close()


def admit(home: Path, dept_id: str, **options: str) -> subprocess.CompletedProcess[str]:
    values = {
        "name": "越秀区市场监管局",
        "region": "440104",
        "level": "county",
        "line": "market-regulation",
        "public-key": SigningKey.generate().public_key.to_b64(),
    }
    values.update(options)
    args = ["consortium", "admit", dept_id]
    for option, value in values.items():
        args += [f"--{option}", value]
    return govchain(home, *args)


def test_admit_valid_department(home: Path) -> None:
    result = admit(home, "yuexiu-market")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("consortium.admit committed in block ")


def test_admit_bad_line_exit_2(home: Path) -> None:
    size = log_size(home)
    result = admit(home, "ext-x", line="Health_")
    assert result.returncode == 2
    assert "department.line" in result.stderr
    assert 'lower-case letters and "-"' in result.stderr
    assert log_size(home) == size


def test_admit_id_number_in_name(home: Path) -> None:
    size = log_size(home)
    result = admit(home, "ext-z", name=f"王五 {ID_NUMBER}")
    assert result.returncode == 2
    assert "field department.name contains a resident ID number" in result.stderr
    assert ID_NUMBER not in result.stderr
    assert ID_NUMBER not in result.stdout
    assert log_size(home) == size


@pytest.mark.parametrize("public_key", ["notbase64!", "AAAA"])
def test_admit_bad_key_exit_2(home: Path, public_key: str) -> None:
    result = admit(home, "ext-k", **{"public-key": public_key})
    assert result.returncode == 2
    assert "payload field public_key is invalid" in result.stderr


def test_admit_key_twice_exit_2(home: Path) -> None:
    key = SigningKey.generate().public_key.to_b64()
    first = admit(home, "ext-a", **{"public-key": key})
    assert first.returncode == 0, first.stderr
    size = log_size(home)
    second = admit(home, "ext-b", **{"public-key": key})
    assert second.returncode == 2
    assert "current key of department 'ext-a'" in second.stderr
    assert log_size(home) == size


def test_rotate_bad_key_exit_2(home: Path) -> None:
    result = govchain(
        home, "consortium", "rotate-key", "city-market", "--public-key", "AAAA"
    )
    assert result.returncode == 2
    assert "32 bytes" in result.stderr


def test_suspend_unknown_department_exit_2(home: Path) -> None:
    result = govchain(home, "consortium", "suspend", "nobody", "--reason", "审计")
    assert result.returncode == 2
    assert "'nobody' is not a member" in result.stderr
