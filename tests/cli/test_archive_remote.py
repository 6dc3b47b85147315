"""`govchain archive` commands while `govchain serve` holds the node home.

`ingest`, a recorded `audit` and `dispose` succeed only by going through the
API, because the server holds the home's lock. The other commands read the
ledger and the archive index directly while the server runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.api.test_server import PASSPHRASE, Served, govchain, start_server
from tests.archive.conftest import make_folder, write_meta

pytestmark = pytest.mark.slow

NOTE = "note: sent through the running server at"


@pytest.fixture
def served(tmp_path: Path, demo_consortium: Path) -> Iterator[Served]:
    home = tmp_path / "home"
    done = govchain(
        home, "init", "--consortium", str(demo_consortium), passphrase=PASSPHRASE
    )
    assert done.returncode == 0, done.stderr
    server = start_server(home, "--port", "0")
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.stop()


def _ingested(served: Served, base: Path) -> Path:
    """Ingest the three-file folder through the server; return the folder."""
    root, meta = make_folder(base)
    done = govchain(served.home, "archive", "ingest", str(root), "--meta", str(meta))
    assert done.returncode == 0, done.stderr
    assert NOTE in done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        "archived 3 items in 1 anchored batches (0 already archived, 3 new objects)"
    )
    assert lines[1].startswith("  batch arb-")
    return root


def test_archive_ingest_and_proof_forwarded(served: Served, tmp_path: Path) -> None:
    root = _ingested(served, tmp_path)
    assert "POST /v1/archive/items HTTP/1.1" in served.log.read_text("utf-8")

    again = govchain(
        served.home,
        "archive",
        "ingest",
        str(root),
        "--meta",
        str(tmp_path / "meta.csv"),
        "--json",
    )
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["items"] == 0
    assert report["already_archived"] == 3
    assert report["batches"] == []

    proof = tmp_path / "item.json"
    done = govchain(served.home, "archive", "proof", "F01/V1/2", "--out", str(proof))
    assert done.returncode == 0, done.stderr
    checked = govchain(
        served.home,
        "archive",
        "verify-item",
        str(root / "v1" / "b.txt"),
        "--proof",
        str(proof),
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("item verifies: F01/V1/2")
    tampered = tmp_path / "b.txt"
    tampered.write_bytes(b"second item, altered\n")
    refused = govchain(
        served.home, "archive", "verify-item", str(tampered), "--proof", str(proof)
    )
    assert refused.returncode == 1

    found = govchain(served.home, "archive", "search", "--volume", "V1", "--json")
    assert found.returncode == 0, found.stderr
    assert [i["item"] for i in json.loads(found.stdout)] == ["F01/V1/1", "F01/V1/2"]
    status = govchain(served.home, "archive", "status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["items"] == 3
    bag = tmp_path / "bag"
    exported = govchain(served.home, "archive", "export", "F01/V1", "--out", str(bag))
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith(f"wrote bag {bag}: 2 items")


def test_archive_ingest_bad_input_forwarded(served: Served, tmp_path: Path) -> None:
    root, _meta = make_folder(tmp_path)
    partial = write_meta(
        tmp_path / "partial.csv",
        [["v1/a.txt", "F01", "V1", "1", "first", "2014", "10y", "internal"]],
    )
    done = govchain(served.home, "archive", "ingest", str(root), "--meta", str(partial))
    assert done.returncode == 2
    assert "has no metadata row (2 files have none)" in done.stderr


def test_archive_audit_and_dispose_forwarded(served: Served, tmp_path: Path) -> None:
    _ingested(served, tmp_path)
    audited = govchain(served.home, "archive", "audit")
    assert audited.returncode == 0, audited.stderr
    assert NOTE in audited.stderr
    assert audited.stdout.startswith("audit aud-")
    assert ": intact: 3 items, 6 copies in 2 replicas, 6 intact" in audited.stdout

    pack = next((served.home / "archive" / "replicas" / "r2" / "packs").glob("*"))
    pack.write_bytes(b"\0" * pack.stat().st_size)
    damaged = govchain(served.home, "archive", "audit", "--json")
    assert damaged.returncode == 1
    report = json.loads(damaged.stdout)
    assert report["altered"] == 2
    assert report["ok"] is False
    assert "seconds" not in report
    repaired = govchain(served.home, "archive", "audit", "--repair")
    assert repaired.returncode == 0, repaired.stdout
    assert ": repaired: 3 items" in repaired.stdout

    # Dated 2014-05-03 with 10 years' retention: disposable from 2025-01-01.
    due = govchain(served.home, "archive", "appraisal", "--as-of", "2025-06-01")
    assert due.returncode == 0, due.stderr
    assert "F01/V1/1" in due.stdout
    disposed = govchain(
        served.home,
        "archive",
        "dispose",
        "F01/V1/1",
        "--approval",
        "appraisal-2025-07",
    )
    assert disposed.returncode == 0, disposed.stderr
    assert disposed.stdout.startswith("disposed of F01/V1/1: transaction ")
    too_early = govchain(
        served.home,
        "archive",
        "dispose",
        "F01/V1/2",
        "--approval",
        "appraisal-2025-07",
    )
    assert too_early.returncode == 2
    assert "error:" in too_early.stderr
    log = served.log.read_text("utf-8")
    assert "POST /v1/archive/audits" in log
    assert "POST /v1/archive/dispositions HTTP/1.1" in log
