"""State shared by every CLI command: the node home, the passphrase, output."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from govchain.cli._remote import ApiClient, server_client
from govchain.crypto.keys import read_key_store
from govchain.errors import ConfigError
from govchain.ledger.store import LedgerStore
from govchain.node import HOME_ENV, PASSPHRASE_ENV, Node, NodeHome, NodeLockedError

console = Console()
err_console = Console(stderr=True)


@dataclass
class CliState:
    home_path: Path | None = None
    #: Seconds a write command waits for another command to release the home.
    lock_timeout: float = 30.0

    def home(self, *, need_keys: bool = True) -> NodeHome:
        path = self.home_path or _env_home()
        home = NodeHome(path)
        if need_keys and home.exists() and home.settings().get("encrypted_keys", True):
            home.passphrase = passphrase()
        return home

    def open_node(self) -> Node:
        # Another CLI command may hold the home for a moment: wait for it.
        return Node(self.home(), lock_timeout=self.lock_timeout)

    def node_or_api(self) -> Node | ApiClient:
        """Open the node, or a client of the `govchain serve` that holds it.

        Going through the server still needs the passphrase: the command must
        be run by someone who could sign it directly.
        """
        home = self.home(need_keys=False)
        client = server_client(home) if home.exists() else None
        if client is not None:
            _check_passphrase(self.home())
            err_console.print(
                f"note: sent through the running server at {client.url}",
                highlight=False,
            )
            return client
        try:
            return self.open_node()
        except NodeLockedError:
            # A server may have taken the home since the check above.
            client = server_client(home)
            if client is None:
                raise
            _check_passphrase(self.home())
            return client

    def read_store(self) -> LedgerStore:
        """Open the ledger read-only; works while a server writes to it."""
        home = self.home(need_keys=False)
        home.settings()
        if not home.ledger_path.is_file():
            raise ConfigError(
                f"ledger file {home.ledger_path} is missing; restore the node home "
                "from a backup",
                path=str(home.ledger_path),
            )
        return LedgerStore(home.ledger_path, readonly=True)


def _check_passphrase(home: NodeHome) -> None:
    """Raise `ConfigError` unless the passphrase opens the node's key store."""
    if home.settings().get("encrypted_keys", True):
        read_key_store(home.keys_dir / "node.json", passphrase=home.passphrase)


def _env_home() -> Path:
    value = os.environ.get(HOME_ENV)
    if not value:
        raise ConfigError(f"no node home given: pass --home DIR or set {HOME_ENV}")
    return Path(value)


def passphrase(*, confirm: bool = False) -> str:
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    if not sys.stdin.isatty():
        raise ConfigError(
            f"the node's keys are encrypted: set {PASSPHRASE_ENV} or run the command "
            "in a terminal to be asked for the passphrase"
        )
    entered: str = typer.prompt(
        "Passphrase for the node's keys", hide_input=True, confirmation_prompt=confirm
    )
    return entered


def print_raw(text: str) -> None:
    """Write text to stdout as it is: no wrapping, so it can be saved and read back."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)


def check_output_path(path: Path, option: str = "--out") -> None:
    """Raise `ConfigError` unless a file can be written at `path`.

    Commands that record something on the ledger and then write a file call
    this first, so a mistyped folder does not leave a recorded step without
    its file.
    """
    folder = path.parent
    if path.is_dir():
        raise ConfigError(
            f"{option} {path} is a folder; give a file name inside it", path=str(path)
        )
    if not folder.is_dir():
        raise ConfigError(
            f"{option} {path}: folder {folder} does not exist; create it or choose "
            "another path",
            path=str(path),
        )
    if not os.access(folder, os.W_OK):
        raise ConfigError(
            f"{option} {path}: folder {folder} is not writable; choose another path",
            path=str(path),
        )


def counted(number: int, noun: str) -> str:
    """Return `number` with `noun`, adding an s unless the number is 1."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"
