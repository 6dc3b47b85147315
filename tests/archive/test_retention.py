"""Appraisal and disposal: the ledger checks retention and records each disposal."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from govchain.archive import Archive, appraisal, dispose
from govchain.archive._handlers import DISPOSAL_NS
from govchain.archive.store import pack_path
from govchain.errors import ValidationError
from govchain.node import Node


def test_appraisal_lists_expired(
    node: Node, archive: Archive, folder: tuple[Path, Path]
) -> None:
    archive.ingest(node, [folder[0]], folder[1])
    assert [r["item"] for r in appraisal(archive, dt.date(2024, 12, 31))] == []
    due = appraisal(archive, dt.date(2025, 1, 1))
    assert [r["item"] for r in due] == ["F01/V1/1"]
    later = appraisal(archive, dt.date(2051, 1, 1))
    assert [r["item"] for r in later] == ["F01/V1/1", "F01/V2/1"]


def test_dispose_records_and_erases(
    node: Node, archive: Archive, folder: tuple[Path, Path]
) -> None:
    archive.ingest(node, [folder[0]], folder[1])
    row = archive.item("F01/V1/1")
    ref = archive.index.object(row.sha256)
    assert ref is not None and ref.pack is not None
    done = dispose(archive, node, "F01/V1/1", "鉴定-2026-3")
    assert done["erased"]
    records = list(node.store.scan(DISPOSAL_NS))
    assert len(records) == 1
    assert records[0][1]["sha256"] == row.sha256
    assert records[0][1]["approval"] == "鉴定-2026-3"
    assert archive.item("F01/V1/1").status == "disposed"
    data = pack_path(archive.config.replicas[0], ref.pack).read_bytes()
    assert data[ref.offset : ref.offset + ref.size] == bytes(ref.size)
    report, _ = archive.audit(node, repair=False)
    assert report.result == "intact"
    assert report.items == 2


def test_dispose_before_retention_rejected(
    node: Node, archive: Archive, folder: tuple[Path, Path]
) -> None:
    archive.ingest(node, [folder[0]], folder[1])
    with pytest.raises(ValidationError, match="retention period runs until 2051-01-01"):
        dispose(archive, node, "F01/V2/1", "A-1")
    assert archive.item("F01/V2/1").status == "anchored"
    assert list(node.store.scan(DISPOSAL_NS)) == []


def test_dispose_permanent_rejected(
    node: Node, archive: Archive, folder: tuple[Path, Path]
) -> None:
    archive.ingest(node, [folder[0]], folder[1])
    with pytest.raises(ValidationError, match="kept permanently"):
        dispose(archive, node, "F01/V1/2", "A-1")


def test_dispose_forged_leaf_rejected(
    node: Node, archive: Archive, folder: tuple[Path, Path]
) -> None:
    archive.ingest(node, [folder[0]], folder[1])
    row = archive.item("F01/V2/1")
    batch = archive.index.batch(row.batch_seq)
    forged = {**row.leaf.to_dict(), "retain_until": "2020-01-01"}
    receipt = node.act(
        "city-bdb",
        "archive.dispose",
        {
            "batch": batch["ledger_id"],
            "leaf_index": row.leaf_index,
            "leaf": forged,
            "proof": [
                row.proof[i : i + 32].hex() for i in range(0, len(row.proof), 32)
            ],
            "approval": "A-1",
        },
    )
    assert receipt.status == "rejected"
    assert receipt.reason == "bad-proof"


def test_dispose_other_department_rejected(
    node: Node, archive: Archive, folder: tuple[Path, Path]
) -> None:
    archive.ingest(node, [folder[0]], folder[1])
    row = archive.item("F01/V1/1")
    batch = archive.index.batch(row.batch_seq)
    receipt = node.act(
        "city-health",
        "archive.dispose",
        {
            "batch": batch["ledger_id"],
            "leaf_index": row.leaf_index,
            "leaf": row.leaf.to_dict(),
            "proof": [
                row.proof[i : i + 32].hex() for i in range(0, len(row.proof), 32)
            ],
            "approval": "A-1",
        },
    )
    assert receipt.status == "rejected"
    assert receipt.reason == "not-owner"
