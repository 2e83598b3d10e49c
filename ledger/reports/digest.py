"""What a report adds up to, computed as its rows stream past: count, totals, Merkle root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sha3 import keccak_256

from ledger.merkle import StandardMerkleTree, hash_pairs, packed_root
from ledger.reports.columns import Rows
from ledger.reports.rows import LEAF_TYPES, BadRow, ReportRow

# abi.encode of a row: eight head words (two of them offsets to the strings), then each
# string as its length and one padded word. Territory and currency codes fit in one word.
_TERRITORY_OFFSET = (8 * 32).to_bytes(32, "big")
_CURRENCY_OFFSET = (10 * 32).to_bytes(32, "big")


def _keccak(data: bytes) -> bytes:
    digest: bytes = keccak_256(data).digest()
    return digest


def row_leaf_hash(row: ReportRow) -> bytes:
    """`leaf_hash(LEAF_TYPES, row.leaf())`, encoded by hand: the general ABI encoder costs
    more than everything else an ingested row needs (a test holds the two equal)."""
    territory, currency = row.territory.encode(), row.currency.encode()
    encoded = b"".join(
        (
            row.work_id,
            _TERRITORY_OFFSET,
            row.day.to_bytes(32, "big"),
            row.plays.to_bytes(32, "big"),
            row.valid_plays.to_bytes(32, "big"),
            row.watch_minutes.to_bytes(32, "big"),
            row.ad_revenue.to_bytes(32, "big"),
            _CURRENCY_OFFSET,
            len(territory).to_bytes(32, "big"),
            territory.ljust(32, b"\0"),
            len(currency).to_bytes(32, "big"),
            currency.ljust(32, b"\0"),
        )
    )
    return _keccak(_keccak(encoded))


def _string_words(text: str) -> bytes:
    """A short string's tail in abi.encode: its length, then its bytes in one padded word."""
    raw = text.encode()
    assert len(raw) <= 32, "territory and currency codes fit in one word"
    return len(raw).to_bytes(32, "big") + raw.ljust(32, b"\0")


def leaf_hashes(rows: Rows, currency: str) -> bytes:
    """Every row's `row_leaf_hash`, concatenated: the rows are ABI-encoded together as one array
    of 384-byte records (a test holds each equal to the encoder's), then hashed one by one."""
    n = len(rows)
    records = np.zeros((n, 12 * 32), dtype=np.uint8)
    works = np.frombuffer(b"".join(rows.works), dtype=np.uint8).reshape(-1, 32)
    records[:, 0:32] = works[rows.work]
    records[:, 32:64] = np.frombuffer(_TERRITORY_OFFSET, dtype=np.uint8)
    for word, column in enumerate((rows.day, rows.plays, rows.valid_plays, rows.watch_minutes, rows.ad_revenue), 2):
        # every value is below 2**63, so only a word's last 8 bytes are not zero
        records[:, word * 32 + 24 : word * 32 + 32] = column.astype(">u8").view(np.uint8).reshape(n, 8)
    records[:, 224:256] = np.frombuffer(_CURRENCY_OFFSET, dtype=np.uint8)
    tails = np.frombuffer(b"".join(map(_string_words, rows.territories)), dtype=np.uint8).reshape(-1, 64)
    records[:, 256:320] = tails[rows.territory]
    records[:, 320:384] = np.frombuffer(_string_words(currency), dtype=np.uint8)
    data = memoryview(records.tobytes())
    return b"".join([keccak_256(keccak_256(data[at : at + 384]).digest()).digest() for at in range(0, n * 384, 384)])


@dataclass
class ReportDigest:
    currency: str
    first_day: int  # the period, in days since 1970-01-01: first_day <= day < end_day
    end_day: int
    row_count: int = 0
    plays: int = 0
    valid_plays: int = 0
    watch_minutes: int = 0
    ad_revenue: int = 0
    _leaves: list[bytes] = field(default_factory=list, repr=False)  # leaf hashes, one or many to an item

    def add(self, row: ReportRow) -> None:
        number = self.row_count + 1
        if row.currency != self.currency:
            raise BadRow(number, "currency", f"the report is in {self.currency}, this row in {row.currency}")
        if not self.first_day <= row.day < self.end_day:
            raise BadRow(number, "date", "is outside the report's period")
        self.row_count = number
        self.plays += row.plays
        self.valid_plays += row.valid_plays
        self.watch_minutes += row.watch_minutes
        self.ad_revenue += row.ad_revenue
        self._leaves.append(row_leaf_hash(row))

    def add_rows(self, rows: Rows, plays: int, valid_plays: int, watch_minutes: int, ad_revenue: int) -> None:
        """Take in rows already checked to be in this report's currency and period, with their totals."""
        self.row_count += len(rows)
        self.plays += plays
        self.valid_plays += valid_plays
        self.watch_minutes += watch_minutes
        self.ad_revenue += ad_revenue
        if len(rows):
            self._leaves.append(leaf_hashes(rows, self.currency))

    def merge(self, later: ReportDigest) -> None:
        """Take in the digest of the rows that follow these (summed elsewhere, e.g. on another core)."""
        self.row_count += later.row_count
        self.plays += later.plays
        self.valid_plays += later.valid_plays
        self.watch_minutes += later.watch_minutes
        self.ad_revenue += later.ad_revenue
        self._leaves.extend(later._leaves)

    def tree(self) -> StandardMerkleTree:
        if not self._leaves:
            raise BadRow(0, "rows", "a report has at least one row")
        try:
            packed = b"".join(self._leaves)
            leaves = [packed[at : at + 32] for at in range(0, len(packed), 32)]
            return StandardMerkleTree.from_leaf_hashes(leaves, LEAF_TYPES)
        except ValueError:
            raise BadRow(0, "rows", "two rows are identical; merge them into one") from None

    def root(self, hash_level: Callable[[bytes], bytes] = hash_pairs) -> bytes:
        """The rows' Merkle root alone (the whole tree is only needed to hand out proofs); see
        `packed_root` for `hash_level`."""
        if not self._leaves:
            raise BadRow(0, "rows", "a report has at least one row")
        try:
            return packed_root(b"".join(self._leaves), hash_level)
        except ValueError:
            raise BadRow(0, "rows", "two rows are identical; merge them into one") from None
