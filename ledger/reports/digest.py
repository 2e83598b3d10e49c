"""What a report adds up to, computed as its rows stream past: count, totals, Merkle root."""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.merkle import StandardMerkleTree, leaf_hash
from ledger.reports.rows import LEAF_TYPES, BadRow, ReportRow


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
    _leaves: list[bytes] = field(default_factory=list, repr=False)

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
        self._leaves.append(leaf_hash(LEAF_TYPES, row.leaf()))

    def tree(self) -> StandardMerkleTree:
        if not self._leaves:
            raise BadRow(0, "rows", "a report has at least one row")
        try:
            return StandardMerkleTree.from_leaf_hashes(self._leaves, LEAF_TYPES)
        except ValueError:
            raise BadRow(0, "rows", "two rows are identical; merge them into one") from None
