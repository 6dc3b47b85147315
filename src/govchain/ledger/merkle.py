"""Merkle tree hashing, proofs and append-only ranges (RFC 9162 section 2.1).

The ledger is an append-only Merkle log with SHA-256, the same tree that
Certificate Transparency uses (RFC 6962, revised as RFC 9162):

- A leaf hash is `SHA-256(0x00 || data)` and an interior node hash is
  `SHA-256(0x01 || left || right)`. The root of the empty tree is `SHA-256("")`.
- A tree of `n > 1` leaves splits at the largest power of two `k < n`: the left
  subtree covers leaves `[0, k)` and the right subtree `[k, n)`. Odd nodes are
  never duplicated, so a tree and its copy with the last leaf repeated have
  different roots.

Ranges of leaves are half-open, `[begin, end)`. A node store addresses the
perfect subtree at `level` and `index` as the one covering leaves
`[index * 2**level, (index + 1) * 2**level)`, with level 0 holding the leaf
hashes. Those nodes never change once written, so proofs and roots for any past
tree size are computed from them. A subtree on the right border that is not yet
perfect is hashed from the perfect ones below it, in O(log n) reads.

Verification is as strict as the transparency-dev/merkle probes in
`tests/vectors/merkle` require:

- Every leaf hash, proof node and root must be exactly 32 bytes (the one
  exception is below). A 64-byte value made of two child hashes can then never
  be presented as a leaf hash, which is the second-preimage attack that the
  0x00/0x01 prefixes exist to stop.
- A proof must have exactly the number of nodes its tree sizes call for, so no
  padding or truncated proof is accepted.
- An inclusion proof needs `0 <= index < tree_size`. A consistency proof needs
  `0 < size1 <= size2`: the empty tree is consistent with every tree, so a proof
  from size 0 proves nothing and is rejected even when both sizes are 0. Equal
  sizes need an empty proof and equal roots, compared as bytes. No hash is
  computed then, and the probes accept equal roots of any length there.

Verifiers return `None` when the proof holds and raise a subclass of
`VerificationError` when it does not: `RootMismatchError` (carrying both roots)
when the proof leads to another root, `InvalidProofError` when the proof cannot
be checked at all. The module does no I/O and no logging.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

from govchain.errors import (
    IntegrityError,
    RootMismatchError,
    ValidationError,
    VerificationError,
)

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "InvalidProofError",
    "MemoryNodeStore",
    "MerkleInputError",
    "NodeReader",
    "consistency_proof",
    "hash_children",
    "hash_leaf",
    "inclusion_proof",
    "root_from_inclusion_proof",
    "root_from_leaf_hashes",
    "tree_root",
    "verify_consistency",
    "verify_inclusion",
]

#: Size in bytes of every hash in the tree (SHA-256).
HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
#: Root hash of the empty tree: SHA-256 of the empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()


class InvalidProofError(VerificationError):
    """A proof cannot be checked: wrong hash length, bad sizes or node count."""


class MerkleInputError(ValidationError):
    """A request to build a tree or a proof is out of range or malformed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="bad-merkle-input")


def hash_leaf(data: bytes) -> bytes:
    """Return the leaf hash of `data`: SHA-256(0x00 || data)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """Return the interior node hash SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


# ---------------------------------------------------------------------------
# Reference tree hash
# ---------------------------------------------------------------------------


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """Compute the Merkle tree hash (MTH) of a list of leaf hashes.

    This is the recursive definition of RFC 9162 section 2.1.1, kept as the
    reference for tests and for small trees such as one block's transactions.
    It reads every leaf: use `CompactRange` or `tree_root` for a growing log.
    Raises `MerkleInputError` when a leaf hash is not 32 bytes.
    """
    for position, leaf_hash in enumerate(leaf_hashes):
        _require_input_hash(leaf_hash, f"leaf hash {position}")
    if not leaf_hashes:
        return EMPTY_ROOT
    return _subtree_hash(leaf_hashes, 0, len(leaf_hashes))


def _subtree_hash(leaf_hashes: Sequence[bytes], begin: int, end: int) -> bytes:
    if end - begin == 1:
        return leaf_hashes[begin]
    split = begin + _largest_power_of_two_below(end - begin)
    return hash_children(
        _subtree_hash(leaf_hashes, begin, split),
        _subtree_hash(leaf_hashes, split, end),
    )


