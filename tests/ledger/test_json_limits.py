"""The JSON depth scan: exact at the limit, blind to brackets inside strings, the same however
the bytes are cut into chunks, and each NDJSON line on its own."""

from __future__ import annotations

import json

import pytest

from ledger.errors import TooDeep
from ledger.json_limits import MAX_JSON_DEPTH, DepthScanner, check_depth


def deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


def refused(data: bytes, chunk: int, lines: bool = False) -> bool:
    scanner = DepthScanner(lines=lines)
    try:
        for i in range(0, len(data), chunk):
            scanner.feed(data[i : i + chunk])
    except TooDeep:
        return True
    return False


CHUNKS = [1, 2, 3, 7, 64, 1 << 20]
SHALLOW = [
    deep(MAX_JSON_DEPTH),
    json.dumps({"a": "[[[[" * 50, "b": ['x\\"[[[[[' * 20]}).encode(),
    json.dumps({"a": "\\" * 7 + "[" * 40}).encode(),
    json.dumps([{"s": "{\u2028[\n" * 40}]).encode(),
    b'{"a": "\\u005b' * 3 + b'"}',
]
DEEP = [
    deep(MAX_JSON_DEPTH + 1),
    b'{"a": "\\\\", "b":' + deep(40) + b"}",
    b'{"a": "\\"", "b":' + deep(40) + b"}",
    b'{"a": ' * 40 + b"1" + b"}" * 40,
]


@pytest.mark.parametrize("chunk", CHUNKS)
def test_json_is_refused_past_the_limit_and_only_past_it(chunk):
    assert [refused(body, chunk) for body in SHALLOW] == [False] * len(SHALLOW)
    assert [refused(body, chunk) for body in DEEP] == [True] * len(DEEP)


@pytest.mark.parametrize("chunk", CHUNKS)
def test_each_ndjson_line_is_a_document_of_its_own(chunk):
    rows = b"\n".join(json.dumps({"r": [[[1]]], "s": "[[[" * 20}).encode() for _ in range(50))
    assert not refused(rows, chunk, lines=True)
    assert refused(rows + b"\n" + deep(MAX_JSON_DEPTH + 1), chunk, lines=True)
    # a string left open at a line's end hides nothing on the next line
    assert refused(b'{"a": "abc\n' + deep(MAX_JSON_DEPTH + 1), chunk, lines=True)
    # closing more than was opened on one line lends nothing to the next
    assert refused(b"]" * 100 + b"\n" + deep(40), chunk, lines=True)
    # unclosed brackets on many malformed lines do not add up
    assert not refused(b"[[\n" * 100, chunk, lines=True)


def test_check_depth_names_the_field_and_the_limit():
    check_depth('{"a": [[1]]}')
    with pytest.raises(TooDeep) as refused_:
        check_depth("[" * 80_000, "metadata")
    assert refused_.value.details == {"field": "metadata", "limit": MAX_JSON_DEPTH}
    assert refused_.value.code == "body_too_deep"


def test_a_body_parsed_whole_is_refused_past_its_count_of_values_and_strings_do_not_count():
    from ledger.errors import TooWide
    from ledger.json_limits import MAX_JSON_VALUES

    check_depth(json.dumps({"hashes": ["ab"] * 1000, "note": "," * 200_000}), max_values=MAX_JSON_VALUES)
    for chunk in (7, 1 << 20):
        scanner = DepthScanner(max_values=MAX_JSON_VALUES)
        body = b"[" + b"{}," * MAX_JSON_VALUES + b"{}]"
        with pytest.raises(TooWide) as refused_:
            for i in range(0, len(body), chunk):
                scanner.feed(body[i : i + chunk])
        assert refused_.value.code == "body_too_wide"
