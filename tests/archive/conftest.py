"""Fixtures of the archive tests: a node, an archive and a few small files."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from govchain.archive import Archive
from govchain.node import Node

HEADER = [
    "path",
    "fonds",
    "volume",
    "item",
    "title",
    "date",
    "retention",
    "classification",
]


def write_meta(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


@pytest.fixture
def archive(node: Node) -> Iterator[Archive]:
    opened = Archive(node.home)
    try:
        yield opened
    finally:
        opened.close()


def make_folder(base: Path) -> tuple[Path, Path]:
    """Write a folder of three files (one large) and its metadata file."""
    root = base / "in"
    (root / "v1").mkdir(parents=True)
    (root / "v1" / "a.txt").write_bytes(b"first item\n")
    (root / "v1" / "b.txt").write_bytes(b"second item\n")
    (root / "big.bin").write_bytes(bytes(range(256)) * 8192)
    meta = write_meta(
        base / "meta.csv",
        [
            [
                "v1/a.txt",
                "F01",
                "V1",
                "1",
                "婚姻登记 张三",
                "2014-05-03",
                "10y",
                "internal",
            ],
            ["v1/b.txt", "F01", "V1", "2", "second", "2015", "永久", "公开"],
            ["big.bin", "F01", "V2", "1", "scan", "2020-01", "30年", "public"],
        ],
    )
    return root, meta


@pytest.fixture
def folder(tmp_path: Path) -> tuple[Path, Path]:
    return make_folder(tmp_path)
