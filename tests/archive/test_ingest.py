"""Ingest and anchoring on a real node: stored copies, batches, proofs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.archive.conftest import write_meta

from govchain.archive import Archive, verify_item_proof
from govchain.archive._handlers import BATCH_NS
from govchain.archive.anchoring import file_sha256, level_proof, tree_levels
from govchain.archive.store import loose_path, pack_path
from govchain.errors import ValidationError, VerificationError
from govchain.evidence import read_trust_file
from govchain.evidence.keys import trust_file_text
from govchain.ledger import merkle
from govchain.node import Node


def _trust(node: Node, tmp_path: Path) -> Path:
    path = tmp_path / "trust.txt"
    path.write_text(trust_file_text(node.store), "utf-8")
    return path


def test_ingest_stores_every_replica(
    node: Node, archive: Archive, folder: tuple[Path, Path]
) -> None:
    root, meta = folder
    report = archive.ingest(node, [root], meta)
    assert report.items == 3
    assert len(report.batches) == 1
    row = archive.item("F01/V1/1")
    ref = archive.index.object(row.sha256)
    assert ref is not None and ref.pack is not None
    big = archive.item("F01/V2/1")
    for replica in archive.config.replicas:
        assert pack_path(replica, ref.pack).exists()
        assert loose_path(replica, big.sha256).exists()
    batch = node.store.get(BATCH_NS, report.batches[0])
    assert batch is not None
    assert batch["size"] == 3


def test_ingest_twice_stores_once(
    node: Node, archive: Archive, folder: tuple[Path, Path]
) -> None:
    root, meta = folder
    archive.ingest(node, [root], meta)
    again = archive.ingest(node, [root], meta)
    assert again.items == 0
    assert again.skipped == 3
    assert again.batches == []


def test_ingest_same_bytes_one_object(
    node: Node, archive: Archive, tmp_path: Path
) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "a").write_bytes(b"same")
    (tmp_path / "x" / "b").write_bytes(b"same")
    meta = write_meta(
        tmp_path / "m.csv",
        [
            ["a", "F", "V", "1", "t", "2020", "10y", "public"],
            ["b", "F", "V", "2", "t", "2020", "10y", "public"],
        ],
    )
    report = archive.ingest(node, [tmp_path / "x"], meta)
    assert report.items == 2
    assert report.new_objects == 1


def test_ingest_reference_conflict_rejected(
    node: Node, archive: Archive, folder: tuple[Path, Path], tmp_path: Path
) -> None:
    root, meta = folder
    archive.ingest(node, [root], meta)
    other = tmp_path / "other.txt"
    other.write_bytes(b"different bytes")
    meta2 = write_meta(
        tmp_path / "m2.csv",
        [["other.txt", "F01", "V1", "1", "x", "2020", "10y", "public"]],
    )
    with pytest.raises(ValidationError, match="F01/V1/1 is already archived"):
        archive.ingest(node, [other], meta2)


def test_ingest_missing_metadata_names_file(
    node: Node, archive: Archive, folder: tuple[Path, Path], tmp_path: Path
) -> None:
    root, _meta = folder
    meta = write_meta(
        tmp_path / "m.csv",
        [["v1/a.txt", "F01", "V1", "1", "x", "2020", "10y", "public"]],
    )
    with pytest.raises(ValidationError, match=r"big.bin has no metadata row \(2 files"):
        archive.ingest(node, [root], meta)
    assert archive.index.count_items() == 0


def test_ingest_unreadable_file_anchors_nothing(
    node: Node, archive: Archive, tmp_path: Path
) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "ok").write_bytes(b"ok")
    # A dangling symbolic link is unreadable for root too.
    (tmp_path / "d" / "gone").symlink_to(tmp_path / "nowhere")
    meta = write_meta(
        tmp_path / "m.csv",
        [
            ["ok", "F", "V", "1", "t", "2020", "10y", "public"],
            ["gone", "F", "V", "2", "t", "2020", "10y", "public"],
        ],
    )
    with pytest.raises(ValidationError, match="gone is unreadable"):
        archive.ingest(node, [tmp_path / "d"], meta)
    assert archive.index.count_items() == 0
    assert list(node.store.scan(BATCH_NS)) == []


def test_batches_split_by_size(node: Node, tmp_path: Path) -> None:
    (node.home.path / "archive.toml").write_text("batch_size = 2\n", "utf-8")
    (tmp_path / "d").mkdir()
    rows = []
    for i in range(5):
        (tmp_path / "d" / f"f{i}").write_bytes(f"file {i}".encode())
        rows.append([f"f{i}", "F", "V", str(i), "t", "2020", "10y", "public"])
    meta = write_meta(tmp_path / "m.csv", rows)
    with Archive(node.home) as archive:
        report = archive.ingest(node, [tmp_path / "d"], meta)
    assert len(report.batches) == 3
    assert [node.store.get(BATCH_NS, b)["size"] for b in report.batches] == [2, 2, 1]  # type: ignore[index]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 13])
def test_level_proof_matches_ledger_merkle(size: int) -> None:
    leaves = [merkle.hash_leaf(bytes([i])) for i in range(size)]
    levels = tree_levels(leaves)
    assert levels[-1][0] == merkle.root_from_leaf_hashes(leaves)
    reference = merkle.MemoryNodeStore(leaves)
    for index in range(size):
        assert level_proof(levels, index) == merkle.inclusion_proof(
            reference, index, size
        )


def test_item_proof_verifies(
    node: Node, archive: Archive, folder: tuple[Path, Path], tmp_path: Path
) -> None:
    root, meta = folder
    archive.ingest(node, [root], meta)
    proof = archive.proof(node.store, "F01/V1/2")
    trusted = read_trust_file(_trust(node, tmp_path))
    digest, _size = file_sha256(root / "v1" / "b.txt")
    result = verify_item_proof(json.loads(json.dumps(proof)), digest, trusted)
    assert result["item"] == "F01/V1/2"
    assert result["retain_until"] == "permanent"


def test_item_proof_other_file_rejected(
    node: Node, archive: Archive, folder: tuple[Path, Path], tmp_path: Path
) -> None:
    root, meta = folder
    archive.ingest(node, [root], meta)
    proof = archive.proof(node.store, "F01/V1/2")
    trusted = read_trust_file(_trust(node, tmp_path))
    digest, _size = file_sha256(root / "v1" / "a.txt")
    with pytest.raises(VerificationError, match="differs from the anchored"):
        verify_item_proof(proof, digest, trusted)


def test_item_proof_changed_metadata_rejected(
    node: Node, archive: Archive, folder: tuple[Path, Path], tmp_path: Path
) -> None:
    root, meta = folder
    archive.ingest(node, [root], meta)
    proof = archive.proof(node.store, "F01/V1/2")
    proof["metadata"]["title"] = "another title"
    trusted = read_trust_file(_trust(node, tmp_path))
    digest, _size = file_sha256(root / "v1" / "b.txt")
    with pytest.raises(VerificationError, match="description was changed"):
        verify_item_proof(proof, digest, trusted)


def test_item_proof_other_checkpoint_rejected(
    node: Node, archive: Archive, folder: tuple[Path, Path], tmp_path: Path
) -> None:
    root, meta = folder
    archive.ingest(node, [root], meta)
    proof = archive.proof(node.store, "F01/V1/2")
    node.act("city-bdb", "archive.anchor", {"root": "ab" * 32, "size": 1})
    latest = node.store.latest_checkpoint()
    assert latest is not None
    trusted = read_trust_file(_trust(node, tmp_path))
    digest, _size = file_sha256(root / "v1" / "b.txt")
    with pytest.raises(VerificationError, match="the proof is for the checkpoint"):
        verify_item_proof(proof, digest, trusted, checkpoint=latest[1])


def test_ingest_finishes_interrupted_batch(
    node: Node,
    archive: Archive,
    folder: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, meta = folder

    # A crash after the batch is stored and indexed, before the anchor is
    # submitted, is simulated by making the submission fail once.
    def crash(tx: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(node, "submit_one", crash)
        with pytest.raises(KeyboardInterrupt):
            archive.ingest(node, [root], meta)
    assert archive.item("F01/V1/1").status == "pending"
    assert list(node.store.scan(BATCH_NS)) == []
    again = archive.ingest(node, [root], meta)
    assert again.skipped == 3
    assert archive.item("F01/V1/1").status == "anchored"
    batches = list(node.store.scan(BATCH_NS))
    assert len(batches) == 1
    assert batches[0][1]["size"] == 3
