"""Ingest: files, folders and bags with metadata into stored, anchored batches.

Each batch is all or nothing: its objects are written to every replica and
fsynced, its items are indexed as pending, and only then is the anchor
transaction submitted. A batch the ledger applied is marked anchored; a batch
interrupted after submission is finished by the next ingest
(`finish_pending`). So nothing is recorded as anchored that is not stored in
every replica.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from govchain.archive import anchoring
from govchain.archive._handlers import BATCH_NS
from govchain.archive.anchoring import Leaf
from govchain.archive.bagit import is_bag, read_bag
from govchain.archive.config import ArchiveConfig
from govchain.archive.index import ArchiveIndex
from govchain.archive.metadata import Metadata, parse_metadata, read_metadata_file
from govchain.archive.store import ObjectRef, ObjectStore
from govchain.errors import ValidationError
from govchain.ledger.state import object_id
from govchain.node import Node

logger = logging.getLogger(__name__)

#: Tag file of bags written by `export`; its metadata is used on re-ingest.
BAG_ITEMS = "govchain/items.json"
#: Files read by one task of the reading pool.
READ_SLICE = 256


@dataclass(frozen=True)
class Source:
    """A file to ingest with its metadata and the name it is archived under."""

    path: Path
    name: str
    metadata: Metadata


@dataclass
class IngestReport:
    """Counts of one ingest run: items archived and skipped, batches, bytes."""

    items: int = 0
    skipped: int = 0
    batches: list[str] = field(default_factory=list)
    stored_bytes: int = 0
    new_objects: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "items": self.items,
            "already_archived": self.skipped,
            "batches": self.batches,
            "stored_bytes": self.stored_bytes,
            "new_objects": self.new_objects,
        }


def collect_sources(paths: list[Path], meta_file: Path | None) -> list[Source]:
    """List the files under `paths` with their metadata rows.

    A folder contributes every regular file below it, a bag its payload, and
    metadata rows are matched by path relative to the folder or bag payload
    (a single file by its name). Raises `ValidationError` naming the first
    file without metadata or a metadata row without a file.
    """
    rows = read_metadata_file(meta_file) if meta_file is not None else {}
    found: list[tuple[Path, str]] = []
    for given in paths:
        if not given.exists():
            raise ValidationError(
                f"{given} does not exist; check the path", reason="unreadable"
            )
        if is_bag(given):
            bag = read_bag(given)
            rows = {**_bag_metadata(given), **rows}
            found.extend((path, rel) for rel, path in bag.payload.items())
        elif given.is_dir():
            found.extend(_walk(given, meta_file))
        else:
            found.append((given, given.name))
    sources: list[Source] = []
    unmatched = [rel for _path, rel in found if rel not in rows]
    if unmatched:
        raise ValidationError(
            f"file {unmatched[0]} has no metadata row ({len(unmatched)} files have "
            "none); add a row with its path to the --meta file",
            reason="missing-metadata",
        )
    for path, rel in found:
        sources.append(Source(path=path, name=Path(rel).name, metadata=rows[rel]))
    return sources


def _walk(root: Path, meta_file: Path | None) -> Iterator[tuple[Path, str]]:
    skip = meta_file.resolve() if meta_file is not None else None
    for base, dirs, names in os.walk(root):
        dirs.sort()
        relative = Path(base).relative_to(root)
        for name in sorted(names):
            path = Path(base) / name
            if skip is not None and name == skip.name and path.resolve() == skip:
                continue
            # Everything but directories is listed, so a dangling link or a
            # special file is reported as unreadable instead of skipped.
            yield path, (relative / name).as_posix()


def _bag_metadata(bag: Path) -> dict[str, Metadata]:
    """Read the metadata of a bag written by `export`, if it carries some."""
    tag = bag / BAG_ITEMS
    if not tag.exists():
        return {}
    try:
        entries = json.loads(tag.read_text("utf-8"))["items"]
        return {
            e["path"].removeprefix("data/"): parse_metadata(
                e["metadata"], f"{tag}, item {n}"
            )
            for n, e in enumerate(entries, start=1)
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError(
            f"{tag} is not a govchain item list: {exc}", reason="bad-bag"
        ) from exc


@dataclass
class _Read:
    source: Source
    sha256: str
    size: int
    data: bytes | None


class Ingester:
    """Stores and anchors sources batch by batch for one archive."""

    def __init__(
        self,
        node: Node,
        config: ArchiveConfig,
        index: ArchiveIndex,
        *,
        workers: int = 4,
    ) -> None:
        self.node = node
        self.config = config
        self.index = index
        self.store = ObjectStore(config.replicas)
        self.workers = workers

    def ingest(
        self,
        sources: list[Source],
        progress: Callable[[int], None] | None = None,
    ) -> IngestReport:
        """Store and anchor `sources`; items already archived are skipped."""
        self.finish_pending()
        self.store.check_writable()
        report = IngestReport()
        seen: set[str] = set()
        for source in sources:
            reference = source.metadata.reference
            if reference in seen:
                raise ValidationError(
                    f"item {reference} is listed twice; give each file its own "
                    "item number",
                    reason="duplicate",
                )
            seen.add(reference)
        size = self.config.batch_size
        with ThreadPoolExecutor(self.workers) as pool:
            for start in range(0, len(sources), size):
                chunk = sources[start : start + size]
                # Reads go to the pool in slices: one task per file costs more
                # in scheduling than reading a small file does.
                slices = [
                    chunk[i : i + READ_SLICE] for i in range(0, len(chunk), READ_SLICE)
                ]
                reads = [r for part in pool.map(self._read_all, slices) for r in part]
                self._ingest_batch(reads, report)
                if progress is not None:
                    progress(len(chunk))
        return report

    def _read_all(self, sources: list[Source]) -> list[_Read]:
        return [self._read(source) for source in sources]

    def _read(self, source: Source) -> _Read:
        try:
            size = source.path.stat().st_size
            if size < self.config.pack_threshold:
                data = source.path.read_bytes()
                return _Read(source, hashlib.sha256(data).hexdigest(), len(data), data)
            sha256, size = anchoring.file_sha256(source.path)
            return _Read(source, sha256, size, None)
        except OSError as exc:
            raise ValidationError(
                f"file {source.path} is unreadable ({exc.strerror or exc}); fix its "
                "permissions or remove it, then ingest again: batches already "
                "anchored are kept and skipped",
                reason="unreadable",
            ) from exc

    def _ingest_batch(self, reads: list[_Read], report: IngestReport) -> None:
        existing = self.index.references([r.source.metadata.reference for r in reads])
        fresh: list[tuple[_Read, Leaf]] = []
        for read in reads:
            meta = read.source.metadata
            leaf = Leaf(read.sha256, read.size, meta.digest(), meta.retain_until())
            known = existing.get(meta.reference)
            if known == (leaf.sha256, leaf.metadata_hash):
                report.skipped += 1
                continue
            if known is not None:
                raise ValidationError(
                    f"item {meta.reference} is already archived with another file or "
                    f"metadata (file {read.source.path}); give the new file another "
                    "item number",
                    reason="duplicate",
                )
            fresh.append((read, leaf))
        if not fresh:
            return

        objects = self._store_objects([r for r, _leaf in fresh], report)
        levels = anchoring.tree_levels([leaf.leaf_hash() for _r, leaf in fresh])
        root = levels[-1][0].hex()
        items = [
            (
                read.source.metadata,
                read.source.name,
                leaf,
                anchoring.pack_proof(anchoring.level_proof(levels, i)),
            )
            for i, (read, leaf) in enumerate(fresh)
        ]

        seq = self.index.add_batch(root, objects, items)
        ledger_id = self._anchor(seq, root, len(items))
        report.items += len(items)
        report.batches.append(ledger_id)

    def _store_objects(
        self, reads: list[_Read], report: IngestReport
    ) -> list[ObjectRef]:
        hashes = sorted({r.sha256 for r in reads})
        known = self.index.known_objects(hashes)
        packed: dict[str, bytes] = {}
        loose: dict[str, Path] = {}
        for read in reads:
            if read.sha256 in known:
                continue
            if read.data is not None:
                packed.setdefault(read.sha256, read.data)
            else:
                loose.setdefault(read.sha256, read.source.path)
        refs: list[ObjectRef] = []
        try:
            if packed:
                blobs = list(packed.items())
                digest = hashlib.sha256("".join(packed).encode()).hexdigest()
                refs += self.store.write_pack(f"pack-{digest[:24]}", blobs)
            for sha256, path in loose.items():
                refs.append(self.store.write_loose(sha256, path))
        except BaseException:
            # The batch is stored everywhere or nowhere: drop what it wrote.
            self.store.remove(refs)
            raise
        report.new_objects += len(refs)
        report.stored_bytes += sum(r.size for r in refs) * len(self.config.replicas)
        return refs

    def _anchor(self, seq: int, root: str, size: int) -> str:
        payload = {"root": root, "size": size, "leaf_format": anchoring.LEAF_FORMAT}
        tx = self.node.sign(self.config.department, "archive.anchor", payload)
        self.index.set_batch_tx(seq, tx.id)
        receipt = self.node.submit_one(tx)
        if not receipt.applied:
            self.index.drop_batch(seq)
            raise ValidationError(
                f"the ledger rejected the anchor of a batch of {size} items: "
                f"{receipt.message}",
                reason=receipt.reason,
            )
        ledger_id = object_id("arb", receipt.index)
        self.index.mark_anchored(seq, ledger_id, tx.id)
        logger.info(
            "anchored batch %s: %d items, root %s, tx %s", ledger_id, size, root, tx.id
        )
        return ledger_id

    def finish_pending(self) -> None:
        """Finish batches stored and indexed but not known to be anchored.

        A crash between submitting an anchor and marking it leaves such a
        batch. If the ledger applied its transaction, it is marked anchored;
        otherwise it is anchored again, since its objects are in every replica.
        """
        for seq, root, size, tx_id in self.index.pending_batches():
            stored = self.node.store.tx_by_id(tx_id) if tx_id else None
            if stored is not None and stored.status == "applied":
                ledger_id = object_id("arb", stored.seq)
                record = self.node.store.get(BATCH_NS, ledger_id)
                if record is not None and record["root"] == root:
                    self.index.mark_anchored(seq, ledger_id, stored.id)
                    logger.warning("marked interrupted batch %s anchored", ledger_id)
                    continue
            logger.warning("anchoring interrupted batch %d again", seq)
            self._anchor(seq, root, size)
