"""Command-line interface; `main` turns govchain errors into messages and exit codes."""

from __future__ import annotations

import sys

from govchain.errors import GovchainError, VerificationError


def main() -> None:
    from govchain.cli._app import app
    from govchain.cli._context import err_console

    try:
        app(standalone_mode=False)
    except GovchainError as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False)
        sys.exit(1 if isinstance(exc, VerificationError) else 2)
    except KeyboardInterrupt:
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(1)
        raise