def _largest_power_of_two_below(n: int) -> int:
    """Return the largest power of two strictly less than `n` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


# ---------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes]
) -> bytes:
    """Compute the root that an inclusion proof leads to (RFC 9162 2.1.3.2).

    Preconditions, checked in this order: `0 <= index < tree_size`, `leaf_hash`
    is 32 bytes, `proof` has exactly the node count for `index` and `tree_size`,
    and every proof node is 32 bytes. Raises `InvalidProofError` otherwise.
    The caller compares the result with a trusted root; `verify_inclusion` does.
    """
    if not 0 <= index < tree_size:
        raise InvalidProofError(
            f"leaf index {index} is outside a tree of size {tree_size}: "
            f"expected 0 <= index < tree size"
        )
    _require_proof_hash(leaf_hash, "leaf hash")
    inner, border = _inclusion_shape(index, tree_size)
    _require_proof_length(
        proof, inner + border, f"leaf {index} in a tree of size {tree_size}"
    )
    node = _chain_inner(leaf_hash, proof[:inner], index)
    return _chain_border(node, proof[inner:])


def verify_inclusion(
    leaf_hash: bytes,
    index: int,
    tree_size: int,
    proof: Sequence[bytes],
    root: bytes,
) -> None:
    """Check that `leaf_hash` is leaf `index` of the tree of `tree_size` with `root`.

    Raises `InvalidProofError` when the inputs break the preconditions of
    `root_from_inclusion_proof` or `root` is not 32 bytes, and
    `RootMismatchError` when the proof leads to another root.
    """
    _require_proof_hash(root, "root")
    computed = root_from_inclusion_proof(leaf_hash, index, tree_size, proof)
    if computed != root:
        raise RootMismatchError(expected=root, computed=computed)


def verify_consistency(
    size1: int,
    size2: int,
    proof: Sequence[bytes],
    root1: bytes,
    root2: bytes,
) -> None:
    """Check that the tree of `size2` with `root2` extends the one of `size1`.

    Preconditions, checked in this order: `0 < size1 <= size2`, then for equal
    sizes an empty proof and `root1 == root2`. For different sizes both roots
    are 32 bytes, `proof` has exactly the node count for the two sizes and
    every proof node is 32 bytes. Raises `InvalidProofError` when one fails and
    `RootMismatchError` when the roots differ or the proof does not lead to
    both `root1` and `root2` (RFC 9162 section 2.1.4.2).
    """
    if size1 <= 0:
        raise InvalidProofError(
            f"consistency proof from size1 {size1} proves nothing: expected size1 > 0"
        )
    if size2 < size1:
        raise InvalidProofError(
            f"size2 {size2} is smaller than size1 {size1}: expected size1 <= size2"
        )
    if size1 == size2:
        # NOTE: roots of equal sizes are compared byte for byte with no length
        # check, because the transparency-dev probe "sizes are equal (one) and
        # proof is empty" must accept two equal 12-byte roots.
        _require_proof_length(proof, 0, f"equal sizes {size1}")
        if root1 != root2:
            raise RootMismatchError(expected=root1, computed=root2)
        return
    _require_proof_hash(root1, "root1")
    _require_proof_hash(root2, "root2")

    # The proof starts at the largest perfect subtree that ends at size1, at
    # level `shift`. When that subtree is the whole first tree, its hash is
    # root1 and the proof leaves it out.
    shift = _trailing_zeros(size1)
    inner, border = _inclusion_shape(size1 - 1, size2)
    inner -= shift
    start = 0 if size1 == 1 << shift else 1
    _require_proof_length(proof, start + inner + border, f"sizes {size1} and {size2}")
    seed = root1 if start == 0 else proof[0]
    path = proof[start:]
    mask = (size1 - 1) >> shift

    # Only left siblings belong to the first tree; the second tree has them all.
    computed1 = _chain_border(
        _chain_left_siblings(seed, path[:inner], mask), path[inner:]
    )
    if computed1 != root1:
        raise RootMismatchError(expected=root1, computed=computed1)
    computed2 = _chain_border(_chain_inner(seed, path[:inner], mask), path[inner:])
    if computed2 != root2:
        raise RootMismatchError(expected=root2, computed=computed2)


def _inclusion_shape(index: int, tree_size: int) -> tuple[int, int]:
    """Split the proof for leaf `index` into its inner and border node counts.

    The inner nodes are the siblings below the level where the paths to `index`
    and to the last leaf join. Above it the path runs along the right border and
    only levels where `index` has a 1 bit have a (left) sibling.
    """
    inner = (index ^ (tree_size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner, border


def _chain_inner(seed: bytes, nodes: Sequence[bytes], index: int) -> bytes:
    for level, node in enumerate(nodes):
        if (index >> level) & 1:
            seed = hash_children(node, seed)
        else:
            seed = hash_children(seed, node)
    return seed


def _chain_left_siblings(seed: bytes, nodes: Sequence[bytes], index: int) -> bytes:
    for level, node in enumerate(nodes):
        if (index >> level) & 1:
            seed = hash_children(node, seed)
    return seed


def _chain_border(seed: bytes, nodes: Sequence[bytes]) -> bytes:
    for node in nodes:
        seed = hash_children(node, seed)
    return seed


def _trailing_zeros(n: int) -> int:
    return (n & -n).bit_length() - 1


def _require_proof_hash(value: bytes, name: str) -> None:
    if len(value) != HASH_SIZE:
        raise InvalidProofError(
            f"{name} is {len(value)} bytes, expected {HASH_SIZE} (a SHA-256 hash)"
        )


def _require_proof_length(proof: Sequence[bytes], expected: int, context: str) -> None:
    if len(proof) != expected:
        raise InvalidProofError(
            f"proof has {len(proof)} nodes, expected {expected} for {context}"
        )
    for position, node in enumerate(proof):
        _require_proof_hash(node, f"proof node {position}")


def _require_input_hash(value: bytes, name: str) -> None:
    if len(value) != HASH_SIZE:
        raise MerkleInputError(
            f"{name} is {len(value)} bytes, expected {HASH_SIZE}: pass the leaf "
            f"hash from hash_leaf, not the leaf data"
        )


# ---------------------------------------------------------------------------
# Proof generation over a node store
# ---------------------------------------------------------------------------


class NodeReader(Protocol):
    """Read access to the perfect subtree hashes of a log."""

    def node(self, level: int, index: int) -> bytes:
        """Return the hash of the perfect subtree over leaves
        `[index * 2**level, (index + 1) * 2**level)`. Level 0 is the leaf hashes.

        A node that the store does not have is the reader's error to raise.
        """
        ...


def tree_root(reader: NodeReader, tree_size: int) -> bytes:
    """Compute the root of the tree made of the first `tree_size` leaves.

    `tree_size` may be any size the store has reached, not only the current
    one. Reads one node per 1 bit of `tree_size`. Raises `MerkleInputError` for
    a negative size.
    """
    if tree_size < 0:
        raise MerkleInputError(f"tree size {tree_size} is negative")
    if tree_size == 0:
        return EMPTY_ROOT
    return _range_hash(reader, 0, tree_size)


def inclusion_proof(reader: NodeReader, index: int, tree_size: int) -> list[bytes]:
    """Build the inclusion proof of leaf `index` in the tree of `tree_size` leaves.

    Needs `0 <= index < tree_size`, else raises `MerkleInputError`. Returns the
    sibling hashes from the leaf upwards (RFC 9162 section 2.1.3.1), after
    O(log tree_size) node reads.
    """
    if not 0 <= index < tree_size:
        raise MerkleInputError(
            f"leaf index {index} is outside a tree of size {tree_size}: "
            f"expected 0 <= index < tree size"
        )
    return _node_path(reader, 0, index, tree_size)


def consistency_proof(reader: NodeReader, size1: int, size2: int) -> list[bytes]:
    """Build the proof that the tree of `size2` leaves extends the one of `size1`.

    Needs `0 < size1 <= size2`, else raises `MerkleInputError`; equal sizes give
    an empty proof. The nodes come in the order of RFC 9162 section 2.1.4.1,
    after O(log size2) node reads.
    """
    if not 0 < size1 <= size2:
        raise MerkleInputError(
            f"sizes {size1} and {size2} are invalid for a consistency proof: "
            f"expected 0 < size1 <= size2"
        )
    if size1 == size2:
        return []
    level = _trailing_zeros(size1)
    index = (size1 >> level) - 1
    # Node (level, index) is the largest perfect subtree ending at size1. When
    # it is the whole first tree (index 0), the verifier already has its hash.
    proof = [] if index == 0 else [reader.node(level, index)]
    proof.extend(_node_path(reader, level, index, size2))
    return proof


def _node_path(
    reader: NodeReader, level: int, index: int, tree_size: int
) -> list[bytes]:
    """Return the sibling hashes from node (`level`, `index`) up to the root."""
    last = (tree_size - 1) >> level
    inner = (index ^ last).bit_length()
    path = [reader.node(level + step, (index >> step) ^ 1) for step in range(inner - 1)]
    if inner > 0:
        # Right sibling of the ancestor that joins the path to the last leaf.
        # It ends at tree_size, so it may not be perfect yet.
        begin = ((index >> (inner - 1)) + 1) << (level + inner - 1)
        path.append(_range_hash(reader, begin, tree_size))
    for step in range(inner, index.bit_length()):
        if (index >> step) & 1:
            path.append(reader.node(level + step, (index >> step) - 1))
    return path


def _range_hash(reader: NodeReader, begin: int, end: int) -> bytes:
    """Hash leaves `[begin, end)` as a subtree, where `begin` is a multiple of a
    power of two at least `end - begin` (so the range is one RFC 9162 subtree).
    """
    nodes: list[bytes] = []
    position = begin
    size = end - begin
    for level in reversed(range(size.bit_length())):
        if (size >> level) & 1:
            nodes.append(reader.node(level, position >> level))
            position += 1 << level
    return _fold_right(nodes)


def _fold_right(nodes: Sequence[bytes]) -> bytes:
    """Hash perfect subtrees, largest first, into the root of their range."""
    root = nodes[-1]
    for node in reversed(nodes[:-1]):
        root = hash_children(node, root)
    return root


# ---------------------------------------------------------------------------
# Appending
# ---------------------------------------------------------------------------


class CompactRange:
    """The right border of a growing tree: enough state to append and hash it.

    The border is one perfect subtree hash per 1 bit of `size`, largest
    (leftmost) first, so it never exceeds 64 hashes for a 64-bit size.
    """

    __slots__ = ("_border", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._border: list[bytes] = []

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @classmethod
    def from_nodes(cls, size: int, reader: NodeReader) -> CompactRange:
        """Rebuild the range of a tree of `size` leaves from its stored nodes.

        Reads one node per 1 bit of `size`, so a restarted node resumes without
        rereading its leaves. Raises `MerkleInputError` for a negative size and
        `IntegrityError` when a stored node is not 32 bytes.
        """
        if size < 0:
            raise MerkleInputError(f"tree size {size} is negative")
        compact = cls()
        position = 0
        for level in reversed(range(size.bit_length())):
            if (size >> level) & 1:
                node = reader.node(level, position >> level)
                if len(node) != HASH_SIZE:
                    raise IntegrityError(
                        f"stored node at level {level} index {position >> level} "
                        f"is {len(node)} bytes, expected {HASH_SIZE}"
                    )
                compact._border.append(node)
                position += 1 << level
        compact._size = size
        return compact

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Append one leaf hash and return the perfect nodes it completes.

        Each node is `(level, index, hash)`, starting with the leaf itself at
        level 0, so the caller can store them for `NodeReader`. Raises
        `MerkleInputError` when `leaf_hash` is not 32 bytes.
        """
        _require_input_hash(leaf_hash, "leaf hash")
        index = self._size
        created = [(0, index, leaf_hash)]
        node = leaf_hash
        level = 0
        # An odd index is a right child: merge it with the border node to its left.
        while index & 1:
            node = hash_children(self._border.pop(), node)
            level += 1
            index >>= 1
            created.append((level, index, node))
        self._border.append(node)
        self._size += 1
        return created

    def root(self) -> bytes:
        """Return the root hash of the tree of `size` leaves."""
        if not self._border:
            return EMPTY_ROOT
        return _fold_right(self._border)

    def border_nodes(self) -> list[tuple[int, int, bytes]]:
        """Return the border as `(level, index, hash)`, largest subtree first."""
        nodes = []
        position = 0
        hashes = iter(self._border)
        for level in reversed(range(self._size.bit_length())):
            if (self._size >> level) & 1:
                nodes.append((level, position >> level, next(hashes)))
                position += 1 << level
        return nodes


