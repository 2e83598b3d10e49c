"""Merkle trees encoded exactly as OpenZeppelin's StandardMerkleTree.

A leaf is keccak256(keccak256(abi.encode(types, values))): hashing twice keeps a leaf from
ever being mistaken for an inner node. Leaves are sorted by hash, laid out as a complete
binary tree in an array (root at 0, children of i at 2i+1 and 2i+2), and every pair is hashed
in sorted order. So OpenZeppelin's `MerkleProof` on chain, `@openzeppelin/merkle-tree` in
Node and this module agree on every root and proof.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from eth_abi import encode
from eth_utils import keccak
from sha3 import keccak_256


def leaf_hash(types: Sequence[str], values: Sequence[object]) -> bytes:
    return keccak(keccak(encode(list(types), list(values))))


def node_hash(a: bytes, b: bytes) -> bytes:
    digest: bytes = keccak_256(a + b if a <= b else b + a).digest()  # safe-pysha3 ships no types
    return digest


@dataclass(frozen=True)
class StandardMerkleTree:
    types: tuple[str, ...]
    tree: tuple[bytes, ...]  # the array layout; leaves at the end, in sorted order
    leaf_index: dict[bytes, int]  # leaf hash -> position in `tree`

    @classmethod
    def of(cls, values: Sequence[Sequence[object]], types: Sequence[str]) -> StandardMerkleTree:
        return cls.from_leaf_hashes([leaf_hash(types, v) for v in values], types)

    @classmethod
    def from_leaf_hashes(cls, hashes: Sequence[bytes], types: Sequence[str]) -> StandardMerkleTree:
        """The tree of leaves already hashed with `leaf_hash`, for callers that stream values."""
        if not hashes:
            raise ValueError("a Merkle tree needs at least one leaf")
        leaves = sorted(hashes)
        tree: list[bytes] = [b""] * (2 * len(leaves) - 1)
        for i, leaf in enumerate(leaves):
            tree[len(tree) - 1 - i] = leaf
        for i in range(len(tree) - 1 - len(leaves), -1, -1):
            tree[i] = node_hash(tree[2 * i + 1], tree[2 * i + 2])
        index = {leaf: len(tree) - 1 - i for i, leaf in enumerate(leaves)}
        if len(index) != len(leaves):
            raise ValueError("two leaves are identical")
        return cls(tuple(types), tuple(tree), index)

    @property
    def root(self) -> bytes:
        return self.tree[0]

    def proof(self, values: Sequence[object]) -> list[bytes]:
        return self.proof_of(leaf_hash(self.types, values))

    def proof_of(self, leaf: bytes) -> list[bytes]:
        """The proof of a leaf given by its hash."""
        i = self.leaf_index[leaf]
        proof = []
        while i > 0:
            proof.append(self.tree[i - (-1) ** (i % 2)])
            i = (i - 1) // 2
        return proof


def root_of(hashes: Sequence[bytes]) -> bytes:
    """The root `StandardMerkleTree.from_leaf_hashes(hashes, ...)` would have, without keeping the
    tree or an index: what a receiver of millions of rows needs. Raises ValueError like it."""
    return packed_root(b"".join(hashes))


def hash_pairs(pairs: bytes) -> bytes:
    """keccak256 of each 64 bytes of `pairs`, end to end."""
    data = memoryview(pairs)
    return b"".join([keccak_256(data[at : at + 64]).digest() for at in range(0, len(data), 64)])


def packed_root(leaves: bytes, hash_level: Callable[[bytes], bytes] = hash_pairs) -> bytes:
    """`root_of` of 32-byte leaf hashes given end to end. The tree is one array, built a level at a
    time: the nodes of a level are consecutive and so are their children, so each level's pairs
    are ordered and laid out by numpy and only the hashing is a step per node, done by
    `hash_level` (`hash_pairs`, or one that shares a level's pairs out between processes)."""
    n, extra = divmod(len(leaves), 32)
    if extra or not n:
        raise ValueError("a Merkle tree needs at least one leaf (of 32 bytes)")
    ordered = np.sort(np.frombuffer(leaves, dtype="S32"))  # bytewise, as bytes compare
    if (ordered[1:] == ordered[:-1]).any():
        raise ValueError("two leaves are identical")
    tree = np.empty(2 * n - 1, dtype="S32")
    tree[n - 1 :] = ordered[::-1]
    del ordered
    first = 1 << ((n - 1).bit_length() - 1) if n > 1 else 1
    while first >= 1:  # the level whose nodes are first - 1 .. 2 * first - 2 (the lowest one cut at n - 2)
        start, stop = first - 1, min(2 * first - 1, n - 1)
        left, right = tree[2 * start + 1 : 2 * stop + 1 : 2], tree[2 * start + 2 : 2 * stop + 2 : 2]
        swap = left > right
        pairs = np.empty((stop - start, 2), dtype="S32")
        pairs[:, 0] = np.where(swap, right, left)
        pairs[:, 1] = np.where(swap, left, right)
        tree[start:stop] = np.frombuffer(hash_level(pairs.tobytes()), dtype="S32")
        first >>= 1
    return bytes(tree[0:1].tobytes())


def verify(root: bytes, types: Sequence[str], values: Sequence[object], proof: Sequence[bytes]) -> bool:
    """What `MerkleProof.verify` does on chain, for a leaf encoded the standard way."""
    computed = leaf_hash(types, values)
    for sibling in proof:
        computed = node_hash(computed, sibling)
    return computed == root
