"""`govchain cert` commands while `govchain serve` holds the node home.

The server holds the home's lock, so every write command here succeeds only by
going through the API. The read commands read the ledger file directly.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.api.test_server import (
    PASSPHRASE,
    WAIT_S,
    Served,
    _env,
    govchain,
    start_server,
)
from tests.certs.conftest import ISSUER, TEMPLATE, holders

pytestmark = pytest.mark.slow

NOTE = "note: sent through the running server at"
LOOKUP_DEPT = "city-market"


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


def _ok(served: Served, *args: str) -> str:
    """Run a command that must go through the server; return its stdout."""
    done = govchain(served.home, *args)
    assert done.returncode == 0, done.stderr
    assert NOTE in done.stderr
    return done.stdout


def _holder_file(path: Path) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["holder_id", "name", "occupation", "checkup_date", "fit"])
        for h in holders(2):
            claims = h.claims
            writer.writerow(
                [
                    h.holder_id,
                    h.name,
                    claims["occupation"],
                    claims["checkup_date"],
                    "true" if claims["fit"] else "false",
                ]
            )
    return path


def _registry(served: Served, tmp_path: Path) -> str:
    """Define the type, authorize the issuer and create its key; return the kid."""
    template = tmp_path / "food-health.json"
    template.write_text(json.dumps(TEMPLATE, ensure_ascii=False), "utf-8")
    out = _ok(served, "cert", "template", "define", str(template))
    assert out.strip() == "defined certificate type food-health version 1"
    out = _ok(served, "cert", "issuer", "authorize", ISSUER, "--type", "food-health")
    assert out.strip() == f"{ISSUER} may issue: food-health"
    out = _ok(served, "cert", "key", "create", "--as", ISSUER, "--days", "30")
    assert out.startswith("registered certificate key ")
    assert out.strip().endswith(f" of {ISSUER}")
    return out.split()[3]


def test_cert_issue_and_lookup_forwarded(served: Served, tmp_path: Path) -> None:
    kid = _registry(served, tmp_path)
    cards = tmp_path / "cards"
    out = _ok(
        served,
        "cert",
        "issue",
        "--as",
        ISSUER,
        "--type",
        "food-health",
        "--holders",
        str(_holder_file(tmp_path / "workers.csv")),
        "--out",
        str(cards),
    )
    assert out.strip() == f"issued 2 food-health certificates into {cards}"
    texts = sorted(cards.glob("*.txt"))
    assert len(texts) == 2
    for text in texts:
        for suffix in (".png", ".svg", ".pdf"):
            assert text.with_suffix(suffix).is_file()
    cert_id = texts[0].stem
    assert texts[0].read_text("ascii").startswith("GC1:")

    # The key was created on the server's node home, in its key store.
    stored = served.home / "keys" / "certs" / f"{ISSUER}-{kid}.json"
    assert stored.is_file()

    status = govchain(served.home, "cert", "status", cert_id, "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["status"] == "valid"

    person = holders(2)[0]
    found = _lookup(served, person.holder_id + "\n")
    assert person.holder_id not in found
    entries = json.loads(found)
    assert len(entries) == 1
    assert entries[0]["issuer"] == ISSUER
    assert entries[0]["masked_name"] != person.name
    assert set(entries[0]) == {
        "id",
        "issuer",
        "type",
        "masked_name",
        "issued_at",
        "expires_at",
    }

    listed = govchain(served.home, "cert", "key", "list")
    assert listed.returncode == 0, listed.stderr
    assert kid in listed.stdout
    log = served.log.read_text("utf-8")
    for route in ("templates", "keys", "issue", "lookup"):
        assert f"POST /v1/certs/{route} HTTP/1.1" in log
    assert f"PUT /v1/certs/issuers/{ISSUER} HTTP/1.1" in log


def _lookup(served: Served, number: str) -> str:
    """Run `cert lookup --json` with the ID number on standard input."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "govchain",
            "--home",
            str(served.home),
            "cert",
            "lookup",
            "--as",
            LOOKUP_DEPT,
            "--json",
        ],
        input=number,
        capture_output=True,
        text=True,
        env=_env(PASSPHRASE),
        timeout=WAIT_S,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert NOTE in done.stderr
    return done.stdout


def test_cert_status_changes_forwarded(served: Served, tmp_path: Path) -> None:
    kid = _registry(served, tmp_path)
    cards = tmp_path / "cards"
    _ok(
        served,
        "cert",
        "issue",
        "--as",
        ISSUER,
        "--type",
        "food-health",
        "--holders",
        str(_holder_file(tmp_path / "workers.csv")),
        "--out",
        str(cards),
        "--no-images",
    )
    cert_id = sorted(cards.glob("*.txt"))[0].stem
    for command, status in (
        ("suspend", "suspended"),
        ("reinstate", "valid"),
        ("revoke", "revoked"),
    ):
        out = _ok(served, "cert", command, cert_id, "--as", ISSUER, "--reason", "other")
        assert out.strip() == f"certificate {cert_id} is now {status}"
    status_out = govchain(served.home, "cert", "status", cert_id)
    assert status_out.returncode == 0, status_out.stderr
    assert status_out.stdout.startswith(f"{cert_id}: revoked (other)")

    # A second revocation is refused with exit 2, as on a stopped node.
    again = govchain(
        served.home, "cert", "revoke", cert_id, "--as", ISSUER, "--reason", "other"
    )
    assert again.returncode == 2
    assert "error:" in again.stderr
    assert "is revoked, which is final" in again.stderr

    trust = tmp_path / "trust.json"
    revocations = tmp_path / "revocations.json"
    operator_key = tmp_path / "operator.key"
    _ok(served, "cert", "trust-list", "export", "--out", str(trust))
    assert "signature" in json.loads(trust.read_text("utf-8"))
    _ok(served, "cert", "revocation-list", "export", "--out", str(revocations))
    assert len(json.loads(revocations.read_text("utf-8"))["entries"]) == 3
    shown = govchain(
        served.home, "cert", "trust-list", "operator-key", "--out", str(operator_key)
    )
    assert shown.returncode == 0, shown.stderr
    verdict = govchain(
        served.home,
        "cert",
        "verify",
        str(cards / f"{cert_id}.txt"),
        "--trust-list",
        str(trust),
        "--revocation-list",
        str(revocations),
        "--operator-key",
        str(operator_key),
        "--json",
    )
    assert verdict.returncode == 1
    assert json.loads(verdict.stdout)["code"] == "revoked"

    out = _ok(
        served, "cert", "key", "revoke", kid, "--as", ISSUER, "--reason", "key-retired"
    )
    assert out.strip() == f"revoked certificate key {kid}"
    log = served.log.read_text("utf-8")
    assert f"POST /v1/certs/{cert_id}/status HTTP/1.1" in log
    assert f"POST /v1/certs/keys/{kid}/revoke HTTP/1.1" in log
    assert "GET /v1/certs/trust-list HTTP/1.1" in log


def test_cert_forwarded_needs_passphrase(served: Served, tmp_path: Path) -> None:
    template = tmp_path / "food-health.json"
    template.write_text(json.dumps(TEMPLATE, ensure_ascii=False), "utf-8")
    wrong = govchain(
        served.home,
        "cert",
        "template",
        "define",
        str(template),
        passphrase="not the passphrase",
    )
    assert wrong.returncode == 2
    assert "wrong passphrase" in wrong.stderr
