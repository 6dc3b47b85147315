"""The node's holder index: find certificates by ID number without storing it.

Kept off the ledger, in HOME/certs/index.sqlite. Each issued certificate is
filed under the HMAC-SHA256 of its holder's normalized ID number, keyed with a
secret that only this node holds (HOME/keys/cert-index.json, encrypted like the
department keys). A copy of the file without the secret reveals no ID number.
The same secret, with the issuer's id mixed in, derives the pseudonymous
subject ids that certificates carry, so two issuers' pseudonyms of one person
do not match.

Every lookup is recorded in the same file: who asked, from where, when and how
many certificates matched, never the ID number.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from govchain.crypto.keys import SigningKey, read_key_store, write_key_store
from govchain.node.home import NodeHome

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS holders (
    lookup_key BLOB NOT NULL,
    cert_id TEXT PRIMARY KEY,
    issuer TEXT NOT NULL,
    type TEXT NOT NULL,
    masked_name TEXT NOT NULL,
    iat INTEGER NOT NULL,
    exp INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS holders_by_key ON holders (lookup_key);
CREATE TABLE IF NOT EXISTS lookups (
    at_ms INTEGER NOT NULL,
    requester TEXT NOT NULL,
    client TEXT NOT NULL,
    matches INTEGER NOT NULL
);
"""


def mask_name(name: str) -> str:
    """Keep the first character (and the last of three or more); mask the rest."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id(id_number: str) -> str:
    """Mask all but the last four characters of an ID number."""
    return "*" * max(len(id_number) - 4, 0) + id_number[-4:]


@dataclass(frozen=True)
class HolderEntry:
    """One certificate filed under a holder's lookup key."""

    cert_id: str
    issuer: str
    type: str
    masked_name: str
    iat: int
    exp: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.cert_id,
            "issuer": self.issuer,
            "type": self.type,
            "masked_name": self.masked_name,
            "issued_at": self.iat,
            "expires_at": self.exp,
        }


class HolderIndex:
    """The holder index and lookup record of one node home; thread-safe."""

    def __init__(self, home: NodeHome) -> None:
        secret = _load_or_create_secret(home)
        self._subject_root = secret
        self._lookup_key = _derive(secret, b"govchain/cert-lookup/v1")
        folder = home.path / "certs"
        folder.mkdir(mode=0o700, exist_ok=True)
        self.path = folder / "index.sqlite"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._subject_keys: dict[str, bytes] = {}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def subject_id(self, issuer: str, id_number: str) -> str:
        """Return the pseudonymous subject id of a holder for `issuer`."""
        key = self._subject_keys.get(issuer)
        if key is None:
            key = _derive(
                self._subject_root, b"govchain/cert-subject/v1/" + issuer.encode()
            )
            self._subject_keys[issuer] = key
        digest = hmac.new(key, id_number.encode("ascii"), hashlib.sha256).digest()[:16]
        return base64.b32encode(digest).decode("ascii").rstrip("=").lower()

    def lookup_key(self, id_number: str) -> bytes:
        return hmac.new(
            self._lookup_key, id_number.encode("ascii"), hashlib.sha256
        ).digest()

    def add(self, rows: list[tuple[bytes, HolderEntry]]) -> None:
        """File certificates under their lookup keys, all in one transaction."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO holders VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (key, e.cert_id, e.issuer, e.type, e.masked_name, e.iat, e.exp)
                        for key, e in rows
                    ],
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def find(self, id_number: str, *, requester: str, client: str) -> list[HolderEntry]:
        """Return the certificates filed under `id_number` and record the lookup."""
        key = self.lookup_key(id_number)
        with self._lock:
            rows = self._db.execute(
                "SELECT cert_id, issuer, type, masked_name, iat, exp FROM holders "
                "WHERE lookup_key = ? ORDER BY iat DESC",
                (key,),
            ).fetchall()
            self._db.execute(
                "INSERT INTO lookups VALUES (?, ?, ?, ?)",
                (int(time.time() * 1000), requester, client, len(rows)),
            )
        logger.info(
            "holder lookup by %s from %s: %d matches", requester, client, len(rows)
        )
        return [HolderEntry(*row) for row in rows]

    def lookups(self, limit: int = 100) -> list[dict[str, Any]]:
        """Return the latest recorded lookups, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT at_ms, requester, client, matches FROM lookups "
                "ORDER BY rowid DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            {"at": at, "requester": who, "client": client, "matches": matches}
            for at, who, client, matches in rows
        ]


def _derive(secret: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
        secret
    )


def _secret_path(home: NodeHome) -> Path:
    return home.keys_dir / "cert-index.json"


def _load_or_create_secret(home: NodeHome) -> bytes:
    # The key store format holds a 32-byte Ed25519 seed, encrypted at rest; the
    # index secret is stored as such a seed so it gets the same protection.
    path = _secret_path(home)
    encrypted = home.settings().get("encrypted_keys", True)
    passphrase = home.passphrase if encrypted else None
    if path.exists():
        return read_key_store(path, passphrase=passphrase).seed()
    key = SigningKey.generate()
    write_key_store(path, key, passphrase=passphrase, label="certificate holder index")
    logger.info("created the certificate holder index secret of %s", home.node_id)
    return key.seed()
