"""Fixity audits on real replicas: altered, missing and lost copies, repair."""

from __future__ import annotations

from pathlib import Path

from govchain.archive import Archive
from govchain.archive._handlers import AUDIT_NS
from govchain.archive.store import loose_path, pack_path
from govchain.node import Node


def _pack_of(archive: Archive, reference: str) -> tuple[str, int]:
    ref = archive.index.object(archive.item(reference).sha256)
    assert ref is not None and ref.pack is not None
    return ref.pack, ref.offset


def test_audit_intact_recorded(
    node: Node, archive: Archive, folder: tuple[Path, Path]
) -> None:
    archive.ingest(node, [folder[0]], folder[1])
    report, audit_id = archive.audit(node, repair=False)
    assert report.result == "intact"
    assert report.ok
    assert report.counts()["copies"] == 6
    record = node.store.get(AUDIT_NS, str(audit_id))
    assert record is not None
    assert record["result"] == "intact"
    assert record["intact"] == 6


def test_audit_finds_altered_pack_copy(
    node: Node, archive: Archive, folder: tuple[Path, Path]
) -> None:
    archive.ingest(node, [folder[0]], folder[1])
    pack, offset = _pack_of(archive, "F01/V1/1")
    path = pack_path(archive.config.replicas[1], pack)
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    report, _ = archive.audit(node, repair=False)
    assert report.result == "damaged"
    assert not report.ok
    assert report.damaged() == [("r2", archive.item("F01/V1/1").sha256, "altered")]


def test_audit_repairs_pack_and_loose(
    node: Node, archive: Archive, folder: tuple[Path, Path]
) -> None:
    archive.ingest(node, [folder[0]], folder[1])
    pack, _offset = _pack_of(archive, "F01/V1/1")
    pack_path(archive.config.replicas[0], pack).unlink()
    big = archive.item("F01/V2/1").sha256
    loose_path(archive.config.replicas[1], big).write_bytes(b"damaged")
    report, audit_id = archive.audit(node, repair=True)
    assert report.result == "repaired"
    assert report.ok
    assert report.counts()["repaired"] == 3
    again, _ = archive.audit(node, repair=False)
    assert again.result == "intact"
    record = node.store.get(AUDIT_NS, str(audit_id))
    assert record is not None
    assert record["repaired"] == 3


def test_audit_reports_lost_item(
    node: Node, archive: Archive, folder: tuple[Path, Path]
) -> None:
    archive.ingest(node, [folder[0]], folder[1])
    big = archive.item("F01/V2/1").sha256
    for replica in archive.config.replicas:
        loose_path(replica, big).write_bytes(b"gone bad")
    report, audit_id = archive.audit(node, repair=True)
    assert report.result == "lost"
    assert not report.ok
    assert report.lost_items == ["F01/V2/1"]
    record = node.store.get(AUDIT_NS, str(audit_id))
    assert record is not None
    assert record["lost_objects"] == [big]


def test_audit_fills_new_empty_replica(
    node: Node, folder: tuple[Path, Path], tmp_path: Path
) -> None:
    with Archive(node.home) as archive:
        archive.ingest(node, [folder[0]], folder[1])
    (node.home.path / "archive.toml").write_text(
        '[[replicas]]\nname = "r1"\npath = "archive/replicas/r1"\n'
        '[[replicas]]\nname = "r2"\npath = "archive/replicas/r2"\n'
        f'[[replicas]]\nname = "new"\npath = "{tmp_path / "new"}"\n',
        "utf-8",
    )
    with Archive(node.home) as archive:
        report, _ = archive.audit(node, repair=True)
        assert report.counts()["missing"] == 3
        assert report.result == "repaired"
        assert archive.audit(node, repair=False)[0].result == "intact"
