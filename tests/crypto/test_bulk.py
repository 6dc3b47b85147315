"""Bulk hashing: the C module and the hashlib fallback give the standard bytes."""

from __future__ import annotations

import base64
import hashlib
import hmac
from array import array
from pathlib import Path
from types import SimpleNamespace

import polars as pl
import pytest

from govchain.crypto import bulk
from govchain.ledger import merkle

PYTHON = SimpleNamespace(
    sha256_each=bulk._py_sha256_each,
    hmac_sha256_each=bulk._py_hmac_sha256_each,
    merkle_root=bulk._py_merkle_root,
    b32encode=base64.b32encode,
)
NATIVE_MODULE: object
try:
    from govchain.crypto import _bulk as NATIVE_MODULE
except ImportError:
    NATIVE_MODULE = None

IMPLEMENTATIONS = [
    pytest.param(PYTHON, id="hashlib"),
    pytest.param(
        NATIVE_MODULE,
        id="native",
        marks=pytest.mark.skipif(NATIVE_MODULE is None, reason="_bulk is not built"),
    ),
]

VALUES = [
    "",
    "a",
    "\n",
    "x\ny",
    '"quoted"',
    "\r\n",
    "\x00",
    "中文𝄞",
    ",",
    " lead",
    "tail ",
]


def test_native_module_built_with_openssl_headers() -> None:
    if not Path("/usr/include/openssl/sha.h").exists():
        pytest.skip("OpenSSL headers are not installed, so setup.py skips _bulk")
    assert bulk.NATIVE, "setup.py did not build govchain.crypto._bulk; reinstall"


def test_column_messages_keeps_every_byte() -> None:
    data, lengths, gap = bulk.column_messages(pl.Series("v", VALUES))
    assert gap == 1
    assert data == b"".join(v.encode() + b"\n" for v in VALUES)
    assert list(lengths) == [len(v.encode()) for v in VALUES]


def test_column_messages_raises_on_nulls() -> None:
    with pytest.raises(ValueError, match="column 'id' has nulls"):
        bulk.column_messages(pl.Series("id", ["a", None]))


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("prefix", [b"", b"\x00", b"p" * 100])
def test_sha256_each_matches_hashlib(impl: SimpleNamespace, prefix: bytes) -> None:
    data, lengths, gap = bulk.column_messages(pl.Series("v", VALUES))
    expected = b"".join(hashlib.sha256(prefix + v.encode()).digest() for v in VALUES)
    assert impl.sha256_each(data, lengths, gap, prefix) == expected


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("key_size", [0, 32, 64, 65, 100])
@pytest.mark.parametrize("size", [1, 15, 32])
def test_hmac_sha256_each_matches_stdlib(
    impl: SimpleNamespace, key_size: int, size: int
) -> None:
    key = bytes(range(key_size))
    messages = [b"", b"11010519491231002X", b"x" * 200]
    data = b"".join(messages)
    lengths = array("I", [len(m) for m in messages])
    expected = b"".join(hmac.digest(key, m, "sha256")[:size] for m in messages)
    assert impl.hmac_sha256_each(key, data, lengths, 0, size) == expected


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_merkle_root_matches_ledger_tree(impl: SimpleNamespace) -> None:
    for count in range(0, 34):
        leaves = [hashlib.sha256(bytes([i])).digest() for i in range(count)]
        expected = merkle.root_from_leaf_hashes(leaves)
        assert impl.merkle_root(b"".join(leaves)) == expected, count


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_b32encode_matches_base64(impl: SimpleNamespace) -> None:
    for size in range(0, 21):
        data = hashlib.sha256(bytes([size])).digest()[:size]
        assert impl.b32encode(data) == base64.b32encode(data), size


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_uncovered_data_raises(impl: SimpleNamespace) -> None:
    lengths = array("I", [2, 2])
    message = "add up to 4 bytes but data holds 6"
    with pytest.raises(ValueError, match=message):
        impl.sha256_each(b"abcdef", lengths)
    with pytest.raises(ValueError, match=message):
        impl.hmac_sha256_each(b"k" * 32, b"abcdef", lengths)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("size", [0, 33])
def test_digest_size_out_of_range_raises(impl: SimpleNamespace, size: int) -> None:
    with pytest.raises(ValueError, match=f"between 1 and 32 bytes, got {size}"):
        impl.sha256_each(b"ab", array("I", [2]), 0, b"", size)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_partial_leaf_hash_raises(impl: SimpleNamespace) -> None:
    with pytest.raises(ValueError, match="not a whole number of 32-byte hashes"):
        impl.merkle_root(b"x" * 33)


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_negative_gap_raises(impl: SimpleNamespace) -> None:
    with pytest.raises(ValueError, match="gap must be 0 or more, got -1"):
        impl.sha256_each(b"", array("I"), -1)
