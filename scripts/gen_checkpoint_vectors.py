"""Regenerate the signed checkpoint vectors in tests/vectors/checkpoint/.

Every key comes from a fixed seed and Ed25519 signatures are deterministic
(RFC 8032), so each run writes the same files. Run from the repository root:

    .venv/bin/python scripts/gen_checkpoint_vectors.py

Each vector is one JSON file. It has a `description`, the `inputs` (signer
seeds, the checkpoint that was signed, the verifier keys and the policy to open
it with), the full `note` text and `wantErr`. A valid case adds `want`, the
parsed checkpoint and the names that verified. A rejected case adds
`errorContains`, a fragment of the error message.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from govchain.crypto.keys import SigningKey
from govchain.ledger.checkpoint import Checkpoint, NoteSigner, sign_note
from govchain.ledger.merkle import EMPTY_ROOT, hash_leaf, root_from_leaf_hashes

OUTPUT = Path(__file__).resolve().parents[1] / "tests" / "vectors" / "checkpoint"

LOG = "registry.example.gov/log"
WITNESSES = (
    "audit-office.example.gov/witness",
    "archives.example.gov/witness",
    "treasury.example.gov/witness",
)
OUTSIDER = "outsider.example.org/log"

TREE_SIZE = 13
ROOT = root_from_leaf_hashes(
    [hash_leaf(f"record {n}".encode()) for n in range(TREE_SIZE)]
)


def seed_for(label: str) -> bytes:
    """Derive a fixed Ed25519 seed from a label (test keys only)."""
    return hashlib.sha256(f"govchain checkpoint vector key: {label}".encode()).digest()


def signer(name: str, label: str | None = None) -> NoteSigner:
    return NoteSigner(name, SigningKey(seed_for(label or name)))


def checkpoint_json(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "root_hash": base64.b64encode(checkpoint.root_hash).decode("ascii"),
        "extensions": list(checkpoint.extensions),
    }


def signers_json(signers: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [
        {"name": name, "seed_hex": seed_for(label).hex()} for name, label in signers
    ]


def vector(
    description: str,
    *,
    signers: list[tuple[str, str]],
    verifiers: list[tuple[str, str]],
    note: bytes,
    checkpoint: Checkpoint | None = None,
    body: bytes | None = None,
    origin: str = LOG,
    min_signatures: int = 1,
    verified: list[str] | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """Assemble one vector. `signers` and `verifiers` are (key name, seed label)."""
    inputs: dict[str, Any] = {"signers": signers_json(signers)}
    if checkpoint is not None:
        inputs["checkpoint"] = checkpoint_json(checkpoint)
    if body is not None:
        inputs["body"] = body.decode("utf-8")
    inputs["verifier_keys"] = [
        signer(name, label).verifier().vkey() for name, label in verifiers
    ]
    inputs["origin"] = origin
    inputs["min_signatures"] = min_signatures
    result: dict[str, Any] = {
        "description": description,
        "inputs": inputs,
        "note": note.decode("utf-8"),
        "wantErr": error is not None,
    }
    if error is None:
        assert checkpoint is not None and verified is not None
        result["want"] = {
            "checkpoint": checkpoint_json(checkpoint),
            "verified": verified,
        }
    else:
        result["errorContains"] = error
    return result


def sign(body: bytes, keys: list[tuple[str, str]]) -> bytes:
    return sign_note(body, [signer(name, label) for name, label in keys])


def raw_note(body: bytes, keys: list[tuple[str, str]]) -> bytes:
    """Sign bytes that `sign_note` would reject, to test the reader alone."""
    lines = []
    for name, label in keys:
        note_signer = signer(name, label)
        signature = SigningKey(seed_for(label)).sign(body)
        encoded = base64.b64encode(note_signer.key_hash + signature).decode()
        lines.append(f"\u2014 {name} {encoded}\n")
    return body + b"\n" + "".join(lines).encode("utf-8")


def flip_signature_bit(note: bytes) -> bytes:
    """Flip one bit of the last signature's Ed25519 bytes, keeping base64 canonical."""
    head, _, last = note.decode().rstrip("\n").rpartition(" ")
    raw = bytearray(base64.b64decode(last))
    raw[10] ^= 0x01
    return f"{head} {base64.b64encode(bytes(raw)).decode()}\n".encode()


def key(name: str) -> tuple[str, str]:
    return (name, name)


