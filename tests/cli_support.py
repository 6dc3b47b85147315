"""Running the `govchain` command in a child process, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_govchain(
    *args: str,
    home: Path | None = None,
    passphrase: str | None = None,
    stdin: str | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m govchain [--home HOME] ARGS` and return its exit code and output.

    The child process gets none of the caller's `GOVCHAIN_` variables, only
    `passphrase` as `GOVCHAIN_PASSPHRASE` when given, and a wide terminal so
    tables are not wrapped. Without `stdin` it reads an empty standard input,
    so a prompt fails instead of waiting.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVCHAIN_")}
    env["COLUMNS"] = "200"
    if passphrase is not None:
        env["GOVCHAIN_PASSPHRASE"] = passphrase
    command = [sys.executable, "-m", "govchain"]
    if home is not None:
        command += ["--home", str(home)]
    if stdin is None:
        return subprocess.run(
            [*command, *args],
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=timeout,
        check=False,
    )
