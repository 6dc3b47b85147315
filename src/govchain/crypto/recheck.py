"""A quicker Ed25519 check for signatures the ledger already recorded as valid.

libsodium decides which signatures the ledger accepts: the committer checks
every transaction with it. `govchain verify` checks every signature again,
and for those whose transaction the ledger records as accepted it may use
ed25519-zebra (through `py-ed25519-zebra-bindings`) instead, which takes 31 us
a signature on the benchmark machine against libsodium's 40.

ed25519-zebra follows the rules of ZIP 215: the cofactored equation
[8][s]B = [8]R + [8][k]A, with A and R decoded even from non-canonical
encodings. Every signature libsodium accepts satisfies it, so a signature it
rejects is one libsodium rejects too. It accepts more than libsodium only for
signatures whose R or A has a small-order part (or a non-canonical
encoding), and with a key in the prime-order subgroup only the holder of the
private key can make one. The committer records such a transaction as
`bad-signature`, and the verifier checks those with libsodium; `usable_key`
keeps keys outside the prime-order subgroup on libsodium too.

Without the package installed every check is libsodium's.
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable

import nacl.bindings

logger = logging.getLogger(__name__)

_zebra_verify: Callable[[bytes, bytes, bytes], bool] | None
try:
    _zebra_verify = importlib.import_module("ed25519_zebra").ed_verify
except ImportError:
    _zebra_verify = None

#: Whether the quicker check is installed.
AVAILABLE = _zebra_verify is not None


@functools.lru_cache(maxsize=4096)
def usable_key(public_key: bytes) -> bool:
    """Return whether signatures under `public_key` may take the quicker check.

    The key must be a canonical encoding of a point in the prime-order subgroup
    (libsodium's check, about 30 us, once per key).
    """
    return AVAILABLE and bool(
        nacl.bindings.crypto_core_ed25519_is_valid_point(public_key)
    )


def valid(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Return whether `signature` satisfies the cofactored Ed25519 equation.

    Call it only when `usable_key(public_key)` is true; the module docstring
    describes when its result and libsodium's differ.
    """
    if _zebra_verify is None:
        raise RuntimeError("py-ed25519-zebra-bindings is not installed")
    return bool(_zebra_verify(signature, message, public_key))
