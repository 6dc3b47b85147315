"""The verifier against the EU DCC test files and the base45 and COSE header cases."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from govchain.certs import base45
from govchain.certs.errors import CertificateError
from govchain.certs.images import decode_image_bytes
from govchain.certs.keys import load_trust_bytes
from govchain.certs.trust import TrustStore
from govchain.certs.verify import verify_text

TESTS = Path(__file__).parent.parent
DCC_FILES = sorted((TESTS / "vectors" / "eu_dcc").glob("*/*.json"))
FIXTURES = TESTS / "fixtures" / "certs"
#: The EU DCC expected-result keys of the steps this verifier shares, and the
#: verifier's step for each. Schema, key usage and JSON checks are the DCC's own.
SHARED_STEPS = {
    "EXPECTEDUNPREFIX": "prefix",
    "EXPECTEDB45DECODE": "base45",
    "EXPECTEDCOMPRESSION": "compression",
    "EXPECTEDDECODE": "cose",
    "EXPECTEDVERIFY": "signature",
    "EXPECTEDEXPIRATIONCHECK": "validity",
}


def _clock(text: str) -> int:
    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def _dcc_case(path: Path) -> tuple[dict[str, Any], TrustStore, int]:
    case = json.loads(path.read_text("utf-8"))
    context = case["TESTCTX"]
    trust = TrustStore(source="EU DCC test signer")
    if context.get("CERTIFICATE"):
        key = load_trust_bytes(context["CERTIFICATE"].encode(), source=path.name)
        trust.add_foreign_key(key, allow_unprotected_alg=True)
    return case, trust, _clock(context["VALIDATIONCLOCK"])


@pytest.mark.parametrize("path", DCC_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_dcc_expected_results(path: Path) -> None:
    case, trust, at = _dcc_case(path)
    verdict = verify_text(case.get("PREFIX", ""), trust, at=at, skew=0)
    expected = case["EXPECTEDRESULTS"]
    for key, step in SHARED_STEPS.items():
        if key not in expected:
            continue
        if expected[key]:
            assert verdict.steps.get(step) is True, (key, verdict.code, verdict.message)
        else:
            # A failing step is the one the verdict stopped at.
            assert verdict.steps.get(step) is False, (
                key,
                verdict.code,
                verdict.message,
            )
            assert not verdict.valid


def _has_picture_step(path: Path) -> bool:
    case = json.loads(path.read_text("utf-8"))
    return "EXPECTEDPICTUREDECODE" in case["EXPECTEDRESULTS"] and "2DCODE" in case


# B1 expects its picture to decode but carries no picture, so it has no case here.
@pytest.mark.parametrize(
    "path",
    [p for p in DCC_FILES if _has_picture_step(p)],
    ids=lambda p: f"{p.parent.name}/{p.stem}",
)
def test_dcc_picture_decode(path: Path) -> None:
    case = json.loads(path.read_text("utf-8"))
    expected = case["EXPECTEDRESULTS"]["EXPECTEDPICTUREDECODE"]
    picture = base64.b64decode(case["2DCODE"])
    if expected:
        assert decode_image_bytes(picture) == case["PREFIX"]
    else:
        with pytest.raises(CertificateError) as caught:
            decode_image_bytes(picture)
        assert caught.value.code == "image"


def test_dcc_png_files_decode() -> None:
    for png in sorted((TESTS / "vectors" / "eu_dcc").glob("*/*.png")):
        case = json.loads(png.with_suffix(".json").read_text("utf-8"))
        assert decode_image_bytes(png.read_bytes()) == case["PREFIX"], png.name


def test_dcc_valid_file_valid_overall() -> None:
    case, trust, at = _dcc_case(TESTS / "vectors" / "eu_dcc" / "common" / "CO3.json")
    verdict = verify_text(case["PREFIX"], trust, at=at)
    assert verdict.valid
    assert verdict.scheme == "eu-dcc"
    assert verdict.skipped == ["template", "status"]


def test_dcc_without_trust_unknown_kid() -> None:
    case, _trust, at = _dcc_case(TESTS / "vectors" / "eu_dcc" / "common" / "CO3.json")
    verdict = verify_text(case["PREFIX"], TrustStore(), at=at)
    assert verdict.code == "unknown_kid"


def _base45_cases() -> list[tuple[str, str, str]]:
    lines = (FIXTURES / "base45-edge-cases" / "vectors.tsv").read_text("utf-8")
    cases = []
    for line in lines.split("\n")[1:]:
        if not line:
            continue
        text, expected, note = line.split("\t")
        cases.append((text.replace("\\n", "\n"), expected, note))
    return cases


@pytest.mark.parametrize("text,expected,note", _base45_cases())
def test_base45_edge_case(text: str, expected: str, note: str) -> None:
    if expected == "ERROR":
        with pytest.raises(CertificateError) as caught:
            base45.decode(text)
        assert caught.value.code == "base45"
    else:
        assert base45.decode(text).hex() == expected.lower(), note
        assert base45.encode(bytes.fromhex(expected)) == text


def _kid_cases() -> list[dict[str, Any]]:
    data = json.loads(
        (FIXTURES / "cose-kid-header-placement" / "vectors.json").read_text("utf-8")
    )
    return [dict(case, at=data["verification_time_epoch"]) for case in data["cases"]]


def _kid_trust() -> TrustStore:
    records = json.loads(
        (FIXTURES / "cose-kid-header-placement" / "trust_list.json").read_text("utf-8")
    )
    trust = TrustStore(source="test trust list")
    for record in records:
        key = load_trust_bytes(
            record["public_key_pem"].encode(), source="trust_list.json"
        )
        assert key.kid == base64.b64decode(record["kid_b64"])
        trust.add_foreign_key(
            key, not_before=record["not_before"], not_after=record["not_after"]
        )
    return trust


@pytest.mark.parametrize("case", _kid_cases(), ids=lambda c: str(c["name"]))
def test_cose_header_case(case: dict[str, Any]) -> None:
    verdict = verify_text(case["hc1"], _kid_trust(), at=case["at"])
    if case["expected"] == "VALID":
        assert verdict.valid, (verdict.code, verdict.message)
    else:
        assert not verdict.valid
        assert verdict.code == case["expected"].split(":", 1)[1]


def test_cose_strict_key_unprotected_alg() -> None:
    case, trust, at = _dcc_case(TESTS / "vectors" / "eu_dcc" / "common" / "CO20.json")
    for trusted in trust.keys.values():
        trusted.allow_unprotected_alg = False
    verdict = verify_text(case["PREFIX"], trust, at=at)
    assert verdict.code == "alg_not_protected"
