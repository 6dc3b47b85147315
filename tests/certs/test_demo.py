"""The demo's certificate step on a real node."""

from __future__ import annotations

import io

from rich.console import Console

from govchain.demo.certificates import HOSPITAL, play_certificates
from govchain.demo.scenarios import DemoClock
from govchain.node import Node


def test_demo_step_outcome(node: Node, clock: DemoClock) -> None:
    output = io.StringIO()
    outcome = play_certificates(
        node, Console(file=output, width=200), lambda: clock.now // 1000
    )
    assert "QR image check valid" in outcome
    assert "1 found by ID number" in outcome
    assert "rejected offline: revoked" in outcome
    assert "1 revoked" in outcome
    assert node.store.get("certissuer", HOSPITAL) is not None
    assert (node.home.path / "certs" / "demo").is_dir()
    lines = [
        line
        for line in output.getvalue().splitlines()
        if line.startswith("after revocation")
    ]
    assert len(lines) == 1
    assert "INVALID (revoked)" in lines[0]
    assert lines[0].count("revoked this certificate") == 1
    assert "holder-unfit" in lines[0]
