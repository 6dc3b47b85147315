"""Tests of signed notes and checkpoints (C2SP signed-note and tlog-checkpoint)."""

from __future__ import annotations

import base64
import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from govchain.crypto.keys import PublicKey, SigningKey
from govchain.errors import ConfigError, VerificationError
from govchain.ledger.checkpoint import (
    MAX_SIGNATURES,
    Checkpoint,
    NoteFormatError,
    NoteSignatureError,
    NoteSigner,
    NoteVerifier,
    open_checkpoint,
    open_note,
    sign_note,
)
from govchain.ledger.merkle import EMPTY_ROOT, hash_leaf

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "tests" / "vectors" / "checkpoint"
REKOR = REPO / "tests" / "vectors" / "merkle" / "sigstore_rekor_inclusion_vectors.json"

ORIGIN = "registry.example.gov/log"
ROOT = hash_leaf(b"root for tests")


def make_signer(name: str, number: int) -> NoteSigner:
    return NoteSigner(name, SigningKey(bytes([number]) * 32))


@pytest.fixture
def log() -> NoteSigner:
    return make_signer(ORIGIN, 1)


@pytest.fixture
def witnesses() -> list[NoteSigner]:
    return [make_signer(f"witness-{n}.example.gov", 10 + n) for n in range(3)]


@pytest.fixture
def checkpoint() -> Checkpoint:
    return Checkpoint(ORIGIN, 1234, ROOT)


# ---------------------------------------------------------------------------
# Checkpoint text
# ---------------------------------------------------------------------------


def test_checkpoint_body_layout(checkpoint: Checkpoint) -> None:
    root = base64.b64encode(ROOT).decode()
    assert checkpoint.body() == f"{ORIGIN}\n1234\n{root}\n".encode()


def test_checkpoint_round_trip_extensions() -> None:
    checkpoint = Checkpoint(ORIGIN, 7, ROOT, ("first extension", "second"))
    assert Checkpoint.parse(checkpoint.body()) == checkpoint
    assert checkpoint.body().endswith(b"\nfirst extension\nsecond\n")


def test_checkpoint_round_trip_empty_tree() -> None:
    checkpoint = Checkpoint(ORIGIN, 0, EMPTY_ROOT)
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


def test_checkpoint_max_size() -> None:
    checkpoint = Checkpoint(ORIGIN, 2**64 - 1, ROOT)
    assert Checkpoint.parse(checkpoint.body()).size == 2**64 - 1


def test_checkpoint_origin_with_spaces() -> None:
    # The origin is opaque text: only key names exclude spaces.
    checkpoint = Checkpoint("rekor.example - 12345", 3, ROOT)
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


ROOT_B64 = base64.b64encode(ROOT).decode()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "does not end with a newline"),
        (f"{ORIGIN}\n5\n{ROOT_B64}".encode(), "does not end with a newline"),
        (f"{ORIGIN}\n5\n".encode(), "has 2 lines, expected at least 3"),
        (b"\n", "has 1 lines"),
        (f"\n5\n{ROOT_B64}\n".encode(), "origin is empty"),
        (f"{ORIGIN}\n\n{ROOT_B64}\n".encode(), "tree size '' is not a decimal"),
        (f"{ORIGIN}\n05\n{ROOT_B64}\n".encode(), "'05' is not a decimal number"),
        (f"{ORIGIN}\n-5\n{ROOT_B64}\n".encode(), "'-5' is not a decimal"),
        (f"{ORIGIN}\n5 \n{ROOT_B64}\n".encode(), "'5 ' is not a decimal"),
        (f"{ORIGIN}\n1_000\n{ROOT_B64}\n".encode(), "is not a decimal"),
        (f"{ORIGIN}\n0x10\n{ROOT_B64}\n".encode(), "is not a decimal"),
        (f"{ORIGIN}\n{'9' * 25}\n{ROOT_B64}\n".encode(), "is larger than"),
        (f"{ORIGIN}\n{2**64}\n{ROOT_B64}\n".encode(), "is outside 0 to"),
        (f"{ORIGIN}\n5\n\n".encode(), "root hash is 0 bytes"),
        (f"{ORIGIN}\n5\n{ROOT_B64[:-1]}\n".encode(), "not valid base64"),
        (f"{ORIGIN}\n5\n{ROOT_B64.rstrip('=')}\n".encode(), "not valid base64"),
        (f"{ORIGIN}\n5\n {ROOT_B64}\n".encode(), "not valid base64"),
        (f"{ORIGIN}\n5\n{base64.b64encode(ROOT * 2).decode()}\n".encode(), "64 bytes"),
        (f"{ORIGIN}\n5\n{ROOT_B64}\n\n".encode(), "extension line 1 is empty"),
        (f"{ORIGIN}\n5\n{ROOT_B64}\next\n\n".encode(), "extension line 2 is empty"),
        (f"{ORIGIN}\t\n5\n{ROOT_B64}\n".encode(), "control character U+0009"),
        (b"\xff\n5\n" + ROOT_B64.encode() + b"\n", "not valid UTF-8"),
    ],
)
def test_checkpoint_parse_rejects(body: bytes, message: str) -> None:
    with pytest.raises(NoteFormatError, match=re.escape(message)):
        Checkpoint.parse(body)


