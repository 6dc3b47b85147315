"""Transactions: signing, decoding, every rejection and tamper detection."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import pytest

from govchain.crypto.keys import SigningKey
from govchain.errors import ValidationError, VerificationError
from govchain.ledger.canonical import canonical_json
from govchain.ledger.transaction import (
    MAX_TX_BYTES,
    SIGNING_DOMAIN,
    Transaction,
    decode_transaction,
    sign_transaction,
    transaction_from_dict,
    tx_id,
)

KEY = SigningKey(bytes([0x01]) * 32)
OTHER_KEY = SigningKey(bytes([0x02]) * 32)
PAYLOAD = {"title": "床位", "level": 1, "sharing": "unconditional"}


def signed(**changes: Any) -> Transaction:
    fields: dict[str, Any] = {
        "type": "catalog.register",
        "dept": "city-health",
        "key": KEY,
        "nonce": 3,
        "payload": PAYLOAD,
    }
    fields.update(changes)
    return sign_transaction(**fields)


def body(**changes: Any) -> dict[str, Any]:
    """Return the object form of a signed transaction with fields changed."""
    result = signed().to_dict()
    result.update(changes)
    return result


def without(name: str) -> dict[str, Any]:
    result = body()
    del result[name]
    return result


def test_transaction_round_trip() -> None:
    tx = signed()
    decoded = decode_transaction(tx.canonical_bytes())
    assert decoded == tx
    assert decoded.id == tx.id
    assert decoded.canonical_bytes() == tx.canonical_bytes()
    decoded.verify_signature(KEY.public_key)


def test_transaction_id_is_hash_of_canonical_bytes() -> None:
    tx = signed()
    assert tx.id == hashlib.sha256(tx.canonical_bytes()).hexdigest()
    assert tx.id == tx_id(tx.canonical_bytes())


def test_transaction_id_covers_signature() -> None:
    # The two transactions differ only in the signature, and so do their ids.
    tx = signed()
    other = Transaction(
        type=tx.type,
        dept=tx.dept,
        kid=tx.kid,
        nonce=tx.nonce,
        payload=tx.payload,
        signature=bytes(64),
    )
    assert other.id != tx.id


def test_transaction_signing_bytes_layout() -> None:
    tx = signed()
    unsigned = {k: v for k, v in tx.to_dict().items() if k != "signature"}
    assert SIGNING_DOMAIN == b"govchain/tx/v1\n"
    assert tx.signing_bytes() == SIGNING_DOMAIN + canonical_json(unsigned)
    assert KEY.public_key.is_valid_signature(tx.signing_bytes(), tx.signature)


def test_transaction_canonical_fields() -> None:
    fields = signed().to_dict()
    assert sorted(fields) == [
        "alg",
        "dept",
        "kid",
        "nonce",
        "payload",
        "signature",
        "type",
        "v",
    ]
    assert fields["v"] == 1
    assert fields["alg"] == "Ed25519"
    assert fields["kid"] == KEY.kid


def test_transaction_block_domain_not_accepted() -> None:
    # A signature over the same object under the block domain must not verify.
    tx = signed()
    unsigned = canonical_json(
        {k: v for k, v in tx.to_dict().items() if k != "signature"}
    )
    forged = KEY.sign(b"govchain/block/v1\n" + unsigned)
    data = canonical_json(body(signature=base64.b64encode(forged).decode()))
    with pytest.raises(VerificationError, match="does not verify"):
        decode_transaction(data).verify_signature(KEY.public_key)


def test_sign_transaction_checks_shape() -> None:
    with pytest.raises(ValidationError, match=r"family\.action") as caught:
        signed(type="Register")
    assert caught.value.reason == "bad-encoding"


# -- every rejection of decode_transaction -----------------------------------


def loose_base64(signature: bytes) -> str:
    """Encode 64 bytes in base64 with an unused bit of the last character set."""
    text = base64.b64encode(signature).decode("ascii")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet[alphabet.index(text[-3]) ^ 1]
    loose = text[:-3] + last + text[-2:]
    assert base64.b64decode(loose) == signature
    return loose


REJECTIONS: dict[str, tuple[bytes, str, str]] = {
    "not-utf8": (b'{"v":1,"type":"\xff"}', "bad-encoding", "not valid UTF-8"),
    "not-json": (b"{", "bad-encoding", "not valid UTF-8 JSON"),
    "whitespace": (
        canonical_json(body()).replace(b",", b", ", 1),
        "bad-encoding",
        "not in canonical form",
    ),
    "float": (
        canonical_json(body()).replace(b'"level":1', b'"level":1.0'),
        "bad-encoding",
        "1.0 is not an integer",
    ),
    "array": (b"[]", "bad-encoding", "must be a JSON object"),
    "string": (b'"tx"', "bad-encoding", "must be a JSON object"),
    "unknown-field": (
        canonical_json(body(memo="x")),
        "bad-encoding",
        "unknown fields ['memo']",
    ),
    "version-2": (canonical_json(body(v=2)), "bad-encoding", "version 2"),
    "version-bool": (canonical_json(body(v=True)), "bad-encoding", "field v"),
    "alg": (canonical_json(body(alg="ES256")), "bad-encoding", "'ES256'"),
    "type-one-part": (
        canonical_json(body(type="register")),
        "bad-encoding",
        "family.action",
    ),
    "type-upper-case": (
        canonical_json(body(type="Catalog.register")),
        "bad-encoding",
        "family.action",
    ),
    "type-trailing-dot": (
        canonical_json(body(type="catalog.")),
        "bad-encoding",
        "family.action",
    ),
    "nonce-zero": (canonical_json(body(nonce=0)), "bad-nonce", "must be positive"),
    "nonce-negative": (
        canonical_json(body(nonce=-5)),
        "bad-nonce",
        "must be positive",
    ),
    "nonce-string": (canonical_json(body(nonce="3")), "bad-encoding", "field nonce"),
    "nonce-bool": (canonical_json(body(nonce=True)), "bad-encoding", "field nonce"),
    "payload-list": (canonical_json(body(payload=[])), "bad-encoding", "payload"),
    "dept-int": (canonical_json(body(dept=7)), "bad-encoding", "field dept"),
    "kid-null": (canonical_json(body(kid=None)), "bad-encoding", "field kid"),
    "signature-missing": (
        canonical_json(without("signature")),
        "bad-encoding",
        "signature is missing",
    ),
    "signature-int": (
        canonical_json(body(signature=5)),
        "bad-encoding",
        "signature is missing or not a string",
    ),
    "signature-not-base64": (
        canonical_json(body(signature="%%%")),
        "bad-encoding",
        "not valid base64",
    ),
    "signature-empty": (
        canonical_json(body(signature="")),
        "bad-encoding",
        "signature is 0 bytes",
    ),
    "signature-63-bytes": (
        canonical_json(body(signature=base64.b64encode(bytes(63)).decode())),
        "bad-encoding",
        "signature is 63 bytes",
    ),
    "signature-non-canonical-base64": (
        canonical_json(body(signature=loose_base64(signed().signature))),
        "bad-encoding",
        "not in canonical base64",
    ),
    "signature-65-bytes": (
        canonical_json(body(signature=base64.b64encode(bytes(65)).decode())),
        "bad-encoding",
        "signature is 65 bytes",
    ),
}
for _field in ("v", "type", "dept", "kid", "alg", "nonce", "payload"):
    REJECTIONS[f"missing-{_field}"] = (
        canonical_json(without(_field)),
        "bad-encoding",
        f"field {_field} is missing",
    )


@pytest.mark.parametrize("case", sorted(REJECTIONS))
def test_decode_transaction_rejects(case: str) -> None:
    data, reason, fragment = REJECTIONS[case]
    with pytest.raises(ValidationError, match=re.escape(fragment)) as caught:
        decode_transaction(data)
    assert caught.value.reason == reason


def test_decode_transaction_too_large() -> None:
    data = b" " * (MAX_TX_BYTES + 1)
    with pytest.raises(ValidationError, match="over the limit") as caught:
        decode_transaction(data)
    assert caught.value.reason == "too-large"


def test_decode_transaction_at_size_limit() -> None:
    # A transaction of exactly the limit is parsed, not rejected for its size.
    base = signed(payload={**PAYLOAD, "pad": ""})
    padding = MAX_TX_BYTES - len(base.canonical_bytes())
    large = signed(payload={**PAYLOAD, "pad": "x" * padding})
    assert len(large.canonical_bytes()) == MAX_TX_BYTES
    assert decode_transaction(large.canonical_bytes()) == large


def test_transaction_from_dict_rejects_list() -> None:
    with pytest.raises(ValidationError, match="must be a JSON object"):
        transaction_from_dict([])


# -- tampering ----------------------------------------------------------------

TAMPERED_FIELDS: dict[str, Any] = {
    "type": "catalog.publish",
    "dept": "city-bdb",
    "nonce": 4,
    "payload": {**PAYLOAD, "level": 2},
}


@pytest.mark.parametrize("name", sorted(TAMPERED_FIELDS))
def test_tampered_field_breaks_signature(name: str) -> None:
    data = canonical_json(body(**{name: TAMPERED_FIELDS[name]}))
    tx = decode_transaction(data)
    with pytest.raises(VerificationError, match="does not verify"):
        tx.verify_signature(KEY.public_key)


def test_tampered_kid_names_other_key() -> None:
    data = canonical_json(body(kid=OTHER_KEY.kid))
    tx = decode_transaction(data)
    with pytest.raises(VerificationError, match="names key"):
        tx.verify_signature(KEY.public_key)
    with pytest.raises(VerificationError, match="does not verify"):
        tx.verify_signature(OTHER_KEY.public_key)


@pytest.mark.parametrize("index", [0, 31, 32, 63])
def test_tampered_signature_byte(index: int) -> None:
    signature = bytearray(signed().signature)
    signature[index] ^= 0x01
    data = canonical_json(body(signature=base64.b64encode(signature).decode()))
    with pytest.raises(VerificationError, match="does not verify"):
        decode_transaction(data).verify_signature(KEY.public_key)


def test_version_and_alg_changes_rejected_before_signature() -> None:
    # `v` and `alg` are signed too, but a changed value never reaches the check.
    for changes in ({"v": 2}, {"alg": "Ed448"}):
        with pytest.raises(ValidationError, match="not supported"):
            decode_transaction(canonical_json(body(**changes)))
