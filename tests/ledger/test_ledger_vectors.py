"""The ledger format vectors in tests/vectors/ledger, one test per vector.

Each vector is checked against the implementation and, where it is cheap, also
against an independent computation with hashlib and PyNaCl, so a change that
alters a byte format fails here even if the code and the vectors agree.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import nacl.signing
import pytest
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from govchain.crypto.keys import PublicKey, SigningKey, key_id, read_key_store
from govchain.datasets import Dataset, rows_root, schema_hash
from govchain.errors import ConfigError, ValidationError, VerificationError
from govchain.evidence.bundle import read_trust_file, verify_bundle
from govchain.ledger import merkle
from govchain.ledger.block import BlockHeader, state_digest
from govchain.ledger.canonical import canonical_json, parse_canonical_json
from govchain.ledger.checkpoint import (
    Checkpoint,
    NoteSigner,
    NoteVerifier,
    open_checkpoint,
    sign_note,
)
from govchain.ledger.entry import entry_bytes, entry_tx_bytes
from govchain.ledger.state import Write
from govchain.ledger.transaction import decode_transaction, sign_transaction
from govchain.sharing.service import PACKAGE_DOMAIN

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "tests" / "vectors" / "ledger"
VECTOR_FILES = sorted(VECTORS.glob("*.json"))

#: Vectors that state the intended behaviour where the implementation still
#: differs. Each is a strict xfail, so fixing the code makes the run fail until
#: its entry is removed here.
KNOWN_GAPS: dict[str, str] = {}


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def load(stem: str) -> dict[str, Any]:
    content: dict[str, Any] = json.loads(
        (VECTORS / f"{stem}.json").read_text(encoding="utf-8")
    )
    return content


def vector_params() -> list[Any]:
    params = []
    for path in VECTOR_FILES:
        for vector in load(path.stem)["vectors"]:
            test_id = f"{path.stem}/{slug(vector['desc'])}"
            marks = []
            if test_id in KNOWN_GAPS:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[test_id]))
            params.append(pytest.param(path.stem, vector, id=test_id, marks=marks))
    return params


def expect_error(vector: dict[str, Any], error: type[Exception]) -> Any:
    """Return a `pytest.raises` context for a vector's expected error."""
    fragment = vector["errorContains"]
    return pytest.raises(error, match=None if fragment is None else re.escape(fragment))


def check_reason(caught: pytest.ExceptionInfo[ValidationError], vector: Any) -> None:
    assert caught.value.reason == vector["errorReason"]


def signing_key(key: dict[str, str]) -> SigningKey:
    signing = SigningKey(bytes.fromhex(key["seed_hex"]))
    assert signing.public_key.to_b64() == key["public_key_b64"]
    assert signing.kid == key["kid"]
    return signing


