"""`verify_ledger` catches every kind of change to a stored ledger."""

from __future__ import annotations

import json
import sqlite3
from array import array

import pytest

from govchain.errors import IntegrityError
from govchain.ledger import store as store_module
from govchain.ledger import verify as verify_module
from govchain.ledger.store import ID_PREFIX, LedgerStore, StoredTx
from govchain.ledger.transaction import sign_transaction
from govchain.ledger.verify import _check_id_index, verify_ledger
from govchain.node import Node


def _fill(node: Node) -> None:
    for i in range(3):
        node.act(
            "city-health",
            "catalog.register",
            {"title": f"resource {i}", "level": 1, "sharing": "unconditional"},
        )
    node.act(
        "city-market", "catalog.register", {"title": "bad", "level": 9, "sharing": "x"}
    )


@pytest.fixture
def filled(node: Node, monkeypatch: pytest.MonkeyPatch) -> LedgerStore:
    # A small limit moves the first entries of the id index into tx_ids, so
    # both of its tables hold some.
    monkeypatch.setattr(store_module, "RECENT_IDS_MAX", 3)
    _fill(node)
    path = node.store.path
    node.close()
    return LedgerStore(path)


def _tamper(store: LedgerStore, sql: str, *args: object) -> None:
    store.db.execute(sql, args)


def test_verify_accepts_untouched_ledger(filled: LedgerStore) -> None:
    report = verify_ledger(filled)
    assert report.ok, report.problem
    assert report.blocks == 5
    assert report.transactions == 5
    assert report.checkpoints == 5


def test_verify_names_altered_transaction(filled: LedgerStore) -> None:
    row = filled.db.execute("SELECT id, data FROM txs WHERE seq = 2").fetchone()
    altered = bytes(row[1]).replace(b"resource 1", b"resource X")
    _tamper(filled, "UPDATE txs SET data = ? WHERE seq = 2", altered)
    report = verify_ledger(filled)
    assert not report.ok
    assert report.problem is not None
    assert report.problem.height == 2
    assert report.problem.tx_id == row[0]


def test_verify_names_altered_outcome(filled: LedgerStore) -> None:
    _tamper(filled, "UPDATE txs SET status = 'applied', reason = 'ok' WHERE seq = 4")
    report = verify_ledger(filled)
    assert report.problem is not None
    assert report.problem.height == 4
    assert "replay gives rejected" in str(report.problem)


@pytest.mark.parametrize(
    ("sql", "column"),
    [
        ("UPDATE txs SET dept = 'city-cdc' WHERE seq = 2", "department"),
        ("UPDATE txs SET type = 'sharing.approve' WHERE seq = 2", "type"),
        ("UPDATE txs SET time = time - 2592000000 WHERE seq = 2", "time"),
        ("UPDATE txs SET message = 'fine' WHERE seq = 4", "message"),
        ("UPDATE txs SET height = 3 WHERE seq = 2", None),
    ],
)
def test_verify_names_altered_index_column(
    filled: LedgerStore, sql: str, column: str | None
) -> None:
    _tamper(filled, sql)
    report = verify_ledger(filled)
    assert report.problem is not None
    if column is not None:
        assert f"records a {column} that differs" in str(report.problem)


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM tx_subjects WHERE seq = 2",
        "UPDATE tx_subjects SET seq = 3 WHERE seq = 2",
        "INSERT INTO tx_subjects (subject, seq) VALUES ('resource:res-00000009', 1)",
    ],
)
def test_verify_reports_altered_subject_index(filled: LedgerStore, sql: str) -> None:
    assert filled.db.execute("SELECT count(*) FROM tx_subjects").fetchone()[0] > 0
    _tamper(filled, sql)
    report = verify_ledger(filled)
    assert report.problem is not None
    assert "audit index of subjects" in str(report.problem)


def test_filled_ledger_uses_both_id_tables(filled: LedgerStore) -> None:
    merged = filled.db.execute("SELECT seq FROM tx_ids ORDER BY seq").fetchall()
    recent = filled.db.execute("SELECT seq FROM tx_ids_recent ORDER BY seq").fetchall()
    assert merged == [(0,), (1,), (2,)]
    assert recent == [(3,), (4,)]


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM tx_ids WHERE seq = 1",
        "DELETE FROM tx_ids_recent WHERE seq = 4",
        "UPDATE tx_ids SET seq = 2 WHERE seq = 1",
        "UPDATE tx_ids_recent SET prefix = '00000000' WHERE seq = 4",
        "INSERT INTO tx_ids_recent SELECT prefix, seq FROM tx_ids WHERE seq = 1",
        "INSERT INTO tx_ids (prefix, seq) VALUES ('00000000', 9)",
        # Text that int(x, 16) reads as the same number.
        "UPDATE tx_ids_recent SET prefix = upper(prefix) WHERE seq = 4",
        "UPDATE tx_ids_recent SET prefix = '+' || substr(prefix, 2) WHERE seq = 4",
        "UPDATE tx_ids_recent SET prefix = ' ' || substr(prefix, 2) WHERE seq = 4",
        "UPDATE tx_ids_recent SET prefix = substr(prefix, 1, 3) || '_' || "
        "substr(prefix, 5) WHERE seq = 4",
    ],
)
def test_verify_reports_altered_id_index(filled: LedgerStore, sql: str) -> None:
    _tamper(filled, sql)
    report = verify_ledger(filled)
    assert report.problem is not None
    assert "id index of transactions" in str(report.problem)


