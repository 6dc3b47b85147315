"""Full verification of a node's ledger by replay.

`verify_ledger` trusts nothing stored. It walks the blocks from genesis and,
for each block:

1. checks the height follows the previous one and the previous-block hash links;
2. recomputes each transaction id from its bytes and the block's transaction root;
3. replays the transactions on a fresh state, checking every signature, and
   compares each outcome and the state digest with what the block recorded;
4. extends the Merkle log, compares its size and root with the header and the
   stored Merkle nodes with those the block's leaves complete;
5. checks the committing node's signature on the header.

Then it checks that no other Merkle node is stored, the id index against the
transactions and that no transaction is stored twice, every checkpoint's
signatures and root, and that the stored state equals the replayed one. The
first problem found stops the walk and is reported with its height and
transaction id.
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import sqlite3
from array import array
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govchain.crypto import bulk
from govchain.crypto.keys import PublicKey
from govchain.errors import GovchainError, IntegrityError, VerificationError
from govchain.ledger import merkle
from govchain.ledger.apply import DEPT_NS, MIN_POOL_BATCH, BatchApplier, TxOutcome
from govchain.ledger.block import ZERO_HASH, BlockHeader, encoded_state_digest
from govchain.ledger.canonical import canonical_json
from govchain.ledger.checkpoint import NoteVerifier, open_checkpoint
from govchain.ledger.entry import entry_bytes
from govchain.ledger.gc_pause import gc_paused
from govchain.ledger.merkle import HASH_SIZE
from govchain.ledger.sigcheck import CheckWorkerError, Task
from govchain.ledger.state import MemoryState
from govchain.ledger.store import ID_PREFIX, LedgerStore, StoredTx
from govchain.statemachine import load_handlers

logger = logging.getLogger(__name__)

NODE_NS = "node"


@dataclass
class VerifyReport:
    """The outcome of `verify_ledger`."""

    blocks: int = 0
    transactions: int = 0
    checkpoints: int = 0
    state_rows: int = 0
    problem: IntegrityError | None = None
    log_root: str = ""
    keys: dict[str, PublicKey] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.problem is None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": self.ok,
            "blocks": self.blocks,
            "transactions": self.transactions,
            "checkpoints": self.checkpoints,
            "state_rows": self.state_rows,
            "log_root": self.log_root,
        }
        if self.problem is not None:
            out["problem"] = {
                "message": str(self.problem),
                "height": self.problem.height,
                "tx_id": self.problem.tx_id,
            }
        return out


Progress = Callable[[int, int], None]


def verify_ledger(
    store: LedgerStore, *, workers: int = 2, progress: Progress | None = None
) -> VerifyReport:
    """Verify everything stored in `store`; see the module docstring."""
    load_handlers()
    report = VerifyReport()
    applier = BatchApplier(workers)
    try:
        if store.log_size() >= MIN_POOL_BATCH:
            # Started now, the check processes are ready for the first block.
            applier.start_workers()
        # The walk replays every block without creating reference cycles, so the
        # collector would only traverse its live objects.
        # One snapshot: blocks a running node commits meanwhile are not read.
        with gc_paused(), store.snapshot():
            _walk(store, applier, report, progress)
    except IntegrityError as exc:
        report.problem = exc
    except GovchainError as exc:
        report.problem = IntegrityError(
            f"verification stopped at block {report.blocks}: {exc}",
            height=report.blocks,
        )
    except (TypeError, ValueError, KeyError) as exc:
        # Rows edited outside govchain can contain any type: report them as a problem.
        report.problem = IntegrityError(
            f"block {report.blocks} contains malformed data: {exc!r}",
            height=report.blocks,
        )
    except sqlite3.Error as exc:
        # A dropped table or column, a file that is not a database, a lock.
        report.problem = IntegrityError(
            f"the ledger file cannot be read (stopped at block {report.blocks}): "
            f"{exc}; "
            "restore the node home from a backup, or retry if another process "
            "holds a lock on it",
            height=report.blocks,
        )
    finally:
        applier.close()
    if report.problem is not None:
        logger.warning("ledger %s failed verification: %s", store.path, report.problem)
    return report


def _walk(
    store: LedgerStore,
    applier: BatchApplier,
    report: VerifyReport,
    progress: Progress | None,
) -> None:
    state = MemoryState()
    compact = merkle.CompactRange()
    roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT}
    node_count = 0
    prev_hash = ZERO_HASH
    prev_time = 0
    origin: str | None = None
    expected_height = 0
    top = store.height()
    keys: dict[str, PublicKey] = {}
    subjects = _SubjectDigest()
    id_prefixes = array("Q")
    prechecked = 0
    for (height, stored_hash, header_bytes, results_bytes), txs, ahead in _lookahead(
        store, PRECHECK_DEPTH
    ):
        # 1. The heights follow each other and the hash chain links.
        if height != expected_height:
            raise IntegrityError(
                f"block {expected_height} is missing: the next stored block is {height}",
                height=expected_height,
            )
        header = _parse_header(header_bytes, height)
        if header.height != height:
            raise IntegrityError(
                f"block stored at height {height} has height {header.height} in its header",
                height=height,
            )
        if header.hash != stored_hash:
            raise IntegrityError(
                f"block {height} hash {stored_hash} does not match its header "
                f"({header.hash})",
                height=height,
            )
        if header.prev_hash != prev_hash:
            raise IntegrityError(
                f"block {height} links to previous hash {header.prev_hash} but block "
                f"{height - 1} has hash {prev_hash}",
                height=height,
            )
        origin = origin or header.chain
        if header.chain != origin:
            raise IntegrityError(
                f"block {height} names chain {header.chain!r}", height=height
            )
        if header.time < prev_time:
            raise IntegrityError(
                f"block {height} time {header.time} is before block {height - 1}'s",
                height=height,
            )

        # 2. Transaction ids and the block's transaction root.
        if len(txs) != header.tx_count:
            raise IntegrityError(
                f"block {height} contains {len(txs)} transactions but its header counts "
                f"{header.tx_count}",
                height=height,
            )
        datas = [t.data for t in txs]
        for i, tx in enumerate(txs):
            if tx.seq != compact.size + i:
                raise IntegrityError(
                    f"transaction at log index {compact.size + i} is missing",
                    height=height,
                )
        _check_ids(txs, datas, height)
        id_prefixes.extend([int(t.id[:ID_PREFIX], 16) for t in txs])

        # 3. Replay: outcomes, state digest.
        result = applier.apply(
            state,
            datas,
            height=height,
            block_time=header.time,
            log_start=compact.size,
            # Step 2 checked that each stored id is the hash of its bytes.
            ids=[t.id for t in txs],
        )
        replayed = [o.result() for o in result.outcomes]
        # Both the block's results and the index columns must match the replay.
        # Comparing the encoded results is quicker than decoding the block's;
        # only a difference needs the decoded ones, to name the transaction.
        replayed_json = canonical_json(replayed)
        if replayed_json != results_bytes or any(
            stored.status != outcome.status or stored.reason != outcome.reason
            for stored, outcome in zip(txs, result.outcomes, strict=True)
        ):
            _explain_results(replayed, results_bytes, txs, height)
        _check_index_rows(txs, result.outcomes, height, header.time)
        # The index ignores a repeated subject of one transaction.
        subjects.add(
            (subject, txs[i].seq)
            for i, o in enumerate(result.outcomes)
            for subject in dict.fromkeys(o.subjects)
        )
        if encoded_state_digest(replayed_json, result.writes) != header.state_digest:
            raise IntegrityError(
                f"block {height} state digest does not match the replayed changes",
                height=height,
            )
        state.apply(result.writes)
        entries = [
            entry_bytes(
                o.data,
                height=height,
                time=header.time,
                status=o.status,
                reason=o.reason,
                tx_is_canonical=o.tx is not None,
            )
            for o in result.outcomes
        ]
        # One call hashes the block's entries, and one more its tree.
        leaf_hashes = bulk.sha256_each(
            b"".join(entries),
            array("I", map(len, entries)),
            prefix=merkle.LEAF_PREFIX,
        )
        leaves = [
            leaf_hashes[i : i + HASH_SIZE]
            for i in range(0, len(leaf_hashes), HASH_SIZE)
        ]
        if bulk.merkle_root(leaf_hashes).hex() != header.tx_root:
            raise IntegrityError(
                f"block {height} transaction root does not match its transactions",
                height=height,
            )
        if any(w.ns in (NODE_NS, DEPT_NS) for w in result.writes):
            keys = _collect_keys(state, report)
        # Signatures of the next blocks are checked on the worker processes
        # while this process replays. Keys are known once genesis is replayed.
        for ahead_height, ahead_txs in ahead:
            if keys and ahead_height > prechecked:
                _precheck(applier, ahead_txs, keys)
                prechecked = ahead_height

        # 4. The Merkle log after the block, and the nodes stored for it.
        created: list[tuple[int, int, bytes]] = []
        for leaf in leaves:
            created.extend(compact.append(leaf))
        _check_block_nodes(store, created, height)
        node_count += len(created)
        roots[compact.size] = compact.root()
        if header.log_size != compact.size or header.log_root != compact.root().hex():
            raise IntegrityError(
                f"block {height} log size/root {header.log_size}/{header.log_root} "
                f"differ from the replayed {compact.size}/{compact.root().hex()}",
                height=height,
            )

        # 5. The committer's signature.
        node_key = state.get(NODE_NS, header.committer)
        if node_key is None or node_key["kid"] != header.committer_kid:
            raise IntegrityError(
                f"block {height} was committed by unknown node {header.committer!r} "
                f"key {header.committer_kid}",
                height=height,
            )
        try:
            header.verify_signature(PublicKey.from_b64(node_key["public_key"]))
        except VerificationError as exc:
            raise IntegrityError(
                f"block {height} signature does not verify: {exc}", height=height
            ) from exc

        prev_hash = header.hash
        prev_time = header.time
        expected_height = height + 1
        report.blocks += 1
        report.transactions += len(txs)
        if progress is not None:
            progress(height, top)

    report.log_root = compact.root().hex()
    # The index checks run on the check processes while this one compares the
    # state table, which took 3.3 s of 41 on one core at 1,000,000 transactions.
    path = str(store.path)
    offloaded = [
        (
            applier.run_task(
                Task(f"{__name__}:id_index_problem", (path, compact.size, id_prefixes))
            ),
            lambda: _check_id_index(store, id_prefixes),
        ),
        (
            applier.run_task(
                Task(
                    f"{__name__}:subjects_problem",
                    (path, compact.size, subjects.count, subjects.total),
                )
            ),
            lambda: _check_subjects(store, subjects),
        ),
    ]
    problem: IntegrityError | None = None
    try:
        _check_node_count(store, node_count)
        _check_checkpoints(store, origin or "", roots, report)
        _check_state(store, state, report)
    except IntegrityError as exc:
        problem = exc
    # The index problems come first, as when every check ran here.
    for future, check_here in offloaded:
        _finish_task(future, check_here)
    if problem is not None:
        raise problem


#: The result of a tail check on a check process: None when it passes, else the
#: problem's message, height and transaction id, or `_OTHER_SNAPSHOT`.
TaskProblem = tuple[str, int | None, str | None] | str | None
#: The check process read a ledger of another size than the walk did: blocks
#: were committed meanwhile, so the check runs again on the walk's snapshot.
_OTHER_SNAPSHOT = "other-snapshot"


def id_index_problem(path: str, size: int, prefixes: array[int]) -> TaskProblem:
    """Run `_check_id_index` on a check process; see `TaskProblem`."""
    return _check_elsewhere(path, size, lambda store: _check_id_index(store, prefixes))


def subjects_problem(path: str, size: int, count: int, total: int) -> TaskProblem:
    """Run `_check_subjects` on a check process; see `TaskProblem`."""
    expected = _SubjectDigest()
    expected.count = count
    expected.total = total
    return _check_elsewhere(path, size, lambda store: _check_subjects(store, expected))


def _check_elsewhere(
    path: str, size: int, check: Callable[[LedgerStore], None]
) -> TaskProblem:
    store = LedgerStore(Path(path), readonly=True)
    try:
        with store.snapshot():
            if store.log_size() != size:
                return _OTHER_SNAPSHOT
            check(store)
    except IntegrityError as exc:
        return (str(exc), exc.height, exc.tx_id)
    finally:
        store.close()
    return None


def _finish_task(
    future: Future[TaskProblem] | None, check_here: Callable[[], None]
) -> None:
    """Raise the problem a tail check found, running it here if it did not run."""
    outcome: TaskProblem = _OTHER_SNAPSHOT
    if future is not None:
        try:
            outcome = future.result()
        except (CheckWorkerError, CancelledError) as exc:
            logger.warning("a verification task failed, so it runs here: %r", exc)
    if outcome == _OTHER_SNAPSHOT:
        check_here()
    elif isinstance(outcome, tuple):
        message, height, tx_id = outcome
        raise IntegrityError(message, height=height, tx_id=tx_id)


def _check_ids(txs: list[StoredTx], datas: list[bytes], height: int) -> None:
    """Check that each transaction's stored id is the SHA-256 of its bytes."""
    digests = bulk.sha256_each(b"".join(datas), array("I", map(len, datas)))
    if digests.hex() == "".join([t.id for t in txs]):
        return
    for i, tx in enumerate(txs):
        if digests[i * HASH_SIZE : (i + 1) * HASH_SIZE].hex() != tx.id:
            raise IntegrityError(
                f"transaction {tx.id} in block {height} does not hash to its id",
                height=height,
                tx_id=tx.id,
            )


