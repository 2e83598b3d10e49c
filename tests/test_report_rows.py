"""Report rows parse strictly from NDJSON, CSV and JSON, naming the row and field at fault."""

import io
import json

import pytest

from ledger.limits import MAX_JSON_DEPTH
from ledger.reports.rows import BadRow, csv_rows, json_rows, ndjson_rows

WORK = "ab" * 32
GOOD = {"work": WORK, "territory": "cn", "date": "2026-11-20", "plays": 10, "valid_plays": 8,
        "watch_minutes": 300, "ad_revenue": 1250, "currency": "CNY"}


def test_the_same_row_reads_the_same_from_every_format():
    ndjson = list(ndjson_rows([json.dumps(GOOD)]))
    header = ",".join(GOOD)
    csv = list(csv_rows(io.StringIO(header + "\n" + ",".join(str(v) for v in GOOD.values()) + "\n")))
    array = list(json_rows(io.BytesIO(json.dumps([GOOD]).encode())))
    wrapped = list(json_rows(io.BytesIO(json.dumps({"rows": [GOOD, GOOD]}).encode())))
    assert ndjson == csv == array == wrapped[:1]
    assert len(wrapped) == 2
    assert ndjson[0].territory == "CN" and ndjson[0].ad_revenue == 1250


@pytest.mark.parametrize("change, field", [
    ({"plays": -1}, "plays"), ({"valid_plays": 2.5}, "valid_plays"), ({"ad_revenue": "12.5"}, "ad_revenue"),
    ({"ad_revenue": 12.5}, "ad_revenue"), ({"watch_minutes": "1e3"}, "watch_minutes"), ({"plays": True}, "plays"),
    ({"currency": "XXY"}, "currency"), ({"territory": "ZZ"}, "territory"), ({"work": "abc"}, "work"),
    ({"date": "20/11/2026"}, "date"), ({"valid_plays": 11}, "valid_plays"),
])
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


@pytest.mark.parametrize("parse, body", [
    (lambda b: list(json_rows(io.BytesIO(b))), b'[{"plays": 1' + b"0" * 4300 + b"}]"),  # crashed ijson's C parser
    (lambda b: list(ndjson_rows(io.StringIO(b.decode()))), b'{"plays": 1' + b"0" * 4400 + b"}\n"),
    (lambda b: list(csv_rows(io.StringIO(b.decode()))),
     b"work,territory,date,currency,plays\n" + b"ab" * 32 + b",CN,2026-01-01,CNY,1" + b"0" * 5000 + b"\n"),
    (lambda b: list(csv_rows(io.StringIO(b.decode()))),
     b"work,territory,date,currency\n" + b"ab" * 32 + b',CN,2026-01-01,"' + b"x" * 200_000 + b"\n"),
])
def test_absurd_numbers_and_fields_are_refused_as_bad_rows(parse, body):
    with pytest.raises(BadRow):
        parse(body)


DEEP = b"[" * 80_000 + b"]" * 80_000


@pytest.mark.parametrize("parse, body", [
    (lambda b: list(json_rows(io.BytesIO(b))), b'{"rows": [' + DEEP + b"]}"),
    (lambda b: list(json_rows(io.BytesIO(b))), b"[" + b'{"a": ' * 40 + b"1" + b"}" * 40 + b"]"),
    (lambda b: list(ndjson_rows(io.StringIO(b.decode()))), DEEP + b"\n"),
])
def test_json_nested_past_the_limit_is_a_bad_row_before_the_parser_builds_it(parse, body):
    """The API refuses such bodies as they arrive; the parsers refuse them too, by themselves."""
    with pytest.raises(BadRow, match=f"nested deeper than {MAX_JSON_DEPTH} levels"):
        parse(body)


def test_a_deep_ndjson_line_is_a_row_error_from_a_parse_worker_process():
    """Parse workers are fresh processes (their recursion limit is not the service's): the
    line comes back as a row error, not as an exception out of the worker."""
    from ledger.reports.blocks import parse_ndjson_block, worker_pool

    good = json.dumps({"work": WORK, "territory": "CN", "date": "2026-11-16", "plays": 1, "currency": "CNY"})
    pool = worker_pool(1)
    try:
        rows, digest, error = pool.submit(parse_ndjson_block, (good + "\n").encode() + DEEP + b"\n", "CNY", 0, 30000).result(60)
    finally:
        pool.shutdown()
    assert len(rows) == 1 and error[:2] == (2, "row") and f"deeper than {MAX_JSON_DEPTH}" in error[2]


def test_a_json_row_longer_than_the_cap_is_a_bad_row_before_it_is_whole_in_memory():
    from ledger.reports.rows import MAX_ITEM_BYTES

    row = json.dumps({"work": WORK, "territory": "CN", "date": "2026-11-16", "plays": 1, "currency": "CNY"})
    body = io.BytesIO(('{"rows": [' + row + ', {"work": "' + "x" * (MAX_ITEM_BYTES + (1 << 17)) + '"}]}').encode())
    with pytest.raises(BadRow, match="row 2: row: is longer than 16 MiB"):
        list(json_rows(body))
