"""A printable certificate card: one A6 page with the QR code and the claims.

The text needs a font with Chinese characters. The card uses the TrueType
font named by GOVCHAIN_CARD_FONT, else the first of `CJK_FONTS` found (the
Debian packages fonts-wqy-microhei and fonts-noto-cjk), else DejaVu Sans.
DejaVu lacks Chinese characters, so they print as "?" and a warning is logged.
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont  # type: ignore[import-untyped]
from fpdf import FPDF

from govchain.certs.images import qr_png
from govchain.certs.service import IssuedCertificate
from govchain.certs.verify import iso_time

logger = logging.getLogger(__name__)

FONT_ENV = "GOVCHAIN_CARD_FONT"
CJK_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)
FALLBACK_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_coverage: dict[Path, frozenset[int]] = {}


def _font() -> Path:
    configured = os.environ.get(FONT_ENV)
    candidates = [Path(configured)] if configured else []
    for path in [*candidates, *CJK_FONTS, FALLBACK_FONT]:
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"no font for certificate cards: set {FONT_ENV} to a TrueType font or "
        "install fonts-wqy-microhei"
    )


def _covered(path: Path) -> frozenset[int]:
    if path not in _coverage:
        if path.suffix.lower() == ".ttc":
            font = TTCollection(str(path)).fonts[0]
        else:
            font = TTFont(str(path))
        _coverage[path] = frozenset(font.getBestCmap())
    return _coverage[path]


def _printable(text: str, covered: frozenset[int], path: Path) -> str:
    missing = {ch for ch in text if ord(ch) not in covered}
    if not missing:
        return text
    logger.warning(
        "font %s lacks %d characters of a card; install fonts-wqy-microhei or set %s",
        path,
        len(missing),
        FONT_ENV,
    )
    return "".join("?" if ch in missing else ch for ch in text)


def _shown(value: object) -> str:
    """Return a claim value as printed: booleans as 是 (yes) or 否 (no)."""
    if value is True:
        return "是"
    if value is False:
        return "否"
    return str(value)


def card_pdf(cert: IssuedCertificate, *, issuer_name: str = "") -> bytes:
    """Return a one-page PDF card of `cert`: title, claims, validity, id and QR code."""
    path = _font()
    covered = _covered(path)

    def text(value: str) -> str:
        return _printable(value, covered, path)

    pdf = FPDF(orientation="portrait", unit="mm", format=(105, 148))
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(8, 8, 8)
    pdf.add_page()
    pdf.add_font("card", "", str(path))
    pdf.set_font("card", size=14)
    pdf.cell(0, 8, text(cert.title), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("card", size=8)
    pdf.cell(
        0,
        5,
        text(issuer_name or cert.claims.issuer),
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    claims = cert.claims.claims
    rows = [("姓名", str(claims["name"])), ("证件号码", str(claims["id_masked"]))]
    for name, value in claims.items():
        if name in ("name", "id_masked"):
            continue
        rows.append((cert.labels.get(name, name), _shown(value)))
    rows.append(("签发", iso_time(cert.claims.issued_at)[:10]))
    rows.append(("有效期至", iso_time(cert.claims.expires_at)[:10]))
    pdf.set_font("card", size=9)
    for label, value in rows:
        pdf.cell(26, 5.5, text(label))
        pdf.cell(0, 5.5, text(value), new_x="LMARGIN", new_y="NEXT")
    size = 58.0
    pdf.image(
        io.BytesIO(qr_png(cert.qr_text, scale=6)),
        x=(105 - size) / 2,
        y=148 - size - 14,
        w=size,
        h=size,
    )
    pdf.set_font("card", size=6)
    pdf.set_y(148 - 13)
    pdf.cell(0, 4, f"ID {cert.id}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 4, text("扫码或输入证件号码核验 / scan to verify"), align="C")
    return bytes(pdf.output())
