"""The typed reading of an NDJSON block takes only blocks the row by row reader takes whole, with
the same values, totals and leaves; anything else it leaves to that reader, which names the
problems."""

from __future__ import annotations

import io
import json

import pytest

from ledger.reports.blocks import Block, item_blocks, parse_ndjson_block
from ledger.reports.columns import Rows
from ledger.reports.digest import ReportDigest, leaf_hashes, row_leaf_hash
from ledger.reports.rows import ReportRow, RowParser, ndjson_items
from ledger.reports.typed_block import typed_block

FIRST_DAY, END_DAY = 20_409, 20_439  # 2025-11-17 .. 2025-12-16
GOOD = {
    "work": "ab" * 32,
    "territory": "CN",
    "date": "2025-11-20",
    "plays": 10,
    "valid_plays": 8,
    "watch_minutes": 300,
    "ad_revenue": 1250,
    "currency": "CNY",
}


def line(**changes: object) -> str:
    return json.dumps({**GOOD, **changes})


def good_lines(n: int, first: int = 0) -> list[str]:
    return [
        line(work=f"{i % 7:064x}", territory=("CN", "GB", "US")[i % 3], date=f"2025-11-{17 + i % 14}", plays=100 + i)
        for i in range(first, first + n)
    ]


def by_rows(data: bytes) -> Block:
    lines = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    return next(item_blocks(ndjson_items(lines), "CNY", FIRST_DAY, END_DAY, size=1 << 62))


def tuples(rows: Rows) -> list[tuple[object, ...]]:
    return [
        (rows.works[w], rows.territories[t], *values)
        for w, t, *values in zip(
            rows.work.tolist(),
            rows.territory.tolist(),
            rows.day.tolist(),
            rows.plays.tolist(),
            rows.valid_plays.tolist(),
            rows.watch_minutes.tolist(),
            rows.ad_revenue.tolist(),
            strict=True,
        )
    ]


def same(data: bytes) -> Block:
    """The worker's block of `data` is the row by row reader's."""
    block, expected = parse_ndjson_block(data, "CNY", FIRST_DAY, END_DAY), by_rows(data)
    assert (block.read, block.problems, block.bad, block.numbers) == (
        expected.read,
        expected.problems,
        expected.bad,
        expected.numbers,
    )
    assert tuples(block.rows) == tuples(expected.rows)
    mine, theirs = block.digest, expected.digest
    assert (mine.row_count, mine.plays, mine.valid_plays, mine.watch_minutes, mine.ad_revenue) == (
        theirs.row_count,
        theirs.plays,
        theirs.valid_plays,
        theirs.watch_minutes,
        theirs.ad_revenue,
    )
    if theirs.row_count:
        assert mine.root() == theirs.root()
    return block


def typed(data: bytes) -> Rows | None:
    return typed_block(data, RowParser(), ReportDigest("CNY", FIRST_DAY, END_DAY))


@pytest.mark.parametrize(
    "text",
    [
        "\n".join(good_lines(500)) + "\n",
        "\r\n".join(good_lines(50)),  # CRLF, and no newline after the last row
        "\r".join(good_lines(5)) + "\r",
        line(work="0X" + "AB" * 32, territory=" cn", currency="cny ") + "\n",  # as the row reader normalises them
        line(plays=2**63 - 1, valid_plays=2**63 - 1, watch_minutes=0, ad_revenue=2**63 - 1),
        '{"plays": 1, ' + line()[1:],  # a column named twice: the last one counts, as in json
        "  " + line() + " \t\n",
        line(date="20251120"),  # a date as Python's ISO reading takes it, as the row reader does
    ],
)
def test_a_good_block_is_read_the_typed_way_with_the_same_result(text):
    data = text.encode()
    assert typed(data) is not None
    same(data)


@pytest.mark.parametrize(
    "bad",
    [
        line(plays="12"),  # taken by the row reader, as a whole number in a string
        line(plays=12.0),
        line(plays=1e3),
        line(plays=-1),
        line(plays=True),
        line(plays=2**63),
        line(plays=10**30),
        line(valid_plays=11),
        line(watch_minuts=3),
        json.dumps({k: v for k, v in GOOD.items() if k != "ad_revenue"}),
        line(work="ab" * 31),
        line(work=None),
        line(territory="XX"),
        line(currency="USD"),
        line(currency="XXX"),
        line(date="2025-13-01"),
        line(date="2025-11-16"),  # a day before the period
        line(date="2025-12-17"),  # the day after it
        line(work="ａｂ" * 32),
        "",  # a blank line, skipped by the row reader
        "{" + line()[1:-1],  # cut short
        line() + line(),  # two rows on one line
        "[" + line() + "]",
        "[" * 10_000,
        line()[:-1] + ', "x": ' + "[" * 5_000 + "]" * 5_000 + "}",
    ],
)
def test_any_other_block_is_left_to_the_row_reader(bad):
    text = "\n".join([*good_lines(3), bad, *good_lines(2, 50)]) + "\n"
    data = text.encode()
    assert typed(data) is None
    block = same(data)
    assert block.bad == (bad not in (line(plays="12"), ""))


@pytest.mark.parametrize("territory, currency", [("CN", "CNY"), ("US", "USD"), ("GB", "JPY")])
def test_the_rows_leaves_are_each_rows_leaf(territory, currency):
    rows = [
        ReportRow(bytes([i]) * 32, territory, 20_500 + i, 2**63 - 1 - i, i, 7 * i, 2**40 + i, currency)
        for i in range(5)
    ]
    columns = Rows.of_tuples(
        [(r.work_id, r.territory, r.day, r.plays, r.valid_plays, r.watch_minutes, r.ad_revenue) for r in rows]
    )
    assert leaf_hashes(columns, currency) == b"".join(row_leaf_hash(r) for r in rows)
