"""Temporary files of the dataset store: unique per write, stale ones removed."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from govchain.datasets import STALE_TEMPORARY_SECONDS, Dataset, DatasetStore

DATASET = Dataset(
    fields=[{"name": "code", "type": "string"}],
    rows=[["0501010019"], ["0501010020"]],
)


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_stale_temporary_removed_on_open(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A process killed between creating and renaming a file leaves this.
    folder = tmp_path / "objects" / "74"
    folder.mkdir(parents=True)
    stale = folder / f"{'74' + '4a' * 31}.json.tmp"
    stale.touch()
    _age(stale, STALE_TEMPORARY_SECONDS + 60)
    blob = tmp_path / "objects" / "reports" / "ab12.json.tmp"
    blob.parent.mkdir()
    blob.write_bytes(b"{")
    _age(blob, STALE_TEMPORARY_SECONDS + 60)
    with caplog.at_level(logging.INFO, logger="govchain.datasets"):
        DatasetStore(tmp_path / "objects")
    assert not stale.exists()
    assert not blob.exists()
    messages = [record.getMessage() for record in caplog.records]
    assert any("removed 2 stale temporary files" in text for text in messages)


def test_recent_temporary_kept_on_open(tmp_path: Path) -> None:
    # Another process may still be writing it.
    folder = tmp_path / "objects" / "74"
    folder.mkdir(parents=True)
    recent = folder / "74aa.json.tmp"
    recent.touch()
    DatasetStore(tmp_path / "objects")
    assert recent.exists()


def test_stored_file_kept_on_open(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "objects")
    content_hash = store.put(DATASET)
    stored = next((tmp_path / "objects").rglob(f"{content_hash}.json"))
    _age(stored, STALE_TEMPORARY_SECONDS + 60)
    reopened = DatasetStore(tmp_path / "objects")
    assert reopened.get(content_hash) == DATASET


def test_put_leaves_no_temporary(tmp_path: Path) -> None:
    store = DatasetStore(tmp_path / "objects")
    content_hash = store.put(DATASET)
    digest = store.put_blob("reports", b"{}")
    names = sorted(path.name for path in (tmp_path / "objects").rglob("*.*"))
    assert names == sorted([f"{content_hash}.json", f"{digest}.json"])
    # Datasets hold personal data, so only the node's user may read them.
    for path in (tmp_path / "objects").rglob("*.json"):
        assert path.stat().st_mode & 0o777 == 0o600


def test_put_temporary_name_unique(tmp_path: Path) -> None:
    # Two processes storing the same dataset must not write one temporary
    # file, or the second rename fails.
    store = DatasetStore(tmp_path / "objects")
    path = store._path(DATASET.content_hash)
    path.parent.mkdir(parents=True)
    fixed = path.with_suffix(".tmp")
    fixed.write_bytes(b"partial")
    store.put(DATASET)
    assert fixed.read_bytes() == b"partial"
    assert store.get(DATASET.content_hash) == DATASET