def test_checkpoint_parse_non_canonical_root() -> None:
    # 32 bytes leave two unused bits in the last base64 digit before '='.
    digit = ROOT_B64[-2]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    other = alphabet[alphabet.index(digit) ^ 0b01]
    body = f"{ORIGIN}\n5\n{ROOT_B64[:-2]}{other}=\n".encode()
    with pytest.raises(NoteFormatError, match="not canonical base64"):
        Checkpoint.parse(body)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"origin": ""}, "origin is empty"),
        ({"origin": "a\nb"}, "origin contains a newline"),
        ({"size": -1}, "tree size -1 is outside"),
        ({"size": 2**64}, "is outside"),
        ({"root_hash": b"\x00" * 31}, "root hash is 31 bytes"),
        ({"extensions": ("",)}, "extension line 1 is empty"),
        ({"extensions": ("ok", "two\nlines")}, "extension line 2 contains"),
    ],
)
def test_checkpoint_constructor_rejects(kwargs: dict[str, Any], message: str) -> None:
    fields: dict[str, Any] = {"origin": ORIGIN, "size": 1, "root_hash": ROOT}
    fields.update(kwargs)
    with pytest.raises(NoteFormatError, match=message):
        Checkpoint(**fields)


# ---------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------


def test_verifier_vkey_round_trip(log: NoteSigner) -> None:
    verifier = log.verifier()
    text = verifier.vkey()
    assert text.startswith(f"{ORIGIN}+{verifier.key_hash.hex()}+")
    assert NoteVerifier.from_vkey(text) == verifier
    assert len(verifier.key_hash) == 4
    assert verifier.key_hash == log.key_hash


def test_verifier_vkey_with_plus_in_base64() -> None:
    # Find a test key whose base64 contains '+', which the parser must not split.
    for number in range(256):
        verifier = make_signer("plus.example", number).verifier()
        if "+" in verifier.vkey().split("+", 2)[2]:
            break
    else:
        pytest.fail("no test key with '+' in its base64")
    assert NoteVerifier.from_vkey(verifier.vkey()) == verifier


def test_verifier_key_hash_depends_on_name(log: NoteSigner) -> None:
    public_key = log.verifier().public_key
    assert NoteVerifier("a.example", public_key).key_hash != log.key_hash


