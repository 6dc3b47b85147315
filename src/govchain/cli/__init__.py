"""Command-line interface; `main` turns govchain errors into messages and exit codes.

Exit codes: 0 success, 1 a verification failed, 2 an error in the input or the
set-up (the message names the file, field or option and what to do).
"""

from __future__ import annotations

import sys

from govchain.errors import GovchainError, VerificationError


def main() -> None:
    from govchain.cli._app import app

    try:
        app()
    except GovchainError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(1 if isinstance(exc, VerificationError) else 2)
