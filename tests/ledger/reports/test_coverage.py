"""A block's rows are held or not exactly as each row, asked alone, would be."""

from __future__ import annotations

import random

import numpy as np

from ledger.reports.columns import Rows
from ledger.reports.coverage import DAY, Coverage, Window


def test_a_block_is_held_row_for_row_as_each_row_alone():
    rng = random.Random(7)
    territories = ["CN", "GB", "US", "FR"]
    windows = {
        work: [
            Window(frozenset(rng.sample(territories, rng.randint(1, 3))), start * DAY + rng.choice((0, 1)), end * DAY)
            for start, end in (sorted(rng.sample(range(100, 140), 2)) for _ in range(rng.randint(1, 3)))
        ]
        for work in range(1, 9)
    }  # works 9 and 10 have no licence
    tuples = [
        (bytes([w]) * 32, rng.choice(territories), rng.randrange(95, 145), i, 0, 0, 0)
        for i, w in enumerate(rng.choices(range(1, 11), k=3_000))
    ]
    rows = Rows.of_tuples(tuples)
    work_pk = np.array([t[0][0] for t in tuples], dtype=np.int64)
    alone = Coverage(windows)
    expected = [not alone.covers(t[0][0], t[1], t[2]) for t in tuples]
    held = Coverage(windows).held(rows, work_pk)
    assert held.tolist() == expected
    assert 0 < sum(expected) < len(expected)
    assert Coverage(windows).held(Rows.of_tuples([]), np.zeros(0, dtype=np.int64)).tolist() == []
