"""The HTTP API of a node: `create_app` builds it, `run_server` serves it.

Both load lazily, so the CLI can use `govchain.api.auth` and
`govchain.api.announce` without importing the web framework.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from govchain.api.app import create_app
    from govchain.api.server import run_server

__all__ = ["create_app", "run_server"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from govchain.api.app import create_app

        return create_app
    if name == "run_server":
        from govchain.api.server import run_server

        return run_server
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
