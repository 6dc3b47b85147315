"""`LedgerStore`: the id index and the schema version check."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from govchain.errors import IntegrityError
from govchain.ledger import store as store_module
from govchain.ledger.store import LedgerStore
from govchain.node import Node


def _register(node: Node, count: int) -> list[str]:
    ids: list[str] = []
    for i in range(count):
        receipt = node.act(
            "city-health",
            "catalog.register",
            {"title": f"resource {i}", "level": 1, "sharing": "unconditional"},
        )
        ids.append(receipt.tx_id)
    return ids


def _table_seqs(store: LedgerStore, table: str) -> list[int]:
    rows = store.db.execute(f"SELECT seq FROM {table} ORDER BY seq").fetchall()
    return [row[0] for row in rows]


def test_id_index_moves_recent_entries(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "RECENT_IDS_MAX", 4)
    ids = _register(node, 6)
    # Genesis and three blocks fill tx_ids_recent; the fifth block moves them.
    assert _table_seqs(node.store, "tx_ids") == [0, 1, 2, 3]
    assert _table_seqs(node.store, "tx_ids_recent") == [4, 5, 6]
    for seq, txid in enumerate(ids, start=1):
        assert node.store.has_tx(txid)
        found = node.store.tx_by_id(txid)
        assert found is not None
        assert found.seq == seq
        assert node.store.resolve_tx_id(txid[:10]) == txid
    assert node.store.seqs_of_ids(ids) == {txid: i + 1 for i, txid in enumerate(ids)}


def test_id_index_count_survives_reopen(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "RECENT_IDS_MAX", 4)
    _register(node, 2)
    node.close()
    reopened = Node(node.home)
    try:
        # The reopened store counts the three entries left in tx_ids_recent, so
        # its second block moves four.
        _register(reopened, 2)
        assert _table_seqs(reopened.store, "tx_ids") == [0, 1, 2, 3]
        assert _table_seqs(reopened.store, "tx_ids_recent") == [4]
    finally:
        reopened.close()


def test_unknown_ids_not_found(node: Node) -> None:
    txid = _register(node, 1)[0]
    # Same prefix as a stored id, different id.
    other = txid[:8] + ("0" if txid[8] != "0" else "1") + txid[9:]
    assert not node.store.has_tx(other)
    assert node.store.tx_by_id(other) is None
    assert node.store.stored_ids([txid, other]) == {txid}
    assert node.store.resolve_tx_id(other[:12]) is None


def test_id_lookups_search_both_tables(node: Node) -> None:
    sql = store_module._seqs_of_prefixes(2)
    plan = " | ".join(
        row[3]
        for row in node.store.db.execute(f"EXPLAIN QUERY PLAN {sql}", ["a", "b"] * 2)
    )
    assert "SEARCH tx_ids USING PRIMARY KEY (prefix=?)" in plan
    assert "SEARCH tx_ids_recent USING PRIMARY KEY (prefix=?)" in plan


def test_other_schema_version_rejected(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta (key, value) VALUES ('schema', '1')")
    db.commit()
    db.close()
    with pytest.raises(IntegrityError, match="schema version 1"):
        LedgerStore(path)
    db = sqlite3.connect(path)
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_schema")}
    db.close()
    assert "txs" not in tables


def test_snapshot_hides_later_commits(node: Node) -> None:
    store = node.store
    with store.snapshot():
        assert store.get("resource", "res-00000001") is None
        _register(node, 1)
        assert store.get("resource", "res-00000001") is None
        with store.snapshot():
            assert store.get("resource", "res-00000001") is None
    record = store.get("resource", "res-00000001")
    assert record is not None
    assert record["title"] == "resource 0"
