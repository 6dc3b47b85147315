"""The quicker cofactored check agrees with libsodium except where it must not."""

from __future__ import annotations

import os

import nacl.bindings
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.torsion import ORDER_8_POINT, torsion_signature

from govchain.crypto import recheck
from govchain.crypto.keys import SigningKey
from govchain.ledger.sigcheck import ed25519_valid

KEY = SigningKey(bytes([0x07]) * 32)

pytestmark = pytest.mark.skipif(
    not recheck.AVAILABLE, reason="py-ed25519-zebra-bindings is not installed"
)


def test_order_8_point() -> None:
    point = ORDER_8_POINT
    for _ in range(7):
        assert point != bytes([1]) + bytes(31)
        point = nacl.bindings.crypto_core_ed25519_add(point, ORDER_8_POINT)
    assert point == bytes([1]) + bytes(31)


@given(st.binary(max_size=300), st.integers(0, 63), st.integers(1, 255))
def test_agrees_with_libsodium(message: bytes, at: int, flip: int) -> None:
    raw = KEY.public_key.raw
    signature = KEY.sign(message)
    assert recheck.valid(raw, message, signature)
    assert ed25519_valid(raw, message, signature)
    changed = bytearray(signature)
    changed[at] ^= flip
    assert recheck.valid(raw, message, bytes(changed)) is ed25519_valid(
        raw, message, bytes(changed)
    )
    assert not recheck.valid(raw, message + b"x", signature)


def test_torsion_signature_splits_the_checks() -> None:
    message = b"govchain/tx/v1\n{}"
    signature = torsion_signature(KEY, message)
    assert recheck.valid(KEY.public_key.raw, message, signature)
    assert not ed25519_valid(KEY.public_key.raw, message, signature)


def test_usable_key() -> None:
    assert recheck.usable_key(KEY.public_key.raw)
    assert recheck.usable_key(SigningKey(os.urandom(32)).public_key.raw)
    # A small-order key, and one with a small-order part: libsodium decides.
    assert not recheck.usable_key(ORDER_8_POINT)
    mixed = nacl.bindings.crypto_core_ed25519_add(KEY.public_key.raw, ORDER_8_POINT)
    assert not recheck.usable_key(mixed)
    assert not recheck.usable_key(bytes(32))
