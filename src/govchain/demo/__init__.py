"""The demo: a city consortium sharing real open data, end to end.

`run_demo` builds a fresh node home, imports the Taoyuan open-data catalog,
publishes real datasets and a synthetic health-check register, plays the
sharing scenarios (unconditional, approved, rejected, not shared, expired,
revoked, overdue), prints the audit trail, exports and verifies an evidence
bundle offline, verifies the whole ledger, and then serves the API.

The orderer runs on a simulated clock that starts 60 days in the past, so a
grant can expire and a request can go overdue within seconds. Every block time
is still ledger content, and the server later continues on the real clock.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

from rich.console import Console

from govchain.demo.scenarios import DemoClock, Scenario

logger = logging.getLogger(__name__)
console = Console()

#: The demo home's keys are encrypted with this passphrase unless
#: GOVCHAIN_PASSPHRASE is set. It is printed, so the home is for trying things only.
DEMO_PASSPHRASE = "govchain-demo"


def run_demo(home_path: Path, *, serve: bool, port: int = 8000) -> None:
    """Build the demo in `home_path` (replacing an earlier demo there) and play it."""
    from govchain.node import NodeHome

    if home_path.exists():
        if not (home_path / "node.json").is_file():
            from govchain.errors import ConfigError

            raise ConfigError(
                f"{home_path} exists and is not a node home; choose another --home"
            )
        console.print(f"removing the previous demo home {home_path}")
        shutil.rmtree(home_path)
    passphrase = os.environ.get("GOVCHAIN_PASSPHRASE") or DEMO_PASSPHRASE
    home = NodeHome(home_path, passphrase=passphrase)
    clock = DemoClock(int(time.time() * 1000) - 60 * 86_400_000)
    started = time.monotonic()
    scenario = Scenario(home, clock, console)
    try:
        summary = scenario.play()
    finally:
        scenario.close()
    summary["seconds"] = round(time.monotonic() - started, 1)
    console.rule("summary")
    console.print_json(json.dumps(summary, ensure_ascii=False))
    if not serve:
        return
    console.rule("serving")
    console.print(
        f"API on http://127.0.0.1:{port} (OpenAPI at /docs); node home {home_path}; "
        f"key passphrase {passphrase!r} (demo only). Press Ctrl-C to stop."
    )
    from govchain.api.server import run_server

    run_server(home, host="127.0.0.1", port=port)
