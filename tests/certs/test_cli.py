"""`govchain cert` run as a real process: verification exit codes and messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.certs.conftest import ISSUER, Setup, holders

TESTS = Path(__file__).parent.parent
DCC = TESTS / "vectors" / "eu_dcc"


def _govchain(
    *args: str, stdin: str = "", home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "govchain"]
    if home is not None:
        command += ["--home", str(home)]
    return subprocess.run(
        [*command, *args], input=stdin, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def dcc_signer(tmp_path: Path) -> tuple[Path, str]:
    case = json.loads((DCC / "common" / "CO3.json").read_text("utf-8"))
    signer = tmp_path / "signer.b64"
    signer.write_text(case["TESTCTX"]["CERTIFICATE"], "ascii")
    return signer, str(case["PREFIX"])


def test_cli_verify_dcc_valid(dcc_signer: tuple[Path, str]) -> None:
    signer, text = dcc_signer
    done = _govchain(
        "cert",
        "verify",
        text,
        "--trust-cert",
        str(signer),
        "--at",
        "2021-05-03T18:00:00Z",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("VALID")


def test_cli_verify_expired_exit_1(dcc_signer: tuple[Path, str]) -> None:
    signer, text = dcc_signer
    done = _govchain(
        "cert",
        "verify",
        text,
        "--trust-cert",
        str(signer),
        "--at",
        "2030-01-01",
        "--json",
    )
    assert done.returncode == 1
    verdict = json.loads(done.stdout)
    assert verdict["code"] == "expired"
    assert "valid until 2021-05-05" in verdict["message"]


def test_cli_verify_image_file(tmp_path: Path) -> None:
    case = json.loads((DCC / "AT" / "1.json").read_text("utf-8"))
    signer = tmp_path / "signer.b64"
    signer.write_text(case["TESTCTX"]["CERTIFICATE"], "ascii")
    clock = case["TESTCTX"]["VALIDATIONCLOCK"]
    done = _govchain(
        "cert",
        "verify",
        str(DCC / "AT" / "1.png"),
        "--trust-cert",
        str(signer),
        "--at",
        clock,
    )
    assert done.returncode == 0, done.stderr


def test_cli_verify_foreign_text_reason(dcc_signer: tuple[Path, str]) -> None:
    signer, _text = dcc_signer
    done = _govchain(
        "cert", "verify", "https://example.org/", "--trust-cert", str(signer)
    )
    assert done.returncode == 1
    assert "INVALID (prefix)" in done.stderr


def test_cli_status_and_lookup(setup: Setup) -> None:
    person = holders(1)[0]
    cert = setup.service.issue(ISSUER, "food-health", [person], now=setup.now())[0]
    setup.service.close()
    setup.node.close()
    home = setup.node.home.path
    status = _govchain("cert", "status", cert.id, "--json", home=home)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["status"] == "valid"
    found = _govchain(
        "cert",
        "lookup",
        "--as",
        "city-market",
        "--json",
        stdin=person.holder_id + "\n",
        home=home,
    )
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)[0]["id"] == cert.id
    revoked = _govchain(
        "cert", "revoke", cert.id, "--as", ISSUER, "--reason", "fraud", home=home
    )
    assert revoked.returncode == 0, revoked.stderr
    checked = _govchain(
        "cert", "verify", cert.qr_text, "--at", str(setup.now()), home=home
    )
    assert checked.returncode == 1
    assert "revoked" in checked.stderr
