"""Our Merkle trees against OpenZeppelin's own JavaScript implementation, leaf for leaf."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ledger.merkle import StandardMerkleTree, verify

REPO = Path(__file__).resolve().parents[2]
TYPES = ["uint64", "address", "bytes32", "uint256"]


def lines(n: int) -> list[list]:
    return [[7, f"0x{(i * 7919 + 1):040x}", bytes([i % 256]) * 32, 10**6 + i] for i in range(n)]


def openzeppelin(values: list[list]) -> dict:
    """Root and proofs from @openzeppelin/merkle-tree, run in Node."""
    script = """
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const tree = StandardMerkleTree.of(input.values, input.types);
const proofs = input.values.map((v) => tree.getProof(v));
process.stdout.write(JSON.stringify({ root: tree.root, proofs }));
"""
    payload = {"types": TYPES, "values": [[v[0], v[1], "0x" + v[2].hex(), str(v[3])] for v in values]}
    out = subprocess.run(
        ["node", "-e", script], input=json.dumps(payload), capture_output=True, text=True, cwd=REPO, check=True
    )
    return json.loads(out.stdout)


@pytest.mark.parametrize("n", [1, 2, 3, 10, 257])
def test_root_and_every_proof_match_openzeppelin(n):
    values = lines(n)
    tree = StandardMerkleTree.of(values, TYPES)
    theirs = openzeppelin(values)
    assert "0x" + tree.root.hex() == theirs["root"]
    for value, their_proof in zip(values, theirs["proofs"], strict=True):
        ours = tree.proof(value)
        assert ["0x" + p.hex() for p in ours] == their_proof
        assert verify(tree.root, TYPES, value, ours)


def test_a_changed_amount_does_not_verify():
    values = lines(10)
    tree = StandardMerkleTree.of(values, TYPES)
    forged = [*values[3][:3], values[3][3] + 1]
    assert not verify(tree.root, TYPES, forged, tree.proof(values[3]))
