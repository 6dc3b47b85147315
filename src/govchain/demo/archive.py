"""The demo's archive step: ingest a small generated archive, damage, audit, repair.

The files are made here: one-page PDFs written by hand (a valid PDF 1.4 with a
single text line) and small PNG images (zlib-compressed RGB rows), so the demo
needs no document library and no download.
"""

from __future__ import annotations

import csv
import struct
import zlib
from pathlib import Path
from typing import Any

from rich.console import Console

from govchain.archive import Archive
from govchain.archive.store import pack_path
from govchain.evidence import read_trust_file
from govchain.evidence.archive_bag import verify_archive_bag
from govchain.evidence.keys import trust_file_text
from govchain.node import Node

DEPARTMENT = "city-civil-affairs"
VOLUMES = (
    ("2016", "婚姻登记档案 2016 年第 1 卷", "30y"),
    ("2019", "社会组织登记档案 2019 年", "permanent"),
    ("2021", "地名档案 2021 年", "10y"),
)


def make_pdf(text: str) -> bytes:
    """Return a one-page PDF showing one line of ASCII `text`."""
    content = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def make_png(width: int, height: int, seed: int) -> bytes:
    """Return an RGB PNG with a colour gradient that depends on `seed`."""
    rows = b"".join(
        b"\0"
        + bytes(
            v
            for x in range(width)
            for v in ((x * 7 + seed) % 256, (y * 5 + seed * 3) % 256, (x + y) % 256)
        )
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def generate(folder: Path) -> Path:
    """Write three volumes of PDFs and images and their metadata; return the CSV."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = folder.parent / f"{folder.name}-metadata.csv"
    with open(meta, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "path",
                "全宗号",
                "案卷号",
                "件号",
                "题名",
                "日期",
                "保管期限",
                "密级",
                "责任者",
            ]
        )
        for v, (year, title, retention) in enumerate(VOLUMES, start=1):
            (folder / year).mkdir(parents=True, exist_ok=True)
            for item in (1, 2, 3):
                if item < 3:
                    name = f"{item:03d}.pdf"
                    data = make_pdf(f"Civil affairs archive {year}, item {item}")
                else:
                    name = f"{item:03d}.png"
                    data = make_png(48, 32, v * 10 + item)
                (folder / year / name).write_bytes(data)
                writer.writerow(
                    [
                        f"{year}/{name}",
                        "MZ01",
                        f"{year}-V{v}",
                        str(item),
                        f"{title} 第 {item} 件",
                        f"{year}-0{item}-15",
                        retention,
                        "内部",
                        "市民政局",
                    ]
                )
    return meta


def play_archive(node: Node, console: Console) -> dict[str, Any]:
    """Run the archive step of the demo on an open node; return its summary."""
    console.rule("digital archive: ingest, damage, audit, repair")
    settings = node.home.path / "archive.toml"
    if not settings.exists():
        settings.write_text(f'department = "{DEPARTMENT}"\n', "utf-8")
    folder = node.home.path / "demo-archive"
    meta = generate(folder)
    with Archive(node.home) as archive:
        ingested = archive.ingest(node, [folder], meta)
        console.print(
            f"ingested {ingested.items} files (PDFs and images) into "
            f"{len(archive.config.replicas)} replicas, anchored as batch "
            f"{', '.join(ingested.batches)}"
        )

        target = archive.item("MZ01/2019-V2/1")
        ref = archive.index.object(target.sha256)
        assert ref is not None and ref.pack is not None
        damaged = pack_path(archive.config.replicas[1], ref.pack)
        data = bytearray(damaged.read_bytes())
        data[ref.offset + 10] ^= 0x55
        damaged.write_bytes(bytes(data))
        console.print(
            f"damaged one byte of item MZ01/2019-V2/1 in replica {archive.config.replicas[1].name}"
        )

        found, found_id = archive.audit(node, repair=False)
        for replica, sha, state in found.damaged():
            console.print(
                f"audit {found_id}: {state} copy of {sha[:16]} in replica {replica}"
            )
        fixed, fixed_id = archive.audit(node, repair=True)
        console.print(
            f"audit {fixed_id} with repair: {fixed.result}, "
            f"{fixed.counts()['repaired']} copy rewritten from an intact replica"
        )
        after, after_id = archive.audit(node, repair=False)
        console.print(
            f"audit {after_id}: {after.result}, {after.counts()['intact']} copies intact"
        )

        bag = node.home.path / "demo-archive-export"
        archive.export(node.store, "MZ01/2019-V2", bag)
    trust = node.home.path / "demo-archive-trust.txt"
    trust.write_text(trust_file_text(node.store), "utf-8")
    verified = verify_archive_bag(bag, read_trust_file(trust))
    console.print(
        f"exported volume MZ01/2019-V2 as a BagIt bag at {bag}; it verifies offline: "
        f"{len(verified['items'])} items, checkpoint signed by "
        f"{len(verified['checkpoint_signers'])} keys"
    )
    return {
        "items": ingested.items,
        "batches": ingested.batches,
        "audits": [found.result, fixed.result, after.result],
        "bag": str(bag),
    }