def vkey_parts(log: NoteSigner) -> tuple[str, str, str]:
    name, hash_hex, encoded = log.verifier().vkey().split("+", 2)
    return name, hash_hex, encoded


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda n, h, k: f"{n}+{h}", "has 2 '+'-separated parts"),
        (lambda n, h, k: n, "has 1 '+'-separated parts"),
        (lambda n, h, k: f"{n}+{h[:7]}+{k}", "expected 8 hex digits"),
        (lambda n, h, k: f"{n}+{h}0+{k}", "expected 8 hex digits"),
        (lambda n, h, k: f"{n}+zzzzzzzz+{k}", "expected 8 hex digits"),
        (lambda n, h, k: f"{n}+{h}+{k[:-4]}", "not an Ed25519 key"),
        (lambda n, h, k: f"{n}+{h}+{k}=", "not canonical base64"),
        (lambda n, h, k: f"{n}+00000000+{k}", "states key hash 00000000"),
        (lambda n, h, k: f"other.example+{h}+{k}", "but its name and key hash"),
        (lambda n, h, k: f"+{h}+{k}", "key name is empty"),
        (lambda n, h, k: f"bad name+{h}+{k}", "contains a space"),
    ],
)
def test_verifier_from_vkey_rejects(log: NoteSigner, mangle: Any, message: str) -> None:
    with pytest.raises(NoteFormatError, match=re.escape(message)):
        NoteVerifier.from_vkey(mangle(*vkey_parts(log)))


def test_verifier_from_vkey_wrong_type(log: NoteSigner) -> None:
    name, hash_hex, encoded = vkey_parts(log)
    raw = bytearray(base64.b64decode(encoded))
    raw[0] = 0x02
    mangled = f"{name}+{hash_hex}+{base64.b64encode(bytes(raw)).decode()}"
    with pytest.raises(NoteFormatError, match="expected type byte 0x01"):
        NoteVerifier.from_vkey(mangled)


@pytest.mark.parametrize(
    "name", ["", "has space", "has+plus", "tab\tname", "nbsp\u00a0x"]
)
def test_key_name_rejected(name: str) -> None:
    with pytest.raises(NoteFormatError, match="key name"):
        NoteSigner(name, SigningKey(b"\x01" * 32))
    with pytest.raises(NoteFormatError, match="key name"):
        NoteVerifier(name, SigningKey(b"\x01" * 32).public_key)


def test_signer_repr_hides_key(log: NoteSigner) -> None:
    assert "seed" not in repr(log)
    assert log.key_hash.hex() in repr(log)


# ---------------------------------------------------------------------------
# Signing and opening
# ---------------------------------------------------------------------------


def test_note_round_trip(log: NoteSigner, checkpoint: Checkpoint) -> None:
    note = sign_note(checkpoint.body(), [log])
    body, names = open_note(note, [log.verifier()])
    assert body == checkpoint.body()
    assert names == [ORIGIN]


def test_note_layout(log: NoteSigner, checkpoint: Checkpoint) -> None:
    note = sign_note(checkpoint.body(), [log]).decode()
    body, signatures = note.split("\n\n")
    assert body + "\n" == checkpoint.body().decode()
    assert signatures.startswith(f"\u2014 {ORIGIN} ")
    raw = base64.b64decode(signatures.split(" ")[2])
    assert raw[:4] == log.key_hash
    assert len(raw) == 4 + 64
    log.verifier().public_key.verify(checkpoint.body(), raw[4:])


def test_sign_line_matches_note(log: NoteSigner, checkpoint: Checkpoint) -> None:
    line = log.sign(checkpoint.body())
    assert line.endswith("\n")
    assert (
        sign_note(checkpoint.body(), [log]) == checkpoint.body() + b"\n" + line.encode()
    )


def test_checkpoint_round_trip(log: NoteSigner, checkpoint: Checkpoint) -> None:
    note = sign_note(checkpoint.body(), [log])
    opened, names = open_checkpoint(note, [log.verifier()], origin=ORIGIN)
    assert opened == checkpoint
    assert names == [ORIGIN]


def test_note_body_with_blank_lines(log: NoteSigner) -> None:
    # The text may contain empty lines: the last one separates the signatures.
    text = b"first\n\n\xe2\x80\x94 looks like a signature\n\n"
    body, _ = open_note(sign_note(text, [log]), [log.verifier()])
    assert body == text


