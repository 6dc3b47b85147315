"""Fixity audit: re-hash every copy, repair damaged ones, report lost items.

An audit reads every live object in every replica and compares its SHA-256
with its name. A copy is `intact`, `altered` (other bytes) or `missing` (no
file, or a pack too short). With repair, each damaged copy is rewritten from
an intact copy in another replica (atomically, then hashed again). An object
with no intact copy anywhere is lost, and so is every item that uses it.

The result is recorded on the ledger as an `archive.audit` transaction with
the SHA-256 of the full report, which is kept in `HOME/archive/audits/`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mmap
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govchain.archive.config import ArchiveConfig, Replica
from govchain.archive.index import ArchiveIndex
from govchain.archive.store import (
    COPY_CHUNK,
    ObjectRef,
    atomic_write,
    loose_path,
    pack_path,
    replica_error,
)
from govchain.errors import ValidationError
from govchain.ledger.canonical import canonical_json
from govchain.ledger.state import object_id
from govchain.node import Node

logger = logging.getLogger(__name__)

INTACT, ALTERED, MISSING = "intact", "altered", "missing"
#: Bytes hashed per call on a mapped file.
MAP_CHUNK = 8 << 20


@dataclass
class AuditReport:
    """The findings of one audit; `copies` maps (replica, sha256) to a state."""

    started: int
    replicas: list[str]
    objects: int = 0
    items: int = 0
    copies: dict[tuple[str, str], str] = field(default_factory=dict)
    repaired: list[tuple[str, str]] = field(default_factory=list)
    lost_objects: list[str] = field(default_factory=list)
    lost_items: list[str] = field(default_factory=list)
    bytes_read: int = 0
    seconds: float = 0.0

    def damaged(self) -> list[tuple[str, str, str]]:
        """Return `(replica, sha256, state)` of copies not intact, repaired excluded."""
        fixed = set(self.repaired)
        return sorted(
            (replica, sha, state)
            for (replica, sha), state in self.copies.items()
            if state != INTACT and (replica, sha) not in fixed
        )

    @property
    def result(self) -> str:
        if self.lost_objects:
            return "lost"
        if self.damaged():
            return "damaged"
        return "repaired" if self.repaired else "intact"

    @property
    def ok(self) -> bool:
        """True when every copy of every item is intact after the audit."""
        return self.result in ("intact", "repaired")

    def counts(self) -> dict[str, int]:
        states = list(self.copies.values())
        return {
            "items": self.items,
            "objects": self.objects,
            "copies": len(states),
            "intact": states.count(INTACT),
            "altered": states.count(ALTERED),
            "missing": states.count(MISSING),
            "repaired": len(self.repaired),
            "lost": len(self.lost_items),
            "replicas": len(self.replicas),
        }

    def to_dict(self) -> dict[str, Any]:
        fixed = set(self.repaired)
        return {
            "format": "govchain-archive-audit/v1",
            "started": self.started,
            "result": self.result,
            **self.counts(),
            "replica_names": self.replicas,
            "bytes_read": self.bytes_read,
            "findings": [
                {
                    "replica": replica,
                    "sha256": sha,
                    "state": state,
                    "repaired": (replica, sha) in fixed,
                }
                for (replica, sha), state in sorted(self.copies.items())
                if state != INTACT
            ],
            "lost_objects": self.lost_objects,
            "lost_items": self.lost_items,
        }


def _check_pack(
    replica: Replica, pack: str, refs: list[ObjectRef]
) -> list[tuple[str, str, int]]:
    """Hash each object of one pack copy; return `(sha256, state, bytes read)`."""
    path = pack_path(replica, pack)
    out: list[tuple[str, str, int]] = []
    if not path.exists():
        return [(r.sha256, MISSING, 0) for r in refs]
    with open(path, "rb") as fh:
        for ref in refs:
            fh.seek(ref.offset)
            data = fh.read(ref.size)
            if len(data) < ref.size:
                out.append((ref.sha256, MISSING, len(data)))
                continue
            digest = hashlib.sha256(data).hexdigest()
            out.append(
                (ref.sha256, INTACT if digest == ref.sha256 else ALTERED, len(data))
            )
    return out


def _check_loose(replica: Replica, ref: ObjectRef) -> list[tuple[str, str, int]]:
    try:
        digest, size = mapped_sha256(loose_path(replica, ref.sha256))
    except FileNotFoundError:
        return [(ref.sha256, MISSING, 0)]
    return [(ref.sha256, INTACT if digest == ref.sha256 else ALTERED, size)]


def mapped_sha256(path: Path) -> tuple[str, int]:
    """Return the hex SHA-256 and size of a file, hashed through a memory map.

    Hashing the mapped pages skips the copy into a read buffer that
    `hashlib.file_digest` makes, which costs a large share of SHA-256's own
    time on files in the page cache.
    """
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        digest = hashlib.sha256()
        if size:
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                view = memoryview(mapped)
                try:
                    for start in range(0, size, MAP_CHUNK):
                        digest.update(view[start : start + MAP_CHUNK])
                finally:
                    view.release()
        return digest.hexdigest(), size


def run_audit(
    config: ArchiveConfig,
    index: ArchiveIndex,
    *,
    repair: bool,
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> AuditReport:
    """Check every copy of every live object and, with `repair`, fix damage.

    Raises `ReplicaError` when a repair cannot write to its replica; the copies
    repaired before it stay repaired.
    """
    started = time.perf_counter()
    report = AuditReport(
        started=int(time.time() * 1000), replicas=[r.name for r in config.replicas]
    )
    objects = index.live_objects()
    report.objects = len(objects)
    report.items = index.count_items()
    packs: dict[str, list[ObjectRef]] = {}
    loose: list[ObjectRef] = []
    for ref in objects:
        if ref.pack is None:
            loose.append(ref)
        else:
            packs.setdefault(ref.pack, []).append(ref)
    jobs: list[tuple[Replica, Callable[[], list[tuple[str, str, int]]]]] = []
    for replica in config.replicas:
        for pack, refs in packs.items():
            jobs.append((replica, _bind_pack(replica, pack, refs)))
        for ref in loose:
            jobs.append((replica, _bind_loose(replica, ref)))
    with ThreadPoolExecutor(workers) as pool:
        futures = [(replica, pool.submit(job)) for replica, job in jobs]
        for replica, future in futures:
            found = future.result()
            for sha, state, size in found:
                report.copies[(replica.name, sha)] = state
                report.bytes_read += size
            if progress is not None:
                progress(len(found))
    by_sha = {ref.sha256: ref for ref in objects}
    if repair:
        _repair(config, report, by_sha, packs)
    _find_lost(config, report, index, by_sha)
    report.seconds = time.perf_counter() - started
    return report


def _bind_pack(
    replica: Replica, pack: str, refs: list[ObjectRef]
) -> Callable[[], list[tuple[str, str, int]]]:
    return lambda: _check_pack(replica, pack, refs)


def _bind_loose(
    replica: Replica, ref: ObjectRef
) -> Callable[[], list[tuple[str, str, int]]]:
    return lambda: _check_loose(replica, ref)


def _healthy(config: ArchiveConfig, report: AuditReport, sha: str) -> Replica | None:
    for replica in config.replicas:
        if report.copies.get((replica.name, sha)) == INTACT:
            return replica
    return None


def _repair(
    config: ArchiveConfig,
    report: AuditReport,
    by_sha: dict[str, ObjectRef],
    packs: dict[str, list[ObjectRef]],
) -> None:
    damaged = report.damaged()
    by_pack: dict[tuple[str, str], list[ObjectRef]] = {}
    replicas = {r.name: r for r in config.replicas}
    for replica_name, sha, _state in damaged:
        ref = by_sha[sha]
        if _healthy(config, report, sha) is None:
            continue
        if ref.pack is None:
            _repair_loose(config, report, replicas[replica_name], ref)
        else:
            by_pack.setdefault((replica_name, ref.pack), []).append(ref)
    for (replica_name, pack), refs in sorted(by_pack.items()):
        _repair_pack(config, report, replicas[replica_name], pack, refs, packs[pack])


def _repair_loose(
    config: ArchiveConfig, report: AuditReport, target: Replica, ref: ObjectRef
) -> None:
    source = _healthy(config, report, ref.sha256)
    assert source is not None
    path = loose_path(target, ref.sha256)
    try:
        with open(loose_path(source, ref.sha256), "rb") as fh:
            atomic_write(path, iter(lambda: fh.read(COPY_CHUNK), b""))
    except OSError as exc:
        raise replica_error(target, path, exc) from exc
    if _check_loose(target, ref)[0][1] == INTACT:
        report.repaired.append((target.name, ref.sha256))
        logger.info(
            "repaired %s in replica %s from %s", ref.sha256, target.name, source.name
        )


def _repair_pack(
    config: ArchiveConfig,
    report: AuditReport,
    target: Replica,
    pack: str,
    damaged: list[ObjectRef],
    members: list[ObjectRef],
) -> None:
    """Rewrite one pack copy with each damaged object taken from an intact copy."""
    path = pack_path(target, pack)
    length = max(r.offset + r.size for r in members)
    try:
        current = path.read_bytes()
    except FileNotFoundError:
        current = b""
    data = bytearray(current[:length].ljust(length, b"\0"))
    for ref in damaged:
        source = _healthy(config, report, ref.sha256)
        assert source is not None
        with open(pack_path(source, pack), "rb") as fh:
            fh.seek(ref.offset)
            data[ref.offset : ref.offset + ref.size] = fh.read(ref.size)
    try:
        atomic_write(path, [bytes(data)])
        index_text = "".join(f"{r.sha256} {r.offset} {r.size}\n" for r in members)
        atomic_write(path.with_suffix(".idx"), [index_text.encode()])
    except OSError as exc:
        raise replica_error(target, path, exc) from exc
    for sha, state, _size in _check_pack(target, pack, damaged):
        if state == INTACT:
            report.repaired.append((target.name, sha))
    logger.info(
        "rewrote pack %s in replica %s: %d objects repaired",
        pack,
        target.name,
        len(damaged),
    )


def _find_lost(
    config: ArchiveConfig,
    report: AuditReport,
    index: ArchiveIndex,
    by_sha: dict[str, ObjectRef],
) -> None:
    lost = sorted(sha for sha in by_sha if _healthy(config, report, sha) is None)
    report.lost_objects = lost
    if lost:
        report.lost_items = index.items_of_objects(set(lost))
        # Data loss is logged at ERROR on purpose: no copy is left to repair from.
        logger.error(
            "archive audit: %d items LOST, no intact copy in any replica of %d objects",
            len(report.lost_items),
            len(lost),
        )


def record_audit(
    node: Node, config: ArchiveConfig, index: ArchiveIndex, report: AuditReport
) -> tuple[str, Path]:
    """Save the report and record its result on the ledger; return (audit id, file)."""
    body = report.to_dict()
    encoded = canonical_json(body)
    digest = hashlib.sha256(encoded).hexdigest()
    payload: dict[str, Any] = {
        **report.counts(),
        "result": report.result,
        "report_hash": digest,
        "lost_objects": report.lost_objects[:1000],
    }
    # The report is written before its hash goes onto the ledger, so a recorded
    # audit always has its report file. A rejected audit leaves no file.
    pending = config.audits_dir / f"pending-{digest}.json"
    atomic_write(pending, [encoded])
    receipt = node.act(config.department, "archive.audit", payload)
    if not receipt.applied:
        pending.unlink()
        raise ValidationError(
            f"the ledger rejected the audit record: {receipt.message}",
            reason=receipt.reason,
        )
    audit_id = object_id("aud", receipt.index)
    path = config.audits_dir / f"{audit_id}.json"
    os.replace(pending, path)
    index.add_audit(audit_id, receipt.block_time, report.result, digest, receipt.tx_id)
    logger.info("audit %s recorded: %s, tx %s", audit_id, report.result, receipt.tx_id)
    return audit_id, path


def load_report(config: ArchiveConfig, audit_id: str) -> dict[str, Any]:
    path = config.audits_dir / f"{audit_id}.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationError(
            f"audit report {audit_id} is not in {config.audits_dir}", reason="not-found"
        ) from exc
    return data
