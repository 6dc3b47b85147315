"""The demo's evidence bundle verifies with the demo's trust file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _govchain(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVCHAIN_")}
    return subprocess.run(
        [sys.executable, "-m", "govchain", *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_demo_bundle_verifies(tmp_path: Path) -> None:
    home = tmp_path / "demo-home"
    demo = _govchain("--home", str(home), "demo", "--no-serve")
    assert demo.returncode == 0, demo.stderr
    bundle = home / "evidence-approval.json"
    trust = home / "trust.keys"
    done = _govchain("evidence", "verify", str(bundle), "--trust", str(trust), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] is True
    assert result["type"] == "sharing.approve"
    assert result["checkpoint_signers"][0] == "node-city-bdb"