def test_every_flipped_bit_rejected(log: NoteSigner, checkpoint: Checkpoint) -> None:
    note = sign_note(checkpoint.body(), [log])
    verifiers = [log.verifier()]
    for position in range(len(note)):
        for bit in range(8):
            changed = bytearray(note)
            changed[position] ^= 1 << bit
            with pytest.raises(VerificationError):
                open_checkpoint(bytes(changed), verifiers, origin=ORIGIN)


def test_tampered_body_signature_error(log: NoteSigner, checkpoint: Checkpoint) -> None:
    note = sign_note(checkpoint.body(), [log]).replace(b"\n1234\n", b"\n1235\n")
    with pytest.raises(NoteSignatureError, match=f"signature by key {ORIGIN}\\+"):
        open_note(note, [log.verifier()])


def test_unknown_signers_ignored(
    log: NoteSigner, witnesses: list[NoteSigner], checkpoint: Checkpoint
) -> None:
    note = sign_note(checkpoint.body(), [witnesses[0], log, witnesses[1]])
    _, names = open_note(note, [log.verifier()])
    assert names == [ORIGIN]


def test_only_unknown_signers_rejected(
    log: NoteSigner, witnesses: list[NoteSigner], checkpoint: Checkpoint
) -> None:
    note = sign_note(checkpoint.body(), witnesses)
    with pytest.raises(NoteSignatureError, match="signed by 0 known keys"):
        open_note(note, [log.verifier()])


def test_unknown_bad_signature_ignored(log: NoteSigner, checkpoint: Checkpoint) -> None:
    # A line with an unknown key hash is never checked, even if it is garbage.
    garbage = base64.b64encode(b"\x00" * 68).decode()
    note = sign_note(checkpoint.body(), [log]) + f"\u2014 {ORIGIN} {garbage}\n".encode()
    _, names = open_note(note, [log.verifier()])
    assert names == [ORIGIN]


@pytest.mark.parametrize(
    ("signed", "needed", "ok"),
    [(2, 2, True), (3, 2, True), (1, 2, False), (3, 3, True), (2, 3, False)],
)
def test_k_of_n_policy(
    log: NoteSigner,
    witnesses: list[NoteSigner],
    checkpoint: Checkpoint,
    signed: int,
    needed: int,
    ok: bool,
) -> None:
    note = sign_note(checkpoint.body(), [log, *witnesses[:signed]])
    verifiers = [w.verifier() for w in witnesses]
    if ok:
        _, names = open_note(note, verifiers, min_signatures=needed)
        assert names == [w.name for w in witnesses[:signed]]
    else:
        with pytest.raises(NoteSignatureError, match=f"expected at least {needed}"):
            open_note(note, verifiers, min_signatures=needed)


def test_same_key_two_names_counts_once(checkpoint: Checkpoint) -> None:
    key = SigningKey(b"\x07" * 32)
    first, second = NoteSigner("first.example", key), NoteSigner("second.example", key)
    note = sign_note(checkpoint.body(), [first, second])
    verifiers = [first.verifier(), second.verifier()]
    assert open_note(note, verifiers)[1] == ["first.example", "second.example"]
    with pytest.raises(NoteSignatureError, match="signed by 1 known keys"):
        open_note(note, verifiers, min_signatures=2)


def test_duplicate_known_signature_rejected(
    log: NoteSigner, checkpoint: Checkpoint
) -> None:
    note = sign_note(checkpoint.body(), [log])
    note += log.sign(checkpoint.body()).encode()
    with pytest.raises(NoteFormatError, match="two signatures by key"):
        open_note(note, [log.verifier()])


def test_known_key_short_signature(log: NoteSigner, checkpoint: Checkpoint) -> None:
    short = base64.b64encode(log.key_hash + b"\x00" * 63).decode()
    note = checkpoint.body() + f"\n\u2014 {ORIGIN} {short}\n".encode()
    with pytest.raises(NoteSignatureError, match="is 63 bytes, expected 64"):
        open_note(note, [log.verifier()])


