"""The settlement of one period: play rows in, statement lines out, nothing else consulted.

For each work, in integer arithmetic throughout:

    earned  = valid-play tiers + watch minutes x price + ad revenue x share + its part of a pool
    net     = earned - platform commission
    payable = what of net is left after recouping the work's outstanding advance
    lines   = payable divided among the split's payees by largest remainder

A derivative work pays upstream first. For a derivative D with payable X, valid plays V and
parents P_i (share s_i in basis points, minimum m_i micro-units per valid play):

    due_i   = max(X x s_i // 10,000, m_i x V // 1,000,000)
              (scaled down to X by largest remainder when the dues exceed X)

What reaches P_i is treated the same way (P_i's own parents take their share of it, their
minimums still counted in D's valid plays), and what stays at P_i goes to P_i's payees by
P_i's split; what stays of X goes to D's payees. An upstream line names the work whose payees
it pays (`work_id`) and the derivative that earned it (`via_work_id`).

Prices are in micro-units of the minor unit (1/1,000,000 fen), so a price of 0.35 fen per
minute is exact; a work's earned amount is floored to whole minor units once, at the end.
Rows are summed before anything else, so the result cannot depend on their order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
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
class Edge:
    """A derivative's licence from one parent: the parent's share of what reaches the derivative."""

    parent_id: str
    share_bps: int
    min_per_valid_play_micro: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.share_bps <= TOTAL_BPS:
            raise SettlementError(f"parent {self.parent_id}: a share is 0 to {TOTAL_BPS} basis points")
        if self.min_per_valid_play_micro < 0:
            raise SettlementError(f"parent {self.parent_id}: a minimum per valid play is not negative")


@dataclass(frozen=True)
class Line:
    payee: str
    work_id: str  # the work whose payees are paid
    amount: int
    currency: str
    rule_version: int  # the earning work's rule
    split_version: int  # `work_id`'s split
    via_work_id: str | None = None  # the derivative that earned it; None when `work_id` earned it


@dataclass(frozen=True)
class WorkResult:
    work_id: str
    currency: str
    earned: int
    commission: int
    recouped: int
    payable: int
    advance_after: int
    passed_up: int = 0  # what of `payable` went to the work's parents (and on to theirs)


@dataclass(frozen=True)
class Flow:
    """An amount passed from a work to one of its parents, out of what `via_work_id` earned."""

    via_work_id: str
    from_work_id: str
    to_work_id: str
    amount: int
    currency: str


@dataclass(frozen=True)
class Settlement:
    works: tuple[WorkResult, ...]
    lines: tuple[Line, ...]
    totals: Mapping[str, int] = field(default_factory=dict)  # currency -> sum of lines
    flows: tuple[Flow, ...] = ()  # every amount passed upstream


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
    upstream: Mapping[str, Sequence[Edge]] | None = None,
) -> Settlement:
    """Settle a period. `pools` maps a pool name to its amount in minor units; `advances` maps
    a work to the advance still to recoup; `upstream` maps a derivative to its parents' edges
    (every work reached upstream needs its split in `splits`)."""
    pools, advances, upstream = pools or {}, advances or {}, upstream or {}
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
        _check_ancestors(work_id, upstream, splits)

    pooled = _pool_shares(usage, rules, pools)
    works: list[WorkResult] = []
    paid = _Paid()
    for work_id in sorted(usage):
        u, rule = usage[work_id], rules[work_id]
        micro = tiered(u.valid_plays, rule.valid_play_tiers) + u.watch_minutes * rule.watch_minute_price_micro
        micro += u.ad_revenue * rule.ad_revenue_bps * (MICRO // TOTAL_BPS)
        earned = micro // MICRO + pooled.get(work_id, 0)
        commission = earned * rule.commission_bps // TOTAL_BPS
        net = earned - commission
        outstanding = advances.get(work_id, 0)
        recouped = min(net, outstanding)
        payable = net - recouped
        earning = _Earning(work_id, u.valid_plays, u.currency, rule.version)
        kept = _pay_through(earning, work_id, payable, upstream, splits, paid)
        advance_after = outstanding - recouped
        works.append(
            WorkResult(work_id, u.currency, earned, commission, recouped, payable, advance_after, payable - kept)
        )
    lines = tuple(
        Line(payee, work_id, amount, currency, rule_v, split_v, via)
        for (payee, work_id, via, currency), (amount, rule_v, split_v) in paid.lines.items()
        if amount
    )
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        totals[line.currency] += line.amount
    return Settlement(tuple(works), lines, dict(totals), tuple(paid.flows))


@dataclass(frozen=True)
class _Earning:
    """The work whose payable is being paid out, and what its lines carry."""

    work_id: str
    valid_plays: int
    currency: str
    rule_version: int


@dataclass
class _Paid:
    # (payee, work, via, currency) -> amount, rule version, split version
    lines: dict[tuple[str, str, str | None, str], list[int]] = field(default_factory=dict)
    flows: list[Flow] = field(default_factory=list)


def upstream_dues(amount: int, valid_plays: int, edges: Sequence[Edge]) -> list[int]:
    """What each parent takes of `amount` reaching a work with `edges`: its share or its
    minimum for `valid_plays`, whichever is more, all scaled to `amount` when they exceed it."""
    dues = [max(amount * e.share_bps // TOTAL_BPS, e.min_per_valid_play_micro * valid_plays // MICRO) for e in edges]
    if sum(dues) > amount:
        dues = allocate(amount, dues, [e.parent_id for e in edges])
    return dues


def _pay_through(
    earning: _Earning,
    work_id: str,
    amount: int,
    upstream: Mapping[str, Sequence[Edge]],
    splits: Mapping[str, Split],
    paid: _Paid,
) -> int:
    """Pay `amount` reaching `work_id` out of `earning`'s payable: its parents first, the rest
    to its payees. Returns what stayed with `work_id`'s payees."""
    edges = upstream.get(work_id, ())
    dues = upstream_dues(amount, earning.valid_plays, edges)
    for edge, due in zip(edges, dues, strict=True):
        if due:
            paid.flows.append(Flow(earning.work_id, work_id, edge.parent_id, due, earning.currency))
            _pay_through(earning, edge.parent_id, due, upstream, splits, paid)
    kept = amount - sum(dues)
    split = splits[work_id]
    via = None if work_id == earning.work_id else earning.work_id
    for payee, share in zip(split.payees, allocate(kept, split.bps, split.payees), strict=True):
        entry = paid.lines.setdefault((payee, work_id, via, earning.currency), [0, earning.rule_version, split.version])
        entry[0] += share
    return kept


def _check_ancestors(work_id: str, upstream: Mapping[str, Sequence[Edge]], splits: Mapping[str, Split]) -> None:
    """Every work upstream of `work_id` has a split, no parent is named twice, and no path returns to a work."""
    path: list[str] = []

    def visit(current: str) -> None:
        if current in path:
            raise SettlementError(f"work {current} derives from itself")
        edges = upstream.get(current, ())
        if len({e.parent_id for e in edges}) != len(edges):
            raise SettlementError(f"work {current} names a parent twice")
        path.append(current)
        for edge in edges:
            if edge.parent_id not in splits:
                raise SettlementError(f"work {edge.parent_id}, a parent of {current}, has no split in force")
            visit(edge.parent_id)
        path.pop()

    visit(work_id)


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
