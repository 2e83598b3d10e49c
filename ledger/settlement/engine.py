"""The settlement of one period: play rows in, statement lines out, nothing else consulted.

For each work, in integer arithmetic throughout:

    earned  = valid-play tiers + watch minutes x price + ad revenue x share + its part of a pool
    net     = earned - platform commission
    payable = what of net is left after recouping the work's outstanding advance
    lines   = payable divided among the split's payees by largest remainder

Prices are in micro-units of the minor unit (1/1,000,000 fen), so a price of 0.35 fen per
minute is exact; a work's earned amount is floored to whole minor units once, at the end.
Rows are summed before anything else, so the result cannot depend on their order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ledger.settlement.allocation import allocate

MICRO = 1_000_000
TOTAL_BPS = 10_000


class SettlementError(ValueError):
    """The period's inputs cannot be settled as given."""


@dataclass(frozen=True)
class PlayRow:
    work_id: str
    territory: str
    plays: int
    valid_plays: int
    watch_minutes: int
    ad_revenue: int  # minor units
    currency: str


@dataclass(frozen=True)
class Tier:
    """Valid plays above `from_plays` (in this period) earn `price_micro` each."""

    from_plays: int
    price_micro: int


@dataclass(frozen=True)
class Rule:
    version: int
    currency: str
    valid_play_tiers: tuple[Tier, ...] = ()
    watch_minute_price_micro: int = 0
    ad_revenue_bps: int = 0
    pool: str | None = None  # shares the pool of this name by watch minutes
    commission_bps: int = 0  # what the platform keeps of the earned amount

    def __post_init__(self) -> None:
        starts = [t.from_plays for t in self.valid_play_tiers]
        if starts and (starts[0] != 0 or starts != sorted(set(starts))):
            raise SettlementError(f"rule {self.version}: tiers start at 0 and rise strictly")
        for value in (self.ad_revenue_bps, self.commission_bps):
            if not 0 <= value <= TOTAL_BPS:
                raise SettlementError(f"rule {self.version}: a share is 0 to {TOTAL_BPS} basis points")
        if self.watch_minute_price_micro < 0 or any(t.price_micro < 0 for t in self.valid_play_tiers):
            raise SettlementError(f"rule {self.version}: prices are not negative")


@dataclass(frozen=True)
class Split:
    version: int
    payees: tuple[str, ...]
    bps: tuple[int, ...]

    def __post_init__(self) -> None:
        if sum(self.bps) != TOTAL_BPS or len(set(self.payees)) != len(self.payees) or not self.payees:
            raise SettlementError(f"split {self.version}: distinct payees whose shares sum to {TOTAL_BPS}")


@dataclass(frozen=True)
class Line:
    payee: str
    work_id: str
    amount: int
    currency: str
    rule_version: int
    split_version: int


@dataclass(frozen=True)
class WorkResult:
    work_id: str
    currency: str
    earned: int
    commission: int
    recouped: int
    payable: int
    advance_after: int


@dataclass(frozen=True)
class Settlement:
    works: tuple[WorkResult, ...]
    lines: tuple[Line, ...]
    totals: Mapping[str, int] = field(default_factory=dict)  # currency -> sum of lines


@dataclass
class _Usage:
    valid_plays: int = 0
    watch_minutes: int = 0
    ad_revenue: int = 0
    currency: str = ""  # the currency of the work's first row


def tiered(valid_plays: int, tiers: tuple[Tier, ...]) -> int:
    """Micro-units earned by `valid_plays` under marginal tiers."""
    earned = 0
    for i, tier in enumerate(tiers):
        upper = tiers[i + 1].from_plays if i + 1 < len(tiers) else None
        in_tier = max(0, (valid_plays if upper is None else min(valid_plays, upper)) - tier.from_plays)
        earned += in_tier * tier.price_micro
    return earned


def settle(
    rows: Iterable[PlayRow],
    rules: Mapping[str, Rule],
    splits: Mapping[str, Split],
    pools: Mapping[str, int] | None = None,
    advances: Mapping[str, int] | None = None,
) -> Settlement:
    """Settle a period. `pools` maps a pool name to its amount in minor units; `advances` maps
    a work to the advance still to recoup."""
    pools, advances = pools or {}, advances or {}
    usage: dict[str, _Usage] = defaultdict(_Usage)
    for row in rows:
        _check_row(row)
        u = usage[row.work_id]
        if u.currency and u.currency != row.currency:
            raise SettlementError(f"work {row.work_id} has rows in {u.currency} and {row.currency}")
        u.currency = row.currency
        u.valid_plays += row.valid_plays
        u.watch_minutes += row.watch_minutes
        u.ad_revenue += row.ad_revenue

    for work_id, u in usage.items():
        if work_id not in rules:
            raise SettlementError(f"work {work_id} has no settlement rule in force")
        if work_id not in splits:
            raise SettlementError(f"work {work_id} has no split in force")
        if rules[work_id].currency != u.currency:
            raise SettlementError(
                f"work {work_id} is settled in {rules[work_id].currency}, its rows are in {u.currency}"
            )

    pooled = _pool_shares(usage, rules, pools)
    works: list[WorkResult] = []
    lines: list[Line] = []
    totals: dict[str, int] = defaultdict(int)
    for work_id in sorted(usage):
        u, rule, split = usage[work_id], rules[work_id], splits[work_id]
        micro = tiered(u.valid_plays, rule.valid_play_tiers) + u.watch_minutes * rule.watch_minute_price_micro
        micro += u.ad_revenue * rule.ad_revenue_bps * (MICRO // TOTAL_BPS)
        earned = micro // MICRO + pooled.get(work_id, 0)
        commission = earned * rule.commission_bps // TOTAL_BPS
        net = earned - commission
        outstanding = advances.get(work_id, 0)
        recouped = min(net, outstanding)
        payable = net - recouped
        works.append(WorkResult(work_id, u.currency, earned, commission, recouped, payable, outstanding - recouped))
        for payee, amount in zip(split.payees, allocate(payable, split.bps, split.payees), strict=True):
            if amount:
                lines.append(Line(payee, work_id, amount, u.currency, rule.version, split.version))
                totals[u.currency] += amount
    return Settlement(tuple(works), tuple(lines), dict(totals))


def _check_row(row: PlayRow) -> None:
    for name in ("plays", "valid_plays", "watch_minutes", "ad_revenue"):
        value = getattr(row, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SettlementError(f"{name} is a non-negative whole number, got {value!r}")
    if row.valid_plays > row.plays:
        raise SettlementError("valid plays cannot exceed plays")


def _pool_shares(usage: Mapping[str, _Usage], rules: Mapping[str, Rule], pools: Mapping[str, int]) -> dict[str, int]:
    """Each pool divided among its works by watch minutes, to the last unit."""
    members: dict[str, list[str]] = defaultdict(list)
    for work_id in sorted(usage):
        pool = rules[work_id].pool
        if pool is not None:
            members[pool].append(work_id)
    shares: dict[str, int] = {}
    for pool, works in members.items():
        if pool not in pools:
            raise SettlementError(f"pool {pool} has no amount for this period")
        minutes = [usage[w].watch_minutes for w in works]
        if sum(minutes) == 0:
            continue  # nobody watched: the pool stays with the platform
        shares.update(zip(works, allocate(pools[pool], minutes, works), strict=True))
    return shares
