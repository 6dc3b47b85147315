"""Offline verification trusts only what it checked: the operator key and revocations."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from tests.certs.conftest import ISSUER, Runner, Setup, holders

from govchain.certs.cose import sign1
from govchain.certs.cwt import encode_claims
from govchain.certs.keys import CertSigner
from govchain.certs.qrtext import pack
from govchain.certs.registry import operator_key_of
from govchain.certs.revocation import read_revocation_list
from govchain.certs.trust import TRUST_LIST_DOMAIN, read_trust_list, sign_document
from govchain.certs.verify import verify_text
from govchain.crypto.keys import SigningKey
from govchain.errors import VerificationError

#: Fields of a signed document that re-signing replaces.
SIGNATURE = ("signer", "signature")


def _forgery(tmp_path: Path, setup: Setup) -> tuple[Path, Path]:
    """Write a certificate and a trust list that an outsider signed with own keys.

    The trust list copies the real one, swaps in the outsider's certificate key
    and is signed by the outsider's operator key.
    """
    outsider = CertSigner(SigningKey.generate())
    cert = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[0]
    forged_text = pack(sign1(encode_claims(cert.claims), outsider))
    body = {k: v for k, v in setup.service.trust_list().items() if k not in SIGNATURE}
    body["keys"] = [
        {
            **body["keys"][0],
            "kid": outsider.public.kid.hex(),
            "public_key": base64.b64encode(outsider.public.spki).decode("ascii"),
        }
    ]
    document = sign_document(
        body,
        signer_dept="city-bdb",
        key=SigningKey.generate(),
        domain=TRUST_LIST_DOMAIN,
    )
    trust_path = tmp_path / "tl_forged.json"
    trust_path.write_text(json.dumps(document), "utf-8")
    cert_path = tmp_path / "forged.txt"
    cert_path.write_text(forged_text + "\n", "ascii")
    return cert_path, trust_path


def _exports(tmp_path: Path, setup: Setup) -> tuple[Path, Path, Path]:
    """Write the operator's trust list, revocation list and public key files."""
    trust_path = tmp_path / "trust.json"
    trust_path.write_text(json.dumps(setup.service.trust_list()), "utf-8")
    revocations_path = tmp_path / "revocations.json"
    revocations_path.write_text(json.dumps(setup.service.revocation_list()), "utf-8")
    key_path = tmp_path / "operator.key"
    key_path.write_text(
        "# operator key\n" + operator_key_of(setup.node.store)[1] + "\n", "ascii"
    )
    return trust_path, revocations_path, key_path


def _close(setup: Setup) -> Path:
    """Release the node home so the CLI can open it; return its path."""
    setup.service.close()
    setup.node.close()
    return setup.node.home.path


def test_trust_list_without_operator_key_raises(setup: Setup) -> None:
    with pytest.raises(VerificationError, match="cannot vouch for itself"):
        read_trust_list(setup.service.trust_list(), operator_key=None)


def test_revocation_list_without_operator_key_raises(setup: Setup) -> None:
    with pytest.raises(VerificationError, match="no operator key"):
        read_revocation_list(setup.service.revocation_list(), operator_key=None)


def test_cli_forged_trust_list_no_key_refused(
    tmp_path: Path, setup: Setup, govchain: Runner
) -> None:
    cert_path, trust_path = _forgery(tmp_path, setup)
    done = govchain(
        "cert",
        "verify",
        str(cert_path),
        "--trust-list",
        str(trust_path),
        "--at",
        str(setup.now()),
    )
    assert done.code == 2
    assert "VALID" not in done.out
    assert "signature was not checked: pass --operator-key FILE" in done.err


def test_cli_forged_trust_list_home_refused(
    tmp_path: Path, setup: Setup, govchain: Runner
) -> None:
    cert_path, trust_path = _forgery(tmp_path, setup)
    home = _close(setup)
    done = govchain(
        "--home",
        str(home),
        "cert",
        "verify",
        str(cert_path),
        "--trust-list",
        str(trust_path),
    )
    assert done.code == 1
    assert "VALID" not in done.out
    assert "not by the operator key" in done.err


