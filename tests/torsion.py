"""Ed25519 signatures with a small-order part, which libsodium and the
cofactored check of `govchain.crypto.recheck` judge differently.

Only the holder of a private key can make one, so the tests make them with
the key's seed: the signature's R is rB plus a point of order 8, and s is
computed for that R as usual. [8][s]B = [8]R + [8][k]A holds, because eight
times the added point is the identity, but [s]B = R + [k]A does not.
"""

from __future__ import annotations

import hashlib

import nacl.bindings

from govchain.crypto.keys import SigningKey

#: The order of the prime-order subgroup of Ed25519 (RFC 8032, section 5.1).
L = 2**252 + 27742317777372353535851937790883648493
#: A point of order 8: eight additions of it give the identity (checked in
#: tests/crypto/test_recheck.py).
ORDER_8_POINT = bytes.fromhex(
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"
)


def _scalar(data: bytes) -> int:
    return int.from_bytes(hashlib.sha512(data).digest(), "little") % L


def torsion_signature(key: SigningKey, message: bytes) -> bytes:
    """Sign `message` as RFC 8032 does, but with an order-8 point added to R."""
    digest = hashlib.sha512(key.seed()).digest()
    clamped = bytearray(digest[:32])
    clamped[0] &= 248
    clamped[31] &= 127
    clamped[31] |= 64
    secret = int.from_bytes(clamped, "little") % L
    public = key.public_key.raw
    r = _scalar(digest[32:] + message)
    point_r = nacl.bindings.crypto_scalarmult_ed25519_base_noclamp(
        r.to_bytes(32, "little")
    )
    point_r = nacl.bindings.crypto_core_ed25519_add(point_r, ORDER_8_POINT)
    k = _scalar(point_r + public + message)
    s = (r + k * secret) % L
    return point_r + s.to_bytes(32, "little")
