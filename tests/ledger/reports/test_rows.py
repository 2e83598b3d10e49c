"""Report rows parse strictly from NDJSON, CSV and JSON, naming the row and field at fault."""

import io
import json

import pytest

from ledger.json_limits import MAX_JSON_DEPTH
from ledger.reports.rows import BadRow, csv_items, csv_rows, json_rows, ndjson_rows

WORK = "ab" * 32
GOOD = {
    "work": WORK,
    "territory": "cn",
    "date": "2026-11-20",
    "plays": 10,
    "valid_plays": 8,
    "watch_minutes": 300,
    "ad_revenue": 1250,
    "currency": "CNY",
}


def test_the_same_row_reads_the_same_from_every_format():
    ndjson = list(ndjson_rows([json.dumps(GOOD)]))
    header = ",".join(GOOD)
    csv = list(csv_rows(io.StringIO(header + "\n" + ",".join(str(v) for v in GOOD.values()) + "\n")))
    array = list(json_rows(io.BytesIO(json.dumps([GOOD]).encode())))
    wrapped = list(json_rows(io.BytesIO(json.dumps({"rows": [GOOD, GOOD]}).encode())))
    assert ndjson == csv == array == wrapped[:1]
    assert len(wrapped) == 2
    assert ndjson[0].territory == "CN" and ndjson[0].ad_revenue == 1250


@pytest.mark.parametrize(
    "change, field",
    [
        ({"plays": -1}, "plays"),
        ({"valid_plays": 2.5}, "valid_plays"),
        ({"ad_revenue": "12.5"}, "ad_revenue"),
        ({"ad_revenue": 12.5}, "ad_revenue"),
        ({"watch_minutes": "1e3"}, "watch_minutes"),
        ({"plays": True}, "plays"),
        ({"currency": "XXY"}, "currency"),
        ({"territory": "ZZ"}, "territory"),
        ({"work": "abc"}, "work"),
        ({"date": "20/11/2026"}, "date"),
        ({"valid_plays": 11}, "valid_plays"),
    ],
)
def test_bad_values_name_the_row_and_field(change, field):
    rows = [json.dumps(GOOD), json.dumps({**GOOD, **change})]
    with pytest.raises(BadRow) as raised:
        list(ndjson_rows(rows))
    assert (raised.value.number, raised.value.field) == (2, field)
    with pytest.raises(BadRow) as raised:
        list(json_rows(io.BytesIO(json.dumps({"rows": [GOOD, {**GOOD, **change}]}).encode())))
    assert raised.value.field == field


def test_malformed_documents_are_refused():
    with pytest.raises(BadRow):
        list(json_rows(io.BytesIO(b'{"rows": [{"work": ')))
    with pytest.raises(BadRow, match="missing columns"):
        list(csv_rows(io.StringIO("work,plays\n" + WORK + ",1\n")))
    with pytest.raises(BadRow):
        list(ndjson_rows(["{not json"]))


@pytest.mark.parametrize(
    "parse, body",
    [
        (lambda b: list(json_rows(io.BytesIO(b))), b'[{"plays": 1' + b"0" * 4300 + b"}]"),  # crashed ijson's C parser
        (lambda b: list(ndjson_rows(io.StringIO(b.decode()))), b'{"plays": 1' + b"0" * 4400 + b"}\n"),
        (
            lambda b: list(csv_rows(io.StringIO(b.decode()))),
            b"work,territory,date,currency,valid_plays,watch_minutes,ad_revenue,plays\n"
            + b"ab" * 32
            + b",CN,2026-01-01,CNY,0,0,0,1"
            + b"0" * 5000
            + b"\n",
        ),
        (
            lambda b: list(csv_rows(io.StringIO(b.decode()))),
            b"work,territory,date,plays,valid_plays,watch_minutes,ad_revenue,currency\n"
            + b"ab" * 32
            + b',CN,2026-01-01,0,0,0,0,"'
            + b"x" * 200_000
            + b"\n",
        ),
    ],
)
def test_absurd_numbers_and_fields_are_refused_as_bad_rows(parse, body):
    with pytest.raises(BadRow):
        parse(body)


def csv_text(columns, values=None) -> str:
    values = values or [str(GOOD.get(c, 0)) for c in columns]
    return ",".join(columns) + "\n" + ",".join(values) + "\n"


@pytest.mark.parametrize(
    "misspelt, meant",
    [
        ("watch_minuts", "watch_minutes"),
        ("valid_plyas", "valid_plays"),
        ("Plays", "plays"),
        (" ad_revenue", "ad_revenue"),
    ],
)
def test_a_misspelt_csv_column_is_refused_with_the_column_it_likely_means(misspelt, meant):
    columns = [misspelt if c == meant else c for c in GOOD]
    items = list(csv_items(io.StringIO(csv_text(columns, [str(v) for v in GOOD.values()]))))
    faults = [(number, bad.field, bad.problem) for number, bad in items]
    assert (0, misspelt, f"is not a column of a play report; did you mean {meant}?") in faults
    assert any(field == "header" and f"missing columns: {meant} " in problem for _, field, problem in faults)
    assert all(isinstance(bad, BadRow) for _, bad in items)  # no row is read by a faulty header
    with pytest.raises(BadRow, match="did you mean"):
        list(csv_rows(io.StringIO(csv_text(columns, [str(v) for v in GOOD.values()]))))


