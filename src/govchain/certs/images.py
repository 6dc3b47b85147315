"""QR images of certificates: PNG and SVG out (segno), any photo or scan in (zxing-cpp)."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import segno
import zxingcpp
from PIL import Image, UnidentifiedImageError

from govchain.certs.errors import CertificateError

logger = logging.getLogger(__name__)

#: Error correction level Q restores up to about 25% of a damaged symbol,
#: enough for a creased or smudged printout; the text still fits comfortably.
ERROR_LEVEL = "Q"
#: Images larger than this many pixels are rejected before decoding.
MAX_PIXELS = 40_000_000


def _qr(text: str) -> segno.QRCode:
    return segno.make_qr(text, error=ERROR_LEVEL, boost_error=False)


def qr_png(text: str, *, scale: int = 4) -> bytes:
    """Return a PNG image of the QR code of `text`, with the standard quiet zone."""
    out = io.BytesIO()
    _qr(text).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_svg(text: str, *, scale: int = 4) -> str:
    """Return an SVG image of the QR code of `text`."""
    out = io.BytesIO()
    _qr(text).save(out, kind="svg", scale=scale, border=4, xmldecl=False, svgns=True)
    return out.getvalue().decode("utf-8")


def decode_image_bytes(data: bytes, *, source: str = "the image") -> str:
    """Return the text of the first QR code found in an image (PNG, JPEG, ...).

    Raises `CertificateError` code `image` when the file is not an image or
    contains no readable QR code.
    """
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise CertificateError(
                "image",
                f"{source} has {image.width}x{image.height} pixels; send a smaller photo",
            )
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise CertificateError(
            "image", f"{source} is not a readable image (PNG, JPEG, GIF, BMP or TIFF)"
        ) from exc
    found = zxingcpp.read_barcodes(
        image.convert("L"), formats=zxingcpp.barcode_formats_from_str("QRCode")
    )
    if not found:
        raise CertificateError(
            "image",
            f"no QR code was found in {source}; hold the camera closer and keep the "
            "whole code in view",
        )
    return found[0].text


def decode_image_file(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CertificateError("image", f"{path} cannot be read: {exc}") from exc
    return decode_image_bytes(data, source=str(path))