def _parse_header(data: bytes, height: int) -> BlockHeader:
    try:
        body = json.loads(data)
        header = BlockHeader.from_dict(body)
    except (ValueError, TypeError) as exc:
        raise IntegrityError(
            f"block {height} header is malformed: {exc}", height=height
        ) from exc
    except IntegrityError as exc:
        raise IntegrityError(f"block {height}: {exc}", height=height) from exc
    if header.canonical_bytes() != data:
        raise IntegrityError(
            f"block {height} header is not in canonical form", height=height
        )
    return header


def _explain_results(
    replayed: list[dict[str, Any]], data: bytes, txs: list[StoredTx], height: int
) -> None:
    """Raise the error that names the first result the replay does not match."""
    recorded = _parse_results(data, height)
    for i, (mine, theirs) in enumerate(zip(replayed, recorded, strict=False)):
        stored_tx = txs[i]
        if mine != theirs or (stored_tx.status, stored_tx.reason) != (
            mine["status"],
            mine["reason"],
        ):
            raise IntegrityError(
                f"transaction {mine['tx']} in block {height}: "
                + _result_difference(mine, theirs, stored_tx),
                height=height,
                tx_id=mine["tx"],
            )
    if len(recorded) != len(replayed):
        raise IntegrityError(
            f"block {height} records {len(recorded)} results for {len(replayed)} "
            "transactions",
            height=height,
        )
    raise IntegrityError(
        f"block {height} records its results in another encoding than the "
        "canonical one",
        height=height,
    )


