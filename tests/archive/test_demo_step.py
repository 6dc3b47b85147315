"""The demo's archive step on a real node: generated files, damage, repair."""

from __future__ import annotations

import zlib
from pathlib import Path

from rich.console import Console

from govchain.demo.archive import make_pdf, make_png, play_archive
from govchain.node import Node


def test_demo_step_repairs_and_exports(node: Node) -> None:
    summary = play_archive(node, Console(quiet=True))
    assert summary["items"] == 9
    assert summary["audits"] == ["damaged", "repaired", "intact"]
    assert (Path(summary["bag"]) / "bagit.txt").exists()


def test_demo_pdf_structure() -> None:
    pdf = make_pdf("hello")
    assert pdf.startswith(b"%PDF-1.4\n")
    assert pdf.endswith(b"%%EOF\n")
    xref = int(pdf.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert pdf[xref : xref + 4] == b"xref"


def test_demo_png_structure() -> None:
    png = make_png(4, 2, 1)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    length = int.from_bytes(png[33:37], "big")
    assert png[37:41] == b"IDAT"
    rows = zlib.decompress(png[41 : 41 + length])
    assert len(rows) == 2 * (1 + 4 * 3)
