"""A block's good rows as columns: numpy arrays of the numbers and, for the few distinct work
ids and territory codes a report repeats, small lists indexed per row. Columns cross from a
parse worker to the service as a few buffers instead of a Python object per value, and are
summed, keyed, checked against licences and written without a Python step per value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]


def ints(values: Sequence[int] | Ints) -> Ints:
    return np.asarray(values, dtype=np.int64)


def _indexed(values: Sequence[Any]) -> tuple[list[Any], Ints]:
    """The distinct values in order of first use, and each value's index among them."""
    index: dict[Any, int] = {}
    for value in values:
        index.setdefault(value, len(index))
    return list(index), np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))


@dataclass(frozen=True)
class Rows:
    works: list[bytes]  # distinct work ids (32 bytes each)
    work: Ints  # per row, an index into `works`
    territories: list[str]  # distinct territory codes
    territory: Ints  # per row, an index into `territories`
    day: Ints  # days since 1970-01-01
    plays: Ints
    valid_plays: Ints
    watch_minutes: Ints
    ad_revenue: Ints  # minor units

    def __len__(self) -> int:
        return len(self.day)

    @classmethod
    def of_tuples(cls, rows: Sequence[tuple[Any, ...]]) -> Rows:
        """From (work id, territory, day, plays, valid plays, watch minutes, ad revenue) tuples."""
        columns = list(zip(*rows, strict=True)) if rows else [()] * 7
        works, work = _indexed(columns[0])
        territories, territory = _indexed(columns[1])
        return cls(works, work, territories, territory, *(ints(c) for c in columns[2:]))

    def take(self, keep: npt.NDArray[np.bool_]) -> Rows:
        """The rows where `keep` is true."""
        return Rows(
            self.works,
            self.work[keep],
            self.territories,
            self.territory[keep],
            self.day[keep],
            self.plays[keep],
            self.valid_plays[keep],
            self.watch_minutes[keep],
            self.ad_revenue[keep],
        )

    def territory_codes(self) -> list[str]:
        """Each row's territory code."""
        codes: list[str] = np.array(self.territories, dtype=object)[self.territory].tolist()
        return codes