def _result_difference(mine: dict[str, Any], theirs: Any, stored: StoredTx) -> str:
    """Describe how a recorded result differs from the replayed one."""
    if (stored.status, stored.reason) != (mine["status"], mine["reason"]):
        return (
            f"replay gives {mine['status']}/{mine['reason']} but the transaction index "
            f"records {stored.status}/{stored.reason}"
        )
    if not isinstance(theirs, dict):
        return f"the block records a result that is not an object: {theirs!r:.80}"
    changed = sorted(
        name for name in set(mine) | set(theirs) if mine.get(name) != theirs.get(name)
    )
    return (
        f"the block's recorded result differs from the replay in {', '.join(changed)} "
        f"(replay {', '.join(f'{n}={mine.get(n)!r}' for n in changed)}; block "
        f"{', '.join(f'{n}={theirs.get(n)!r:.80}' for n in changed)})"
    )


def _parse_results(data: bytes, height: int) -> list[dict[str, Any]]:
    try:
        results = json.loads(data)
    except ValueError as exc:
        raise IntegrityError(
            f"block {height} results are malformed", height=height
        ) from exc
    if not isinstance(results, list):
        raise IntegrityError(f"block {height} results are malformed", height=height)
    return results


def _collect_keys(state: MemoryState, report: VerifyReport) -> dict[str, PublicKey]:
    """Record every key seen so far and return the departments' current keys."""
    current: dict[str, PublicKey] = {}
    for ns in (NODE_NS, DEPT_NS):
        for name, record in state.scan(ns):
            if record.get("public_key"):
                key = PublicKey.from_b64(record["public_key"])
                report.keys[f"{name}/{record['kid']}"] = key
                if ns == DEPT_NS:
                    current[name] = key
    return current