def test_open_checkpoint_wrong_origin(log: NoteSigner, checkpoint: Checkpoint) -> None:
    note = sign_note(checkpoint.body(), [log])
    with pytest.raises(VerificationError, match="does not match expected origin"):
        open_checkpoint(note, [log.verifier()], origin="other.example.gov/log")


def test_open_checkpoint_checks_signatures_first(log: NoteSigner) -> None:
    # Malformed text behind a bad signature reports the signature.
    body = f"{ORIGIN}\n01\n{ROOT_B64}\n".encode()
    note = sign_note(body, [log]).replace(b"\n01\n", b"\n02\n")
    with pytest.raises(NoteSignatureError):
        open_checkpoint(note, [log.verifier()], origin=ORIGIN)


def test_open_checkpoint_malformed_body(log: NoteSigner) -> None:
    note = sign_note(f"{ORIGIN}\n01\n{ROOT_B64}\n".encode(), [log])
    with pytest.raises(NoteFormatError, match="leading zeros"):
        open_checkpoint(note, [log.verifier()], origin=ORIGIN)


def test_too_many_signatures(log: NoteSigner, checkpoint: Checkpoint) -> None:
    line = log.sign(checkpoint.body()).encode()
    note = checkpoint.body() + b"\n" + line * (MAX_SIGNATURES + 1)
    with pytest.raises(NoteFormatError, match="more than the 100 accepted"):
        open_note(note, [log.verifier()])


@pytest.mark.parametrize("minimum", [0, -1])
def test_min_signatures_below_one(
    log: NoteSigner, checkpoint: Checkpoint, minimum: int
) -> None:
    note = sign_note(checkpoint.body(), [log])
    with pytest.raises(ConfigError, match="at least 1 signature"):
        open_note(note, [log.verifier()], min_signatures=minimum)


def test_verifiers_colliding_slot(log: NoteSigner, checkpoint: Checkpoint) -> None:
    # Forge a verifier with the log's name and key hash but another key.
    impostor = NoteVerifier(ORIGIN, SigningKey(b"\x09" * 32).public_key)
    object.__setattr__(impostor, "key_hash", log.key_hash)
    note = sign_note(checkpoint.body(), [log])
    with pytest.raises(ConfigError, match="share key name"):
        open_note(note, [log.verifier(), impostor])


def test_sign_note_needs_signer(checkpoint: Checkpoint) -> None:
    with pytest.raises(ConfigError, match="at least one signer"):
        sign_note(checkpoint.body(), [])


def test_sign_note_duplicate_signer(log: NoteSigner, checkpoint: Checkpoint) -> None:
    with pytest.raises(ConfigError, match="share key name"):
        sign_note(checkpoint.body(), [log, log])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"no newline", "does not end with a newline"),
        (b"", "does not end with a newline"),
        (b"carriage\r\n", "control character U\\+000D"),
        (b"\xc3\x28\n", "not valid UTF-8"),
    ],
)
def test_sign_note_rejects_text(log: NoteSigner, body: bytes, message: str) -> None:
    with pytest.raises(NoteFormatError, match=message):
        sign_note(body, [log])


@pytest.mark.parametrize(
    ("suffix", "message"),
    [
        (b"", "no blank line"),
        (b"\n", "no signature lines"),
        (b"\n-- key c2ln\n", "does not start with an em dash"),
        (b"\n\xe2\x80\x94  c2lnbmF0dXJl\n", "key name is empty"),
        (b"\n\xe2\x80\x94 key\n", "has 1 space-separated fields"),
        (b"\n\xe2\x80\x94 key AAAA\n", "decodes to 3 bytes"),
        (b"\n\xe2\x80\x94 key AAAAAA==\n", "decodes to 4 bytes"),
        (b"\n\xe2\x80\x94 key not*base64\n", "not valid base64"),
        (b"\n\xe2\x80\x94 key AAAAAAB=\n", "not canonical base64"),
    ],
)
def test_open_note_malformed(
    log: NoteSigner, checkpoint: Checkpoint, suffix: bytes, message: str
) -> None:
    with pytest.raises(NoteFormatError, match=message):
        open_note(checkpoint.body() + suffix, [log.verifier()])


