"""The demo: a city consortium sharing real open data, end to end.

`run_demo` builds a fresh node home, imports the Taoyuan open-data catalog,
publishes real datasets and a synthetic health-check register, plays the
sharing scenarios (unconditional, approved, rejected, not shared, expired,
revoked, overdue), prints the audit trail, exports and verifies an evidence
bundle offline, verifies the whole ledger, adds one console user per role,
and then serves the API and the web console.

The orderer runs on a simulated clock that starts 60 days in the past, so a
grant can expire and a request can go overdue within seconds. Every block time
is still ledger content, and the server later continues on the real clock.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
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
    users = add_demo_users(home_path)
    console.rule("serving")
    console.print(
        f"console on http://127.0.0.1:{port}/console/ and API on "
        f"http://127.0.0.1:{port} (OpenAPI at /docs); node home {home_path}; "
        f"key passphrase {passphrase!r} (demo only). Press Ctrl-C to stop."
    )
    console.print("console users (demo only, new passwords on every run):")
    for name, role, dept, password in users:
        console.print(f"  {name:<12} {role:<9} {dept:<12} password {password}")
    from govchain.api.server import run_server

    run_server(home, host="127.0.0.1", port=port)


#: Login name, role and department of each demo console user.
DEMO_USERS = (
    ("operator", "operator", "city-bdb"),
    ("steward", "steward", "city-health"),
    ("officer", "officer", "city-cdc"),
    ("auditor", "auditor", "city-bdb"),
    ("bdb-steward", "steward", "city-bdb"),
)


def add_demo_users(home_path: Path) -> list[tuple[str, str, str, str]]:
    """Create one console user per role with a random password; return them.

    The operator's department decides some approval steps, so it has a steward
    too. The passwords are printed, which is acceptable for a demo home only.
    """
    from govchain.console.users import UserStore

    store = UserStore.of_home(home_path)
    created = []
    for name, role, dept in DEMO_USERS:
        password = secrets.token_urlsafe(9)
        store.add(name, password, role, dept)
        created.append((name, role, dept, password))
    return created
