"""The demo's evidence bundle verifies with the demo's trust file."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_support import run_govchain


def test_demo_bundle_verifies(tmp_path: Path) -> None:
    home = tmp_path / "demo-home"
    demo = run_govchain("--home", str(home), "demo", "--no-serve")
    assert demo.returncode == 0, demo.stderr
    bundle = home / "evidence-approval.json"
    trust = home / "trust.keys"
    done = run_govchain(
        "evidence", "verify", str(bundle), "--trust", str(trust), "--json"
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] is True
    assert result["type"] == "sharing.approve"
    assert result["checkpoint_signers"][0] == "node-city-bdb"