# ---------------------------------------------------------------------------
# Real checkpoints from Sigstore Rekor
# ---------------------------------------------------------------------------

REKOR_VECTORS = json.loads(REKOR.read_text(encoding="utf-8"))["vectors"]


@pytest.mark.parametrize(
    "vector", REKOR_VECTORS, ids=[v["source_path"] for v in REKOR_VECTORS]
)
def test_rekor_checkpoint_body_parses(vector: dict[str, Any]) -> None:
    note = vector["checkpoint_signed_note"].encode("utf-8")
    body = note[: note.rindex(b"\n\n") + 1]
    checkpoint = Checkpoint.parse(body)
    assert checkpoint.size == vector["tree_size"]
    assert checkpoint.root_hash == base64.b64decode(vector["expected_root_b64"])
    assert checkpoint.body() == body


@pytest.mark.parametrize(
    "vector", REKOR_VECTORS, ids=[v["source_path"] for v in REKOR_VECTORS]
)
def test_rekor_note_unknown_key_rejected(
    vector: dict[str, Any], log: NoteSigner
) -> None:
    # Rekor's key is not ours, so its signature is ignored and none remains.
    note = vector["checkpoint_signed_note"].encode("utf-8")
    with pytest.raises(NoteSignatureError, match="signed by 0 known keys"):
        open_note(note, [log.verifier()])


# ---------------------------------------------------------------------------
# Generated vectors
# ---------------------------------------------------------------------------

VECTOR_FILES = sorted(VECTORS.glob("*.json"))


def load_generator() -> ModuleType:
    path = REPO / "scripts" / "gen_checkpoint_vectors.py"
    spec = importlib.util.spec_from_file_location("gen_checkpoint_vectors", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def checkpoint_from_json(data: dict[str, Any]) -> Checkpoint:
    return Checkpoint(
        data["origin"],
        data["size"],
        base64.b64decode(data["root_hash"]),
        tuple(data["extensions"]),
    )


def test_vector_files_present() -> None:
    assert len(VECTOR_FILES) >= 20


@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda path: path.stem)
def test_checkpoint_vector(path: Path) -> None:
    vector = json.loads(path.read_text(encoding="utf-8"))
    inputs = vector["inputs"]
    verifiers = [NoteVerifier.from_vkey(text) for text in inputs["verifier_keys"]]
    note = vector["note"].encode("utf-8")
    if vector["wantErr"]:
        with pytest.raises(VerificationError, match=re.escape(vector["errorContains"])):
            open_checkpoint(
                note,
                verifiers,
                origin=inputs["origin"],
                min_signatures=inputs["min_signatures"],
            )
        return
    opened, names = open_checkpoint(
        note,
        verifiers,
        origin=inputs["origin"],
        min_signatures=inputs["min_signatures"],
    )
    assert opened == checkpoint_from_json(vector["want"]["checkpoint"])
    assert names == vector["want"]["verified"]

    # Signing the same checkpoint with the same seeds gives the same note.
    signers = [
        NoteSigner(signer["name"], SigningKey(bytes.fromhex(signer["seed_hex"])))
        for signer in inputs["signers"]
    ]
    checkpoint = checkpoint_from_json(inputs["checkpoint"])
    assert sign_note(checkpoint.body(), signers) == note


def test_vectors_match_generator() -> None:
    generator = load_generator()
    built = generator.build_vectors()
    assert sorted(built) == [path.stem for path in VECTOR_FILES]
    for name, data in built.items():
        assert (VECTORS / f"{name}.json").read_text(
            encoding="utf-8"
        ) == generator.render(data), name


def test_vector_public_key_type() -> None:
    # Verifier keys in the vectors decode to Ed25519 public keys.
    vector = json.loads((VECTORS / "log-signed.json").read_text(encoding="utf-8"))
    verifier = NoteVerifier.from_vkey(vector["inputs"]["verifier_keys"][0])
    assert isinstance(verifier.public_key, PublicKey)
    assert verifier.name == vector["inputs"]["origin"]