def _precheck(
    applier: BatchApplier, txs: list[StoredTx], keys: dict[str, PublicKey]
) -> None:
    """Start the signature checks of a block's transactions on the workers.

    A signature the block records as valid may take the quicker check of
    `govchain.crypto.recheck`.
    """
    applier.precheck(
        [t.data for t in txs],
        keys,
        [t.id for t in txs],
        [t.reason != "bad-signature" for t in txs],
    )


BlockRow = tuple[int, str, bytes, bytes]

#: Blocks whose signatures are checked ahead of the replay. With two, the check
#: processes still have work when they finish a block before the replay does.
PRECHECK_DEPTH = 2


def _lookahead(
    store: LedgerStore, depth: int
) -> Iterator[tuple[BlockRow, list[StoredTx], list[tuple[int, list[StoredTx]]]]]:
    """Yield each block row with its transactions and the next `depth` blocks'
    heights and transactions.

    Transactions are read in one pass in log order. A run of another height
    than the block's is left for the block of that height, so a block whose
    rows are missing gets none, and the walk reports its count.
    """
    runs = _Runs(store.tx_runs())
    rows = store.block_rows()
    window: collections.deque[tuple[BlockRow, list[StoredTx]]] = collections.deque()
    while True:
        while len(window) <= depth:
            row = next(rows, None)
            if row is None:
                break
            window.append((row, runs.take(row[0])))
        if not window:
            break
        row, txs = window.popleft()
        yield row, txs, [(ahead[0], ahead_txs) for ahead, ahead_txs in window]
    leftover = runs.take_any()
    if leftover:
        first = leftover[0]
        raise IntegrityError(
            f"transaction {first.id} at log index {first.seq} names block "
            f"{first.height}, which is not stored after the last block: the block "
            "was removed or the rows were added; restore the node home from a backup",
            height=first.height,
            tx_id=first.id,
        )


