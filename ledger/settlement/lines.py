"""Statement lines as Merkle leaves: what the settlement contract's `claim` checks.

A line's leaf is OpenZeppelin's standard leaf of (index, payee, workId, amount, ruleVersion,
splitVersion); the period (and so its currency and token) is the root it belongs to. Lines
are numbered in (payee, work, derivative it came through) order, a direct line first, so the
same lines always give the same root and a period without derivatives numbers as it always did.
The derivative is not in the leaf: the statement and the period's inputs carry it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sha3 import keccak_256

from ledger.chain.hexes import from_0x
from ledger.chain.settlement import LineLeaf
from ledger.merkle import StandardMerkleTree

LINE_TYPES = ("uint256", "address", "bytes32", "uint256", "uint32", "uint32")


@dataclass(frozen=True)
class StatementLine:
    index: int
    payee: str  # checksummed address
    work_id: str  # 0x + 64 hex
    amount: int  # minor units, > 0
    rule_version: int
    split_version: int
    adjustment: int = 0  # the part of `amount` that corrects an earlier period (signed)
    via_work_id: str | None = None  # the derivative whose earnings reached the payee; None: direct

    def leaf(self) -> tuple[Any, ...]:
        return (
            self.index,
            self.payee,
            from_0x(self.work_id),
            self.amount,
            self.rule_version,
            self.split_version,
        )

    def as_leaf(self) -> LineLeaf:
        """The line as the settlement contracts take it."""
        return LineLeaf(
            self.index, self.payee, from_0x(self.work_id), self.amount, self.rule_version, self.split_version
        )


def _keccak(data: bytes) -> bytes:
    digest: bytes = keccak_256(data).digest()
    return digest


def line_leaf_hash(line: StatementLine) -> bytes:
    """`leaf_hash(LINE_TYPES, line.leaf())` with the six static words laid out by hand (tested equal)."""
    encoded = b"".join(
        (
            line.index.to_bytes(32, "big"),
            bytes(12) + bytes.fromhex(line.payee[2:]),  # both 0x-prefixed, as every line holds them
            bytes.fromhex(line.work_id[2:]),
            line.amount.to_bytes(32, "big"),
            line.rule_version.to_bytes(32, "big"),
            line.split_version.to_bytes(32, "big"),
        )
    )
    return _keccak(_keccak(encoded))


def numbered(entries: Iterable[tuple[str, str, int, int, int, int, str | None]]) -> list[StatementLine]:
    """Lines from (payee, work_id, amount, rule_version, split_version, adjustment, via_work_id), numbered in order."""
    ordered = sorted(entries, key=lambda e: (e[0].lower(), e[1], e[6] or ""))
    return [StatementLine(i, *entry) for i, entry in enumerate(ordered)]


def tree_of(lines: Sequence[StatementLine]) -> StandardMerkleTree:
    return StandardMerkleTree.from_leaf_hashes([line_leaf_hash(line) for line in lines], LINE_TYPES)
