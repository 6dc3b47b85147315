"""Evidence bundles verify offline and reject any change."""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from govchain.errors import VerificationError
from govchain.evidence import export_bundle, read_trust_file, verify_bundle
from govchain.evidence.keys import ledger_keys, trust_file_text
from govchain.node import Node


@pytest.fixture
def exported(node: Node, tmp_path: Path) -> tuple[dict[str, Any], Path]:
    receipt = node.act(
        "city-health",
        "catalog.register",
        {"title": "床位", "level": 1, "sharing": "unconditional"},
    )
    node.act(
        "city-market", "catalog.register", {"title": "x", "level": 9, "sharing": "x"}
    )
    bundle = export_bundle(node.store, receipt.tx_id, ledger_keys(node.store))
    trust = tmp_path / "trust.keys"
    trust.write_text(trust_file_text(node.store), "utf-8")
    return bundle, trust


def test_bundle_verifies(exported: tuple[dict[str, Any], Path]) -> None:
    bundle, trust = exported
    result = verify_bundle(bundle, read_trust_file(trust), min_signatures=3)
    assert result["status"] == "applied"
    assert result["type"] == "catalog.register"
    assert result["tree_size"] == 3


def test_refused_operation_has_evidence(node: Node, tmp_path: Path) -> None:
    receipt = node.act(
        "city-market", "catalog.register", {"title": "x", "level": 9, "sharing": "x"}
    )
    node.act(
        "city-health",
        "catalog.register",
        {"title": "y", "level": 1, "sharing": "unconditional"},
    )
    bundle = export_bundle(node.store, receipt.tx_id, ledger_keys(node.store))
    trust = tmp_path / "trust.keys"
    trust.write_text(trust_file_text(node.store), "utf-8")
    result = verify_bundle(bundle, read_trust_file(trust))
    assert (result["status"], result["reason"]) == ("rejected", "bad-payload")


def _flip_b64(text: str) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


MUTATIONS = {
    "payload": lambda b: b["entry"]["tx"]["payload"].update(title="病床"),
    "status": lambda b: b["entry"].update(status="rejected"),
    "height": lambda b: b["entry"].update(height=b["entry"]["height"] + 1),
    "signature": lambda b: b["entry"]["tx"].update(
        signature=_flip_b64(b["entry"]["tx"]["signature"])
    ),
    "proof node": lambda b: b["inclusion_proof"].__setitem__(
        0, _flip_b64(b["inclusion_proof"][0])
    ),
    "proof dropped": lambda b: b["inclusion_proof"].pop(),
    "leaf index": lambda b: b.update(leaf_index=b["leaf_index"] + 1),
    "checkpoint size": lambda b: b.update(
        checkpoint=b["checkpoint"].replace("\n3\n", "\n4\n", 1)
    ),
    "checkpoint signature": lambda b: b.update(
        checkpoint=b["checkpoint"][:-3] + "AA\n"
    ),
    "origin": lambda b: b.update(origin="other.example/log"),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_bundle_change_rejected(
    exported: tuple[dict[str, Any], Path], name: str
) -> None:
    bundle, trust = exported
    changed = copy.deepcopy(bundle)
    MUTATIONS[name](changed)
    with pytest.raises(VerificationError):
        verify_bundle(changed, read_trust_file(trust))


def test_bundle_needs_trusted_keys(
    exported: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    bundle, trust = exported
    # Only city-market's keys, which sign neither this bundle's transaction
    # nor its checkpoint.
    kept = (
        "format",
        "origin",
        "witness-threshold",
        "node ",
        "witness city-market",
        "department city-market",
    )
    lines = [line for line in trust.read_text().splitlines() if line.startswith(kept)]
    only_other = tmp_path / "other.keys"
    only_other.write_text("\n".join(lines) + "\n")
    with pytest.raises(VerificationError):
        verify_bundle(bundle, read_trust_file(only_other))


def test_bundle_threshold_not_met(exported: tuple[dict[str, Any], Path]) -> None:
    bundle, trust = exported
    with pytest.raises(VerificationError):
        verify_bundle(bundle, read_trust_file(trust), min_signatures=50)


def test_cli_verifies_bundle_offline(
    exported: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    bundle, trust = exported
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False))
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "govchain",
            "evidence",
            "verify",
            str(path),
            "--trust",
            str(trust),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "evidence verifies" in ok.stdout
    bundle["entry"]["reason"] = "edited"
    path.write_text(json.dumps(bundle, ensure_ascii=False))
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "govchain",
            "evidence",
            "verify",
            str(path),
            "--trust",
            str(trust),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    assert "error:" in bad.stderr