class _Runs:
    """The runs of `LedgerStore.tx_runs`, taken block by block."""

    def __init__(self, runs: Iterator[tuple[int, list[StoredTx]]]) -> None:
        self._runs = runs
        self._next = next(runs, None)

    def take(self, height: int) -> list[StoredTx]:
        """Return the next run if it is block `height`'s, else an empty list."""
        if self._next is None or self._next[0] != height:
            return []
        run = self._next[1]
        self._next = next(self._runs, None)
        return run

    def take_any(self) -> list[StoredTx]:
        """Return the next run whatever its height, or an empty list."""
        return self.take(self._next[0]) if self._next is not None else []


def _check_block_nodes(
    store: LedgerStore, created: list[tuple[int, int, bytes]], height: int
) -> None:
    """Compare the stored Merkle nodes with those that a block's leaves completed.

    `created` lists them as `CompactRange.append` returns them, so the nodes of
    each level have consecutive indexes in increasing order.
    """
    by_level: dict[int, list[tuple[int, bytes]]] = {}
    for level, index, node in created:
        by_level.setdefault(level, []).append((index, node))
    for level, expected in by_level.items():
        first, last = expected[0][0], expected[-1][0]
        rows = store.reader.execute(
            "SELECT idx, hash FROM merkle_nodes WHERE level = ? AND idx BETWEEN ? AND ? "
            "ORDER BY idx",
            (level, first, last),
        ).fetchall()
        if len(rows) != len(expected):
            raise IntegrityError(
                f"Merkle log level {level} has {len(rows)} nodes from index {first} "
                f"to {last}, expected {len(expected)}",
                height=height,
            )
        for (idx, stored), (index, node) in zip(rows, expected, strict=True):
            if idx != index or bytes(stored) != node:
                raise IntegrityError(
                    f"Merkle node at level {level} index {index} does not match the "
                    "transactions below it",
                    height=height,
                )


