"""Block-header chains of restored nodes: reading exports, gaps, forks."""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from govchain.ledger.canonical import canonical_json
from govchain.ledger.forks import (
    ChainReport,
    HeaderExportError,
    check_chain,
    compare_chains,
    compare_ledgers,
    format_fork_report,
    read_header_export,
)
from govchain.ledger.store import LedgerStore
from govchain.node import Node, NodeHome

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "forks"
NODE_A = VECTORS / "node_a_blocks.jsonl"
NODE_B = VECTORS / "node_b_blocks.jsonl"
NODE_C = VECTORS / "node_c_blocks_gap.jsonl"

FORK_HASH_A = "37845d5bbc150a188f4f93d854add0cf89e97a75ba7f10ee5a65ea55a889e052"
FORK_HASH_B = "63c835f0dee5d19d40d31ba95c0d49cb3c58765ec44532a022beb5296348c437"
ANCESTOR_HASH = "02ac861ec4bc6c709f9a6315031d3eba7f580410c0ecf532d091ae3705dec16d"
BLOCK_1_HASH = "977b778f77d7250d77d9b4c9f947ad0684fc7ca906ccda5ed2890c5bdd2b9e15"


def chain(path: Path) -> ChainReport:
    return check_chain(read_header_export(path), path.name)


def export_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def rehash(body: dict[str, Any]) -> dict[str, Any]:
    """Set `block_hash` to the hash of the other fields, as an exporter does."""
    unhashed = {k: v for k, v in body.items() if k != "block_hash"}
    return {**body, "block_hash": hashlib.sha256(canonical_json(unhashed)).hexdigest()}


def write_export(path: Path, bodies: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(b) + "\n" for b in bodies), encoding="utf-8")
    return path


# -- reading exports ---------------------------------------------------------


@pytest.mark.parametrize("path", [NODE_A, NODE_B, NODE_C], ids=lambda p: p.stem)
def test_read_export_recomputes_hashes(path: Path) -> None:
    headers = read_header_export(path)
    bodies = export_lines(path)
    assert len(headers) == len(bodies)
    for header, body in zip(headers, bodies, strict=True):
        assert header.block_hash == rehash(body)["block_hash"]
        assert header.stated_hash == body["block_hash"]
        assert header.block_hash == header.stated_hash


def test_read_export_lines_and_fields() -> None:
    headers = read_header_export(NODE_C)
    assert [h.height for h in headers] == [0, 1, 3, 4]
    assert [h.line for h in headers] == [1, 2, 3, 4]
    assert headers[0].anchor_roots == ()
    assert headers[2].proposer == "node-a"
    assert headers[2].timestamp == 1748736180
    assert headers[2].source == str(NODE_C)


def test_read_export_ignores_stated_hash(tmp_path: Path) -> None:
    bodies = export_lines(NODE_A)
    bodies[3]["block_hash"] = "ab" * 32
    path = write_export(tmp_path / "tampered.jsonl", bodies)
    headers = read_header_export(path)
    assert headers[3].block_hash == FORK_HASH_A
    assert headers[3].stated_hash == "ab" * 32
    report = check_chain(headers, "tampered.jsonl")
    assert report.problem is not None
    assert report.problem.kind == "hash-mismatch"
    assert report.problem.height == 3
    assert report.problem.line == 4
    assert report.last_good_height == 2


def test_read_export_skips_blank_lines(tmp_path: Path) -> None:
    text = NODE_A.read_text("utf-8").replace("\n", "\n\n", 1)
    path = tmp_path / "blank.jsonl"
    path.write_text(text, encoding="utf-8")
    headers = read_header_export(path)
    assert len(headers) == 6
    assert [h.line for h in headers[:3]] == [1, 3, 4]


def _line_with(**changes: Any) -> str:
    body = export_lines(NODE_A)[2]
    body.update(changes)
    return json.dumps(body)


