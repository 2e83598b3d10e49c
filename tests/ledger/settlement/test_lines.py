"""Statement lines as leaves: the hand-written encoding equals the ABI encoder's, and a period's
tree is the one @openzeppelin/merkle-tree builds from the same lines."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.merkle import leaf_hash, verify
from ledger.settlement.lines import LINE_TYPES, StatementLine, line_leaf_hash, numbered, tree_of

REPO = Path(__file__).resolve().parents[3]


@given(
    st.integers(0, 2**32),
    st.integers(1, 2**160 - 1),
    st.binary(min_size=32, max_size=32),
    st.integers(0, 2**255),
    st.integers(0, 2**32 - 1),
    st.integers(0, 2**32 - 1),
)
@settings(max_examples=200)
def test_the_hand_encoded_line_leaf_equals_the_abi_encoders(index, payee, work, amount, rule_v, split_v):
    from web3 import Web3

    line = StatementLine(index, Web3.to_checksum_address(f"0x{payee:040x}"), "0x" + work.hex(), amount, rule_v, split_v)
    assert line_leaf_hash(line) == leaf_hash(LINE_TYPES, line.leaf())


def test_lines_are_numbered_by_payee_then_work_whatever_their_order():
    entries = [
        ("0xBb" + "00" * 19, "0x" + "02" * 32, 5, 1, 1, 0, None),
        ("0xaA" + "00" * 19, "0x" + "09" * 32, 7, 1, 1, 0, None),
        ("0xbb" + "00" * 19, "0x" + "01" * 32, 3, 1, 1, 0, None),
    ]
    assert numbered(entries) == numbered(list(reversed(entries)))
    assert [line.amount for line in numbered(entries)] == [7, 3, 5]


def test_upstream_lines_follow_the_direct_line_of_their_payee_and_work_by_derivative():
    payee, drama = "0xaA" + "00" * 19, "0x" + "01" * 32
    entries = [
        (payee, drama, 30, 1, 2, 0, "0x" + "0b" * 32),
        (payee, drama, 20, 1, 2, 0, "0x" + "0a" * 32),
        (payee, drama, 10, 1, 2, 0, None),
    ]
    assert [(line.index, line.amount) for line in numbered(entries)] == [(0, 10), (1, 20), (2, 30)]


def test_a_periods_tree_is_openzeppelins_and_every_proof_verifies_in_node():
    lines = numbered(
        (f"0x{(p * 7919 + 11):040x}", "0x" + bytes([w]).hex() * 32, 1_000 + p * w, 2, 1, 0, None)
        for p in range(9)
        for w in range(1, 4)
    )
    tree = tree_of(lines)
    script = """
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');
const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const tree = StandardMerkleTree.of(input.values, input.types);
const ok = input.values.map((v, i) => StandardMerkleTree.verify(tree.root, input.types, v, input.proofs[i]));
process.stdout.write(JSON.stringify({ root: tree.root, ok }));
"""
    values = [
        [str(line.index), line.payee, line.work_id, str(line.amount), line.rule_version, line.split_version]
        for line in lines
    ]
    proofs = [["0x" + p.hex() for p in tree.proof_of(line_leaf_hash(line))] for line in lines]
    out = subprocess.run(
        ["node", "-e", script],
        input=json.dumps({"types": LINE_TYPES, "values": values, "proofs": proofs}),
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    theirs = json.loads(out.stdout)
    assert theirs["root"] == "0x" + tree.root.hex()
    assert all(theirs["ok"]) and len(theirs["ok"]) == len(lines)
    forged = lines[4].leaf()[:3] + (lines[4].amount + 1,) + lines[4].leaf()[4:]
    assert not verify(tree.root, LINE_TYPES, forged, tree.proof_of(line_leaf_hash(lines[4])))