def _check_node_count(store: LedgerStore, expected: int) -> None:
    """Check that no Merkle node is stored besides those the blocks completed."""
    (count,) = store.reader.execute("SELECT count(*) FROM merkle_nodes").fetchone()
    if count != expected:
        raise IntegrityError(
            f"the Merkle log contains {count} nodes, but its leaves complete "
            f"{expected}: rows were added; restore the node home from a backup"
        )


def _check_checkpoints(
    store: LedgerStore, origin: str, roots: dict[int, bytes], report: VerifyReport
) -> None:
    verifiers = [
        NoteVerifier(name.split("/")[0], key)
        for name, key in sorted(report.keys.items())
    ]
    for size, note in store.checkpoints():
        try:
            checkpoint, _signers = open_checkpoint(
                note, verifiers, origin=origin, min_signatures=1
            )
        except VerificationError as exc:
            raise IntegrityError(
                f"checkpoint for tree size {size} does not verify: {exc}"
            ) from exc
        if checkpoint.size != size:
            raise IntegrityError(
                f"checkpoint stored for size {size} is for size {checkpoint.size}"
            )
        expected = roots.get(size)
        if expected is None or expected != checkpoint.root_hash:
            raise IntegrityError(
                f"checkpoint for tree size {size} has root {checkpoint.root_hash.hex()}, "
                f"the log has {expected.hex() if expected else 'no block ending there'}"
            )
        report.checkpoints += 1


def _check_index_rows(
    txs: list[StoredTx], outcomes: list[TxOutcome], height: int, time: int
) -> None:
    """Check the columns the audit trail reads against the replayed transactions.

    The trail lists department, type, time and message from these columns
    without decoding each transaction, so an edit to them would change the
    trail an auditor reads while the signed bytes stay intact.
    """
    for stored, outcome in zip(txs, outcomes, strict=True):
        expected = (
            height,
            time,
            outcome.tx.type if outcome.tx else "",
            outcome.tx.dept if outcome.tx else "",
            outcome.message,
        )
        found = (stored.height, stored.time, stored.type, stored.dept, stored.message)
        if found != expected:
            names = ("height", "time", "type", "department", "message")
            pairs = zip(names, found, expected, strict=True)
            column = next(n for n, a, b in pairs if a != b)
            raise IntegrityError(
                f"transaction {stored.id} in block {height}: the transaction index "
                f"records a {column} that differs from the transaction's own",
                height=height,
                tx_id=stored.id,
            )


