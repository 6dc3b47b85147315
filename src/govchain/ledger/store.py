"""SQLite storage of one node's ledger: blocks, transactions, the Merkle log,
checkpoints and the current state.

The database runs in WAL mode with `synchronous=FULL`, so a block's SQLite
transaction is on disk (the WAL fsynced) when `commit()` returns. Only then
does any caller receive a receipt for it. A crash at any point leaves either the
whole block or none of it.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from govchain.errors import IntegrityError, ValidationError
from govchain.ledger.block import BlockHeader
from govchain.ledger.canonical import canonical_json
from govchain.ledger.state import Value, Write
from govchain.ledger.walcheckpoint import WalCheckpointer

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2

#: Hex characters of a transaction id that the id index stores.
ID_PREFIX = 8
#: Entries that `tx_ids_recent` collects before `write_block` moves them into
#: `tx_ids`.
RECENT_IDS_MAX = 65_536

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS blocks (
    height INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    header BLOB NOT NULL,
    results BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS txs (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    height INTEGER NOT NULL,
    type TEXT NOT NULL,
    dept TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    message TEXT NOT NULL,
    time INTEGER NOT NULL,
    data BLOB NOT NULL
);
-- The id index: the first 8 hex characters of each transaction id and its log
-- index. Ids are SHA-256 hashes, so each new entry lands on a random page of
-- the index. A block's entries go to the small tx_ids_recent, where they dirty
-- few pages, and are moved into tx_ids in bulk. A lookup reads both tables and
-- compares the whole id on the rows they point to.
CREATE TABLE IF NOT EXISTS tx_ids (
    prefix TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (prefix, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tx_ids_recent (
    prefix TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (prefix, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS txs_dept ON txs (dept, seq);
CREATE INDEX IF NOT EXISTS txs_time ON txs (time, seq);
CREATE TABLE IF NOT EXISTS tx_subjects (
    subject TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (subject, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS merkle_nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
    size INTEGER PRIMARY KEY,
    note BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS state (
    ns TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (ns, key)
) WITHOUT ROWID;
"""


class StoredTx(NamedTuple):
    """A transaction as stored, with its position and outcome.

    A named tuple because `verify_ledger` builds one per stored transaction, and
    it is built about five times faster than a frozen dataclass.
    """

    seq: int
    id: str
    height: int
    type: str
    dept: str
    status: str
    reason: str
    message: str
    time: int
    data: bytes