BAD_LINES = {
    "not-json": ("{height: 2}", None, "not a JSON object"),
    "array": ("[1, 2]", None, "expected a JSON object, got list"),
    "missing-field": (
        json.dumps(
            {k: v for k, v in export_lines(NODE_A)[2].items() if k != "proposer"}
        ),
        2,
        "missing ['proposer']",
    ),
    "unknown-field": (_line_with(extra=1), 2, "unknown ['extra']"),
    "float-timestamp": (_line_with(timestamp=1.5), None, "1.5 is not an integer"),
    "bool-height": (_line_with(height=True), None, "height is not a non-negative"),
    "negative-height": (_line_with(height=-1), -1, "height is not a non-negative"),
    "string-timestamp": (_line_with(timestamp="1"), 2, "timestamp is not an integer"),
    "empty-proposer": (_line_with(proposer=""), 2, "proposer is not a non-empty"),
    "upper-hex": (_line_with(prev_hash="AB" * 32), 2, "prev_hash is not 64"),
    "short-hash": (_line_with(block_hash="ab"), 2, "block_hash is not 64"),
    "roots-not-list": (_line_with(anchor_roots="ab"), 2, "anchor_roots is not a list"),
    "bad-root": (_line_with(anchor_roots=["xy"]), 2, "anchor_roots[0] is not 64"),
    "big-timestamp": (_line_with(timestamp=2**53), 2, "outside the safe range"),
    "nan": (_line_with(timestamp=float("nan")), None, "NaN is not an integer"),
    "duplicate-key": (
        _line_with()[:-1] + ', "height": 2}',
        None,
        "field 'height' appears twice",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_read_export_rejects_bad_line(tmp_path: Path, case: str) -> None:
    text, height, fragment = BAD_LINES[case]
    good = NODE_A.read_text("utf-8").splitlines()[:2]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([*good, text]) + "\n", encoding="utf-8")
    with pytest.raises(HeaderExportError) as caught:
        read_header_export(path)
    error = caught.value
    assert fragment in str(error)
    assert error.path == str(path)
    assert error.line == 3
    assert error.height == height
    where = "height unknown" if height is None else f"height {height}"
    assert f"{path}, line 3 ({where})" in str(error)


def test_read_export_rejects_bad_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(NODE_A.read_bytes() + b'{"proposer": "n\xe9"}\n')
    with pytest.raises(HeaderExportError, match=r"line 7 .*not a JSON object in UTF-8"):
        read_header_export(path)


def test_read_export_missing_file(tmp_path: Path) -> None:
    with pytest.raises(HeaderExportError, match="is unreadable"):
        read_header_export(tmp_path / "absent.jsonl")


# -- checking one chain ------------------------------------------------------


@pytest.mark.parametrize(("path", "top"), [(NODE_A, 5), (NODE_B, 4)])
def test_check_chain_valid(path: Path, top: int) -> None:
    report = chain(path)
    assert report.ok
    assert report.problem is None
    assert report.last_good_height == top
    assert len(report.verified) == report.total == top + 1


def test_check_chain_gap_stops_at_height_1() -> None:
    report = chain(NODE_C)
    assert not report.ok
    problem = report.problem
    assert problem is not None
    assert problem.kind == "gap"
    assert problem.height == 2
    assert problem.line == 3
    assert problem.source == NODE_C.name
    assert report.last_good_height == 1
    assert [h.height for h in report.verified] == [0, 1]
    assert report.total == 4
    message = str(problem)
    assert message.startswith("node_c_blocks_gap.jsonl, line 3: height 2 is missing")
    assert f"prev_hash {ANCESTOR_HASH} does not match the hash of block 1" in message
    assert BLOCK_1_HASH in message
    assert message.endswith("verification stops at height 1")


def test_check_chain_gap_of_several_heights(tmp_path: Path) -> None:
    bodies = export_lines(NODE_A)
    path = write_export(tmp_path / "gap.jsonl", [bodies[0], bodies[4]])
    report = check_chain(read_header_export(path), "gap.jsonl")
    assert report.problem is not None
    assert report.problem.kind == "gap"
    assert report.problem.height == 1
    assert "heights 1-3 are missing" in str(report.problem)
    assert report.last_good_height == 0


def test_check_chain_broken_link(tmp_path: Path) -> None:
    bodies = export_lines(NODE_A)
    bodies[4] = rehash({**bodies[4], "prev_hash": "cd" * 32})
    path = write_export(tmp_path / "link.jsonl", bodies)
    report = check_chain(read_header_export(path), "link.jsonl")
    assert report.problem is not None
    assert report.problem.kind == "broken-link"
    assert report.problem.height == 4
    assert report.problem.line == 5
    assert f"block 3 has hash {FORK_HASH_A}" in str(report.problem)
    assert report.last_good_height == 3


def test_check_chain_repeated_height(tmp_path: Path) -> None:
    bodies = export_lines(NODE_A)
    path = write_export(tmp_path / "repeat.jsonl", [*bodies[:3], bodies[2]])
    report = check_chain(read_header_export(path), "repeat.jsonl")
    assert report.problem is not None
    assert report.problem.kind == "out-of-order"
    assert report.problem.height == 2
    assert report.problem.line == 4
    assert report.last_good_height == 2


def test_check_chain_bad_genesis(tmp_path: Path) -> None:
    bodies = export_lines(NODE_A)
    bodies[0] = rehash({**bodies[0], "prev_hash": "11" * 32})
    path = write_export(tmp_path / "genesis.jsonl", bodies)
    report = check_chain(read_header_export(path), "genesis.jsonl")
    assert report.problem is not None
    assert report.problem.kind == "bad-genesis"
    assert report.last_good_height is None
    assert str(report.problem).endswith("no block verified")


def test_check_chain_starts_above_genesis() -> None:
    headers = read_header_export(NODE_A)[2:]
    report = check_chain(headers, "tail")
    assert report.ok
    assert report.last_good_height == 5


def test_check_chain_empty() -> None:
    report = check_chain([], "empty")
    assert report.ok
    assert report.last_good_height is None


# -- comparing chains --------------------------------------------------------


def test_compare_chains_fork_at_height_3() -> None:
    a, b = chain(NODE_A), chain(NODE_B)
    report = compare_chains(a, b)
    assert report.forked
    assert report.fork_height == 3
    assert report.hash_a == FORK_HASH_A
    assert report.hash_b == FORK_HASH_B
    assert report.ancestor_height == 2
    assert report.ancestor_hash == ANCESTOR_HASH
    assert report.shared_heights == (0, 4)


def test_compare_chains_marks_roots_unconfirmed() -> None:
    a_bodies, b_bodies = export_lines(NODE_A), export_lines(NODE_B)
    report = compare_chains(chain(NODE_A), chain(NODE_B))
    only_b = [(r.height, r.root) for r in report.only_b]
    assert only_b == [(h, b_bodies[h]["anchor_roots"][0]) for h in (3, 4)]
    only_a = [(r.height, r.root) for r in report.only_a]
    assert only_a == [(h, a_bodies[h]["anchor_roots"][0]) for h in (3, 4, 5)]
    assert {r.status for r in (*report.only_a, *report.only_b)} == {"unconfirmed"}
    assert {r.source for r in report.only_b} == {NODE_B.name}


def test_compare_chains_is_symmetric() -> None:
    report = compare_chains(chain(NODE_B), chain(NODE_A))
    assert report.fork_height == 3
    assert report.hash_a == FORK_HASH_B
    assert report.hash_b == FORK_HASH_A
    assert report.ancestor_height == 2
    assert len(report.only_a) == 2
    assert len(report.only_b) == 3


def test_compare_chains_gap_side_agrees() -> None:
    report = compare_chains(chain(NODE_A), chain(NODE_C))
    assert not report.forked
    assert report.shared_heights == (0, 1)
    assert report.only_a == ()
    assert report.only_b == ()
    text = format_fork_report(report)
    assert "no fork: both chains hold the same blocks at heights 0-1" in text
    assert "B's verified chain ends at height 1" in text
    assert "gap: node_c_blocks_gap.jsonl, line 3: height 2 is missing" in text


def test_compare_chains_fork_at_genesis(tmp_path: Path) -> None:
    bodies = export_lines(NODE_A)
    other = rehash({**bodies[0], "proposer": "node-z"})
    path = write_export(tmp_path / "z.jsonl", [other])
    report = compare_chains(chain(NODE_A), check_chain(read_header_export(path), "z"))
    assert report.fork_height == 0
    assert report.ancestor_height is None
    assert report.ancestor_hash is None
    assert "no common ancestor" in format_fork_report(report)


def test_compare_chains_no_shared_height() -> None:
    headers = read_header_export(NODE_A)
    report = compare_chains(
        check_chain(headers[:2], "low"), check_chain(headers[3:], "high")
    )
    assert not report.forked
    assert report.shared_heights is None
    assert "share no verified height" in format_fork_report(report)


def test_compare_chains_leaves_inputs_unchanged(tmp_path: Path) -> None:
    before = {p.name: p.read_bytes() for p in (NODE_A, NODE_B)}
    a, b = chain(NODE_A), chain(NODE_B)
    a_copy, b_copy = copy.deepcopy(a), copy.deepcopy(b)
    report = compare_chains(a, b)
    format_fork_report(report)
    assert a == a_copy
    assert b == b_copy
    assert report.a is a
    assert report.b is b
    assert {p.name: p.read_bytes() for p in (NODE_A, NODE_B)} == before


def test_format_fork_report_a_b() -> None:
    text = format_fork_report(compare_chains(chain(NODE_A), chain(NODE_B)))
    assert text.endswith("neither chain was changed\n")
    assert "A: node_a_blocks.jsonl: 6 blocks verified (heights 0-5)" in text
    assert "fork at height 3:" in text
    assert f"  A: {FORK_HASH_A}" in text
    assert f"  B: {FORK_HASH_B}" in text
    assert f"common ancestor: height 2, {ANCESTOR_HASH}" in text
    assert "anchor roots only in B after the fork (unconfirmed" in text
    assert "do not sync or append across the fork" in text


# -- ledger stores -----------------------------------------------------------


def _register(node: Node, title: str) -> None:
    receipt = node.act(
        "city-health",
        "catalog.register",
        {"title": title, "level": 1, "sharing": "unconditional"},
    )
    assert receipt.applied


def _restored_pair(node: Node, tmp_path: Path) -> tuple[Path, Path]:
    """Return the ledgers of two node homes that share blocks 0-1 only.

    The second home is a copy of the first at height 1, as a restore from a
    backup of that height leaves it. Each home then commits its own block 2.
    """
    _register(node, "shared")
    node.close()
    restored = NodeHome(tmp_path / "restored")
    shutil.copytree(node.home.path, restored.path)
    for home, title in ((node.home, "kept on A"), (restored, "made on B")):
        with Node(home) as opened:
            _register(opened, title)
    return node.home.ledger_path, restored.ledger_path


def test_compare_ledgers_fork_after_restore(node: Node, tmp_path: Path) -> None:
    ledger_a, ledger_b = _restored_pair(node, tmp_path)
    before = {p: p.read_bytes() for p in (ledger_a, ledger_b)}
    report = compare_ledgers(ledger_a, ledger_b)
    assert report.a.ok
    assert report.b.ok
    assert report.fork_height == 2
    assert report.ancestor_height == 1
    store_a = LedgerStore(ledger_a, readonly=True)
    store_b = LedgerStore(ledger_b, readonly=True)
    try:
        header_a, header_b = store_a.header(2), store_b.header(2)
        ancestor = store_a.header(1)
        assert header_a is not None
        assert header_b is not None
        assert ancestor is not None
        assert report.hash_a == header_a.hash
        assert report.hash_b == header_b.hash
        assert report.ancestor_hash == ancestor.hash
        assert [r.root for r in report.only_b] == [header_b.tx_root, header_b.log_root]
        assert compare_ledgers(store_a, store_b) == report
    finally:
        store_a.close()
        store_b.close()
    assert {p: p.read_bytes() for p in (ledger_a, ledger_b)} == before


def test_compare_ledgers_same_ledger(node: Node) -> None:
    _register(node, "one")
    path = node.home.ledger_path
    report = compare_ledgers(node.store, path)
    assert report.a.ok
    assert not report.forked
    assert report.shared_heights == (0, 1)


def test_compare_ledgers_missing_block(node: Node, tmp_path: Path) -> None:
    for title in ("one", "two"):
        _register(node, title)
    node.close()
    damaged = tmp_path / "damaged.sqlite"
    shutil.copyfile(node.home.ledger_path, damaged)
    with sqlite3.connect(damaged) as db:
        db.execute("DELETE FROM blocks WHERE height = 1")
    report = compare_ledgers(node.home.ledger_path, damaged)
    assert report.b.problem is not None
    assert report.b.problem.kind == "gap"
    assert report.b.problem.height == 1
    assert report.b.problem.line is None
    assert report.b.last_good_height == 0
    assert not report.forked


def test_compare_ledgers_stated_hash_differs(node: Node, tmp_path: Path) -> None:
    _register(node, "one")
    node.close()
    damaged = tmp_path / "damaged.sqlite"
    shutil.copyfile(node.home.ledger_path, damaged)
    with sqlite3.connect(damaged) as db:
        db.execute("UPDATE blocks SET hash = ? WHERE height = 1", ("ef" * 32,))
    report = compare_ledgers(damaged, node.home.ledger_path)
    assert report.a.problem is not None
    assert report.a.problem.kind == "hash-mismatch"
    assert report.a.problem.height == 1
    assert report.a.last_good_height == 0


def test_compare_ledgers_malformed_header(node: Node, tmp_path: Path) -> None:
    _register(node, "one")
    node.close()
    damaged = tmp_path / "damaged.sqlite"
    shutil.copyfile(node.home.ledger_path, damaged)
    with sqlite3.connect(damaged) as db:
        db.execute("UPDATE blocks SET header = ? WHERE height = 1", (b"{}",))
    report = compare_ledgers(node.home.ledger_path, damaged)
    assert report.b.problem is not None
    assert report.b.problem.kind == "malformed"
    assert report.b.problem.height == 1
    assert report.b.last_good_height == 0
