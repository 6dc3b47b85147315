"""Loads every transaction handler, so the state machine knows all types."""

from __future__ import annotations

import importlib

_HANDLER_MODULES = (
    "govchain.consortium._handlers",
    "govchain.standards._handlers",
    "govchain.catalog._handlers",
    "govchain.sharing._handlers",
    "govchain.certs._handlers",
    "govchain.archive._handlers",
    "govchain.console._handlers",
    "govchain.governance._handlers",
)


def load_handlers() -> None:
    """Import the handler modules; each registers its types on import."""
    for name in _HANDLER_MODULES:
        importlib.import_module(name)
