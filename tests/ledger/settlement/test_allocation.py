"""Largest-remainder allocation: totals reconcile to the last unit, whatever the input order."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.settlement.allocation import allocate

amounts = st.integers(min_value=0, max_value=10**15)
weighted = st.lists(
    st.tuples(st.integers(0, 10**6), st.integers(1, 10_000)), min_size=1, max_size=40, unique_by=lambda t: t[0]
)


@given(amounts, weighted)
def test_parts_sum_to_the_amount_and_stay_within_a_unit_of_the_exact_share(amount, pairs):
    keys, weights = zip(*pairs, strict=True)
    parts = allocate(amount, weights, keys)
    assert sum(parts) == amount
    for part, weight in zip(parts, weights, strict=True):
        exact = Fraction(amount * weight, sum(weights))
        assert part >= 0 and exact - 1 < part < exact + 1


@given(amounts, weighted, st.randoms())
def test_result_does_not_depend_on_input_order(amount, pairs, rnd):
    shuffled = list(pairs)
    rnd.shuffle(shuffled)
    first = dict(
        zip((k for k, _ in pairs), allocate(amount, [w for _, w in pairs], [k for k, _ in pairs]), strict=True)
    )
    second = dict(
        zip((k for k, _ in shuffled), allocate(amount, [w for _, w in shuffled], [k for k, _ in shuffled]), strict=True)
    )
    assert first == second


def test_a_split_of_one_fen_three_ways_gives_it_to_the_first_key():
    assert allocate(1, [1, 1, 1], ["a", "b", "c"]) == [1, 0, 0]
    assert allocate(100, [1, 1, 1], ["c", "b", "a"]) == [33, 33, 34]


@pytest.mark.parametrize(
    "amount, weights, keys",
    [(-1, [1], ["a"]), (1.5, [1], ["a"]), (5, [0, 0], ["a", "b"]), (5, [1, -1], ["a", "b"]), (5, [1, 1], ["a", "a"])],
)
def test_bad_inputs_are_refused(amount, weights, keys):
    with pytest.raises(ValueError):
        allocate(amount, weights, keys)
