"""Merkle layer against published test vectors (see tests/vectors/merkle/SOURCES.md)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from govchain.errors import RootMismatchError, VerificationError
from govchain.ledger.merkle import (
    EMPTY_ROOT,
    InvalidProofError,
    MemoryNodeStore,
    consistency_proof,
    hash_children,
    hash_leaf,
    inclusion_proof,
    root_from_leaf_hashes,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "merkle"
PROBES = VECTORS / "transparency-dev_probes"


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


# ---------------------------------------------------------------------------
# transparency-dev probes: one test per file
# ---------------------------------------------------------------------------

PROBE_FILES = sorted(
    path for path in PROBES.rglob("*.json") if path.name != "INDEX.json"
)


def probe_id(path: Path) -> str:
    return path.relative_to(PROBES).with_suffix("").as_posix()


def check_probe(probe: dict[str, Any]) -> None:
    proof = [b64(node) for node in probe["proof"] or []]
    if "leafIdx" in probe:
        verify_inclusion(
            b64(probe["leafHash"]),
            probe["leafIdx"],
            probe["treeSize"],
            proof,
            b64(probe["root"]),
        )
    else:
        verify_consistency(
            probe["size1"],
            probe["size2"],
            proof,
            b64(probe["root1"]),
            b64(probe["root2"]),
        )


@pytest.mark.parametrize("path", PROBE_FILES, ids=probe_id)
def test_probe(path: Path) -> None:
    probe = load(path)
    if probe["wantErr"]:
        with pytest.raises(VerificationError):
            check_probe(probe)
    else:
        check_probe(probe)


def test_probe_index_matches_files() -> None:
    index = load(PROBES / "INDEX.json")
    listed = {entry["file"].removeprefix("merkle/"): entry for entry in index["probes"]}
    present = {path.relative_to(VECTORS).as_posix() for path in PROBE_FILES}
    assert set(listed) == present
    for name, entry in listed.items():
        assert load(VECTORS / name)["wantErr"] == entry["wantErr"], name


def reference_store() -> MemoryNodeStore:
    tree = load(VECTORS / "rfc6962_reference_tree_8_leaves.json")
    return MemoryNodeStore(hash_leaf(bytes.fromhex(h)) for h in tree["leaf_inputs_hex"])


HAPPY_PROBES = [
    path
    for path in PROBE_FILES
    if not load(path)["wantErr"] and path.parent.name.isdigit()
]


@pytest.mark.parametrize("path", HAPPY_PROBES, ids=probe_id)
def test_probe_happy_path_matches_generated_proof(path: Path) -> None:
    probe = load(path)
    store = reference_store()
    if "leafIdx" in probe:
        generated = inclusion_proof(store, probe["leafIdx"], probe["treeSize"])
        assert (
            probe["leafHash"]
            == base64.b64encode(store.node(0, probe["leafIdx"])).decode()
        )
        assert tree_root(store, probe["treeSize"]) == b64(probe["root"])
    else:
        generated = consistency_proof(store, probe["size1"], probe["size2"])
    assert generated == [b64(node) for node in probe["proof"] or []]


# ---------------------------------------------------------------------------
# RFC 6962 hasher vectors
# ---------------------------------------------------------------------------

HASHER = load(VECTORS / "rfc6962_hasher_vectors.json")["vectors"]


@pytest.mark.parametrize("vector", HASHER, ids=[v["desc"] for v in HASHER])
def test_hasher_vector(vector: dict[str, str]) -> None:
    want = bytes.fromhex(vector["want_hex"])
    if vector["op"] == "empty_root":
        assert want == EMPTY_ROOT
        assert root_from_leaf_hashes([]) == want
    elif vector["op"] == "hash_leaf":
        assert hash_leaf(vector["leaf_ascii"].encode("ascii")) == want
    else:
        assert vector["op"] == "hash_children"
        left = vector["left_ascii"].encode("ascii")
        right = vector["right_ascii"].encode("ascii")
        assert hash_children(left, right) == want


# ---------------------------------------------------------------------------
# The 8-leaf reference tree, checked against the recursive RFC definitions
# ---------------------------------------------------------------------------

REFERENCE = load(VECTORS / "rfc6962_reference_tree_8_leaves.json")
REFERENCE_LEAVES = [hash_leaf(bytes.fromhex(h)) for h in REFERENCE["leaf_inputs_hex"]]


def rfc_path(index: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) written directly from RFC 9162 section 2.1.3.1."""
    if len(leaves) == 1:
        return []
    split = 1 << ((len(leaves) - 1).bit_length() - 1)
    if index < split:
        return [*rfc_path(index, leaves[:split]), root_from_leaf_hashes(leaves[split:])]
    return [
        *rfc_path(index - split, leaves[split:]),
        root_from_leaf_hashes(leaves[:split]),
    ]


