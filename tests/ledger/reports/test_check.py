"""A report check reads every format with the ingest's own readers and goes on past a bad row,
so a platform sees all of a file's problems at once; unknown works are named per row."""

from __future__ import annotations

import io
import json

import pytest

from ledger.accounts import create_account
from ledger.db import make_engine, migrate, session
from ledger.models import ChainOp, Role, Work, WorkKind
from ledger.reports.check import MAX_PROBLEMS, check_rows

WORK = "ab" * 32
GOOD = {
    "work": "0x" + WORK,
    "territory": "CN",
    "date": "2026-11-20",
    "plays": 10,
    "valid_plays": 8,
    "watch_minutes": 300,
    "ad_revenue": 1250,
    "currency": "CNY",
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('check') / 'ledger.db'}")
    migrate(engine)
    owner = create_account(engine, None, name="studio", role=Role.rights_holder, address="0x" + "11" * 20).account
    with session(engine) as db:
        op = ChainOp(
            idempotency_key="register", chain_id=31337, sender=owner.address, data="0x", label="WorkRegistry.register"
        )
        db.add(op)
        db.flush()
        db.add(
            Work(
                work_id="0x" + WORK,
                owner_id=owner.id,
                title="Known",
                kind=WorkKind.film,
                fingerprint_digest="0x" + "00" * 32,
                metadata_hash="0x" + "00" * 32,
                op_id=op.id,
            )
        )
        db.commit()
    return engine


def csv_body(rows: list[dict], columns=tuple(GOOD)) -> bytes:
    lines = [",".join(columns)] + [",".join(str(r.get(c, "")) for c in columns) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def problems(result) -> list[tuple[int, str]]:
    return [(p["row"], p["field"]) for p in result.problems]


def test_every_bad_row_is_named_in_every_format(engine):
    rows = [GOOD, dict(GOOD, valid_plays=11), dict(GOOD, work="0x" + "cd" * 32), dict(GOOD, territory="ZZ")]
    expected = [(2, "valid_plays"), (3, "work"), (4, "territory")]
    ndjson = "\n".join(json.dumps(r) for r in rows).encode()
    for kind, body in [
        ("application/x-ndjson", ndjson),
        ("text/csv", csv_body(rows)),
        ("application/json", json.dumps({"rows": rows}).encode()),
    ]:
        result = check_rows(engine, kind, io.BytesIO(body), "CNY")
        assert (result.rows, problems(result)) == (4, expected), kind


def test_an_unreadable_line_is_one_problem_and_the_check_goes_on(engine):
    body = "\n".join([json.dumps(GOOD), "{not json", json.dumps(dict(GOOD, plays=-1))]).encode()
    result = check_rows(engine, "application/x-ndjson", io.BytesIO(body), "CNY")
    assert result.rows == 3 and problems(result) == [(2, "row"), (3, "plays")]


def test_a_csv_without_the_needed_columns_is_refused_at_its_header(engine):
    result = check_rows(engine, "text/csv", io.BytesIO(csv_body([GOOD], columns=("work", "plays"))), "CNY")
    assert problems(result) == [(0, "header")]
    assert "currency, date, territory" in result.problems[0]["problem"]


def test_problems_past_the_cap_are_counted_as_truncated(engine):
    body = "\n".join(json.dumps(dict(GOOD, plays=-1)) for _ in range(MAX_PROBLEMS + 5)).encode()
    result = check_rows(engine, "application/x-ndjson", io.BytesIO(body), "CNY")
    assert result.rows == MAX_PROBLEMS + 5 and len(result.problems) == MAX_PROBLEMS and result.truncated
    assert result.total == MAX_PROBLEMS + 5 and result.as_dict()["total"] == MAX_PROBLEMS + 5


@pytest.mark.parametrize("kind", ["application/x-ndjson", "text/csv", "application/json"])
def test_bad_rows_across_blocks_are_numbered_from_the_top_of_the_report(engine, kind):
    from ledger.reports.blocks import ROWS_PER_BLOCK

    rows = [dict(GOOD, plays=10 + i) for i in range(ROWS_PER_BLOCK + 5_000)]
    for at in (2, ROWS_PER_BLOCK + 2, ROWS_PER_BLOCK + 4_999):
        rows[at] = dict(rows[at], valid_plays=rows[at]["plays"] + 1)
    rows[ROWS_PER_BLOCK - 1] = dict(rows[ROWS_PER_BLOCK - 1], work="0x" + "cd" * 32)
    body = {
        "application/x-ndjson": "\n".join(json.dumps(r) for r in rows).encode(),
        "text/csv": csv_body(rows),
        "application/json": json.dumps(rows).encode(),
    }[kind]
    result = check_rows(engine, kind, io.BytesIO(body), "CNY")
    assert result.rows == len(rows) and result.total == 4
    assert problems(result) == [
        (3, "valid_plays"),
        (ROWS_PER_BLOCK, "work"),
        (ROWS_PER_BLOCK + 3, "valid_plays"),
        (ROWS_PER_BLOCK + 5_000, "valid_plays"),
    ]


def test_a_misspelt_csv_header_is_named_with_the_column_it_likely_means(engine):
    columns = tuple("watch_minuts" if c == "watch_minutes" else c for c in GOOD)
    rows = [dict(GOOD, watch_minuts=300)] * 3
    result = check_rows(engine, "text/csv", io.BytesIO(csv_body(rows, columns=columns)), "CNY")
    assert problems(result) == [(0, "watch_minuts"), (0, "header")]
    assert result.problems[0]["problem"].endswith("did you mean watch_minutes?")
    assert "missing columns: watch_minutes" in result.problems[1]["problem"]


def test_unknown_and_missing_keys_of_json_rows_are_problems_of_their_rows(engine):
    rows = [
        GOOD,
        {**{k: v for k, v in GOOD.items() if k != "valid_plays"}, "valid_plyas": 8},
        {k: v for k, v in GOOD.items() if k != "ad_revenue"},
        dict(GOOD, currency="USD"),
    ]
    result = check_rows(
        engine, "application/x-ndjson", io.BytesIO("\n".join(json.dumps(r) for r in rows).encode()), "CNY"
    )
    assert problems(result) == [(2, "valid_plyas"), (3, "ad_revenue"), (4, "currency")]
    assert "did you mean valid_plays?" in result.problems[0]["problem"]
    assert result.problems[1]["problem"].startswith("is missing")


def test_a_problem_quoting_a_huge_value_is_cut_short(engine):
    body = "\n".join(json.dumps(dict(GOOD, plays="9" * 50_000 + "x")) for _ in range(3)).encode()
    result = check_rows(engine, "application/x-ndjson", io.BytesIO(body), "CNY")
    assert result.total == 3 and all(len(p["problem"]) <= 300 for p in result.problems)


def test_a_line_nested_too_deep_is_one_problem_and_the_check_goes_on(engine):
    body = "\n".join([json.dumps(GOOD), "[" * 50_000 + "]" * 50_000, json.dumps(dict(GOOD, plays=-1))]).encode()
    result = check_rows(engine, "application/x-ndjson", io.BytesIO(body), "CNY")
    assert result.rows == 3 and problems(result) == [(2, "row"), (3, "plays")]
    assert "nested deeper than" in result.problems[0]["problem"]
