"""The node home: one directory holding a node's keys, ledger and settings.

```
HOME/
  node.json          node id, checkpoint origin, hosted departments
  consortium.toml    the consortium file the node was created from
  keys/node.json     the node's block-signing key (encrypted key store)
  keys/<dept>.json   one signing key per hosted department
  ledger.sqlite      blocks, transactions, Merkle log, checkpoints, state
  node.lock          held by the one process that writes the ledger
```
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govchain.crypto.keys import SigningKey, read_key_store, write_key_store
from govchain.errors import ConfigError

logger = logging.getLogger(__name__)

HOME_ENV = "GOVCHAIN_HOME"
PASSPHRASE_ENV = "GOVCHAIN_PASSPHRASE"
#: Shortest passphrase accepted for a new home's key stores.
MIN_PASSPHRASE = 8


@dataclass
class NodeHome:
    """Paths and settings of a node home; keys load on demand."""

    path: Path
    passphrase: str | None = None

    @property
    def settings_path(self) -> Path:
        return self.path / "node.json"

    @property
    def ledger_path(self) -> Path:
        return self.path / "ledger.sqlite"

    @property
    def lock_path(self) -> Path:
        return self.path / "node.lock"

    @property
    def consortium_path(self) -> Path:
        return self.path / "consortium.toml"

    @property
    def keys_dir(self) -> Path:
        return self.path / "keys"

    def exists(self) -> bool:
        return self.settings_path.is_file()

    def settings(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.settings_path.read_text("utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(
                f"{self.path} is not a node home (no node.json); create one with "
                "`govchain init --consortium FILE`",
                path=str(self.path),
            ) from exc
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(
                f"{self.settings_path} is unreadable: {exc}",
                path=str(self.settings_path),
            ) from exc
        return data

    @property
    def node_id(self) -> str:
        return str(self.settings()["node_id"])

    @property
    def origin(self) -> str:
        return str(self.settings()["origin"])

    @property
    def hosts(self) -> list[str]:
        return [str(d) for d in self.settings()["hosts"]]

    def node_key(self) -> SigningKey:
        return read_key_store(self.keys_dir / "node.json", passphrase=self.passphrase)

    def dept_keys(self) -> HostedKeys:
        """Return the hosted departments' keys, each decrypted when first used."""
        return HostedKeys(self, self.hosts)

    def write_settings(self, settings: dict[str, Any]) -> None:
        tmp = self.settings_path.with_suffix(".json.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(settings, indent=2, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.settings_path)


def create_home_files(
    home: NodeHome,
    *,
    consortium_file: Path,
    node_id: str,
    origin: str,
    hosts: list[str],
    encrypt: bool,
) -> tuple[SigningKey, dict[str, SigningKey]]:
    """Create the directory, keys and settings of a new node home.

    Raises `ConfigError` when the directory already holds a node home, and
    removes what it wrote when any step fails.
    """
    if home.exists() or home.ledger_path.exists():
        raise ConfigError(
            f"{home.path} already holds a node home; choose another --home or remove it",
            path=str(home.path),
        )
    if (
        encrypt
        and home.passphrase is not None
        and len(home.passphrase) < MIN_PASSPHRASE
    ):
        raise ConfigError(
            f"the passphrase has {len(home.passphrase)} characters; use at least "
            f"{MIN_PASSPHRASE}, because it is all that protects the keys on disk"
        )
    if encrypt and not home.passphrase:
        raise ConfigError(
            "a passphrase is needed to encrypt the keys: set GOVCHAIN_PASSPHRASE, "
            "enter one when asked, or pass --insecure-dev-keys for a throw-away home"
        )
    created = not home.path.exists()
    try:
        home.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        home.keys_dir.mkdir(mode=0o700, exist_ok=True)
        os.chmod(home.keys_dir, 0o700)
        passphrase = home.passphrase if encrypt else None
        node_key = SigningKey.generate()
        write_key_store(
            home.keys_dir / "node.json", node_key, passphrase=passphrase, label=node_id
        )
        dept_keys: dict[str, SigningKey] = {}
        for dept in hosts:
            key = SigningKey.generate()
            write_key_store(
                home.keys_dir / f"{dept}.json", key, passphrase=passphrase, label=dept
            )
            dept_keys[dept] = key
        shutil.copyfile(consortium_file, home.consortium_path)
        home.write_settings(
            {
                "node_id": node_id,
                "origin": origin,
                "hosts": hosts,
                # Only the departments hosted at genesis cosign checkpoints.
                "witnesses": hosts,
                "encrypted_keys": encrypt,
            }
        )
    except BaseException:
        if created:
            shutil.rmtree(home.path, ignore_errors=True)
        else:
            for leftover in (home.keys_dir, home.settings_path, home.consortium_path):
                if leftover.is_dir():
                    shutil.rmtree(leftover, ignore_errors=True)
                else:
                    leftover.unlink(missing_ok=True)
        raise
    if not encrypt:
        logger.warning(
            "node home %s keeps its keys unencrypted (development only)", home.path
        )
    return node_key, dept_keys


class HostedKeys(MutableMapping[str, SigningKey]):
    """The signing keys of the departments a node hosts, by department id.

    A key store is decrypted when its key is first read. Each decryption runs
    scrypt (about 0.09 s of CPU), and a command signs as one department, so a
    node hosting the 60 agencies of a catalog import would otherwise spend
    seconds on keys it never uses. Listing and membership tests decrypt nothing.
    """

    def __init__(self, home: NodeHome, depts: Iterable[str]) -> None:
        self._home = home
        self._keys: dict[str, SigningKey | None] = dict.fromkeys(depts)
        self._lock = threading.Lock()

    def __getitem__(self, dept: str) -> SigningKey:
        key = self._keys[dept]
        if key is None:
            with self._lock:
                key = self._keys[dept]
                if key is None:
                    key = read_key_store(
                        self._home.keys_dir / f"{dept}.json",
                        passphrase=self._home.passphrase,
                    )
                    self._keys[dept] = key
        return key

    def __setitem__(self, dept: str, key: SigningKey) -> None:
        self._keys[dept] = key

    def __delitem__(self, dept: str) -> None:
        del self._keys[dept]

    def __contains__(self, dept: object) -> bool:
        return dept in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)