def valid_vectors() -> dict[str, dict[str, Any]]:
    base = Checkpoint(LOG, TREE_SIZE, ROOT)
    with_extension = Checkpoint(LOG, TREE_SIZE, ROOT, ("build 2024.1",))
    empty = Checkpoint(LOG, 0, EMPTY_ROOT)
    log, outsider = key(LOG), key(OUTSIDER)
    w1, w2, w3 = (key(name) for name in WITNESSES)
    impostor = (LOG, OUTSIDER)  # the log's name on another key
    return {
        "log-signed": vector(
            "checkpoint signed by the log key alone, opened with that key",
            signers=[log],
            verifiers=[log],
            checkpoint=base,
            note=sign(base.body(), [log]),
            verified=[LOG],
        ),
        "witnesses-2-of-3": vector(
            "log and two witnesses sign; a 2-of-3 witness policy accepts it and "
            "ignores the log signature, whose key it does not list",
            signers=[log, w1, w2],
            verifiers=[w1, w2, w3],
            checkpoint=base,
            note=sign(base.body(), [log, w1, w2]),
            min_signatures=2,
            verified=[WITNESSES[0], WITNESSES[1]],
        ),
        "extension-line": vector(
            "checkpoint with one extension line after the root hash",
            signers=[log],
            verifiers=[log],
            checkpoint=with_extension,
            note=sign(with_extension.body(), [log]),
            verified=[LOG],
        ),
        "empty-tree": vector(
            "checkpoint of the empty tree: size 0 and SHA-256 of nothing as root",
            signers=[log],
            verifiers=[log],
            checkpoint=empty,
            note=sign(empty.body(), [log]),
            verified=[LOG],
        ),
        "unknown-signer-ignored": vector(
            "a signature by a key the verifier does not know is ignored",
            signers=[outsider, log],
            verifiers=[log],
            checkpoint=base,
            note=sign(base.body(), [outsider, log]),
            verified=[LOG],
        ),
        "same-name-other-key-ignored": vector(
            "a signature under the log's name by another key has another key "
            "hash, so it is an unknown key and ignored",
            signers=[impostor, log],
            verifiers=[log],
            checkpoint=base,
            note=sign(base.body(), [impostor, log]),
            verified=[LOG],
        ),
    }