class LedgerStore:
    """One node's SQLite ledger file. Only the node's writer process writes."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self._readonly = readonly
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        # Rows of tx_ids_recent, counted on the first write_block.
        self._recent_ids: int | None = None
        # Started by the first write_block.
        self._wal_checkpointer: WalCheckpointer | None = None
        if readonly:
            uri = f"file:{path}?mode=ro"
            self.db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        else:
            self.db = sqlite3.connect(
                path, check_same_thread=False, isolation_level=None
            )
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            # A block dirties pages all over the randomly keyed indexes. A larger
            # page cache and rarer WAL checkpoints cut how often each is written
            # again (measured: write_block from about 98 to 62 us per transaction
            # in blocks of 2,000, bench/ledger.py on 2 cores). The WAL is copied
            # into the file by a `WalCheckpointer`, and the automatic checkpoint
            # only bounds the WAL when that thread falls behind.
            self.db.execute("PRAGMA cache_size=-262144")
            self.db.execute("PRAGMA wal_autocheckpoint=20000")
            self._check_schema()
            self.db.executescript(_SCHEMA)
            self._record_schema()
        self.db.execute("PRAGMA foreign_keys=ON")

    @property
    def reader(self) -> sqlite3.Connection:
        """The calling thread's connection for reads.

        A writable store reads through one read-only connection per thread. In
        WAL mode another connection reads only committed transactions, so a
        request thread never reads the block the committer is writing.
        """
        if self._readonly:
            return self.db
        connection: sqlite3.Connection | None = getattr(self._local, "db", None)
        if connection is None:
            connection = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, check_same_thread=False
            )
            self._local.db = connection
            with self._readers_lock:
                self._readers.append(connection)
        return connection

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Read from one snapshot of the committed ledger inside the `with` body.

        The calling thread's reads then share one SQLite read transaction.
        Outside one, each statement opens and closes its own, which made a
        point read of the state take about 4.5 us instead of 1.8 (measured on
        a ledger of 1,000,000 transactions). Writes committed meanwhile are
        not seen until the body exits. A nested call shares the outer snapshot.
        """
        connection = self.reader
        if connection.in_transaction:
            yield
            return
        connection.execute("BEGIN")
        try:
            yield
        finally:
            connection.execute("COMMIT")

    def close(self) -> None:
        if self._wal_checkpointer is not None:
            self._wal_checkpointer.close()
            self._wal_checkpointer = None
        with self._readers_lock:
            for connection in self._readers:
                connection.close()
            self._readers.clear()
        self.db.close()

    def _check_schema(self) -> None:
        """Raise `IntegrityError` for a file of another schema version.

        It runs before `_SCHEMA` so that an older file is left unchanged.
        """
        has_meta = self.db.execute(
            "SELECT 1 FROM sqlite_schema WHERE type='table' AND name='meta'"
        ).fetchone()
        if has_meta is None:
            return
        row = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is not None and int(row[0]) != SCHEMA_VERSION:
            raise IntegrityError(
                f"ledger {self.path} has schema version {row[0]}, this govchain "
                f"reads version {SCHEMA_VERSION}"
            )

    def _record_schema(self) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)",
            (str(SCHEMA_VERSION),),
        )

    # -- meta ---------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self.reader.execute(
            "SELECT value FROM meta WHERE key=?", (key,)
        ).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    # -- state (implements StateReader) --------------------------------------

    def get(self, ns: str, key: str) -> Value | None:
        row = self.reader.execute(
            "SELECT value FROM state WHERE ns=? AND key=?", (ns, key)
        ).fetchone()
        if row is None:
            return None
        value: Value = json.loads(row[0])
        return value

    def scan(self, ns: str, prefix: str = "") -> Iterator[tuple[str, Value]]:
        rows = self.reader.execute(
            "SELECT key, value FROM state WHERE ns=? AND key >= ? AND key < ? "
            "ORDER BY key",
            (ns, prefix, prefix + "\U0010ffff"),
        ).fetchall()
        for key, value in rows:
            yield key, json.loads(value)

    def state_rows(self) -> Iterator[tuple[str, str, bytes]]:
        yield from self.reader.execute(
            "SELECT ns, key, value FROM state ORDER BY ns, key"
        )

    # -- blocks and transactions ----------------------------------------------

    def height(self) -> int:
        """Return the height of the last block, or -1 for an empty ledger."""
        row = self.reader.execute("SELECT MAX(height) FROM blocks").fetchone()
        return -1 if row[0] is None else int(row[0])

    def header(self, height: int) -> BlockHeader | None:
        row = self.reader.execute(
            "SELECT header FROM blocks WHERE height=?", (height,)
        ).fetchone()
        if row is None:
            return None
        return BlockHeader.from_dict(json.loads(row[0]))

    def block_rows(self, start: int = 0) -> Iterator[tuple[int, str, bytes, bytes]]:
        yield from self.reader.execute(
            "SELECT height, hash, header, results FROM blocks WHERE height >= ? "
            "ORDER BY height",
            (start,),
        )

    def log_size(self) -> int:
        row = self.reader.execute("SELECT MAX(seq) FROM txs").fetchone()
        return 0 if row[0] is None else int(row[0]) + 1

    def has_tx(self, tx_id: str) -> bool:
        return tx_id in self.stored_ids([tx_id])

    def stored_ids(self, tx_ids: Iterable[str]) -> set[str]:
        """Return which of `tx_ids` are already in the ledger."""
        return set(self.seqs_of_ids(tx_ids))

    def seqs_of_prefixes(self, prefixes: Iterable[str]) -> list[int]:
        """Return the log indexes that the id index holds for any of `prefixes`."""
        unique = sorted(set(prefixes))
        found: list[int] = []
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            rows = self.reader.execute(_seqs_of_prefixes(len(chunk)), chunk * 2)
            found.extend(row[0] for row in rows)
        return found

    def seqs_of_ids(self, tx_ids: Iterable[str]) -> dict[str, int]:
        """Return the log index of each of `tx_ids` that the ledger holds."""
        requested = set(tx_ids)
        prefixes = sorted({txid[:ID_PREFIX] for txid in requested})
        found: dict[str, int] = {}
        for start in range(0, len(prefixes), 500):
            chunk = prefixes[start : start + 500]
            rows = self.reader.execute(
                f"SELECT id, seq FROM txs WHERE seq IN ({_seqs_of_prefixes(len(chunk))})",
                chunk * 2,
            ).fetchall()
            found.update((txid, seq) for txid, seq in rows if txid in requested)
        return found

    def subjects_of(self, seqs: Iterable[int]) -> dict[int, list[str]]:
        """Return the audit subjects (such as `resource:res-00000001`) of each log index."""
        requested = list(seqs)
        found: dict[int, list[str]] = {}
        for start in range(0, len(requested), 500):
            chunk = requested[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.reader.execute(
                f"SELECT seq, subject FROM tx_subjects WHERE seq IN ({marks})", chunk
            ).fetchall()
            for seq, subject in rows:
                found.setdefault(int(seq), []).append(str(subject))
        return found

    def resolve_tx_id(self, prefix: str) -> str | None:
        """Return the one transaction id starting with `prefix`, or None.

        Raises `ValidationError` when the prefix is not hex, is shorter than 8
        characters, or matches more than one transaction.
        """
        text = prefix.strip().lower()
        if len(text) < 8 or any(c not in "0123456789abcdef" for c in text):
            raise ValidationError(
                "a transaction id is 64 hex characters; an abbreviation needs at "
                "least 8 of them",
                reason="bad-id",
            )
        rows = self.reader.execute(
            f"SELECT id FROM txs WHERE seq IN ({_seqs_of_prefixes(1)}) "
            "AND id >= ? AND id < ? ORDER BY id LIMIT 2",
            (text[:ID_PREFIX], text[:ID_PREFIX], text, text + "g"),
        ).fetchall()
        if len(rows) > 1:
            raise ValidationError(
                f"transaction id {text} is ambiguous; give more characters",
                reason="bad-id",
            )
        return str(rows[0][0]) if rows else None

    def tx_by_id(self, tx_id: str) -> StoredTx | None:
        seq = self.seqs_of_ids([tx_id]).get(tx_id)
        return None if seq is None else self.tx_by_seq(seq)

    def tx_by_seq(self, seq: int) -> StoredTx | None:
        row = self.reader.execute(
            f"SELECT {_TX_COLUMNS} FROM txs WHERE seq=?", (seq,)
        ).fetchone()
        return None if row is None else _stored_tx(row)

    def subject_rows(self) -> Iterator[tuple[str, int]]:
        """Yield every (subject, log index) pair of the audit index."""
        yield from self.reader.execute("SELECT subject, seq FROM tx_subjects")

    def txs_in_block(self, height: int) -> list[StoredTx]:
        """Return the transactions stored for block `height`, in log order.

        Transactions have no index by height, so the block header's log size
        and count give the range of log indexes to read.
        """
        header = self.header(height)
        if header is None:
            return []
        first = header.log_size - header.tx_count
        rows = self.reader.execute(
            f"SELECT {_TX_COLUMNS} FROM txs WHERE seq >= ? AND seq < ? AND height = ? "
            "ORDER BY seq",
            (first, header.log_size, height),
        ).fetchall()
        return [_stored_tx(row) for row in rows]

    def tx_runs(self) -> Iterator[tuple[int, list[StoredTx]]]:
        """Yield every stored transaction in log order, in runs of one height.

        One pass over the table, for `verify_ledger`: a block's transactions
        are consecutive in the log, so each run is a block's, unless rows were
        edited.
        """
        rows = self.reader.execute(f"SELECT {_TX_COLUMNS} FROM txs ORDER BY seq")
        run: list[StoredTx] = []
        while batch := rows.fetchmany(4096):
            for row in batch:
                tx = _stored_tx(row)
                if run and tx.height != run[0].height:
                    yield run[0].height, run
                    run = []
                run.append(tx)
        if run:
            yield run[0].height, run

    def query_txs(
        self,
        *,
        subject: str | None = None,
        dept: str | None = None,
        since: int | None = None,
        until: int | None = None,
        limit: int = 1000,
    ) -> list[StoredTx]:
        """Return transactions matching every given filter, oldest first.

        `since` and `until` are block times in unix milliseconds, `until`
        exclusive.
        """
        clauses: list[str] = []
        params: list[Any] = []
        table = "txs"
        if subject is not None:
            table = "txs JOIN tx_subjects USING (seq)"
            clauses.append("tx_subjects.subject = ?")
            params.append(subject)
        if dept is not None:
            clauses.append(
                "(txs.dept = ? OR txs.seq IN "
                "(SELECT seq FROM tx_subjects WHERE subject = ?))"
            )
            params.extend([dept, f"dept:{dept}"])
        if since is not None:
            clauses.append("txs.time >= ?")
            params.append(since)
        if until is not None:
            clauses.append("txs.time < ?")
            params.append(until)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        columns = ", ".join(f"txs.{c}" for c in _TX_COLUMNS.split(", "))
        rows = self.reader.execute(
            f"SELECT {columns} FROM {table} {where} ORDER BY txs.seq LIMIT ?",
            (*params, limit),
        ).fetchall()
        return [_stored_tx(row) for row in rows]

    # -- Merkle log (implements merkle.NodeReader) --------------------------

    def node(self, level: int, index: int) -> bytes:
        row = self.reader.execute(
            "SELECT hash FROM merkle_nodes WHERE level=? AND idx=?", (level, index)
        ).fetchone()
        if row is None:
            raise IntegrityError(
                f"Merkle node at level {level}, index {index} is missing"
            )
        return bytes(row[0])

    # -- checkpoints --------------------------------------------------------

    def latest_checkpoint(self) -> tuple[int, bytes] | None:
        row = self.reader.execute(
            "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1"
        ).fetchone()
        return None if row is None else (int(row[0]), bytes(row[1]))

    def checkpoint(self, size: int) -> bytes | None:
        row = self.reader.execute(
            "SELECT note FROM checkpoints WHERE size=?", (size,)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def checkpoints(self) -> Iterator[tuple[int, bytes]]:
        for size, note in self.reader.execute(
            "SELECT size, note FROM checkpoints ORDER BY size"
        ):
            yield int(size), bytes(note)

    def put_checkpoint(self, size: int, note: bytes) -> None:
        with self.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO checkpoints (size, note) VALUES (?, ?)",
                (size, note),
            )

    # -- writing a block ------------------------------------------------------

    def transaction(self) -> _Txn:
        return _Txn(self.db)

    def write_block(
        self,
        header: BlockHeader,
        results: list[dict[str, Any]],
        txs: list[StoredTx],
        subjects: list[tuple[str, int]],
        nodes: list[tuple[int, int, bytes]],
        writes: list[Write],
        checkpoint: tuple[int, bytes] | None,
    ) -> None:
        """Write one block and everything it changes in one SQLite transaction."""
        if self._recent_ids is None:
            self._recent_ids = self.db.execute(
                "SELECT count(*) FROM tx_ids_recent"
            ).fetchone()[0]
        recent = self._recent_ids
        with self.transaction():
            if recent + len(txs) > RECENT_IDS_MAX:
                # Read in key order, the entries fill the pages of tx_ids one
                # after another, and each page is written once.
                self.db.execute(
                    "INSERT INTO tx_ids (prefix, seq) "
                    "SELECT prefix, seq FROM tx_ids_recent ORDER BY prefix, seq"
                )
                self.db.execute("DELETE FROM tx_ids_recent")
                recent = 0
            self.db.executemany(
                "INSERT INTO tx_ids_recent (prefix, seq) VALUES (?, ?)",
                [(t.id[:ID_PREFIX], t.seq) for t in txs],
            )
            self.db.execute(
                "INSERT INTO blocks (height, hash, header, results) VALUES (?, ?, ?, ?)",
                (
                    header.height,
                    header.hash,
                    header.canonical_bytes(),
                    canonical_json(results),
                ),
            )
            self.db.executemany(
                f"INSERT INTO txs ({_TX_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        t.seq,
                        t.id,
                        t.height,
                        t.type,
                        t.dept,
                        t.status,
                        t.reason,
                        t.message,
                        t.time,
                        t.data,
                    )
                    for t in txs
                ],
            )
            self.db.executemany(
                "INSERT OR IGNORE INTO tx_subjects (subject, seq) VALUES (?, ?)",
                subjects,
            )
            self.db.executemany(
                "INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)", nodes
            )
            self.db.executemany(
                "DELETE FROM state WHERE ns=? AND key=?",
                [(w.ns, w.key) for w in writes if w.encoded is None],
            )
            self.db.executemany(
                "INSERT INTO state (ns, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (ns, key) DO UPDATE SET value=excluded.value",
                [(w.ns, w.key, w.encoded) for w in writes if w.encoded is not None],
            )
            if checkpoint is not None:
                self.db.execute(
                    "INSERT OR REPLACE INTO checkpoints (size, note) VALUES (?, ?)",
                    checkpoint,
                )
        self._recent_ids = recent + len(txs)
        if self._wal_checkpointer is None:
            self._wal_checkpointer = WalCheckpointer(self.path)
        self._wal_checkpointer.notify()


