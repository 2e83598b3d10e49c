"""Dividing an amount of minor units in proportion to weights, to the last unit.

Largest remainder: everyone gets the floor of their exact share, and the units left over go
one each to the largest remainders, ties broken by a stable key. The parts always sum to the
amount, none is negative, each is within one unit of its exact share, and the result depends
on the keys, never on the order the inputs arrive in.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence


def allocate(amount: int, weights: Sequence[int], keys: Sequence[Hashable]) -> list[int]:
    """`amount` split by `weights`; `keys` (unique, comparable) decide ties deterministically."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValueError("an amount is a non-negative whole number of minor units")
    if len(weights) != len(keys) or len(set(keys)) != len(keys):
        raise ValueError("one unique key per weight")
    if any(isinstance(w, bool) or not isinstance(w, int) or w < 0 for w in weights):
        raise ValueError("weights are non-negative integers")
    total = sum(weights)
    if total == 0:
        if amount:
            raise ValueError("cannot divide a non-zero amount by zero weights")
        return [0] * len(weights)
    parts = [amount * w // total for w in weights]
    left = amount - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total), keys[i]))
    for i in by_remainder[:left]:
        parts[i] += 1
    return parts
