"""Settlement through the chain of works: a derivative pays its parents first, recursively."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.settlement.allocation import allocate
from ledger.settlement.engine import Edge, PlayRow, Rule, SettlementError, Split, Tier, settle

PRODUCER, INVESTOR, STUDIO, CLIPPER = (f"0x{i:040x}" for i in range(1, 5))
FEN_PER_PLAY = Rule(1, "CNY", (Tier(0, 1_000_000),))
DRAMA = Split(2, (PRODUCER, INVESTOR), (7000, 3000))
REEDIT = Split(1, (STUDIO,), (10_000,))
CLIP = Split(5, (CLIPPER,), (10_000,))


def plays(work: str, valid: int) -> PlayRow:
    return PlayRow(work, "CN", valid, valid, 0, 0, "CNY")


def amounts(result) -> dict[tuple[str, str, str | None], int]:
    return {(line.payee, line.work_id, line.via_work_id): line.amount for line in result.lines}


def test_a_re_edit_licensed_at_30_percent_pays_the_drama_s_payees_by_the_drama_s_split():
    result = settle(
        [plays("reedit", 1000)],
        {"reedit": FEN_PER_PLAY},
        {"reedit": REEDIT, "drama": DRAMA},
        upstream={"reedit": [Edge("drama", 3000)]},
    )
    assert amounts(result) == {
        (PRODUCER, "drama", "reedit"): 210,
        (INVESTOR, "drama", "reedit"): 90,
        (STUDIO, "reedit", None): 700,
    }
    upstream_line = next(line for line in result.lines if line.payee == PRODUCER)
    assert (upstream_line.rule_version, upstream_line.split_version) == (1, 2)
    assert result.works[0].passed_up == 300 and result.totals == {"CNY": 1000}


def test_a_second_level_re_edit_pays_each_level_its_share_of_what_reaches_it():
    result = settle(
        [plays("clip", 500), plays("reedit", 1000)],
        {"clip": FEN_PER_PLAY, "reedit": FEN_PER_PLAY},
        {"clip": CLIP, "reedit": REEDIT, "drama": DRAMA},
        upstream={"clip": [Edge("reedit", 2000)], "reedit": [Edge("drama", 3000)]},
    )
    # the clip's 500: 100 to the re-edit, of which 30 to the drama (21 / 9) and 70 to the studio
    assert amounts(result) == {
        (CLIPPER, "clip", None): 400,
        (STUDIO, "reedit", "clip"): 70,
        (PRODUCER, "drama", "clip"): 21,
        (INVESTOR, "drama", "clip"): 9,
        (STUDIO, "reedit", None): 700,
        (PRODUCER, "drama", "reedit"): 210,
        (INVESTOR, "drama", "reedit"): 90,
    }
    assert [(f.via_work_id, f.from_work_id, f.to_work_id, f.amount) for f in result.flows] == [
        ("clip", "clip", "reedit", 100),
        ("clip", "reedit", "drama", 30),
        ("reedit", "reedit", "drama", 300),
    ]


def test_a_minimum_per_valid_play_binds_when_the_share_gives_less():
    # 10 % of 1000 fen is 100; the minimum of 0.5 fen for each of 1000 valid plays is 500
    result = settle(
        [plays("reedit", 1000)],
        {"reedit": FEN_PER_PLAY},
        {"reedit": REEDIT, "drama": DRAMA},
        upstream={"reedit": [Edge("drama", 1000, 500_000)]},
    )
    assert amounts(result)[(PRODUCER, "drama", "reedit")] == 350
    assert amounts(result)[(STUDIO, "reedit", None)] == 500


def test_a_minimum_at_a_higher_level_counts_the_earning_derivative_s_plays():
    # the clip's 100 plays earn 100; the re-edit takes 50 %, the drama at least 0.3 fen per clip play = 30 of the 50
    result = settle(
        [plays("clip", 100)],
        {"clip": FEN_PER_PLAY},
        {"clip": CLIP, "reedit": REEDIT, "drama": DRAMA},
        upstream={"clip": [Edge("reedit", 5000)], "reedit": [Edge("drama", 0, 300_000)]},
    )
    assert amounts(result) == {
        (CLIPPER, "clip", None): 50,
        (STUDIO, "reedit", "clip"): 20,
        (PRODUCER, "drama", "clip"): 21,
        (INVESTOR, "drama", "clip"): 9,
    }


def test_dues_exceeding_the_amount_are_scaled_to_it_by_largest_remainder():
    # 100 fen: the drama's 50 % is 50, the other parent's minimum of 2 fen x 100 plays is 200;
    # 250 owed of 100 gives 20 and 80, and nothing stays with the re-edit
    result = settle(
        [plays("reedit", 100)],
        {"reedit": FEN_PER_PLAY},
        {"reedit": REEDIT, "drama": DRAMA, "novel": CLIP},
        upstream={"reedit": [Edge("drama", 5000), Edge("novel", 0, 2_000_000)]},
    )
    assert amounts(result) == {
        (PRODUCER, "drama", "reedit"): 14,
        (INVESTOR, "drama", "reedit"): 6,
        (CLIPPER, "novel", "reedit"): 80,
    }
    assert result.works[0].passed_up == result.works[0].payable == 100


def test_a_parent_without_a_split_is_refused_by_name():
    with pytest.raises(SettlementError, match="drama, a parent of reedit, has no split"):
        settle(
            [plays("reedit", 10)],
            {"reedit": FEN_PER_PLAY},
            {"reedit": REEDIT},
            upstream={"reedit": [Edge("drama", 3000)]},
        )


def test_a_cycle_is_refused():
    with pytest.raises(SettlementError, match="derives from itself"):
        settle(
            [plays("reedit", 10)],
            {"reedit": FEN_PER_PLAY},
            {"reedit": REEDIT, "drama": DRAMA},
            upstream={"reedit": [Edge("drama", 3000)], "drama": [Edge("reedit", 1000)]},
        )


def test_bad_terms_are_refused():
    with pytest.raises(SettlementError):
        Edge("drama", 10_001)
    with pytest.raises(SettlementError):
        Edge("drama", 100, -1)


# Random derivative graphs: works on levels 0 (roots) to 3, each derivative with 1 to 4 parents
# on lower levels, so the longest path to a root is at most three edges.
PAYEES = [f"0x{i:040x}" for i in range(1, 9)]
WORKS = [f"w{i}" for i in range(10)]


@st.composite
def graphs(draw):
    levels = {w: draw(st.integers(0, 3)) for w in WORKS}
    upstream = {}
    for work in WORKS:
        lower = [w for w in WORKS if levels[w] < levels[work]]
        if not lower or not draw(st.booleans()):
            continue
        parents = draw(st.lists(st.sampled_from(lower), min_size=1, max_size=4, unique=True))
        shares = draw(st.lists(st.integers(0, 10_000), min_size=len(parents), max_size=len(parents)))
        scale = max(1, sum(shares))
        edges = [
            Edge(
                p,
                s * 10_000 // scale if sum(shares) > 10_000 else s,
                draw(st.sampled_from([0, 0, 1, 250_000, 3_000_000])),
            )
            for p, s in zip(parents, shares, strict=True)
        ]
        upstream[work] = edges
    return upstream


@st.composite
def splits(draw):
    payees = draw(st.lists(st.sampled_from(PAYEES), min_size=1, max_size=4, unique=True))
    weights = draw(st.lists(st.integers(1, 100), min_size=len(payees), max_size=len(payees)))
    return Split(draw(st.integers(1, 9)), tuple(payees), tuple(allocate(10_000, weights, payees)))


rows = st.lists(
    st.builds(
        lambda w, v, minutes: PlayRow(w, "CN", v, v, minutes, 0, "CNY"),
        st.sampled_from(WORKS),
        st.integers(0, 10**6),
        st.integers(0, 10**6),
    ),
    max_size=20,
)
rules = st.builds(
    lambda price, minute, commission: Rule(1, "CNY", (Tier(0, price),), minute, commission_bps=commission),
    st.integers(0, 3_000_000),
    st.integers(0, 500_000),
    st.integers(0, 10_000),
)


def expected_lines(result, upstream, splits, valid_plays) -> dict[tuple[str, str, str | None], int]:
    """The terms applied by hand: a stack of (work, amount reaching it) per earning work."""
    owed: dict[tuple[str, str, str | None], int] = defaultdict(int)
    for work in result.works:
        stack = [(work.work_id, work.payable)]
        while stack:
            current, amount = stack.pop()
            edges = upstream.get(current, [])
            dues = []
            for edge in edges:
                share = amount * edge.share_bps // 10_000
                minimum = edge.min_per_valid_play_micro * valid_plays[work.work_id] // 1_000_000
                dues.append(share if share >= minimum else minimum)
            if sum(dues) > amount:
                dues = allocate(amount, dues, [e.parent_id for e in edges])
            stack += [(e.parent_id, due) for e, due in zip(edges, dues, strict=True)]
            kept = amount - sum(dues)
            split = splits[current]
            for payee, part in zip(split.payees, allocate(kept, split.bps, split.payees), strict=True):
                owed[(payee, current, None if current == work.work_id else work.work_id)] += part
    return {key: amount for key, amount in owed.items() if amount}


@settings(max_examples=200, deadline=None)
@given(
    graphs(),
    rows,
    st.fixed_dictionaries(dict.fromkeys(WORKS, rules)),
    st.fixed_dictionaries({w: splits() for w in WORKS}),
)
def test_random_derivative_graphs_create_and_lose_nothing_and_pay_each_payee_its_terms(upstream, rows, rules, splits):
    result = settle(rows, rules, splits, upstream=upstream)
    valid_plays: dict[str, int] = defaultdict(int)
    for row in rows:
        valid_plays[row.work_id] += row.valid_plays
    assert (
        sum(line.amount for line in result.lines) == sum(w.payable for w in result.works) == result.totals.get("CNY", 0)
    )
    assert all(line.amount > 0 for line in result.lines)
    assert amounts(result) == expected_lines(result, upstream, splits, valid_plays)
    for work in result.works:  # what each work passed up is what its parents' flows out of it carry
        assert work.passed_up == sum(f.amount for f in result.flows if f.via_work_id == f.from_work_id == work.work_id)
        direct = sum(line.amount for line in result.lines if line.work_id == work.work_id and line.via_work_id is None)
        assert direct == work.payable - work.passed_up