def test_id_index_check_finds_repeated_transaction(filled: LedgerStore) -> None:
    # The walk stops at such a ledger earlier (the copy does not hash to its
    # new id), so the index check is called on its own.
    first = filled.db.execute("SELECT id FROM txs WHERE seq = 1").fetchone()[0]
    _tamper(filled, "UPDATE txs SET id = ? WHERE seq = 3", first)
    _tamper(filled, "UPDATE tx_ids_recent SET prefix = ? WHERE seq = 3", first[:8])
    ids = [row[0] for row in filled.db.execute("SELECT id FROM txs ORDER BY seq")]
    prefixes = array("Q", (int(i[:8], 16) for i in ids))
    with pytest.raises(IntegrityError, match="is stored twice, at log index 1 and 3"):
        _check_id_index(filled, prefixes)


def test_verify_names_altered_header(filled: LedgerStore) -> None:
    header = bytes(
        filled.db.execute("SELECT header FROM blocks WHERE height = 3").fetchone()[0]
    )
    _tamper(
        filled,
        "UPDATE blocks SET header = ? WHERE height = 3",
        header.replace(b'"time":', b'"time":1', 1),
    )
    report = verify_ledger(filled)
    assert report.problem is not None
    assert report.problem.height == 3


def test_verify_names_missing_header_field(filled: LedgerStore) -> None:
    header = json.loads(
        filled.db.execute("SELECT header FROM blocks WHERE height = 3").fetchone()[0]
    )
    del header["signature"]
    _tamper(filled, "UPDATE blocks SET header = ? WHERE height = 3", json.dumps(header))
    report = verify_ledger(filled)
    assert report.problem is not None
    assert report.problem.height == 3
    assert "block 3: block header is malformed: field signature is missing" in str(
        report.problem
    )


def test_verify_names_altered_result_field(filled: LedgerStore) -> None:
    results = json.loads(
        filled.db.execute("SELECT results FROM blocks WHERE height = 2").fetchone()[0]
    )
    results[0]["tx"] = "0" * 64
    _tamper(
        filled, "UPDATE blocks SET results = ? WHERE height = 2", json.dumps(results)
    )
    report = verify_ledger(filled)
    assert report.problem is not None
    assert report.problem.height == 2
    assert "recorded result differs from the replay in tx" in str(report.problem)


def test_verify_reports_reencoded_results(filled: LedgerStore) -> None:
    results = json.loads(
        filled.db.execute("SELECT results FROM blocks WHERE height = 2").fetchone()[0]
    )
    # The same results with spaces: equal when decoded, but not the bytes the
    # committer wrote.
    _tamper(
        filled, "UPDATE blocks SET results = ? WHERE height = 2", json.dumps(results)
    )
    report = verify_ledger(filled)
    assert report.problem is not None
    assert report.problem.height == 2
    assert "another encoding than the canonical one" in str(report.problem)


def test_verify_reports_removed_last_block(filled: LedgerStore) -> None:
    _tamper(filled, "DELETE FROM blocks WHERE height = 4")
    report = verify_ledger(filled)
    assert report.problem is not None
    assert report.problem.height == 4
    assert "the block was removed" in str(report.problem)


def test_verify_reports_missing_block(filled: LedgerStore) -> None:
    _tamper(filled, "DELETE FROM blocks WHERE height = 2")
    report = verify_ledger(filled)
    assert report.problem is not None
    assert report.problem.height == 2
    assert "block 2 is missing" in str(report.problem)


def test_verify_reports_transaction_after_last_block(filled: LedgerStore) -> None:
    _tamper(
        filled,
        "INSERT INTO txs SELECT seq + 100, id, height + 1, type, dept, status, reason, "
        "message, time, data FROM txs WHERE seq = (SELECT max(seq) FROM txs)",
    )
    report = verify_ledger(filled)
    assert report.problem is not None
    assert report.problem.height == 5
    assert "names block 5, which is not stored after the last block" in str(
        report.problem
    )