def rfc_subproof(size1: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) written directly from RFC 9162 section 2.1.4.1."""
    if size1 == len(leaves):
        return [] if whole else [root_from_leaf_hashes(leaves)]
    split = 1 << ((len(leaves) - 1).bit_length() - 1)
    if size1 <= split:
        return [
            *rfc_subproof(size1, leaves[:split], whole),
            root_from_leaf_hashes(leaves[split:]),
        ]
    return [
        *rfc_subproof(size1 - split, leaves[split:], False),
        root_from_leaf_hashes(leaves[:split]),
    ]


def test_reference_tree_leaf_and_node_hashes() -> None:
    store = MemoryNodeStore(REFERENCE_LEAVES)
    levels = REFERENCE["node_hashes_hex_by_level"]["levels"]
    assert len(levels) == 4
    for level, hashes in enumerate(levels):
        for index, want in enumerate(hashes):
            assert store.node(level, index).hex() == want, (level, index)


@pytest.mark.parametrize("size", range(9))
def test_reference_tree_roots(size: int) -> None:
    want = bytes.fromhex(REFERENCE["root_hash_hex_by_tree_size"][str(size)])
    store = MemoryNodeStore(REFERENCE_LEAVES)
    assert root_from_leaf_hashes(REFERENCE_LEAVES[:size]) == want
    assert tree_root(store, size) == want
    assert MemoryNodeStore(REFERENCE_LEAVES[:size]).root() == want


def test_reference_tree_every_inclusion_proof() -> None:
    store = MemoryNodeStore(REFERENCE_LEAVES)
    for size in range(1, 9):
        root = bytes.fromhex(REFERENCE["root_hash_hex_by_tree_size"][str(size)])
        for index in range(size):
            proof = inclusion_proof(store, index, size)
            assert proof == rfc_path(index, REFERENCE_LEAVES[:size]), (index, size)
            verify_inclusion(REFERENCE_LEAVES[index], index, size, proof, root)


def test_reference_tree_every_consistency_proof() -> None:
    store = MemoryNodeStore(REFERENCE_LEAVES)
    roots = {
        int(size): bytes.fromhex(h)
        for size, h in REFERENCE["root_hash_hex_by_tree_size"].items()
    }
    for size2 in range(1, 9):
        for size1 in range(1, size2 + 1):
            proof = consistency_proof(store, size1, size2)
            want = rfc_subproof(size1, REFERENCE_LEAVES[:size2], True)
            assert proof == want, (size1, size2)
            verify_consistency(size1, size2, proof, roots[size1], roots[size2])


def test_generated_proofs_match_rfc_up_to_40_leaves() -> None:
    leaves = [hash_leaf(n.to_bytes(2, "big")) for n in range(40)]
    store = MemoryNodeStore(leaves)
    for size2 in range(1, 41):
        for index in range(size2):
            assert inclusion_proof(store, index, size2) == rfc_path(
                index, leaves[:size2]
            )
        for size1 in range(1, size2 + 1):
            assert consistency_proof(store, size1, size2) == rfc_subproof(
                size1, leaves[:size2], True
            )


# ---------------------------------------------------------------------------
# Sigstore Rekor inclusion proofs from real logs
# ---------------------------------------------------------------------------

REKOR = load(VECTORS / "sigstore_rekor_inclusion_vectors.json")["vectors"]


@pytest.mark.parametrize("vector", REKOR, ids=[v["source_path"] for v in REKOR])
def test_rekor_inclusion(vector: dict[str, Any]) -> None:
    assert vector["expected_inclusion_valid"] is True
    leaf_hash = hash_leaf(b64(vector["leaf_input_b64"]))
    proof = [b64(node) for node in vector["audit_path_b64"]]
    root = b64(vector["expected_root_b64"])
    verify_inclusion(leaf_hash, vector["leaf_index"], vector["tree_size"], proof, root)


@pytest.mark.parametrize("vector", REKOR, ids=[v["source_path"] for v in REKOR])
def test_rekor_inclusion_wrong_index_rejected(vector: dict[str, Any]) -> None:
    leaf_hash = hash_leaf(b64(vector["leaf_input_b64"]))
    proof = [b64(node) for node in vector["audit_path_b64"]]
    root = b64(vector["expected_root_b64"])
    with pytest.raises(VerificationError):
        verify_inclusion(
            leaf_hash, vector["leaf_index"] - 1, vector["tree_size"], proof, root
        )


# ---------------------------------------------------------------------------
# Domain separation: a 64-byte interior node must never pass as a leaf
# ---------------------------------------------------------------------------

DOMAIN = load(VECTORS / "domain-separation" / "vectors.json")


def utf8_leaves(texts: list[str]) -> list[bytes]:
    return [hash_leaf(text.encode("utf-8")) for text in texts]


def naive_root(data: list[bytes]) -> bytes:
    """Root under the broken scheme: leaf = H(data), node = H(left || right)."""
    if len(data) == 1:
        return hashlib.sha256(data[0]).digest()
    split = 1 << ((len(data) - 1).bit_length() - 1)
    return hashlib.sha256(naive_root(data[:split]) + naive_root(data[split:])).digest()


def test_domain_four_leaf_root() -> None:
    leaves = utf8_leaves(DOMAIN["leaves_utf8"])
    assert root_from_leaf_hashes(leaves).hex() == DOMAIN["expected_root_hex"]
    assert DOMAIN["expected_root_hex"].startswith("77de3a7a")


def test_domain_empty_root() -> None:
    assert root_from_leaf_hashes([]).hex() == DOMAIN["expected_empty_tree_root_hex"]
    assert EMPTY_ROOT.hex().startswith("e3b0")


@pytest.mark.parametrize(
    "attack", DOMAIN["attacks"], ids=[a["name"] for a in DOMAIN["attacks"]]
)
def test_domain_forged_claim_rejected(attack: dict[str, Any]) -> None:
    assert attack["expected"] == "REJECT"
    claim = attack["claim"]
    leaf_bytes = bytes.fromhex(claim["leaf_bytes_hex"])
    proof = [bytes.fromhex(node) for node in claim["audit_path_hex"]]
    root = bytes.fromhex(claim["root_hex"])
    index, size = claim["leaf_index"], claim["tree_size"]
    assert len(leaf_bytes) == 64

    # Presented as a leaf hash, the 64 bytes fail the 32-byte rule.
    with pytest.raises(InvalidProofError, match="leaf hash is 64 bytes"):
        verify_inclusion(leaf_bytes, index, size, proof, root)
    # Hashed as leaf data, the 0x00 prefix leads away from the real root.
    with pytest.raises(VerificationError):
        verify_inclusion(hash_leaf(leaf_bytes), index, size, proof, root)


def test_domain_forged_claim_fools_naive_scheme() -> None:
    # The attack vector is meaningful: without prefixes the forgery verifies.
    attack = DOMAIN["attacks"][0]
    claim = attack["claim"]
    records = [text.encode("utf-8") for text in DOMAIN["leaves_utf8"]]
    assert naive_root(records).hex() == attack["naive_scheme_root_hex"]
    forged = hashlib.sha256(bytes.fromhex(claim["leaf_bytes_hex"])).digest()
    sibling = bytes.fromhex(claim["audit_path_hex"][0])
    assert (
        hashlib.sha256(forged + sibling).hexdigest() == attack["naive_scheme_root_hex"]
    )


def test_domain_true_size_wrong_length() -> None:
    claim = DOMAIN["attacks"][1]["claim"]
    forged_leaf = hash_leaf(bytes.fromhex(claim["leaf_bytes_hex"]))
    proof = [bytes.fromhex(node) for node in claim["audit_path_hex"]]
    with pytest.raises(InvalidProofError, match="proof has 1 nodes, expected 2"):
        verify_inclusion(forged_leaf, 0, 4, proof, bytes.fromhex(claim["root_hex"]))


def test_domain_odd_size_roots() -> None:
    three, repeated = DOMAIN["odd_size_checks"]
    root_three = root_from_leaf_hashes(utf8_leaves(three["leaves_utf8"]))
    root_repeated = root_from_leaf_hashes(utf8_leaves(repeated["leaves_utf8"]))
    assert root_three.hex() == three["expected_root_hex"]
    assert root_repeated.hex() == repeated["expected_root_hex"]
    assert root_three != root_repeated


@pytest.mark.parametrize(
    "vector",
    DOMAIN["valid_inclusion_proofs"],
    ids=[f"leaf-{v['leaf_index']}" for v in DOMAIN["valid_inclusion_proofs"]],
)
def test_domain_genuine_proof_accepted(vector: dict[str, Any]) -> None:
    assert vector["expected"] == "ACCEPT"
    leaves = utf8_leaves(DOMAIN["leaves_utf8"])
    index, size = vector["leaf_index"], vector["tree_size"]
    proof = [bytes.fromhex(node) for node in vector["audit_path_hex"]]
    root = bytes.fromhex(DOMAIN["expected_root_hex"])
    verify_inclusion(leaves[index], index, size, proof, root)
    assert inclusion_proof(MemoryNodeStore(leaves), index, size) == proof


def test_domain_genuine_proof_other_leaf_rejected() -> None:
    leaves = utf8_leaves(DOMAIN["leaves_utf8"])
    vector = DOMAIN["valid_inclusion_proofs"][0]
    proof = [bytes.fromhex(node) for node in vector["audit_path_hex"]]
    root = bytes.fromhex(DOMAIN["expected_root_hex"])
    with pytest.raises(RootMismatchError):
        verify_inclusion(leaves[1], 0, 4, proof, root)
