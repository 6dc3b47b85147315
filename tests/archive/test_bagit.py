"""BagIt reading and writing (RFC 8493), and offline checks of exported bags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from govchain.archive import Archive
from govchain.archive.bagit import BagError, read_bag, write_manifests
from govchain.errors import ValidationError, VerificationError
from govchain.evidence import read_trust_file
from govchain.evidence.archive_bag import verify_archive_bag
from govchain.evidence.keys import trust_file_text
from govchain.node import Node


def _bag(tmp_path: Path) -> Path:
    bag = tmp_path / "bag"
    (bag / "data" / "sub").mkdir(parents=True)
    (bag / "data" / "a.txt").write_bytes(b"alpha")
    (bag / "data" / "sub" / "b 100%.txt").write_bytes(b"beta")
    write_manifests(bag, [("Source-Organization", "test")])
    return bag


def test_bag_round_trip(tmp_path: Path) -> None:
    bag = read_bag(_bag(tmp_path))
    assert sorted(bag.payload) == ["a.txt", "sub/b 100%.txt"]
    assert bag.info["Payload-Oxum"] == ["9.2"]
    manifest = (tmp_path / "bag" / "manifest-sha256.txt").read_text("utf-8")
    assert "  data/sub/b 100%25.txt\n" in manifest


def test_bag_unlisted_file_rejected(tmp_path: Path) -> None:
    bag = _bag(tmp_path)
    (bag / "data" / "extra.txt").write_bytes(b"x")
    with pytest.raises(BagError, match=r"payload file data/extra\.txt is not listed"):
        read_bag(bag)


def test_bag_missing_file_rejected(tmp_path: Path) -> None:
    bag = _bag(tmp_path)
    (bag / "data" / "a.txt").unlink()
    with pytest.raises(BagError, match=r"listed file data/a\.txt is missing"):
        read_bag(bag)


def test_bag_wrong_oxum_rejected(tmp_path: Path) -> None:
    bag = _bag(tmp_path)
    info = bag / "bag-info.txt"
    info.write_text(info.read_text().replace("9.2", "10.2"))
    write_tag_manifest = bag / "tagmanifest-sha256.txt"
    write_tag_manifest.unlink()
    with pytest.raises(BagError, match="Payload-Oxum lists 10 bytes in 2 files"):
        read_bag(bag)


def test_bag_path_escape_rejected(tmp_path: Path) -> None:
    bag = _bag(tmp_path)
    manifest = bag / "manifest-sha256.txt"
    manifest.write_text(manifest.read_text() + "0" * 64 + "  data/../../etc/passwd\n")
    with pytest.raises(BagError, match="line 3: path leaves the bag"):
        read_bag(bag)


def test_bag_without_manifest_rejected(tmp_path: Path) -> None:
    bag = _bag(tmp_path)
    (bag / "manifest-sha256.txt").unlink()
    with pytest.raises(BagError, match=r"has no manifest-sha256\.txt"):
        read_bag(bag)


def test_exported_bag_rebuilt_manifest_fails(
    node: Node, archive: Archive, folder: tuple[Path, Path], tmp_path: Path
) -> None:
    archive.ingest(node, [folder[0]], folder[1])
    bag = tmp_path / "out"
    archive.export(node.store, "F01/V1", bag)
    trust = tmp_path / "trust.txt"
    trust.write_text(trust_file_text(node.store), "utf-8")
    trusted = read_trust_file(trust)
    assert verify_archive_bag(bag, trusted)["items"] == ["F01/V1/1", "F01/V1/2"]
    # A forger who also rewrites the manifests is caught by the anchored hash.
    next((bag / "data").rglob("b.txt")).write_bytes(b"forged\n")
    for name in ("manifest-sha256.txt", "tagmanifest-sha256.txt", "bag-info.txt"):
        (bag / name).unlink()
    write_manifests(bag, [("Source-Organization", "forger")])
    with pytest.raises(VerificationError, match="item 2 \\(F01/V1/2\\): file SHA-256"):
        verify_archive_bag(bag, trusted)


def test_exported_bag_changed_metadata_fails(
    node: Node, archive: Archive, folder: tuple[Path, Path], tmp_path: Path
) -> None:
    archive.ingest(node, [folder[0]], folder[1])
    bag = tmp_path / "out"
    archive.export(node.store, "F01/V1/1", bag)
    items = bag / "govchain" / "items.json"
    document = json.loads(items.read_text("utf-8"))
    document["items"][0]["metadata"]["classification"] = "public"
    items.write_text(json.dumps(document), "utf-8")
    for name in ("manifest-sha256.txt", "tagmanifest-sha256.txt", "bag-info.txt"):
        (bag / name).unlink()
    write_manifests(bag, [])
    trust = tmp_path / "trust.txt"
    trust.write_text(trust_file_text(node.store), "utf-8")
    with pytest.raises(VerificationError, match="description was changed"):
        verify_archive_bag(bag, read_trust_file(trust))


def test_export_into_non_empty_dir_rejected(
    node: Node, archive: Archive, folder: tuple[Path, Path], tmp_path: Path
) -> None:
    archive.ingest(node, [folder[0]], folder[1])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_bytes(b"keep")
    with pytest.raises(ValidationError, match="is not empty"):
        archive.export(node.store, "F01/V1", tmp_path / "out")
    assert (tmp_path / "out" / "keep.txt").exists()


def test_bag_symlink_rejected(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_bytes(b"not for the archive")
    bag = _bag(tmp_path)
    (bag / "data" / "link.txt").symlink_to(outside)
    with pytest.raises(BagError, match=r"data/link\.txt is a symbolic link"):
        read_bag(bag)