def test_verify_reports_moved_transaction(filled: LedgerStore) -> None:
    _tamper(filled, "UPDATE txs SET height = 3 WHERE seq = 2")
    report = verify_ledger(filled)
    assert report.problem is not None
    assert report.problem.height == 2
    assert "block 2 contains 0 transactions" in str(report.problem)


def test_txs_in_block_reads_its_range(filled: LedgerStore) -> None:
    for height in range(5):
        txs = filled.txs_in_block(height)
        assert [tx.height for tx in txs] == [height]
        assert [tx.seq for tx in txs] == [height]
    assert filled.txs_in_block(5) == []


def test_verify_reports_broken_link(filled: LedgerStore) -> None:
    # Swap two blocks' headers: each still hashes correctly, the links break.
    rows = filled.db.execute(
        "SELECT height, hash, header FROM blocks WHERE height IN (2, 3)"
    ).fetchall()
    _tamper(filled, "DELETE FROM blocks WHERE height IN (2, 3)")
    for height, block_hash, header in rows:
        _tamper(
            filled,
            "INSERT INTO blocks (height, hash, header, results) VALUES (?, ?, ?, '[]')",
            5 - height,
            block_hash,
            header,
        )
    report = verify_ledger(filled)
    assert report.problem is not None
    assert report.problem.height == 2


def test_verify_names_altered_state_row(filled: LedgerStore) -> None:
    key = filled.db.execute(
        "SELECT key FROM state WHERE ns = 'resource' LIMIT 1"
    ).fetchone()[0]
    _tamper(
        filled,
        "UPDATE state SET value = replace(value, 'resource', 'RESOURCE') "
        "WHERE ns = 'resource' AND key = ?",
        key,
    )
    report = verify_ledger(filled)
    assert report.problem is not None
    assert f"state row resource/{key}" in str(report.problem)


def test_verify_reports_extra_state_row(filled: LedgerStore) -> None:
    _tamper(filled, "INSERT INTO state (ns, key, value) VALUES ('grant', 'g-1', '{}')")
    report = verify_ledger(filled)
    assert report.problem is not None
    assert "grant/g-1" in str(report.problem)


def test_verify_reports_removed_state_row(filled: LedgerStore) -> None:
    key = filled.db.execute(
        "SELECT key FROM state WHERE ns = 'resource' ORDER BY key DESC LIMIT 1"
    ).fetchone()[0]
    _tamper(filled, "DELETE FROM state WHERE ns = 'resource' AND key = ?", key)
    report = verify_ledger(filled)
    assert report.problem is not None
    assert f"state row resource/{key} is missing" in str(report.problem)


def test_verify_reports_state_row_stored_twice(filled: LedgerStore) -> None:
    # The primary key stops a second copy, so the table is rebuilt without it.
    key = filled.db.execute(
        "SELECT key FROM state WHERE ns = 'resource' LIMIT 1"
    ).fetchone()[0]
    filled.db.executescript(
        "CREATE TABLE plain AS SELECT * FROM state; DROP TABLE state; "
        "ALTER TABLE plain RENAME TO state;"
    )
    _tamper(
        filled,
        "INSERT INTO state SELECT ns, key, value FROM state "
        "WHERE ns = 'resource' AND key = ?",
        key,
    )
    report = verify_ledger(filled)
    assert report.problem is not None
    assert f"state row resource/{key} is stored twice" in str(report.problem)


def test_verify_reports_altered_checkpoint(filled: LedgerStore) -> None:
    note = bytes(
        filled.db.execute("SELECT note FROM checkpoints WHERE size = 3").fetchone()[0]
    )
    lines = note.split(b"\n")
    lines[1] = b"4"
    _tamper(filled, "UPDATE checkpoints SET note = ? WHERE size = 3", b"\n".join(lines))
    report = verify_ledger(filled)
    assert report.problem is not None
    assert "checkpoint for tree size 3" in str(report.problem)


def test_verify_reports_altered_merkle_node(filled: LedgerStore) -> None:
    _tamper(
        filled,
        "UPDATE merkle_nodes SET hash = zeroblob(32) WHERE level = 1 AND idx = 0",
    )
    report = verify_ledger(filled)
    assert report.problem is not None
    assert "level 1 index 0" in str(report.problem)


def test_verify_reports_missing_merkle_node(filled: LedgerStore) -> None:
    _tamper(filled, "DELETE FROM merkle_nodes WHERE level = 0 AND idx = 2")
    report = verify_ledger(filled)
    assert report.problem is not None
    assert report.problem.height == 2
    assert "level 0 has 0 nodes from index 2 to 2, expected 1" in str(report.problem)


def test_verify_reports_extra_merkle_node(filled: LedgerStore) -> None:
    _tamper(
        filled,
        "INSERT INTO merkle_nodes (level, idx, hash) VALUES (0, 99, zeroblob(32))",
    )
    report = verify_ledger(filled)
    assert report.problem is not None
    assert "the Merkle log contains" in str(report.problem)


