"""The settlement engine: exact integer amounts, every total reconciled, order never matters."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.settlement.engine import PlayRow, Rule, SettlementError, Split, Tier, settle, tiered

PAYEES = [f"0x{i:040x}" for i in range(1, 12)]


def row(work="w1", valid=0, minutes=0, ad=0, plays=None, currency="CNY"):
    return PlayRow(work, "CN", plays if plays is not None else valid, valid, minutes, ad, currency)


def test_tiers_are_marginal():
    tiers = (Tier(0, 1_000_000), Tier(100, 500_000))  # 1 fen per valid play, 0.5 fen above 100
    assert tiered(150, tiers) == 100 * 1_000_000 + 50 * 500_000


def test_a_worked_example_reconciles_to_the_fen():
    rule = Rule(
        1,
        "CNY",
        (Tier(0, 1_000_000), Tier(1000, 800_000)),
        watch_minute_price_micro=350_000,
        ad_revenue_bps=3000,
        commission_bps=1000,
    )
    split = Split(4, (PAYEES[0], PAYEES[1], PAYEES[2]), (5000, 3333, 1667))
    result = settle(
        [row(valid=1200, minutes=10_001, ad=999), row(valid=300, minutes=0, ad=1)], {"w1": rule}, {"w1": split}
    )
    work = result.works[0]
    # 1000 x 1 fen + 500 x 0.8 fen = 1400; 10,001 min x 0.35 = 3500.35; 30% of 1000 ad = 300
    assert work.earned == 1400 + 3500 + 300
    assert work.commission == 520 and work.payable == 4680
    assert [line.amount for line in result.lines] == [2340, 1560, 780]
    assert {line.split_version for line in result.lines} == {4}
    assert result.totals == {"CNY": 4680}


def test_advance_is_recouped_before_anything_is_paid():
    rule = Rule(1, "CNY", (Tier(0, 1_000_000),))
    split = Split(1, (PAYEES[0],), (10_000,))
    first = settle([row(valid=700)], {"w1": rule}, {"w1": split}, advances={"w1": 1000})
    assert first.works[0].payable == 0 and first.works[0].advance_after == 300 and first.lines == ()
    second = settle([row(valid=700)], {"w1": rule}, {"w1": split}, advances={"w1": 300})
    assert second.works[0].payable == 400 and second.works[0].advance_after == 0


def test_a_pool_is_shared_by_watch_minutes_to_the_last_unit():
    rule = Rule(1, "CNY", pool="members")
    split = Split(1, (PAYEES[0],), (10_000,))
    result = settle(
        [row("a", minutes=1), row("b", minutes=1), row("c", minutes=1)],
        dict.fromkeys("abc", rule),
        dict.fromkeys("abc", split),
        pools={"members": 100},
    )
    assert sorted(w.payable for w in result.works) == [33, 33, 34]
    assert result.totals == {"CNY": 100}


@pytest.mark.parametrize(
    "bad",
    [
        {"rows": [row(valid=-1)]},
        {"rows": [row(valid=5, plays=4)]},
        {"rows": [row(currency="USD")]},
        {"rows": [row(work="unknown")]},
        {"rows": [PlayRow("w1", "CN", 1, 1, 1, 1.5, "CNY")]},
    ],
)
def test_bad_rows_are_refused(bad):
    with pytest.raises(SettlementError):
        settle(bad["rows"], {"w1": Rule(1, "CNY")}, {"w1": Split(1, (PAYEES[0],), (10_000,))})


def test_bad_rules_and_splits_are_refused():
    with pytest.raises(SettlementError):
        Rule(1, "CNY", (Tier(5, 1),))
    with pytest.raises(SettlementError):
        Rule(1, "CNY", commission_bps=10_001)
    with pytest.raises(SettlementError):
        Split(1, (PAYEES[0], PAYEES[0]), (5000, 5000))


works = st.sampled_from([f"w{i}" for i in range(6)])
rows = st.lists(
    st.builds(
        lambda w, v, extra, m, ad: row(w, valid=v, plays=v + extra, minutes=m, ad=ad),
        works,
        st.integers(0, 10**7),
        st.integers(0, 10**3),
        st.integers(0, 10**8),
        st.integers(0, 10**9),
    ),
    max_size=60,
)
rules = st.builds(
    lambda tiers, minute, ad, commission, pooled: Rule(
        1,
        "CNY",
        tuple(
            Tier(start, price)
            for start, price in zip([0] + sorted(set(tiers[1:])), tiers[:1] + tiers[1:], strict=False)
        ),
        minute,
        ad,
        "pool" if pooled else None,
        commission,
    ),
    st.lists(st.integers(1, 10**7), min_size=1, max_size=4),
    st.integers(0, 10**6),
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    st.booleans(),
)


@st.composite
def splits(draw):
    n = draw(st.integers(1, 10))
    cuts = sorted(draw(st.lists(st.integers(1, 9_999), min_size=n - 1, max_size=n - 1, unique=True)))
    bps = [b - a for a, b in zip([0] + cuts, cuts + [10_000], strict=True)]
    return Split(draw(st.integers(1, 9)), tuple(draw(st.permutations(PAYEES))[:n]), tuple(bps))


@settings(max_examples=150, deadline=None)
@given(
    rows,
    st.fixed_dictionaries({f"w{i}": rules for i in range(6)}),
    st.fixed_dictionaries({f"w{i}": splits() for i in range(6)}),
    st.integers(0, 10**9),
    st.dictionaries(works, st.integers(0, 10**6)),
    st.randoms(),
)
def test_lines_reconcile_exactly_are_never_negative_and_ignore_row_order(rows, rules, splits, pool, advances, rnd):
    result = settle(rows, rules, splits, {"pool": pool}, advances)
    for work in result.works:
        paid = sum(line.amount for line in result.lines if line.work_id == work.work_id)
        assert paid == work.payable == work.earned - work.commission - work.recouped
        assert min(work.payable, work.commission, work.recouped, work.advance_after) >= 0
    assert all(line.amount > 0 for line in result.lines)
    assert sum(result.totals.values()) == sum(w.payable for w in result.works)
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert settle(shuffled, rules, splits, {"pool": pool}, advances) == result
