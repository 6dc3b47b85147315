"""API tokens: one bearer token per hosted department.

A token decides which hosted department the node signs for, so it is as
powerful as that department's key on this node. The node home keeps only
SHA-256 hashes of the tokens; the plaintext is written once, readable only by
its owner, for the local CLI:

```
HOME/
  api_tokens.json        {"format": ..., "tokens": {dept: {"sha256": hex, "created": iso}}}
  api_tokens.lock        serialises writers of api_tokens.json
  tokens/<dept>.token    the plaintext token, mode 0600
```

Each department has one token at a time: creating a new one replaces the old,
which stops working as soon as a running server rereads the file (it checks the
file's modification time on every request).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govchain.errors import ConfigError
from govchain.node import NodeHome

logger = logging.getLogger(__name__)

TOKENS_FILE = "api_tokens.json"
TOKENS_DIR = "tokens"
TOKENS_FORMAT = "govchain-api-tokens/v1"
#: Prefix of every token, so a leaked one is easy to recognise in a scan.
TOKEN_PREFIX = "gct_"


def token_hash(token: str) -> str:
    """Return the hex SHA-256 of a token, as `api_tokens.json` stores it.

    Tokens carry 256 random bits, so a fast hash is enough: there is nothing to
    guess from the hash.
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_path(home: NodeHome, dept: str) -> Path:
    """Return the path of the plaintext token file of `dept`."""
    return home.path / TOKENS_DIR / f"{dept}.token"


@dataclass(frozen=True)
class IssuedToken:
    """A token just created: its department, plaintext and file."""

    dept: str
    token: str
    path: Path


def create_token(home: NodeHome, dept: str) -> IssuedToken:
    """Create a new API token for hosted department `dept`, replacing its old one.

    Writes the hash to `api_tokens.json` and the plaintext to
    `tokens/<dept>.token` with mode 0600. Raises `ConfigError` when `dept` is
    not hosted on this node, because the node could not sign for it.
    """
    hosts = home.hosts
    if dept not in hosts:
        raise ConfigError(
            f"department {dept!r} is not hosted on node {home.node_id}, so an API "
            f"token for it would be useless; hosted: {', '.join(sorted(hosts))}",
            path=str(home.path),
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with _locked(home):
        records = _read_records(home.path / TOKENS_FILE)
        records[dept] = {
            "sha256": token_hash(token),
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        path = token_path(home, dept)
        path.parent.mkdir(mode=0o700, exist_ok=True)
        _write_private(path, token + "\n")
        _write_private(
            home.path / TOKENS_FILE,
            json.dumps({"format": TOKENS_FORMAT, "tokens": records}, indent=2) + "\n",
        )
    logger.info("API token of department %s created at %s", dept, path)
    return IssuedToken(dept=dept, token=token, path=path)


def ensure_tokens(home: NodeHome) -> list[IssuedToken]:
    """Create a token for each hosted department that has none; return the new ones."""
    existing = _read_records(home.path / TOKENS_FILE)
    return [create_token(home, dept) for dept in home.hosts if dept not in existing]


def read_token(home: NodeHome, dept: str) -> str:
    """Read the plaintext token of `dept` from its token file.

    Raises `ConfigError` naming the command that creates one when it is missing.
    """
    path = token_path(home, dept)
    try:
        return path.read_text("utf-8").strip()
    except FileNotFoundError as exc:
        raise ConfigError(
            f"no API token for department {dept!r} at {path}; create one with "
            f"`govchain token create --as {dept}`",
            path=str(path),
        ) from exc
    except OSError as exc:
        raise ConfigError(
            f"API token file {path} is unreadable: {exc}", path=str(path)
        ) from exc


class TokenStore:
    """The token hashes of a node home, reread whenever the file changes."""

    def __init__(self, home_path: Path) -> None:
        self.path = home_path / TOKENS_FILE
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._hashes: list[tuple[str, str]] = []

    def department(self, token: str) -> str | None:
        """Return the department a token belongs to, or None for an unknown token."""
        digest = token_hash(token)
        found: str | None = None
        # Compare against every hash in constant time, so the response time
        # does not tell how much of a guessed hash matched.
        for known, dept in self._current():
            if hmac.compare_digest(known, digest):
                found = dept
        return found

    def _current(self) -> list[tuple[str, str]]:
        try:
            stat = self.path.stat()
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                records = _read_records(self.path)
                self._hashes = [(r["sha256"], d) for d, r in records.items()]
                self._stamp = stamp
                logger.info(
                    "API tokens loaded from %s: %d departments",
                    self.path,
                    len(self._hashes),
                )
            return self._hashes


def _read_records(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"API token file {path} is unreadable: {exc}; remove it and create the "
            "tokens again with `govchain token create`",
            path=str(path),
        ) from exc
    if not isinstance(data, dict) or data.get("format") != TOKENS_FORMAT:
        tokens = None
    else:
        tokens = data.get("tokens")
    if not isinstance(tokens, dict):
        raise ConfigError(
            f"API token file {path} is not in format {TOKENS_FORMAT!r}",
            path=str(path),
        )
    return {
        str(dept): record
        for dept, record in tokens.items()
        if isinstance(record, dict) and isinstance(record.get("sha256"), str)
    }


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, readable and writable by the owner only."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class _locked:
    """Hold an exclusive lock on `api_tokens.lock` while tokens are rewritten."""

    def __init__(self, home: NodeHome) -> None:
        self._path = home.path / "api_tokens.lock"
        self._fd = -1

    def __enter__(self) -> None:
        self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