_TX_COLUMNS = "seq, id, height, type, dept, status, reason, message, time, data"


def _seqs_of_prefixes(count: int) -> str:
    """Return SQL that selects the log indexes the id index holds for `count`
    id prefixes. Its parameters are the prefixes twice, once per table.
    """
    marks = ",".join("?" * count)
    return (
        f"SELECT seq FROM tx_ids WHERE prefix IN ({marks}) "
        f"UNION ALL SELECT seq FROM tx_ids_recent WHERE prefix IN ({marks})"
    )


def _stored_tx(row: tuple[Any, ...]) -> StoredTx:
    # A row edited outside govchain may hold text where bytes belong; verification
    # must then report a mismatch rather than fail on the type.
    data = row[9]
    data = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    seq, tx_id, height, tx_type, dept, status, reason, message, time = row[:9]
    return StoredTx(
        seq, tx_id, height, tx_type, dept, status, reason, message, time, data
    )


class _Txn:
    """`BEGIN IMMEDIATE` ... `COMMIT`, rolled back on any exception."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.db.execute("ROLLBACK")
            return
        try:
            self.db.execute("COMMIT")
        except sqlite3.Error:
            # A failed COMMIT (disk full, I/O error) can leave the transaction
            # open, and every later BEGIN would then fail too.
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
