"""The archive's local index: items, their metadata and proofs, objects, batches.

It is a SQLite file beside the replicas (`HOME/archive/index.sqlite`). The
ledger records what proves the archive: batch roots, audits and disposals.
The index stores what finds and serves items, and it is the only place that
stores their metadata.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govchain.archive.anchoring import Leaf
from govchain.archive.metadata import Metadata
from govchain.archive.store import ObjectRef
from govchain.errors import IntegrityError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, pack TEXT,
    offset INTEGER NOT NULL DEFAULT 0, disposed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS batches (
    seq INTEGER PRIMARY KEY, ledger_id TEXT, root TEXT NOT NULL,
    size INTEGER NOT NULL, tx_id TEXT, status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    reference TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    name TEXT NOT NULL, metadata TEXT NOT NULL, metadata_hash TEXT NOT NULL,
    retain_until TEXT NOT NULL, fonds TEXT NOT NULL, volume TEXT NOT NULL,
    classification TEXT NOT NULL, batch_seq INTEGER NOT NULL,
    leaf_index INTEGER NOT NULL, proof BLOB NOT NULL, status TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS items_volume ON items (fonds, volume);
CREATE INDEX IF NOT EXISTS items_sha ON items (sha256);
CREATE TABLE IF NOT EXISTS audits (
    id TEXT PRIMARY KEY, time INTEGER NOT NULL, result TEXT NOT NULL,
    report_hash TEXT NOT NULL, tx_id TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class ItemRow:
    """One archived item as the index stores it."""

    reference: str
    sha256: str
    size: int
    name: str
    metadata: dict[str, str]
    metadata_hash: str
    retain_until: str
    batch_seq: int
    leaf_index: int
    proof: bytes
    status: str

    @property
    def leaf(self) -> Leaf:
        return Leaf(self.sha256, self.size, self.metadata_hash, self.retain_until)

    def summary(self) -> dict[str, Any]:
        described = {k: v for k, v in self.metadata.items() if k != "item"}
        return {
            "item": self.reference,
            "item_number": self.metadata["item"],
            "name": self.name,
            "sha256": self.sha256,
            "size": self.size,
            "status": self.status,
            "retain_until": self.retain_until,
            **described,
        }


_ITEM_COLUMNS = (
    "reference, sha256, size, name, metadata, metadata_hash, retain_until, "
    "batch_seq, leaf_index, proof, status"
)


def _item(row: tuple[Any, ...]) -> ItemRow:
    return ItemRow(
        reference=row[0],
        sha256=row[1],
        size=row[2],
        name=row[3],
        metadata=json.loads(row[4]),
        metadata_hash=row[5],
        retain_until=row[6],
        batch_seq=row[7],
        leaf_index=row[8],
        proof=row[9],
        status=row[10],
    )


class ArchiveIndex:
    """Read and write access to the index file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise IntegrityError(
                f"archive index {path} cannot be read ({exc}); restore it from a "
                "backup of the node home, as the replicas alone do not hold the "
                "items' metadata and proofs"
            ) from exc

    def close(self) -> None:
        self.db.close()

    # -- objects -------------------------------------------------------------

    def object(self, sha256: str) -> ObjectRef | None:
        row = self.db.execute(
            "SELECT sha256, size, pack, offset FROM objects WHERE sha256 = ?",
            (sha256,),
        ).fetchone()
        return None if row is None else ObjectRef(*row)

    def known_objects(self, hashes: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(hashes), 500):
            chunk = hashes[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                r[0]
                for r in self.db.execute(
                    f"SELECT sha256 FROM objects WHERE sha256 IN ({marks})", chunk
                )
            )
        return found

    def live_objects(self) -> list[ObjectRef]:
        """Return every object some item still needs, packs first, in pack order."""
        rows = self.db.execute(
            "SELECT sha256, size, pack, offset FROM objects WHERE disposed = 0 "
            "ORDER BY pack IS NULL, pack, offset"
        ).fetchall()
        return [ObjectRef(*r) for r in rows]

    def referenced_objects(self) -> set[str]:
        """Return the hashes of objects that items not yet disposed of use."""
        rows = self.db.execute("SELECT sha256 FROM items WHERE status != 'disposed'")
        return {r[0] for r in rows}

    def items_of_objects(self, hashes: set[str]) -> list[str]:
        return [
            ref
            for ref, sha in self.db.execute(
                "SELECT reference, sha256 FROM items WHERE status != 'disposed' "
                "ORDER BY reference"
            )
            if sha in hashes
        ]

    # -- batches and items ---------------------------------------------------

    def add_batch(
        self,
        root: str,
        objects: list[ObjectRef],
        items: list[tuple[Metadata, str, Leaf, bytes]],
    ) -> int:
        """Record a batch as pending with its new objects and items; return its seq.

        `items` are `(metadata, file name, leaf, packed inclusion proof)` in
        leaf order. One SQLite transaction writes it all.
        """
        with self._txn():
            cursor = self.db.execute(
                "INSERT INTO batches (root, size, status) VALUES (?, ?, 'pending')",
                (root, len(items)),
            )
            seq = int(cursor.lastrowid or 0)
            self.db.executemany(
                "INSERT OR IGNORE INTO objects (sha256, size, pack, offset) "
                "VALUES (?, ?, ?, ?)",
                [(o.sha256, o.size, o.pack, o.offset) for o in objects],
            )
            self.db.executemany(
                f"INSERT INTO items ({_ITEM_COLUMNS}, fonds, volume, classification) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
                [
                    (
                        meta.reference,
                        leaf.sha256,
                        leaf.size,
                        name,
                        json.dumps(meta.to_dict(), ensure_ascii=False),
                        leaf.metadata_hash,
                        leaf.retain_until,
                        seq,
                        index,
                        proof,
                        meta.fonds,
                        meta.volume,
                        meta.classification,
                    )
                    for index, (meta, name, leaf, proof) in enumerate(items)
                ],
            )
        return seq

    def mark_anchored(self, seq: int, ledger_id: str, tx_id: str) -> None:
        with self._txn():
            self.db.execute(
                "UPDATE batches SET status = 'anchored', ledger_id = ?, tx_id = ? "
                "WHERE seq = ?",
                (ledger_id, tx_id, seq),
            )
            self.db.execute(
                "UPDATE items SET status = 'anchored' WHERE batch_seq = ?", (seq,)
            )

    def drop_batch(self, seq: int) -> None:
        """Forget a batch the ledger rejected; its stored objects stay for reuse."""
        with self._txn():
            self.db.execute("DELETE FROM items WHERE batch_seq = ?", (seq,))
            self.db.execute("DELETE FROM batches WHERE seq = ?", (seq,))

    def pending_batches(self) -> list[tuple[int, str, int, str | None]]:
        """Return `(seq, root, size, tx_id)` of batches not yet known anchored."""
        return [
            (r[0], r[1], r[2], r[3])
            for r in self.db.execute(
                "SELECT seq, root, size, tx_id FROM batches WHERE status = 'pending'"
            )
        ]

    def set_batch_tx(self, seq: int, tx_id: str) -> None:
        self.db.execute("UPDATE batches SET tx_id = ? WHERE seq = ?", (tx_id, seq))

    def batch(self, seq: int) -> dict[str, Any]:
        row = self.db.execute(
            "SELECT seq, ledger_id, root, size, tx_id, status FROM batches "
            "WHERE seq = ?",
            (seq,),
        ).fetchone()
        keys = ("seq", "ledger_id", "root", "size", "tx_id", "status")
        return dict(zip(keys, row, strict=True))

    def item(self, reference: str) -> ItemRow | None:
        row = self.db.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE reference = ?", (reference,)
        ).fetchone()
        return None if row is None else _item(row)

    def references(self, references: list[str]) -> dict[str, tuple[str, str]]:
        """Return `{reference: (sha256, metadata_hash)}` for those already indexed."""
        found: dict[str, tuple[str, str]] = {}
        for start in range(0, len(references), 500):
            chunk = references[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for ref, sha, meta in self.db.execute(
                "SELECT reference, sha256, metadata_hash FROM items "
                f"WHERE reference IN ({marks})",
                chunk,
            ):
                found[ref] = (sha, meta)
        return found

    def volume(self, fonds: str, volume: str) -> list[ItemRow]:
        rows = self.db.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items WHERE fonds = ? AND volume = ? "
            "ORDER BY reference",
            (fonds, volume),
        )
        return [_item(r) for r in rows]

    def all_items(self, *, include_disposed: bool = False) -> Iterator[ItemRow]:
        where = "" if include_disposed else "WHERE status != 'disposed'"
        rows = self.db.execute(
            f"SELECT {_ITEM_COLUMNS} FROM items {where} ORDER BY reference"
        )
        for row in rows:
            yield _item(row)

    def count_items(self) -> int:
        row = self.db.execute(
            "SELECT COUNT(*) FROM items WHERE status != 'disposed'"
        ).fetchone()
        return int(row[0])

    def mark_disposed(self, reference: str, sha256: str, last_user: bool) -> None:
        with self._txn():
            self.db.execute(
                "UPDATE items SET status = 'disposed' WHERE reference = ?", (reference,)
            )
            if last_user:
                self.db.execute(
                    "UPDATE objects SET disposed = 1 WHERE sha256 = ?", (sha256,)
                )

    # -- audits ----------------------------------------------------------------

    def add_audit(
        self, audit_id: str, time: int, result: str, digest: str, tx: str
    ) -> None:
        self.db.execute(
            "INSERT INTO audits (id, time, result, report_hash, tx_id) "
            "VALUES (?, ?, ?, ?, ?)",
            (audit_id, time, result, digest, tx),
        )

    def audits(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT id, time, result, report_hash, tx_id FROM audits "
            "ORDER BY time DESC, id DESC LIMIT ?",
            (limit,),
        )
        keys = ("id", "time", "result", "report_hash", "tx_id")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def _txn(self) -> _Txn:
        return _Txn(self.db)


class _Txn:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