def nacl_verify(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Check an Ed25519 signature with PyNaCl alone, without govchain code."""
    nacl.signing.VerifyKey(public_key).verify(message, signature)


# ---------------------------------------------------------------------------
# Canonical JSON
# ---------------------------------------------------------------------------


def check_canonical(vector: dict[str, Any], tmp_path: Path) -> None:
    if vector["op"] == "encode":
        value = json.loads(vector["input"])
        if vector["wantErr"]:
            with expect_error(vector, ValidationError) as caught:
                canonical_json(value)
            check_reason(caught, vector)
            return
        want = vector["want_utf8"].encode("utf-8")
        assert want == bytes.fromhex(vector["want_hex"])
        assert canonical_json(value) == want
        return
    data = bytes.fromhex(vector["input_hex"])
    if "input_utf8" in vector:
        assert vector["input_utf8"].encode("utf-8") == data
    if vector["wantErr"]:
        with expect_error(vector, ValidationError) as caught:
            parse_canonical_json(data)
        check_reason(caught, vector)
        return
    assert canonical_json(parse_canonical_json(data)) == data


# ---------------------------------------------------------------------------
# Transactions
# ---------------------------------------------------------------------------


def check_transaction(vector: dict[str, Any], tmp_path: Path) -> None:
    if vector["op"] == "sign":
        check_signed_transaction(vector)
        return
    data = bytes.fromhex(vector["input_hex"])
    assert vector["input_utf8"].encode("utf-8") == data
    if vector["op"] == "decode":
        with expect_error(vector, ValidationError) as caught:
            decode_transaction(data)
        check_reason(caught, vector)
        return
    tx = decode_transaction(data)
    public_key = signing_key(vector["key"]).public_key
    with expect_error(vector, VerificationError):
        tx.verify_signature(public_key)


def check_signed_transaction(vector: dict[str, Any]) -> None:
    key = signing_key(vector["key"])
    want = vector["want"]
    tx = sign_transaction(key=key, **vector["fields"])
    signing_bytes = bytes.fromhex(want["signing_bytes_hex"])
    canonical = bytes.fromhex(want["canonical_hex"])
    assert signing_bytes == want["signing_bytes_utf8"].encode("utf-8")
    assert canonical == want["canonical_utf8"].encode("utf-8")
    assert tx.signing_bytes() == signing_bytes
    assert tx.canonical_bytes() == canonical
    assert tx.signature == _b64decode(want["signature_b64"])
    assert tx.id == want["tx_id"]

    # The same values from their definitions, without the Transaction class.
    body = json.loads(canonical)
    signature = _b64decode(body.pop("signature"))
    assert signing_bytes == b"govchain/tx/v1\n" + canonical_json(body)
    assert hashlib.sha256(canonical).hexdigest() == want["tx_id"]
    nacl_verify(key.public_key.raw, signing_bytes, signature)

    decoded = decode_transaction(canonical)
    assert decoded == tx
    decoded.verify_signature(key.public_key)


def state_writes(writes: list[dict[str, Any]]) -> list[Write]:
    """Convert the vector's writes to the records `state_digest` takes."""
    return [Write(w["ns"], w["key"], w["value"], _encoded(w["value"])) for w in writes]


def _encoded(value: Any) -> bytes | None:
    return None if value is None else canonical_json(value)


def _b64decode(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


# ---------------------------------------------------------------------------
# Log entries and block headers
# ---------------------------------------------------------------------------


def check_entry(vector: dict[str, Any], tmp_path: Path) -> None:
    inputs, want = vector["input"], vector["want"]
    tx_data = bytes.fromhex(inputs["tx_hex"])
    entry = entry_bytes(
        tx_data,
        height=inputs["height"],
        time=inputs["time"],
        status=inputs["status"],
        reason=inputs["reason"],
    )
    assert entry == want["entry_utf8"].encode("utf-8")
    assert entry == bytes.fromhex(want["entry_hex"])
    assert merkle.hash_leaf(entry).hex() == want["leaf_hash"]
    assert hashlib.sha256(b"\x00" + entry).hexdigest() == want["leaf_hash"]
    assert entry_tx_bytes(json.loads(entry)) == tx_data


def check_block(vector: dict[str, Any], tmp_path: Path) -> None:
    key = signing_key(vector["key"])
    if vector["wantErr"]:
        header = BlockHeader.from_dict(json.loads(vector["signed_header_utf8"]))
        with expect_error(vector, VerificationError):
            header.verify_signature(key.public_key)
        return
    want = vector["want"]
    state = vector["state"]
    writes = state_writes(state["writes"])
    assert state_digest(state["results"], writes) == want["state_digest"]
    assert vector["header"]["state_digest"] == want["state_digest"]
    header = BlockHeader.from_dict({**vector["header"], "signature": ""}).signed(key)
    signing_bytes = bytes.fromhex(want["signing_bytes_hex"])
    assert signing_bytes == want["signing_bytes_utf8"].encode("utf-8")
    assert header.unsigned_dict() == vector["header"]
    assert header.hash == want["hash"]
    assert header.signing_bytes() == signing_bytes
    assert header.signature == _b64decode(want["signature_b64"])
    assert header.canonical_bytes() == want["signed_header_utf8"].encode("utf-8")

    # The same values from their definitions.
    unsigned = canonical_json(vector["header"])
    assert hashlib.sha256(unsigned).hexdigest() == want["hash"]
    assert signing_bytes == b"govchain/block/v1\n" + unsigned
    nacl_verify(key.public_key.raw, signing_bytes, header.signature)
    digest_input = canonical_json(state)
    digest = hashlib.sha256(b"govchain/state/v1\n" + digest_input).hexdigest()
    assert digest == want["state_digest"]


# ---------------------------------------------------------------------------
# Keys, checkpoints, evidence and key stores
# ---------------------------------------------------------------------------


def check_key_id(vector: dict[str, Any], tmp_path: Path) -> None:
    want = vector["want"]
    signing = SigningKey(bytes.fromhex(vector["seed_hex"]))
    raw = signing.public_key.raw
    assert raw.hex() == want["public_key_hex"]
    assert signing.public_key.to_b64() == want["public_key_b64"]
    assert signing.kid == want["kid"]
    assert key_id(raw) == hashlib.sha256(raw).hexdigest()[:16]
    name = vector["desc"].removeprefix("key of ")
    assert NoteSigner(name, signing).verifier().vkey() == want["verifier_key"]
    parsed = NoteVerifier.from_vkey(want["verifier_key"])
    assert parsed.public_key.raw == raw
    key_hash = hashlib.sha256(name.encode() + b"\n\x01" + raw).digest()[:4]
    assert parsed.key_hash == key_hash


def trust_file(vector: dict[str, Any], tmp_path: Path) -> list[NoteVerifier]:
    path = tmp_path / "trust.txt"
    path.write_text(vector["trust_file"], encoding="utf-8")
    return read_trust_file(path)


def check_checkpoint(vector: dict[str, Any], tmp_path: Path) -> None:
    verifiers = trust_file(vector, tmp_path)
    if vector["wantErr"]:
        with expect_error(vector, VerificationError):
            open_checkpoint(
                vector["note_utf8"].encode("utf-8"),
                verifiers,
                origin="govchain.example/vectors",
                min_signatures=vector["min_signatures"],
            )
        return
    fields, want = vector["checkpoint"], vector["want"]
    checkpoint = Checkpoint(
        fields["origin"], fields["size"], bytes.fromhex(fields["root_hash_hex"])
    )
    assert checkpoint.body() == want["body_utf8"].encode("utf-8")
    signers = [NoteSigner(key["name"], signing_key(key)) for key in vector["signers"]]
    note = sign_note(checkpoint.body(), signers)
    assert note == want["note_utf8"].encode("utf-8")
    opened, names = open_checkpoint(
        note,
        verifiers,
        origin=fields["origin"],
        min_signatures=vector["min_signatures"],
    )
    assert opened == checkpoint
    assert names == want["verified"]


def check_evidence(vector: dict[str, Any], tmp_path: Path) -> None:
    verifiers = trust_file(vector, tmp_path)
    if vector["wantErr"]:
        with expect_error(vector, VerificationError):
            verify_bundle(vector["bundle"], verifiers)
        return
    result = verify_bundle(vector["bundle"], verifiers)
    for name, value in vector["want"].items():
        assert result[name] == value, name


def check_key_store(vector: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    path.write_text(vector["file_utf8"], encoding="utf-8")
    if vector["wantErr"]:
        with expect_error(vector, ConfigError):
            read_key_store(path, passphrase=vector["passphrase"])
        return
    want = vector["want"]
    loaded = read_key_store(path, passphrase=vector["passphrase"])
    assert loaded.seed().hex() == want["seed_hex"]
    assert loaded.kid == want["kid"]
    record = json.loads(vector["file_utf8"])
    params = record["scrypt"]
    kdf = Scrypt(
        salt=_b64decode(params["salt"]),
        length=32,
        n=params["n"],
        r=params["r"],
        p=params["p"],
    )
    assert kdf.derive(vector["passphrase"].encode("utf-8")).hex() == want["aes_key_hex"]


# ---------------------------------------------------------------------------
# Datasets and delivery packages
# ---------------------------------------------------------------------------


def check_dataset(vector: dict[str, Any], tmp_path: Path) -> None:
    want = vector["want"]
    rows, fields = vector["rows"], vector["fields"]
    assert len(rows) == len(want["rows"])
    for row, expected in zip(rows, want["rows"], strict=True):
        data = canonical_json(row)
        assert data == expected["row_utf8"].encode("utf-8")
        assert merkle.hash_leaf(data).hex() == expected["leaf_hash"]
    assert rows_root(rows) == want["content_hash"]
    assert canonical_json(fields) == want["schema_utf8"].encode("utf-8")
    assert schema_hash(fields) == want["schema_hash"]
    dataset = Dataset(fields=fields, rows=rows)
    assert dataset.content_hash == want["content_hash"]
    assert dataset.schema_hash == want["schema_hash"]


def check_delivery(vector: dict[str, Any], tmp_path: Path) -> None:
    key = signing_key(vector["key"])
    want, package = vector["want"], vector["package"]
    unsigned = {name: value for name, value in package.items() if name != "signature"}
    signing_bytes = PACKAGE_DOMAIN + canonical_json(unsigned)
    assert signing_bytes == bytes.fromhex(want["signing_bytes_hex"])
    assert signing_bytes == want["signing_bytes_utf8"].encode("utf-8")
    assert key.sign(signing_bytes) == _b64decode(want["signature_b64"])
    assert package["signature"] == want["signature_b64"]
    PublicKey(key.public_key.raw).verify(signing_bytes, key.sign(signing_bytes))
    assert rows_root(package["rows"]) == package["content_hash"]


CHECKS: dict[str, Callable[[dict[str, Any], Path], None]] = {
    "block-headers": check_block,
    "canonical-json": check_canonical,
    "checkpoints": check_checkpoint,
    "datasets": check_dataset,
    "delivery-packages": check_delivery,
    "evidence-bundles": check_evidence,
    "key-ids": check_key_id,
    "key-stores": check_key_store,
    "log-entries": check_entry,
    "transactions": check_transaction,
}


@pytest.mark.parametrize(("stem", "vector"), vector_params())
def test_ledger_vector(stem: str, vector: dict[str, Any], tmp_path: Path) -> None:
    CHECKS[stem](vector, tmp_path)


# ---------------------------------------------------------------------------
# The files as a whole
# ---------------------------------------------------------------------------


def test_vector_files_cover_every_check() -> None:
    assert sorted(path.stem for path in VECTOR_FILES) == sorted(CHECKS)


def test_known_gaps_name_real_vectors() -> None:
    ids = {param.id for param in vector_params()}
    assert set(KNOWN_GAPS) <= ids


@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda path: path.stem)
def test_vector_file_shape(path: Path) -> None:
    content = load(path.stem)
    assert sorted(content) == ["description", "source", "vectors"]
    assert content["source"] == "generated by scripts/gen_ledger_vectors.py"
    descs = [vector["desc"] for vector in content["vectors"]]
    assert len({slug(desc) for desc in descs}) == len(descs)
    for vector in content["vectors"]:
        assert isinstance(vector["wantErr"], bool), vector["desc"]
        if vector["wantErr"]:
            assert "errorReason" in vector, vector["desc"]
            assert vector["errorContains"] != "", vector["desc"]


def test_block_headers_commit_to_log_entries() -> None:
    leaves = [
        bytes.fromhex(vector["want"]["leaf_hash"])
        for vector in load("log-entries")["vectors"]
    ]
    blocks = [v for v in load("block-headers")["vectors"] if not v["wantErr"]]
    start = 0
    prev_hash = "0" * 64
    for block in blocks:
        header = block["header"]
        end = header["log_size"]
        assert header["tx_count"] == end - start
        assert header["prev_hash"] == prev_hash
        tx_root = merkle.root_from_leaf_hashes(leaves[start:end])
        assert header["tx_root"] == tx_root.hex()
        assert header["log_root"] == merkle.root_from_leaf_hashes(leaves[:end]).hex()
        results = block["state"]["results"]
        assert len(results) == header["tx_count"]
        prev_hash = block["want"]["hash"]
        start = end


def test_checkpoint_signs_last_log_root() -> None:
    last_block = [v for v in load("block-headers")["vectors"] if not v["wantErr"]][-1]
    checkpoint = load("checkpoints")["vectors"][0]["checkpoint"]
    assert checkpoint["size"] == last_block["header"]["log_size"]
    assert checkpoint["root_hash_hex"] == last_block["header"]["log_root"]


def load_generator() -> ModuleType:
    path = REPO / "scripts" / "gen_ledger_vectors.py"
    spec = importlib.util.spec_from_file_location("gen_ledger_vectors", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_vectors_match_generator() -> None:
    generator = load_generator()
    built = generator.build_vectors()
    assert sorted(built) == sorted(path.stem for path in VECTOR_FILES)
    for name, content in built.items():
        on_disk = (VECTORS / f"{name}.json").read_text(encoding="utf-8")
        assert on_disk == generator.render(content), name


def test_formats_doc_quotes_vectors() -> None:
    # Every hash and signature quoted in docs/formats.md must come from a vector.
    doc = (REPO / "docs" / "formats.md").read_text(encoding="utf-8")
    corpus = "".join(path.read_text(encoding="utf-8") for path in VECTOR_FILES)
    quoted = re.findall(r"\b[0-9a-f]{64}\b|[A-Za-z0-9+/]{86}==", doc)
    assert len(quoted) >= 20
    for value in quoted:
        assert value in corpus, value