def test_cli_trust_list_key_from_home(
    tmp_path: Path, setup: Setup, govchain: Runner
) -> None:
    cert = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[0]
    trust_path, _revocations, _key = _exports(tmp_path, setup)
    home = _close(setup)
    done = govchain(
        "--home",
        str(home),
        "cert",
        "verify",
        cert.qr_text,
        "--trust-list",
        str(trust_path),
        "--at",
        str(setup.now()),
    )
    assert done.code == 0, done.err
    assert done.out.startswith("VALID")


def test_cli_operator_key_file(tmp_path: Path, setup: Setup, govchain: Runner) -> None:
    cert = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[0]
    trust_path, revocations_path, key_path = _exports(tmp_path, setup)
    done = govchain(
        "cert",
        "verify",
        cert.qr_text,
        "--trust-list",
        str(trust_path),
        "--revocation-list",
        str(revocations_path),
        "--operator-key",
        str(key_path),
        "--at",
        str(setup.now()),
        "--json",
    )
    assert done.code == 0, done.err
    verdict = json.loads(done.out)
    assert verdict["valid"] is True
    assert verdict["skipped"] == []
    assert verdict["steps"]["status"] is True


def test_cli_operator_key_export(
    tmp_path: Path, setup: Setup, govchain: Runner
) -> None:
    expected = operator_key_of(setup.node.store)[1]
    home = _close(setup)
    out = tmp_path / "operator.key"
    done = govchain(
        "--home", str(home), "cert", "trust-list", "operator-key", "--out", str(out)
    )
    assert done.code == 0, done.err
    assert expected in out.read_text("ascii").splitlines()


def test_cli_revocation_unchecked_said(
    tmp_path: Path, setup: Setup, govchain: Runner
) -> None:
    cert = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[0]
    setup.service.set_status(ISSUER, cert.id, "revoked", "fraud")
    trust_path, _revocations, key_path = _exports(tmp_path, setup)
    common = (
        "cert",
        "verify",
        cert.qr_text,
        "--trust-list",
        str(trust_path),
        "--operator-key",
        str(key_path),
        "--at",
        str(setup.now()),
    )
    text = govchain(*common)
    assert text.code == 0, text.err
    assert "revocation not checked" in text.out
    as_json = govchain(*common, "--json")
    assert json.loads(as_json.out)["skipped"] == ["status"]


def test_cli_revocation_checked_fails(
    tmp_path: Path, setup: Setup, govchain: Runner
) -> None:
    cert = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[0]
    setup.service.set_status(ISSUER, cert.id, "revoked", "fraud")
    trust_path, revocations_path, key_path = _exports(tmp_path, setup)
    done = govchain(
        "cert",
        "verify",
        cert.qr_text,
        "--trust-list",
        str(trust_path),
        "--revocation-list",
        str(revocations_path),
        "--operator-key",
        str(key_path),
        "--at",
        str(setup.now()),
    )
    assert done.code == 1
    assert "INVALID (revoked)" in done.err


def test_verify_without_revocations_skips_status(setup: Setup) -> None:
    cert = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[0]
    setup.service.set_status(ISSUER, cert.id, "revoked", "fraud")
    operator_key = operator_key_of(setup.node.store)[1]
    trust = read_trust_list(setup.service.trust_list(), operator_key=operator_key)
    verdict = verify_text(cert.qr_text, trust, at=setup.now())
    assert verdict.valid
    assert verdict.skipped == ["status"]
    assert "status" not in verdict.steps


def test_cli_long_text_with_slashes(
    tmp_path: Path, setup: Setup, govchain: Runner
) -> None:
    # base45 text may contain '/', and one path component of 300 characters
    # would make the file system raise "File name too long".
    cert = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[0]
    trust_path, _revocations, key_path = _exports(tmp_path, setup)
    text = "GC1:" + "A" * 300 + "/" + cert.qr_text[4:]
    done = govchain(
        "cert",
        "verify",
        text,
        "--trust-list",
        str(trust_path),
        "--operator-key",
        str(key_path),
    )
    assert done.code == 1, done.err
    assert "File name too long" not in done.err + done.out