def test_a_csv_header_without_a_quantity_column_or_with_one_twice_is_refused():
    without = [c for c in GOOD if c != "ad_revenue"]
    assert [(b.field, b.problem.split(" (")[0]) for _, b in csv_items(io.StringIO(csv_text(without)))] == [
        ("header", "missing columns: ad_revenue")
    ]
    twice = [*GOOD, "plays"]
    assert [(b.field, b.problem) for _, b in csv_items(io.StringIO(csv_text(twice)))] == [("plays", "is named twice")]
    unnamed = [*GOOD, ""]
    assert [b.problem for _, b in csv_items(io.StringIO(csv_text(unnamed)))] == ["column 9 has no name"]


def test_a_csv_row_with_more_or_fewer_values_than_the_header_is_a_bad_row():
    header = ",".join(GOOD) + "\n"
    good = ",".join(str(v) for v in GOOD.values())
    items = list(csv_items(io.StringIO(header + good + "\n" + good + ",7\n" + good.rsplit(",", 1)[0] + "\n")))
    assert isinstance(items[0][1], dict)
    assert [(n, b.field) for n, b in items[1:]] == [(2, "row"), (3, "row")]
    assert "1 more values" in items[1][1].problem and "fewer values" in items[2][1].problem


@pytest.mark.parametrize(
    "instead_of, field, problem",
    [
        ("watch_minutes", "watch_minuts", "did you mean watch_minutes?"),
        ("valid_plays", "valid_plyas", "did you mean valid_plays?"),
        (None, "bonus", "is not a column of a play report (they are work, territory"),
    ],
)
def test_an_unknown_key_in_a_json_row_is_refused(instead_of, field, problem):
    row = {**GOOD, field: GOOD.get(instead_of, 1)}
    row.pop(instead_of, None)
    for rows in (
        lambda: list(ndjson_rows([json.dumps(row)])),
        lambda: list(json_rows(io.BytesIO(json.dumps([row]).encode()))),
    ):
        with pytest.raises(BadRow) as raised:
            rows()
        assert raised.value.field == field and problem in raised.value.problem


@pytest.mark.parametrize("left_out", ["plays", "valid_plays", "watch_minutes", "ad_revenue", "territory"])
def test_a_json_row_that_leaves_a_column_out_is_refused_not_read_as_zero(left_out):
    row = {k: v for k, v in GOOD.items() if k != left_out}
    with pytest.raises(BadRow) as raised:
        list(ndjson_rows([json.dumps(row)]))
    assert raised.value.field == left_out and raised.value.problem.startswith("is missing")


def test_an_absurdly_long_unknown_key_is_named_cut_short():
    with pytest.raises(BadRow) as raised:
        list(ndjson_rows([json.dumps({**GOOD, "x" * 100_000: 1})]))
    assert len(raised.value.field) == 64 and raised.value.field.endswith("...")


DEEP = b"[" * 80_000 + b"]" * 80_000


@pytest.mark.parametrize(
    "parse, body",
    [
        (lambda b: list(json_rows(io.BytesIO(b))), b'{"rows": [' + DEEP + b"]}"),
        (lambda b: list(json_rows(io.BytesIO(b))), b"[" + b'{"a": ' * 40 + b"1" + b"}" * 40 + b"]"),
        (lambda b: list(ndjson_rows(io.StringIO(b.decode()))), DEEP + b"\n"),
    ],
)
def test_json_nested_past_the_limit_is_a_bad_row_before_the_parser_builds_it(parse, body):
    """The API refuses such bodies as they arrive; the parsers refuse them too, by themselves."""
    with pytest.raises(BadRow, match=f"nested deeper than {MAX_JSON_DEPTH} levels"):
        parse(body)


def test_a_deep_ndjson_line_is_a_row_error_from_a_parse_worker_process():
    """Parse workers are fresh processes (their recursion limit is not the service's): the
    line comes back as a row error, not as an exception out of the worker."""
    from ledger.reports.blocks import parse_ndjson_block, worker_pool

    good = json.dumps(GOOD)
    pool = worker_pool(1)
    try:
        block = pool.submit(parse_ndjson_block, (good + "\n").encode() + DEEP + b"\n", "CNY", 0, 30000).result(60)
    finally:
        pool.shutdown()
    assert len(block.rows) == 1 and block.bad == 1
    assert block.problems[0][:2] == (2, "row") and f"deeper than {MAX_JSON_DEPTH}" in block.problems[0][2]


def test_a_json_row_longer_than_the_cap_is_a_bad_row_before_it_is_whole_in_memory():
    from ledger.reports.rows import MAX_ITEM_BYTES

    row = json.dumps(GOOD)
    body = io.BytesIO(('{"rows": [' + row + ', {"work": "' + "x" * (MAX_ITEM_BYTES + (1 << 17)) + '"}]}').encode())
    with pytest.raises(BadRow, match="row 2: row: is longer than 16 MiB"):
        list(json_rows(body))
