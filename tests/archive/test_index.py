"""The archive index file: a damaged one is named, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from govchain.archive.index import ArchiveIndex
from govchain.errors import IntegrityError


def test_index_damaged_file_named(tmp_path: Path) -> None:
    path = tmp_path / "archive" / "index.sqlite"
    path.parent.mkdir()
    path.write_bytes(b"garbage that is not an SQLite file\n" * 4)
    with pytest.raises(IntegrityError, match="restore it from a backup") as caught:
        ArchiveIndex(path)
    assert str(path) in str(caught.value)


def test_index_created_when_missing(tmp_path: Path) -> None:
    index = ArchiveIndex(tmp_path / "archive" / "index.sqlite")
    try:
        assert index.object("0" * 64) is None
    finally:
        index.close()
