"""A block of NDJSON rows read the quick way: each line decoded by msgspec straight into a typed
row, the strings checked once per distinct value, the numbers checked as columns.

The quick way only ever says yes: it accepts a block when every line is one JSON object with
exactly the report's columns, the strings (work id, territory, date, currency) given as
strings and every quantity as a whole JSON number from 0 to 2**63 - 1, every row in the
report's currency and period, no valid plays above plays, and the text ASCII. Then the row by
row reader would accept every row of it with the same values. For anything else it returns
None and the block is read row by row, which words each problem (and numbers its row).
"""

from __future__ import annotations

from operator import attrgetter
from typing import Annotated, Any

import msgspec
import numpy as np

from ledger.reports.columns import Rows, ints
from ledger.reports.digest import ReportDigest
from ledger.reports.rows import BadRow, RowParser

Count = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]


class _Row(msgspec.Struct, forbid_unknown_fields=True, gc=False):  # gc: it holds no containers
    work: str
    territory: str
    date: str
    plays: Count
    valid_plays: Count
    watch_minutes: Count
    ad_revenue: Count
    currency: str


_decode = msgspec.json.Decoder(_Row).decode
_FIELDS = [attrgetter(name) for name in _Row.__struct_fields__]


def typed_block(data: bytes, parse: RowParser, digest: ReportDigest) -> Rows | None:
    """The rows of `data` (whole lines) when every one of them is good, summed into `digest`;
    else None, and `digest` untouched."""
    if not data.isascii():
        return None
    try:
        decoded = [_decode(line) for line in data.splitlines()]
        if not decoded:
            return None
        work_texts, territory_texts, dates, plays, valid, minutes, ad, currencies = (
            list(map(field, decoded)) for field in _FIELDS
        )
        rows = _rows(parse, work_texts, territory_texts, dates, plays, valid, minutes, ad)
        if {parse.currency(c) for c in set(currencies)} != {digest.currency}:
            return None
    except (msgspec.DecodeError, BadRow):  # a blank line, bad JSON, a bad value: told row by row
        return None
    if (rows.day < digest.first_day).any() or (rows.day >= digest.end_day).any():
        return None
    if (rows.valid_plays > rows.plays).any():
        return None
    digest.add_rows(rows, sum(plays), sum(valid), sum(minutes), sum(ad))
    return rows


def _rows(parse: RowParser, *columns: list[Any]) -> Rows:
    work_texts, territory_texts, dates, *counts = columns
    work_of = {text: i for i, text in enumerate(dict.fromkeys(work_texts))}
    day_of = {text: parse.day(text) for text in set(dates)}
    code_of = {text: parse.territory(text) for text in set(territory_texts)}
    territories = list(dict.fromkeys(code_of.values()))
    territory_of = {text: territories.index(code) for text, code in code_of.items()}
    n = len(work_texts)
    return Rows(
        [parse.work(text) for text in work_of],
        np.fromiter(map(work_of.__getitem__, work_texts), dtype=np.int64, count=n),
        territories,
        np.fromiter(map(territory_of.__getitem__, territory_texts), dtype=np.int64, count=n),
        np.fromiter(map(day_of.__getitem__, dates), dtype=np.int64, count=n),
        *(ints(c) for c in counts),
    )