def _check_id_index(store: LedgerStore, prefixes: array[int]) -> None:
    """Check the id index against the walked transactions' ids.

    `prefixes[seq]` is the integer value of the first `ID_PREFIX` hex
    characters of the id at log index `seq`. The index must hold exactly one
    entry for each transaction, with that prefix. Then a transaction stored
    twice shares its prefix with another entry, and those few (about a hundred
    among a million distinct ids) are compared whole.
    """
    size = len(prefixes)
    indexed = bytearray(size)
    recent: set[str] = set()
    shared: set[str] = set()
    for table in ("tx_ids_recent", "tx_ids"):
        previous = None
        rows = store.reader.execute(
            f"SELECT prefix, seq FROM {table} ORDER BY prefix, seq"
        )
        for prefix, seq in rows:
            if (
                not isinstance(seq, int)
                or not 0 <= seq < size
                or indexed[seq]
                or _prefix_value(prefix) != prefixes[seq]
            ):
                raise IntegrityError(
                    f"the id index of transactions has an entry {prefix!r} for log "
                    f"index {seq!r} that matches no transaction, or repeats one: "
                    "rows were added or changed; restore the node home from a backup"
                )
            indexed[seq] = 1
            if prefix == previous or prefix in recent:
                shared.add(prefix)
            if table == "tx_ids_recent":
                recent.add(prefix)
            previous = prefix
    if 0 in indexed:
        seq = indexed.index(0)
        raise IntegrityError(
            f"the id index of transactions has no entry for log index {seq}: rows "
            "were removed; restore the node home from a backup"
        )
    first: dict[str, int] = {}
    for seq in sorted(store.seqs_of_prefixes(shared)):
        stored = store.tx_by_seq(seq)
        assert stored is not None
        if stored.id in first:
            raise IntegrityError(
                f"transaction {stored.id} is stored twice, at log index "
                f"{first[stored.id]} and {seq}",
                tx_id=stored.id,
            )
        first[stored.id] = seq


def _prefix_value(prefix: object) -> int:
    """Return the integer an id prefix stands for, or -1 if it is not one.

    A prefix is exactly the id's first characters, lower-case hex. `int(x, 16)`
    alone also reads upper case, a sign, spaces and underscores, and the
    lookup of the id by its prefix would then miss the entry.
    """
    if (
        not isinstance(prefix, str)
        or len(prefix) != ID_PREFIX
        or prefix.strip("0123456789abcdef")
    ):
        return -1
    return int(prefix, 16)


class _SubjectDigest:
    """An order-free digest of (subject, log index) pairs, with their count.

    The audit index of subjects is checked against the replay without holding
    a million pairs in memory: each pair's SHA-256 is added modulo 2**256.
    """

    def __init__(self) -> None:
        self.total = 0
        self.count = 0

    def add(self, pairs: Iterable[tuple[str, int]]) -> None:
        # Local names and one reduction at the end save about a quarter of the
        # time per pair. The sum of a few million 256-bit values stays small.
        total = self.total
        count = self.count
        sha256 = hashlib.sha256
        from_bytes = int.from_bytes
        for subject, seq in pairs:
            digest = sha256(f"{subject}\x00{seq}".encode()).digest()
            total += from_bytes(digest, "big")
            count += 1
        self.total = total % (1 << 256)
        self.count = count


def _check_subjects(store: LedgerStore, expected: _SubjectDigest) -> None:
    stored = _SubjectDigest()
    stored.add(store.subject_rows())
    if (stored.count, stored.total) != (expected.count, expected.total):
        raise IntegrityError(
            f"the audit index of subjects contains {stored.count} entries that differ "
            f"from the {expected.count} the replayed transactions name: rows were "
            "added, removed or changed; restore the node home from a backup"
        )


def _check_state(store: LedgerStore, state: MemoryState, report: VerifyReport) -> None:
    """Compare every stored state row with the replayed one, then their counts."""
    seen = 0
    previous: tuple[str, str] | None = None
    for ns, key, value in store.state_rows():
        seen += 1
        # Rows arrive sorted, so a row stored twice (possible only if the table
        # was rebuilt without its primary key) follows its copy.
        if (ns, key) == previous:
            raise IntegrityError(f"state row {ns}/{key} is stored twice")
        previous = (ns, key)
        expected = state.encoded(ns, key)
        if expected is None:
            raise IntegrityError(
                f"state row {ns}/{key} is not produced by any transaction"
            )
        stored = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        if stored != expected:
            raise IntegrityError(
                f"state row {ns}/{key} differs from the replayed value"
            )
    if seen != len(state):
        # Each stored row matched a replayed one, so some replayed rows are missing.
        stored_keys = {(ns, key) for ns, key, _value in store.state_rows()}
        missing = [
            (ns, key)
            for ns, key, _encoded in state.encoded_rows()
            if (ns, key) not in stored_keys
        ]
        ns, key = min(missing)
        raise IntegrityError(f"state row {ns}/{key} is missing")
    report.state_rows = seen
