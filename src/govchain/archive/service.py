"""The archive of one node home: ingest, search, proofs, export, audit, disposal.

`Archive` ties the settings, the index, the replicas and the ledger together.
Reads (search, proofs, export) need only the ledger store; writes (ingest,
audit records, disposal) need the `Node`, which signs as the archive's
department.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govchain.archive import anchoring
from govchain.archive.audit import AuditReport, record_audit, run_audit
from govchain.archive.bagit import write_manifests
from govchain.archive.config import ArchiveConfig, load_config
from govchain.archive.index import ArchiveIndex, ItemRow
from govchain.archive.ingest import BAG_ITEMS, Ingester, IngestReport, collect_sources
from govchain.archive.store import ObjectStore
from govchain.errors import ValidationError
from govchain.evidence.bundle import export_bundle
from govchain.evidence.keys import ledger_keys, trust_file_text
from govchain.ledger.store import LedgerStore
from govchain.node import Node, NodeHome

logger = logging.getLogger(__name__)

BAG_FORMAT = "govchain-archive-bag/v1"


@dataclass(frozen=True)
class SearchQuery:
    """Filters of an archive search; empty values match everything."""

    keyword: str = ""
    fonds: str = ""
    volume: str = ""
    classification: str = ""
    date_from: str = ""
    date_to: str = ""
    include_disposed: bool = False


def _matches(row: ItemRow, query: SearchQuery) -> bool:
    meta = row.metadata
    checks = (
        (query.fonds, meta["fonds"]),
        (query.volume, meta["volume"]),
        (query.classification, meta["classification"]),
    )
    if any(wanted and wanted != value for wanted, value in checks):
        return False
    if query.date_from and meta["date"] < query.date_from:
        return False
    if query.date_to and meta["date"][: len(query.date_to)] > query.date_to:
        return False
    if query.keyword:
        needle = query.keyword.casefold()
        text = " ".join(
            (
                meta["title"],
                meta["creator"],
                meta["description"],
                row.reference,
                row.name,
            )
        )
        return needle in text.casefold()
    return True


class Archive:
    """The archive of a node home."""

    def __init__(self, home: NodeHome, config: ArchiveConfig | None = None) -> None:
        self.home = home
        self.config = config or load_config(home)
        self.index = ArchiveIndex(self.config.index_path)
        self.store = ObjectStore(self.config.replicas)

    def close(self) -> None:
        self.index.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------

    def ingest(
        self,
        node: Node,
        paths: list[Path],
        meta_file: Path | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> IngestReport:
        """Store and anchor files, folders or bags with their metadata."""
        sources = collect_sources(paths, meta_file)
        report = Ingester(node, self.config, self.index).ingest(sources, progress)
        logger.info(
            "ingest done: %d items in %d batches, %d already archived",
            report.items,
            len(report.batches),
            report.skipped,
        )
        return report

    def audit(
        self,
        node: Node | None,
        *,
        repair: bool,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[AuditReport, str | None]:
        """Run a fixity audit; with a node, record it on the ledger too."""
        report = run_audit(self.config, self.index, repair=repair, progress=progress)
        audit_id = None
        if node is not None:
            audit_id, _path = record_audit(node, self.config, self.index, report)
        return report, audit_id

    # -- reading -------------------------------------------------------------

    def item(self, reference: str) -> ItemRow:
        row = self.index.item(reference)
        if row is None:
            raise ValidationError(
                f"item {reference} is not in the archive; find references with "
                "`govchain archive search`",
                reason="not-found",
            )
        return row

    def search(self, query: SearchQuery, *, limit: int = 100) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for row in self.index.all_items(include_disposed=query.include_disposed):
            if _matches(row, query):
                found.append(row.summary())
                if len(found) >= limit:
                    break
        return found

    def proof(self, ledger: LedgerStore, reference: str) -> dict[str, Any]:
        """Build the self-contained proof of an anchored item."""
        return self._proof(ledger, self.item(reference), {})

    def _proof(
        self, ledger: LedgerStore, row: ItemRow, anchors: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        if row.status == "disposed":
            raise ValidationError(
                f"item {row.reference} was disposed of and its files erased; the "
                "disposal is on the ledger (`govchain audit`)",
                reason="disposed",
            )
        if row.status != "anchored":
            raise ValidationError(
                f"item {row.reference} is {row.status}, not anchored; run "
                "`govchain archive ingest` again to finish its batch",
                reason="not-anchored",
            )
        batch = self.index.batch(row.batch_seq)
        tx_id = str(batch["tx_id"])
        if tx_id not in anchors:
            anchors[tx_id] = export_bundle(ledger, tx_id, ledger_keys(ledger))
        return anchoring.item_proof(
            reference=row.reference,
            metadata=row.metadata,
            leaf=row.leaf,
            leaf_index=row.leaf_index,
            batch_size=int(batch["size"]),
            proof=anchoring.unpack_proof(row.proof),
            anchor=anchors[tx_id],
        )

    def select(self, target: str) -> list[ItemRow]:
        """Return the item `fonds/volume/item`, or every item of `fonds/volume`."""
        parts = target.strip("/").split("/")
        if len(parts) == 3:
            return [self.item(target.strip("/"))]
        if len(parts) == 2:
            rows = [r for r in self.index.volume(*parts) if r.status != "disposed"]
            if rows:
                return rows
        raise ValidationError(
            f"{target!r} names no item (fonds/volume/item) or volume (fonds/volume) "
            "in the archive",
            reason="not-found",
        )

    def export(self, ledger: LedgerStore, target: str, out: Path) -> dict[str, Any]:
        """Write an item or a volume as a BagIt bag with its evidence at `out`.

        Each payload file is copied from the first replica whose copy is
        intact. Raises `ValidationError` when `out` exists and is not empty,
        or an item has no intact copy (run an audit to repair or report it).
        """
        rows = self.select(target)
        if out.exists() and any(out.iterdir()):
            raise ValidationError(
                f"export directory {out} is not empty; name a new directory",
                reason="exists",
            )
        anchors: dict[str, dict[str, Any]] = {}
        entries: list[dict[str, Any]] = []
        try:
            for row in rows:
                relative = f"data/{row.reference.replace('/', '_')}/{row.name}"
                self._copy_intact(row, out / relative)
                proof = self._proof(ledger, row, anchors)
                proof.pop("anchor")
                tx_id = self.index.batch(row.batch_seq)["tx_id"]
                entries.append({"path": relative, **proof, "anchor_tx": tx_id})
            tags = out / "govchain"
            tags.mkdir(parents=True, exist_ok=True)
            document = {"format": BAG_FORMAT, "items": entries, "anchors": anchors}
            (out / BAG_ITEMS).write_text(
                json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8"
            )
            (tags / "trust.txt").write_text(trust_file_text(ledger), "utf-8")
            write_manifests(
                out,
                [
                    ("Source-Organization", self.config.department),
                    ("External-Identifier", target),
                    ("Bagging-Date", dt.date.today().isoformat()),
                    ("Bag-Software-Agent", "govchain archive export"),
                    ("Bag-Count", "1 of 1"),
                ],
            )
        except BaseException:
            shutil.rmtree(out, ignore_errors=True)
            raise
        logger.info("exported %d items of %s to %s", len(rows), target, out)
        return {"items": len(rows), "bag": str(out), "anchors": len(anchors)}

    def _copy_intact(self, row: ItemRow, target: Path) -> None:
        ref = self.index.object(row.sha256)
        assert ref is not None
        for replica in self.config.replicas:
            try:
                if self.store.copy_out(replica, ref, target) == row.sha256:
                    return
            except OSError:
                continue
            logger.warning(
                "copy of item in replica %s is damaged; trying the next", replica.name
            )
        target.unlink(missing_ok=True)
        raise ValidationError(
            f"item {row.reference} has no intact copy in any replica; run "
            "`govchain archive audit --repair` and restore it from a backup if lost",
            reason="lost",
        )