class MemoryNodeStore:
    """A `NodeReader` that keeps every perfect node in memory, for tests and
    benchmarks. It stores about 2 * 32 bytes per leaf plus list overhead.
    """

    __slots__ = ("_levels", "_range")

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = []
        self._range = CompactRange()
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        """Number of leaves stored."""
        return self._range.size

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Append one leaf hash; return the nodes it completed, as `CompactRange`."""
        created = self._range.append(leaf_hash)
        for level, _index, node in created:
            if level == len(self._levels):
                self._levels.append([])
            self._levels[level].append(node)
        return created

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append each leaf hash in order."""
        for leaf_hash in leaf_hashes:
            self.append(leaf_hash)

    def root(self) -> bytes:
        """Return the root hash at the current size."""
        return self._range.root()

    def node(self, level: int, index: int) -> bytes:
        """Return a stored node; raise `MerkleInputError` if it does not exist yet."""
        if level < 0 or index < 0 or level >= len(self._levels):
            raise self._missing(level, index)
        nodes = self._levels[level]
        if index >= len(nodes):
            raise self._missing(level, index)
        return nodes[index]

    def _missing(self, level: int, index: int) -> MerkleInputError:
        return MerkleInputError(
            f"node at level {level} index {index} not found in a store of "
            f"{self.size} leaves: request only tree sizes up to {self.size}"
        )
