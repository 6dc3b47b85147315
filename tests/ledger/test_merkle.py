"""Unit and property tests of the Merkle log layer."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govchain.errors import (
    IntegrityError,
    RootMismatchError,
    ValidationError,
    VerificationError,
)
from govchain.ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    InvalidProofError,
    MemoryNodeStore,
    MerkleInputError,
    consistency_proof,
    hash_children,
    hash_leaf,
    inclusion_proof,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    tree_root,
    verify_consistency,
    verify_inclusion,
)


def leaves(count: int) -> list[bytes]:
    return [hash_leaf(f"entry {n}".encode()) for n in range(count)]


def flip(value: bytes, bit: int) -> bytes:
    data = bytearray(value)
    data[bit // 8] ^= 1 << (bit % 8)
    return bytes(data)


# ---------------------------------------------------------------------------
# Hashing
# ---------------------------------------------------------------------------


def test_hash_leaf_prefix() -> None:
    assert hash_leaf(b"abc") == hashlib.sha256(b"\x00abc").digest()


def test_hash_children_prefix() -> None:
    left, right = b"L" * 32, b"R" * 32
    assert hash_children(left, right) == hashlib.sha256(b"\x01" + left + right).digest()


def test_empty_root_is_sha256_of_nothing() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT


def test_root_three_leaves_by_hand() -> None:
    a, b, c = leaves(3)
    assert root_from_leaf_hashes([a, b, c]) == hash_children(hash_children(a, b), c)


def test_root_single_leaf_is_leaf_hash() -> None:
    (a,) = leaves(1)
    assert root_from_leaf_hashes([a]) == a


def test_root_rejects_leaf_data() -> None:
    with pytest.raises(MerkleInputError, match="leaf hash 1 is 5 bytes, expected 32"):
        root_from_leaf_hashes([hash_leaf(b"a"), b"hello"])


def test_merkle_input_error_is_validation_error() -> None:
    with pytest.raises(ValidationError) as info:
        inclusion_proof(MemoryNodeStore(leaves(2)), 2, 2)
    assert info.value.reason == "bad-merkle-input"


# ---------------------------------------------------------------------------
# Inclusion verification
# ---------------------------------------------------------------------------


@pytest.fixture
def tree7() -> tuple[MemoryNodeStore, list[bytes]]:
    hashes = leaves(7)
    return MemoryNodeStore(hashes), hashes


def test_verify_inclusion_accepts(tree7: tuple[MemoryNodeStore, list[bytes]]) -> None:
    store, hashes = tree7
    proof = inclusion_proof(store, 4, 7)
    verify_inclusion(hashes[4], 4, 7, proof, store.root())
    assert root_from_inclusion_proof(hashes[4], 4, 7, proof) == store.root()


def test_verify_inclusion_wrong_leaf(
    tree7: tuple[MemoryNodeStore, list[bytes]],
) -> None:
    store, hashes = tree7
    proof = inclusion_proof(store, 4, 7)
    with pytest.raises(RootMismatchError) as info:
        verify_inclusion(hashes[3], 4, 7, proof, store.root())
    assert info.value.expected == store.root()
    assert info.value.computed == root_from_inclusion_proof(hashes[3], 4, 7, proof)


@pytest.mark.parametrize(
    ("index", "size", "message"),
    [
        (7, 7, "leaf index 7 is outside a tree of size 7"),
        (-1, 7, "leaf index -1 is outside a tree of size 7"),
        (0, 0, "leaf index 0 is outside a tree of size 0"),
    ],
)
def test_verify_inclusion_index_out_of_range(
    tree7: tuple[MemoryNodeStore, list[bytes]], index: int, size: int, message: str
) -> None:
    store, hashes = tree7
    with pytest.raises(InvalidProofError, match=message):
        verify_inclusion(hashes[0], index, size, [], store.root())


def test_verify_inclusion_short_leaf(
    tree7: tuple[MemoryNodeStore, list[bytes]],
) -> None:
    store, hashes = tree7
    proof = inclusion_proof(store, 0, 7)
    with pytest.raises(InvalidProofError, match="leaf hash is 31 bytes, expected 32"):
        verify_inclusion(hashes[0][:31], 0, 7, proof, store.root())


def test_verify_inclusion_short_root(
    tree7: tuple[MemoryNodeStore, list[bytes]],
) -> None:
    store, hashes = tree7
    proof = inclusion_proof(store, 0, 7)
    with pytest.raises(InvalidProofError, match="root is 33 bytes, expected 32"):
        verify_inclusion(hashes[0], 0, 7, proof, store.root() + b"\x00")


def test_verify_inclusion_short_proof_node(
    tree7: tuple[MemoryNodeStore, list[bytes]],
) -> None:
    store, hashes = tree7
    proof = inclusion_proof(store, 0, 7)
    proof[1] = proof[1][:16]
    with pytest.raises(InvalidProofError, match="proof node 1 is 16 bytes"):
        verify_inclusion(hashes[0], 0, 7, proof, store.root())


def test_verify_inclusion_extra_node(
    tree7: tuple[MemoryNodeStore, list[bytes]],
) -> None:
    store, hashes = tree7
    proof = inclusion_proof(store, 0, 7)
    with pytest.raises(InvalidProofError, match="proof has 4 nodes, expected 3"):
        verify_inclusion(hashes[0], 0, 7, [*proof, EMPTY_ROOT], store.root())


def test_verify_inclusion_missing_node(
    tree7: tuple[MemoryNodeStore, list[bytes]],
) -> None:
    store, hashes = tree7
    proof = inclusion_proof(store, 0, 7)
    with pytest.raises(InvalidProofError, match="proof has 2 nodes, expected 3"):
        verify_inclusion(hashes[0], 0, 7, proof[:2], store.root())


def test_verify_inclusion_single_leaf_tree() -> None:
    (a,) = leaves(1)
    verify_inclusion(a, 0, 1, [], a)


# ---------------------------------------------------------------------------
# Consistency verification
# ---------------------------------------------------------------------------


def test_verify_consistency_accepts() -> None:
    store = MemoryNodeStore(leaves(11))
    proof = consistency_proof(store, 6, 11)
    root6 = tree_root(store, 6)
    verify_consistency(6, 11, proof, root6, store.root())


def test_verify_consistency_size1_zero() -> None:
    with pytest.raises(InvalidProofError, match="size1 0 proves nothing"):
        verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)


def test_verify_consistency_size1_above_size2() -> None:
    with pytest.raises(InvalidProofError, match="size2 3 is smaller than size1 4"):
        verify_consistency(4, 3, [], EMPTY_ROOT, EMPTY_ROOT)


def test_verify_consistency_equal_sizes_need_empty_proof() -> None:
    root = root_from_leaf_hashes(leaves(5))
    with pytest.raises(InvalidProofError, match="proof has 1 nodes, expected 0"):
        verify_consistency(5, 5, [root], root, root)


def test_verify_consistency_equal_sizes_roots_differ() -> None:
    root = root_from_leaf_hashes(leaves(5))
    with pytest.raises(RootMismatchError):
        verify_consistency(5, 5, [], root, EMPTY_ROOT)


def test_verify_consistency_empty_proof_rejected() -> None:
    store = MemoryNodeStore(leaves(8))
    with pytest.raises(InvalidProofError, match="proof has 0 nodes, expected 4"):
        verify_consistency(3, 8, [], tree_root(store, 3), store.root())


def test_verify_consistency_short_root() -> None:
    store = MemoryNodeStore(leaves(8))
    proof = consistency_proof(store, 3, 8)
    with pytest.raises(InvalidProofError, match="root2 is 31 bytes, expected 32"):
        verify_consistency(3, 8, proof, tree_root(store, 3), store.root()[1:])


def test_verify_consistency_swapped_roots() -> None:
    store = MemoryNodeStore(leaves(8))
    proof = consistency_proof(store, 3, 8)
    with pytest.raises(RootMismatchError):
        verify_consistency(3, 8, proof, store.root(), tree_root(store, 3))


def test_verify_consistency_power_of_two_size1() -> None:
    store = MemoryNodeStore(leaves(13))
    proof = consistency_proof(store, 4, 13)
    assert tree_root(store, 4) not in proof
    verify_consistency(4, 13, proof, tree_root(store, 4), store.root())


# ---------------------------------------------------------------------------
# Proof generation and node stores
# ---------------------------------------------------------------------------


def test_inclusion_proof_index_out_of_range() -> None:
    with pytest.raises(MerkleInputError, match="leaf index 5 is outside"):
        inclusion_proof(MemoryNodeStore(leaves(5)), 5, 5)


@pytest.mark.parametrize(("size1", "size2"), [(0, 3), (4, 3), (-1, 2)])
def test_consistency_proof_bad_sizes(size1: int, size2: int) -> None:
    with pytest.raises(MerkleInputError, match="expected 0 < size1 <= size2"):
        consistency_proof(MemoryNodeStore(leaves(5)), size1, size2)


def test_consistency_proof_equal_sizes_empty() -> None:
    assert consistency_proof(MemoryNodeStore(leaves(5)), 5, 5) == []


def test_tree_root_negative_size() -> None:
    with pytest.raises(MerkleInputError, match="tree size -1 is negative"):
        tree_root(MemoryNodeStore(), -1)


def test_tree_root_past_sizes() -> None:
    hashes = leaves(37)
    store = MemoryNodeStore(hashes)
    for size in range(38):
        assert tree_root(store, size) == root_from_leaf_hashes(hashes[:size]), size


def test_memory_store_missing_node() -> None:
    store = MemoryNodeStore(leaves(5))
    with pytest.raises(MerkleInputError, match="node at level 1 index 2"):
        store.node(1, 2)
    with pytest.raises(MerkleInputError, match="node at level 0 index -1"):
        store.node(0, -1)
    with pytest.raises(MerkleInputError, match="node at level 3 index 0"):
        store.node(3, 0)


def test_memory_store_proof_beyond_size() -> None:
    with pytest.raises(MerkleInputError, match="not found"):
        inclusion_proof(MemoryNodeStore(leaves(5)), 0, 6)


def test_compact_range_append_returns_new_nodes() -> None:
    a, b, c, d = leaves(4)
    compact = CompactRange()
    assert compact.append(a) == [(0, 0, a)]
    ab = hash_children(a, b)
    assert compact.append(b) == [(0, 1, b), (1, 0, ab)]
    assert compact.append(c) == [(0, 2, c)]
    cd = hash_children(c, d)
    assert compact.append(d) == [(0, 3, d), (1, 1, cd), (2, 0, hash_children(ab, cd))]
    assert compact.size == 4


def test_compact_range_rejects_leaf_data() -> None:
    with pytest.raises(MerkleInputError, match="leaf hash is 3 bytes"):
        CompactRange().append(b"abc")


def test_compact_range_roots_match_reference() -> None:
    hashes = leaves(70)
    compact = CompactRange()
    assert compact.root() == EMPTY_ROOT
    for size, leaf_hash in enumerate(hashes, start=1):
        compact.append(leaf_hash)
        assert compact.root() == root_from_leaf_hashes(hashes[:size]), size


def test_compact_range_border_nodes() -> None:
    store = MemoryNodeStore(leaves(13))
    compact = CompactRange.from_nodes(13, store)
    assert [(level, index) for level, index, _ in compact.border_nodes()] == [
        (3, 0),
        (2, 2),
        (0, 12),
    ]
    for level, index, node in compact.border_nodes():
        assert store.node(level, index) == node


def test_compact_range_from_nodes_resumes() -> None:
    hashes = leaves(45)
    store = MemoryNodeStore(hashes[:29])
    resumed = CompactRange.from_nodes(29, store)
    assert resumed.root() == store.root()
    for leaf_hash in hashes[29:]:
        resumed.append(leaf_hash)
    assert resumed.size == 45
    assert resumed.root() == root_from_leaf_hashes(hashes)


def test_compact_range_from_nodes_negative_size() -> None:
    with pytest.raises(MerkleInputError, match="negative"):
        CompactRange.from_nodes(-3, MemoryNodeStore())


class BrokenReader:
    def node(self, level: int, index: int) -> bytes:
        return b"\x00" * 20


def test_compact_range_from_nodes_bad_stored_node() -> None:
    with pytest.raises(IntegrityError, match="level 2 index 0 is 20 bytes"):
        CompactRange.from_nodes(5, BrokenReader())


class CountingReader:
    """A reader of an unbounded synthetic tree that counts node reads."""

    def __init__(self) -> None:
        self.reads = 0

    def node(self, level: int, index: int) -> bytes:
        self.reads += 1
        return hashlib.sha256(f"{level}/{index}".encode()).digest()


@pytest.mark.parametrize("size", [2**20 - 1, 1_000_000, 2**40 + 12345, 2**63 - 1])
def test_proofs_read_logarithmic_nodes(size: int) -> None:
    bound = 2 * size.bit_length()
    for index in (0, size // 3, size - 2, size - 1):
        reader = CountingReader()
        proof = inclusion_proof(reader, index, size)
        assert reader.reads <= bound, (index, reader.reads)
        assert len(proof) <= size.bit_length()
    for size1 in (1, size // 2, size - 1):
        reader = CountingReader()
        consistency_proof(reader, size1, size)
        assert reader.reads <= bound + 1, (size1, reader.reads)
    reader = CountingReader()
    tree_root(reader, size)
    assert reader.reads == size.bit_count()


# ---------------------------------------------------------------------------
# A node store in SQLite, reopened to resume appending
# ---------------------------------------------------------------------------


class SqliteNodes:
    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS node (level INTEGER, idx INTEGER, hash BLOB,"
            " PRIMARY KEY (level, idx)) WITHOUT ROWID"
        )

    def store(self, nodes: list[tuple[int, int, bytes]]) -> None:
        with self.db:
            self.db.executemany("INSERT INTO node VALUES (?, ?, ?)", nodes)

    def size(self) -> int:
        row = self.db.execute("SELECT count(*) FROM node WHERE level = 0").fetchone()
        return int(row[0])

    def node(self, level: int, index: int) -> bytes:
        row = self.db.execute(
            "SELECT hash FROM node WHERE level = ? AND idx = ?", (level, index)
        ).fetchone()
        if row is None:
            raise IntegrityError(f"no node at level {level} index {index}")
        return bytes(row[0])


@pytest.fixture
def sqlite_nodes(tmp_path: Path) -> Path:
    return tmp_path / "nodes.sqlite"


def test_sqlite_store_resume_and_prove(sqlite_nodes: Path) -> None:
    hashes = leaves(300)
    first = SqliteNodes(sqlite_nodes)
    compact = CompactRange()
    for leaf_hash in hashes[:171]:
        first.store(compact.append(leaf_hash))
    first.db.close()

    reopened = SqliteNodes(sqlite_nodes)
    resumed = CompactRange.from_nodes(reopened.size(), reopened)
    assert resumed.size == 171
    for leaf_hash in hashes[171:]:
        reopened.store(resumed.append(leaf_hash))

    root = root_from_leaf_hashes(hashes)
    assert resumed.root() == root
    assert tree_root(reopened, 300) == root
    for index in (0, 170, 171, 255, 299):
        verify_inclusion(
            hashes[index], index, 300, inclusion_proof(reopened, index, 300), root
        )
    old_root = root_from_leaf_hashes(hashes[:171])
    proof = consistency_proof(reopened, 171, 300)
    verify_consistency(171, 300, proof, old_root, root)
    reopened.db.close()


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


@st.composite
def tree_and_index(draw: st.DrawFn) -> tuple[list[bytes], int]:
    size = draw(st.integers(min_value=1, max_value=96))
    seed = draw(st.binary(min_size=0, max_size=8))
    hashes = [hash_leaf(seed + n.to_bytes(2, "big")) for n in range(size)]
    return hashes, draw(st.integers(min_value=0, max_value=size - 1))


@st.composite
def tree_and_sizes(draw: st.DrawFn) -> tuple[list[bytes], int]:
    hashes, index = draw(tree_and_index())
    return hashes, index + 1


@settings(deadline=None, max_examples=200)
@given(tree_and_index())
def test_property_inclusion_proofs_verify(case: tuple[list[bytes], int]) -> None:
    hashes, index = case
    store = MemoryNodeStore(hashes)
    root = root_from_leaf_hashes(hashes)
    assert store.root() == root
    assert tree_root(store, len(hashes)) == root
    proof = inclusion_proof(store, index, len(hashes))
    verify_inclusion(hashes[index], index, len(hashes), proof, root)


@settings(deadline=None, max_examples=200)
@given(tree_and_sizes())
def test_property_consistency_proofs_verify(case: tuple[list[bytes], int]) -> None:
    hashes, size1 = case
    store = MemoryNodeStore(hashes)
    root1 = root_from_leaf_hashes(hashes[:size1])
    root2 = root_from_leaf_hashes(hashes)
    assert tree_root(store, size1) == root1
    proof = consistency_proof(store, size1, len(hashes))
    verify_consistency(size1, len(hashes), proof, root1, root2)


@settings(deadline=None, max_examples=300)
@given(tree_and_index(), st.data())
def test_property_inclusion_flipped_bit_rejected(
    case: tuple[list[bytes], int], data: st.DataObject
) -> None:
    hashes, index = case
    store = MemoryNodeStore(hashes)
    root = store.root()
    proof = inclusion_proof(store, index, len(hashes))
    bit = data.draw(st.integers(min_value=0, max_value=255))
    target = data.draw(st.integers(min_value=0, max_value=len(proof) + 1))
    leaf_hash = hashes[index]
    if target < len(proof):
        proof[target] = flip(proof[target], bit)
    elif target == len(proof):
        root = flip(root, bit)
    else:
        leaf_hash = flip(leaf_hash, bit)
    with pytest.raises(RootMismatchError):
        verify_inclusion(leaf_hash, index, len(hashes), proof, root)


@settings(deadline=None, max_examples=300)
@given(tree_and_sizes(), st.data())
def test_property_consistency_flipped_bit_rejected(
    case: tuple[list[bytes], int], data: st.DataObject
) -> None:
    hashes, size1 = case
    size2 = len(hashes)
    store = MemoryNodeStore(hashes)
    roots = [tree_root(store, size1), store.root()]
    proof = consistency_proof(store, size1, size2)
    bit = data.draw(st.integers(min_value=0, max_value=255))
    target = data.draw(st.integers(min_value=0, max_value=len(proof) + 1))
    if target < len(proof):
        proof[target] = flip(proof[target], bit)
    else:
        roots[target - len(proof)] = flip(roots[target - len(proof)], bit)
    with pytest.raises(VerificationError):
        verify_consistency(size1, size2, proof, roots[0], roots[1])
