"""`govchain archive` and `govchain evidence verify` on a bag, run as a user would.

The commands run as subprocesses, which take about a second each, so tests
that leave the node home unchanged share one home.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from tests.archive.conftest import make_folder, write_meta
from tests.cli_support import run_govchain

import govchain.data
from govchain.archive.anchoring import file_sha256

pytestmark = pytest.mark.slow

CONSORTIUM = Path(govchain.data.__file__).parent / "consortium" / "demo.toml"


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_govchain(*args, home=home)


def _init(path: Path) -> None:
    done = run_cli(path, "init", "--consortium", str(CONSORTIUM), "--insecure-dev-keys")
    assert done.returncode == 0, done.stderr


def _archived_home(base: Path) -> tuple[Path, Path]:
    root, meta = make_folder(base)
    home = base / "home"
    _init(home)
    done = run_cli(home, "archive", "ingest", str(root), "--meta", str(meta))
    assert done.returncode == 0, done.stderr
    assert "archived 3 items in 1 anchored batches" in done.stdout
    return home, root


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A home with three archived items, its input folder and its trust file."""
    base = tmp_path_factory.mktemp("shared")
    home, root = _archived_home(base)
    keys = run_cli(home, "keys")
    assert keys.returncode == 0, keys.stderr
    trust = base / "trust.txt"
    trust.write_text(keys.stdout, "utf-8")
    return home, root, trust


def test_cli_audit_repair_and_loss(tmp_path: Path) -> None:
    home, _root = _archived_home(tmp_path)
    assert run_cli(home, "archive", "audit").returncode == 0
    pack = next((home / "archive" / "replicas" / "r2" / "packs").glob("*.pack"))
    pack.write_bytes(b"\0" * pack.stat().st_size)
    damaged = run_cli(home, "archive", "audit", "--json")
    assert damaged.returncode == 1
    assert json.loads(damaged.stdout)["altered"] == 2
    repaired = run_cli(home, "archive", "audit", "--repair")
    assert repaired.returncode == 0, repaired.stdout
    assert "repaired: 3 items" in repaired.stdout
    for replica in ("r1", "r2"):
        for path in (home / "archive" / "replicas" / replica / "packs").glob("*.pack"):
            path.unlink()
    lost = run_cli(home, "archive", "audit", "--repair")
    assert lost.returncode == 1
    assert "LOST: 2 items" in lost.stderr
    assert "F01/V1/1" in lost.stderr


def test_cli_export_verifies_offline(
    shared: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    home, _root, trust = shared
    bag = tmp_path / "bag"
    done = run_cli(home, "archive", "export", "F01/V1", "--out", str(bag))
    assert done.returncode == 0, done.stderr
    verified = run_cli(home, "evidence", "verify", str(bag), "--trust", str(trust))
    assert verified.returncode == 0, verified.stderr
    assert "archive bag verifies: 2 items" in verified.stdout
    payload = next((bag / "data").rglob("a.txt"))
    payload.write_bytes(b"first item, altered\n")
    tampered = run_cli(home, "evidence", "verify", str(bag), "--trust", str(trust))
    assert tampered.returncode == 1
    assert "manifest-sha256.txt, line 1" in tampered.stderr


def test_cli_verify_item(shared: tuple[Path, Path, Path], tmp_path: Path) -> None:
    home, root, trust = shared
    proof = tmp_path / "proof.json"
    written = run_cli(home, "archive", "proof", "F01/V2/1", "--out", str(proof))
    assert written.returncode == 0, written.stderr
    args = ("--proof", str(proof), "--trust", str(trust))
    ok = run_cli(home, "archive", "verify-item", str(root / "big.bin"), *args)
    assert ok.returncode == 0, ok.stderr
    assert "item verifies: F01/V2/1" in ok.stdout
    other = root / "v1" / "a.txt"
    bad = run_cli(home, "archive", "verify-item", str(other), *args)
    assert bad.returncode == 1
    assert f"file SHA-256 {file_sha256(other)[0]} differs" in bad.stderr


def test_cli_ingest_bag_round_trip(
    shared: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    home, _root, _trust = shared
    bag = tmp_path / "bag"
    assert (
        run_cli(home, "archive", "export", "F01/V1", "--out", str(bag)).returncode == 0
    )
    other = tmp_path / "other"
    _init(other)
    done = run_cli(other, "archive", "ingest", str(bag), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["items"] == 2
    (bag / "manifest-sha256.txt").write_text("not a manifest line\n", "utf-8")
    bad = run_cli(other, "archive", "ingest", str(bag))
    assert bad.returncode == 2
    assert "manifest-sha256.txt, line 1: expected '<sha256 hex> <path>'" in bad.stderr


def test_cli_bad_metadata_names_row(
    shared: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    home, _root, _trust = shared
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x").write_bytes(b"x")
    meta = write_meta(
        tmp_path / "m.csv", [["x", "F", "V", "1", "t", "2020-13-01", "10y", "public"]]
    )
    done = run_cli(home, "archive", "ingest", str(tmp_path / "d"), "--meta", str(meta))
    assert done.returncode == 2
    assert "m.csv, row 2, column date: is not a calendar date" in done.stderr


def test_cli_search_and_appraisal(shared: tuple[Path, Path, Path]) -> None:
    home, _root, _trust = shared
    found = run_cli(home, "archive", "search", "--keyword", "second", "--json")
    assert [r["item"] for r in json.loads(found.stdout)] == ["F01/V1/2"]
    due = run_cli(home, "archive", "appraisal", "--as-of", "2025-01-01", "--json")
    assert [r["item"] for r in json.loads(due.stdout)] == ["F01/V1/1"]
    status = json.loads(run_cli(home, "archive", "status", "--json").stdout)
    assert status["items"] == 3
    assert [r["name"] for r in status["replicas"]] == ["r1", "r2"]
