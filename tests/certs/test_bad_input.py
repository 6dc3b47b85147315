"""Bad QR input: every case gets a specific reason, never a crash or a partial result."""

from __future__ import annotations

import io
import logging
import zlib

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from tests.certs.conftest import ISSUER, Setup, holders

from govchain.certs import base45, card, card_pdf
from govchain.certs.errors import REASONS, CertificateError
from govchain.certs.images import decode_image_bytes
from govchain.certs.qrtext import MAX_DECOMPRESSED_BYTES, pack
from govchain.certs.registry import trust_from_state
from govchain.certs.trust import TrustStore
from govchain.certs.verify import verify_text

AT = 1_800_000_000


def _text(payload: bytes) -> str:
    return "GC1:" + base45.encode(zlib.compress(payload, 9))


def test_bad_zlib_bomb_too_large() -> None:
    text = _text(b"\0" * (1 << 20))
    assert len(text) < 4296
    verdict = verify_text(text, TrustStore(), at=AT)
    assert verdict.code == "too_large"
    assert verdict.steps == {"prefix": True, "base45": True, "compression": False}


def test_bad_cap_is_exact() -> None:
    verdict = verify_text(_text(b"\0" * MAX_DECOMPRESSED_BYTES), TrustStore(), at=AT)
    assert verdict.code == "cbor"
    assert "bytes follow" in verdict.message


def test_bad_text_too_long() -> None:
    verdict = verify_text("GC1:" + "A" * 5000, TrustStore(), at=AT)
    assert verdict.code == "too_large"


def test_bad_truncated_stream() -> None:
    whole = zlib.compress(cbor2.dumps({"a": "b" * 200}), 9)
    verdict = verify_text(
        "GC1:" + base45.encode(whole[: len(whole) // 2]), TrustStore(), at=AT
    )
    assert verdict.code == "compression"
    assert "ends before" in verdict.message


def test_bad_trailing_bytes() -> None:
    data = zlib.compress(b"\xa0", 9) + b"extra"
    verdict = verify_text("GC1:" + base45.encode(data), TrustStore(), at=AT)
    assert verdict.code == "compression"


def test_bad_not_cbor() -> None:
    assert verify_text(_text(b"\xff\xff\xff"), TrustStore(), at=AT).code == "cbor"


def test_bad_wrong_cbor_tag() -> None:
    payload = cbor2.dumps(cbor2.CBORTag(98, [b"", {}, b"", b""]))
    verdict = verify_text(_text(payload), TrustStore(), at=AT)
    assert verdict.code == "cose"
    assert "tag 98" in verdict.message


def test_bad_short_array() -> None:
    verdict = verify_text(_text(cbor2.dumps([b"", {}])), TrustStore(), at=AT)
    assert verdict.code == "cose"


def test_bad_foreign_qr_prefix() -> None:
    verdict = verify_text("https://example.org/pay?id=1", TrustStore(), at=AT)
    assert verdict.code == "prefix"
    assert "'http'" in verdict.message


def test_bad_duplicate_map_keys() -> None:
    # {1: -8, 1: -7}: two readers could see two different algorithms.
    protected = bytes.fromhex("a2012701 26".replace(" ", ""))
    payload = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, b"", b""]))
    assert verify_text(_text(payload), TrustStore(), at=AT).code == "cose"


def test_bad_truncated_certificate(setup: Setup) -> None:
    cert = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[0]
    trust = trust_from_state(setup.node.store)
    cut = cert.qr_text[: len(cert.qr_text) // 2]
    verdict = verify_text(cut, trust, at=setup.now())
    assert verdict.code in ("base45", "compression")
    assert verdict.claims is None


def test_bad_corrupted_character(setup: Setup) -> None:
    cert = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[0]
    trust = trust_from_state(setup.node.store)
    middle = len(cert.qr_text) // 2
    swapped = "A" if cert.qr_text[middle] != "A" else "B"
    corrupted = cert.qr_text[:middle] + swapped + cert.qr_text[middle + 1 :]
    verdict = verify_text(corrupted, trust, at=setup.now())
    assert not verdict.valid
    assert verdict.code in REASONS


def test_bad_unknown_kid_other_node(setup: Setup) -> None:
    cert = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[0]
    verdict = verify_text(
        cert.qr_text, TrustStore(source="an empty list"), at=setup.now()
    )
    assert verdict.code == "unknown_kid"
    assert setup.kid in verdict.message


def test_bad_image_without_qr() -> None:
    blank = io.BytesIO()
    Image.new("L", (200, 200), 255).save(blank, format="PNG")
    with pytest.raises(CertificateError) as caught:
        decode_image_bytes(blank.getvalue())
    assert caught.value.code == "image"
    assert "no QR code" in str(caught.value)


def test_bad_image_not_an_image() -> None:
    with pytest.raises(CertificateError) as caught:
        decode_image_bytes(b"%PDF-1.7 not a picture")
    assert caught.value.code == "image"


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=4), replacement=st.sampled_from(base45.ALPHABET))
def test_bad_any_mutation_has_reason(
    setup: Setup, position: int, replacement: str
) -> None:
    text = _valid_text(setup)
    index = position % len(text)
    mutated = text[:index] + replacement + text[index + 1 :]
    verdict = verify_text(mutated, _trust(setup), at=setup.now())
    if mutated == text:
        assert verdict.valid
    else:
        assert not verdict.valid or verdict.claims is not None
        assert verdict.valid or verdict.code in REASONS


_cache: dict[int, tuple[str, TrustStore]] = {}


def _valid_text(setup: Setup) -> str:
    if id(setup) not in _cache:
        cert = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[
            0
        ]
        _cache.clear()
        _cache[id(setup)] = (cert.qr_text, trust_from_state(setup.node.store))
    return _cache[id(setup)][0]


def _trust(setup: Setup) -> TrustStore:
    return _cache[id(setup)][1]


def test_card_without_cjk_font(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cert = setup.service.issue(ISSUER, "food-health", holders(1), now=setup.now())[0]
    monkeypatch.delenv(card.FONT_ENV, raising=False)
    monkeypatch.setattr(card, "CJK_FONTS", ())
    with caplog.at_level(logging.WARNING, logger="govchain.certs.card"):
        pdf = card_pdf(cert)
    assert pdf.startswith(b"%PDF")
    assert "lacks" in caplog.text


def test_pack_round_trip() -> None:
    assert zlib.decompress(base45.decode(pack(b"\x01\x02")[4:])) == b"\x01\x02"
