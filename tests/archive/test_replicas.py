"""Replica locations that are full or read-only: a clear error, nothing anchored.

A full and a read-only location are made real with small tmpfs mounts, which
needs root (CAP_SYS_ADMIN). Without root a read-only directory is made with
chmod instead, and the full-disk case is skipped because an unprivileged user
cannot make a small file system here.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.archive.conftest import write_meta

from govchain.archive import Archive, ReplicaError
from govchain.archive._handlers import BATCH_NS
from govchain.errors import ConfigError
from govchain.node import Node


def _mount(target: Path, options: str) -> bool:
    target.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@pytest.fixture
def mounts(tmp_path: Path) -> Iterator[list[Path]]:
    mounted: list[Path] = []
    yield mounted
    for path in mounted:
        subprocess.run(["umount", str(path)], check=False)


def _configure(node: Node, second: Path) -> None:
    (node.home.path / "archive.toml").write_text(
        '[[replicas]]\nname = "main"\npath = "archive/main"\n'
        f'[[replicas]]\nname = "second"\npath = "{second}"\n',
        "utf-8",
    )


def _files(tmp_path: Path, size: int) -> tuple[Path, Path]:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a").write_bytes(b"x" * size)
    meta = write_meta(
        tmp_path / "m.csv", [["a", "F", "V", "1", "t", "2020", "10y", "public"]]
    )
    return tmp_path / "d", meta


def test_replica_full_nothing_anchored(
    node: Node, tmp_path: Path, mounts: list[Path]
) -> None:
    second = tmp_path / "small"
    if not _mount(second, "size=64k"):
        pytest.skip("a full file system needs a tmpfs mount, which needs root")
    mounts.append(second)
    _configure(node, second)
    source, meta = _files(tmp_path, 200_000)
    with Archive(node.home) as archive:
        with pytest.raises(ReplicaError, match=r"replica second .* is full"):
            archive.ingest(node, [source], meta)
        assert archive.index.count_items() == 0
    assert list(node.store.scan(BATCH_NS)) == []
    assert not list((tmp_path / "small").rglob("*.pack"))


def test_replica_read_only_nothing_anchored(
    node: Node, tmp_path: Path, mounts: list[Path]
) -> None:
    second = tmp_path / "ro"
    if _mount(second, "ro,size=64k"):
        mounts.append(second)
    elif os.geteuid() != 0:
        second.chmod(0o500)
    else:
        pytest.skip("root ignores chmod and the read-only tmpfs mount failed")
    _configure(node, second)
    source, meta = _files(tmp_path, 100)
    with Archive(node.home) as archive:
        with pytest.raises(ReplicaError, match=r"replica second .* is not writable"):
            archive.ingest(node, [source], meta)
        assert archive.index.count_items() == 0
    assert list(node.store.scan(BATCH_NS)) == []


def test_replica_config_duplicate_path_rejected(node: Node) -> None:
    (node.home.path / "archive.toml").write_text(
        '[[replicas]]\nname = "a"\npath = "x"\n[[replicas]]\nname = "b"\npath = "x"\n',
        "utf-8",
    )
    with pytest.raises(ConfigError, match="two replicas share a name or a path"):
        Archive(node.home)


def test_replica_config_unknown_department(node: Node) -> None:
    (node.home.path / "archive.toml").write_text('department = "nobody"\n', "utf-8")
    with pytest.raises(ConfigError, match="department 'nobody' is not hosted"):
        Archive(node.home)


def test_replica_full_removes_batch_pack(
    node: Node, tmp_path: Path, mounts: list[Path]
) -> None:
    second = tmp_path / "small"
    if not _mount(second, "size=256k"):
        pytest.skip("a full file system needs a tmpfs mount, which needs root")
    mounts.append(second)
    _configure(node, second)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "small").write_bytes(b"small file")
    (tmp_path / "d" / "large").write_bytes(b"L" * (2 << 20))
    meta = write_meta(
        tmp_path / "m.csv",
        [
            ["small", "F", "V", "1", "t", "2020", "10y", "public"],
            ["large", "F", "V", "2", "t", "2020", "10y", "public"],
        ],
    )
    with Archive(node.home) as archive:
        with pytest.raises(ReplicaError, match=r"replica second .* is full"):
            archive.ingest(node, [tmp_path / "d"], meta)
        main = archive.config.replicas[0].path
    assert list(main.rglob("*.pack")) == []
    assert list(second.rglob("*.pack")) == []
    assert [p for p in main.rglob("*") if p.is_file()] == []
    assert list(node.store.scan(BATCH_NS)) == []
