"""Measure archive ingest, anchoring and fixity audits.

Usage: `python bench/archive.py [--quick] [--files N] [--large-mb M] [--dir DIR]`

The run generates `--files` files of 1 to 8 KiB (370,000 by default, 20,000
with `--quick`) in folders of 1,000, with a metadata CSV. It ingests them
into a fresh node home with two replicas. Each file is hashed, written to
both replicas, fsynced, and indexed with its inclusion proof. The items are
anchored in batches of 10,000 per ledger transaction. An audit then re-hashes
every copy.

A second archive holds four large files of `--large-mb` MiB each (256, or 32
with `--quick`) and is audited too; its throughput is compared with raw
SHA-256 over an in-memory buffer on one thread, measured in the same run.
The plain copy baseline copies a sample of the small files (and one large
file) with `shutil.copyfile`, with no hashing and no fsync.

Generation and set-up are not timed. Figures go to stdout as a table, and
progress to stderr. Everything is written under a temporary directory
(`--dir` picks its parent) that the run deletes.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import govchain.data
from govchain.archive import Archive
from govchain.archive._handlers import BATCH_NS
from govchain.ledger.orderer import SoloOrderer
from govchain.node import Node, NodeHome, init_node

FULL_FILES = 370_000
QUICK_FILES = 20_000
PER_FOLDER = 1000
ANCHOR_TARGET_S = 180.0
AUDIT_TARGET_RATIO = 0.8
CONSORTIUM = Path(govchain.data.__file__).parent / "consortium" / "demo.toml"


def log(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def generate_small(root: Path, count: int, seed: int = 7) -> tuple[Path, int]:
    """Write `count` files of 1 to 8 KiB and a metadata CSV; return (csv, bytes)."""
    rng = random.Random(seed)
    block = rng.randbytes(8192 + 64)
    total = 0
    meta = root / "meta.csv"
    with open(meta, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "path",
                "fonds",
                "volume",
                "item",
                "title",
                "date",
                "retention",
                "classification",
            ]
        )
        for i in range(count):
            folder = f"v{i // PER_FOLDER:04d}"
            if i % PER_FOLDER == 0:
                (root / "files" / folder).mkdir(parents=True)
            size = rng.randint(1024, 8192)
            start = rng.randint(0, 63)
            # The index makes every file distinct, so each is its own object.
            data = i.to_bytes(8, "big") + block[start : start + size - 8]
            (root / "files" / folder / f"{i:06d}.bin").write_bytes(data)
            total += size
            writer.writerow(
                [
                    f"{folder}/{i:06d}.bin",
                    "F001",
                    folder,
                    str(i % PER_FOLDER + 1),
                    f"generated record {i}",
                    f"{2000 + i % 20}-01-01",
                    ["10y", "30y", "permanent"][i % 3],
                    "internal",
                ]
            )
    return meta, total


def generate_large(root: Path, count: int, mebibytes: int) -> tuple[Path, int]:
    (root / "large").mkdir(parents=True)
    meta = root / "large.csv"
    chunk = random.Random(11).randbytes(1 << 20)
    with open(meta, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "path",
                "fonds",
                "volume",
                "item",
                "title",
                "date",
                "retention",
                "classification",
            ]
        )
        for i in range(count):
            with open(root / "large" / f"scan{i}.bin", "wb") as out:
                for block in range(mebibytes):
                    out.write(block.to_bytes(4, "big") + bytes([i]) + chunk[5:])
            writer.writerow(
                [
                    f"scan{i}.bin",
                    "F002",
                    "V1",
                    str(i + 1),
                    "scan",
                    "2020",
                    "permanent",
                    "public",
                ]
            )
    return meta, count * mebibytes << 20


def raw_sha256(megabytes: int = 512) -> float:
    """Return one-thread SHA-256 throughput over a 1 MiB buffer, in MB/s (best of 3)."""
    buffer = random.Random(3).randbytes(1 << 20)
    best = 0.0
    for _ in range(3):
        digest = hashlib.sha256()
        start = time.perf_counter()
        for _ in range(megabytes):
            digest.update(buffer)
        best = max(best, megabytes * (1 << 20) / 1e6 / (time.perf_counter() - start))
    return best


def copy_baseline(sources: list[Path], target: Path) -> tuple[float, float]:
    """Copy files with shutil.copyfile; return (files/s, MB/s)."""
    target.mkdir(parents=True)
    size = 0
    start = time.perf_counter()
    for n, path in enumerate(sources):
        shutil.copyfile(path, target / f"{n}")
        size += path.stat().st_size
    seconds = time.perf_counter() - start
    return len(sources) / seconds, size / 1e6 / seconds


def new_node(path: Path) -> Node:
    return init_node(NodeHome(path), CONSORTIUM, encrypt=False, orderer=SoloOrderer())


def row(name: str, value: str, baseline: str, target: str) -> str:
    return f"| {name} | {value} | {baseline} | {target} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="20,000 files, 32 MiB large files"
    )
    parser.add_argument("--files", type=int, help="number of small files")
    parser.add_argument("--large-mb", type=int, help="size of each large file in MiB")
    parser.add_argument("--dir", type=Path, help="parent of the temporary directory")
    args = parser.parse_args()
    files = args.files or (QUICK_FILES if args.quick else FULL_FILES)
    large_mb = args.large_mb or (32 if args.quick else 256)
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(
        prefix="govchain-bench-archive-", dir=args.dir
    ) as tmp:
        root = Path(tmp)
        log(f"generating {files} files of 1-8 KiB under {root}")
        meta, small_bytes = generate_small(root, files)
        large_meta, large_bytes = generate_large(root, 4, large_mb)
        log("measuring the baselines")
        sha_mbs = raw_sha256()
        sample = sorted((root / "files").rglob("*.bin"))[:20_000]
        copy_fps, copy_mbs = copy_baseline(sample, root / "copy-small")
        _fps, large_copy_mbs = copy_baseline(
            [root / "large" / "scan0.bin"], root / "copy-large"
        )

        log("ingesting the small files")
        node = new_node(root / "home")
        try:
            with Archive(node.home) as archive:
                start = time.perf_counter()
                report = archive.ingest(node, [root / "files"], meta)
                ingest_s = time.perf_counter() - start
                anchored = sum(
                    record["size"] for _key, record in node.store.scan(BATCH_NS)
                )
                log(f"ingested {report.items} items, {anchored} anchored")
                start = time.perf_counter()
                audit, _ = archive.audit(node, repair=False)
                audit_s = time.perf_counter() - start
        finally:
            node.close()
        log("ingesting and auditing the large files")
        large_node = new_node(root / "large-home")
        try:
            with Archive(large_node.home) as archive:
                archive.ingest(large_node, [root / "large"], large_meta)
                start = time.perf_counter()
                large_audit, _ = archive.audit(large_node, repair=False)
                large_s = time.perf_counter() - start
        finally:
            large_node.close()
        # The table is printed before the temporary directory is deleted,
        # which takes minutes at full size.
        load_end = os.getloadavg()[0]
        small_mb = small_bytes / 1e6
        audit_mbs = large_audit.bytes_read / 1e6 / large_s
        ratio = audit_mbs / sha_mbs
        print(
            f"archive benchmark: {files} small files ({small_mb:.0f} MB), 2 replicas, "
            f"batches of 10,000; 4 large files of {large_mb} MiB "
            f"({large_bytes / 1e6:.0f} MB)"
        )
        print(
            f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}; load average (1 min) {load_start:.2f} "
            f"at the start, {load_end:.2f} at the end"
        )
        print()
        print("| figure | value | baseline (same run) | target |")
        print("|---|---|---|---|")
        print(
            row(
                "ingest and anchor, small files",
                f"{report.items / ingest_s:,.0f} items/s, {small_mb / ingest_s:.1f} MB/s, "
                f"{ingest_s:.1f} s for {anchored:,} anchored",
                f"plain copy {copy_fps:,.0f} files/s, {copy_mbs:.1f} MB/s",
                f"{FULL_FILES:,} in under {ANCHOR_TARGET_S:.0f} s "
                f"(here {'met' if ingest_s * FULL_FILES / files < ANCHOR_TARGET_S else 'missed'}"
                f"{'' if files == FULL_FILES else ', scaled'})",
            )
        )
        print(
            row(
                "audit, small files (both replicas)",
                f"{audit.counts()['copies'] / audit_s:,.0f} copies/s, "
                f"{audit.bytes_read / 1e6 / audit_s:.1f} MB/s ({audit.result})",
                f"raw SHA-256 {sha_mbs:.0f} MB/s",
                "-",
            )
        )
        print(
            row(
                "audit, large files (both replicas)",
                f"{audit_mbs:.0f} MB/s ({ratio:.0%} of raw SHA-256, {large_audit.result})",
                f"raw SHA-256 {sha_mbs:.0f} MB/s; copy {large_copy_mbs:.0f} MB/s",
                f">= {AUDIT_TARGET_RATIO:.0%} of raw SHA-256 "
                f"({'met' if ratio >= AUDIT_TARGET_RATIO else 'missed'})",
            )
        )
        log(f"deleting {root}")


if __name__ == "__main__":
    main()