def test_verify_survives_garbage_header(filled: LedgerStore) -> None:
    _tamper(filled, "UPDATE blocks SET header = x'00ff' WHERE height = 1")
    report = verify_ledger(filled)
    assert report.problem is not None
    assert report.problem.height == 1


def test_node_refuses_inconsistent_tail(node: Node) -> None:
    _fill(node)
    home = node.home
    node.close()
    db = sqlite3.connect(home.ledger_path)
    db.execute("DELETE FROM merkle_nodes WHERE level = 0 AND idx = 4")
    db.commit()
    db.close()
    with pytest.raises(Exception, match=r"Merkle node|inconsistent"):
        Node(home)


def test_state_digest_matches_whole_encoding() -> None:
    import hashlib

    from govchain.ledger.block import state_digest
    from govchain.ledger.canonical import canonical_json
    from govchain.ledger.state import Write

    results = [{"tx": "ab", "status": "applied", "reason": "ok"}]
    values: list[dict[str, object] | None] = [
        {"b": 1, "中": ["x"]},
        None,
        {"\U0001f600": "y"},
    ]
    writes = [
        Write("ns", f"k{i}é", v, None if v is None else canonical_json(v))
        for i, v in enumerate(values)
    ]
    whole = canonical_json(
        {"results": results, "writes": [w.to_dict() for w in writes]}
    )
    expected = hashlib.sha256(b"govchain/state/v1\n" + whole).hexdigest()
    assert state_digest(results, writes) == expected


def test_node_refuses_missing_block(node: Node) -> None:
    _fill(node)
    home = node.home
    node.close()
    db = sqlite3.connect(home.ledger_path)
    db.execute("DELETE FROM blocks WHERE height = 2")
    db.commit()
    db.close()
    with pytest.raises(Exception, match="blocks or transactions were removed"):
        Node(home)


@pytest.fixture
def large(node: Node) -> LedgerStore:
    """A ledger large enough that verify starts its check processes."""
    key = node.dept_keys["city-health"]
    datas = [
        sign_transaction(
            type="catalog.register",
            dept="city-health",
            key=key,
            nonce=nonce,
            payload={"title": f"r{nonce}", "level": 1, "sharing": "unconditional"},
        ).canonical_bytes()
        for nonce in range(1, 301)
    ]
    node.submit_bytes(datas)
    while node.commit_next(timeout=0):
        pass
    path = node.store.path
    node.close()
    return LedgerStore(path)


def _fail_here(*args: object) -> None:
    raise AssertionError("the index check ran in this process, not a check process")


@pytest.mark.parametrize(
    ("sql", "check", "expected"),
    [
        (
            "DELETE FROM tx_subjects WHERE seq = 5",
            "_check_subjects",
            "audit index of subjects",
        ),
        ("DELETE FROM tx_ids_recent WHERE seq = 5", "_check_id_index", "id index"),
    ],
    ids=["subjects", "ids"],
)
def test_verify_index_checks_on_check_processes(
    large: LedgerStore,
    monkeypatch: pytest.MonkeyPatch,
    sql: str,
    check: str,
    expected: str,
) -> None:
    assert verify_ledger(large, workers=2).ok
    _tamper(large, sql)
    # Patched here only: the check processes import their own copy.
    monkeypatch.setattr(verify_module, check, _fail_here)
    report = verify_ledger(large, workers=2)
    assert report.problem is not None
    assert expected in str(report.problem)


def test_index_check_notices_other_ledger_size(large: LedgerStore) -> None:
    size = large.log_size()
    path = str(large.path)
    prefixes = array("Q", [int(t.id[:ID_PREFIX], 16) for t in _all_txs(large)])
    assert verify_module.id_index_problem(path, size, prefixes) is None
    assert verify_module.id_index_problem(path, size + 1, prefixes) == "other-snapshot"
    problem = verify_module.subjects_problem(path, size, 0, 0)
    assert isinstance(problem, tuple)
    assert "audit index of subjects" in problem[0]


def _all_txs(store: LedgerStore) -> list[StoredTx]:
    return [tx for _height, run in store.tx_runs() for tx in run]


def test_verify_ignores_blocks_committed_meanwhile(node: Node) -> None:
    _fill(node)
    committed: list[int] = []

    def commit_once(height: int, _top: int) -> None:
        # A block committed while verify walks: the walk and the checks at
        # its end must read the same ledger, the one of the walk's start.
        if not committed:
            node.act(
                "city-health",
                "catalog.register",
                {"title": "meanwhile", "level": 1, "sharing": "unconditional"},
            )
            committed.append(height)

    report = verify_ledger(node.store, progress=commit_once)
    assert committed
    assert report.ok, report.problem
    assert verify_ledger(node.store).transactions == report.transactions + 1