def rejected_vectors() -> dict[str, dict[str, Any]]:
    base = Checkpoint(LOG, TREE_SIZE, ROOT)
    log, outsider = key(LOG), key(OUTSIDER)
    w1, w2, w3 = (key(name) for name in WITNESSES)
    good = sign(base.body(), [log])
    root_b64 = base64.b64encode(ROOT).decode()

    def bad_body(description: str, body: bytes, error: str) -> dict[str, Any]:
        return vector(
            description,
            signers=[log],
            verifiers=[log],
            body=body,
            note=raw_note(body, [log]),
            error=error,
        )

    def bad_note(description: str, note: bytes, error: str) -> dict[str, Any]:
        return vector(
            description,
            signers=[log],
            verifiers=[log],
            checkpoint=base,
            note=note,
            error=error,
        )

    other_origin = Checkpoint("other.example.gov/log", TREE_SIZE, ROOT)
    good_text = good.decode()
    return {
        "too-few-witnesses": vector(
            "one witness signed but the policy needs 2 of 3",
            signers=[log, w1],
            verifiers=[w1, w2, w3],
            checkpoint=base,
            note=sign(base.body(), [log, w1]),
            min_signatures=2,
            error="signed by 1 known keys, expected at least 2",
        ),
        "only-unknown-signer": vector(
            "the only signature is by a key the verifier does not know",
            signers=[outsider],
            verifiers=[log],
            checkpoint=base,
            note=sign(base.body(), [outsider]),
            error="signed by 0 known keys",
        ),
        "tampered-size": bad_note(
            "tree size changed after signing",
            good.replace(f"\n{TREE_SIZE}\n".encode(), b"\n14\n", 1),
            "does not verify",
        ),
        "tampered-signature": bad_note(
            "one bit of the Ed25519 signature flipped",
            flip_signature_bit(good),
            "does not verify",
        ),
        "wrong-origin": vector(
            "validly signed checkpoint of another log",
            signers=[log],
            verifiers=[log],
            checkpoint=other_origin,
            note=sign(other_origin.body(), [log]),
            error="does not match expected origin",
        ),
        "duplicate-signature": bad_note(
            "the same known signature line twice",
            good + good_text[good_text.rindex("\u2014") :].encode(),
            "two signatures by key",
        ),
        "hyphen-instead-of-em-dash": bad_note(
            "signature line starts with '-' instead of U+2014",
            good.replace("\u2014".encode(), b"-"),
            "does not start with an em dash",
        ),
        "no-blank-line": bad_note(
            "no blank line between the text and the signatures",
            good.replace(b"\n\n", b"\n"),
            "no blank line",
        ),
        "no-signatures": bad_note(
            "text and blank line but no signature line",
            base.body() + b"\n",
            "no signature lines",
        ),
        "missing-final-newline": bad_note(
            "the last signature line has no newline",
            good.rstrip(b"\n"),
            "does not end with a newline",
        ),
        "extra-field-in-signature-line": bad_note(
            "signature line with a third field",
            good.rstrip(b"\n") + b" extra\n",
            "expected 2",
        ),
        "size-leading-zero": bad_body(
            "tree size with a leading zero",
            f"{LOG}\n013\n{root_b64}\n".encode(),
            "not a decimal number without leading zeros",
        ),
        "size-plus-sign": bad_body(
            "tree size with a plus sign",
            f"{LOG}\n+13\n{root_b64}\n".encode(),
            "not a decimal number",
        ),
        "size-non-ascii-digits": bad_body(
            "tree size in Arabic-Indic digits, which int() would accept",
            f"{LOG}\n\u0661\u0663\n{root_b64}\n".encode(),
            "not a decimal number",
        ),
        "size-above-64-bits": bad_body(
            "tree size 2**64, one more than an unsigned 64-bit number holds",
            f"{LOG}\n{2**64}\n{root_b64}\n".encode(),
            "outside 0 to",
        ),
        "root-31-bytes": bad_body(
            "root hash of 31 bytes",
            f"{LOG}\n13\n{base64.b64encode(ROOT[:31]).decode()}\n".encode(),
            "root hash is 31 bytes",
        ),
        "root-bad-base64": bad_body(
            "root hash with characters outside base64",
            f"{LOG}\n13\n{root_b64[:-2]}!=\n".encode(),
            "not valid base64",
        ),
        "root-non-canonical-base64": bad_body(
            "root hash whose unused trailing bits are set",
            f"{LOG}\n13\n{non_canonical(root_b64)}\n".encode(),
            "not canonical base64",
        ),
        "missing-root": bad_body(
            "only the origin and the tree size",
            f"{LOG}\n13\n".encode(),
            "expected at least 3",
        ),
        "empty-origin": bad_body(
            "empty origin line",
            f"\n13\n{root_b64}\n".encode(),
            "origin is empty",
        ),
        "empty-extension-line": bad_body(
            "blank line after the root hash, read as an empty extension line",
            f"{LOG}\n13\n{root_b64}\n\n".encode(),
            "extension line 1 is empty",
        ),
        "crlf-line-endings": bad_body(
            "lines end in CR LF",
            f"{LOG}\r\n13\r\n{root_b64}\r\n".encode(),
            "control character U+000D",
        ),
    }


def non_canonical(encoded: str) -> str:
    """Set the unused low bits of the last base64 digit (32 bytes leave 2)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(encoded[-2])
    return encoded[:-2] + alphabet[last | 0b11] + "="


def build_vectors() -> dict[str, dict[str, Any]]:
    """Return every vector by file stem."""
    builders: list[Callable[[], dict[str, dict[str, Any]]]] = [
        valid_vectors,
        rejected_vectors,
    ]
    vectors: dict[str, dict[str, Any]] = {}
    for build in builders:
        vectors.update(build())
    return vectors


def render(vector_data: dict[str, Any]) -> str:
    return json.dumps(vector_data, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Regenerate the signed checkpoint vectors."
    )
    parser.add_argument(
        "--output", type=Path, default=OUTPUT, help="folder to write the JSON files to"
    )
    args = parser.parse_args()
    args.output.mkdir(parents=True, exist_ok=True)
    for stale in args.output.glob("*.json"):
        stale.unlink()
    for name, vector_data in build_vectors().items():
        (args.output / f"{name}.json").write_text(render(vector_data), encoding="utf-8")
    print(f"wrote {len(build_vectors())} vectors to {args.output}")


if __name__ == "__main__":
    main()
