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
GOOD = {"work": "0x" + WORK, "territory": "CN", "date": "2026-11-20", "plays": 10, "valid_plays": 8,
        "watch_minutes": 300, "ad_revenue": 1250, "currency": "CNY"}


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('check') / 'ledger.db'}")
    migrate(engine)
    owner = create_account(engine, None, name="studio", role=Role.rights_holder, address="0x" + "11" * 20).account
    with session(engine) as db:
        op = ChainOp(idempotency_key="register", chain_id=31337, sender=owner.address, data="0x", label="WorkRegistry.register")
        db.add(op)
        db.flush()
        db.add(Work(work_id="0x" + WORK, owner_id=owner.id, title="Known", kind=WorkKind.film,
                    fingerprint_digest="0x" + "00" * 32, metadata_hash="0x" + "00" * 32, op_id=op.id))
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
    for kind, body in [("application/x-ndjson", ndjson), ("text/csv", csv_body(rows)),
                       ("application/json", json.dumps({"rows": rows}).encode())]:
        result = check_rows(engine, kind, io.BytesIO(body))
        assert (result.rows, problems(result)) == (4, expected), kind


def test_an_unreadable_line_is_one_problem_and_the_check_goes_on(engine):
    body = "\n".join([json.dumps(GOOD), "{not json", json.dumps(dict(GOOD, plays=-1))]).encode()
    result = check_rows(engine, "application/x-ndjson", io.BytesIO(body))
    assert result.rows == 3 and problems(result) == [(2, "row"), (3, "plays")]


def test_a_csv_without_the_needed_columns_is_refused_at_its_header(engine):
    result = check_rows(engine, "text/csv", io.BytesIO(csv_body([GOOD], columns=("work", "plays"))))
    assert problems(result) == [(0, "header")]
    assert "currency, date, territory" in result.problems[0]["problem"]


def test_problems_past_the_cap_are_counted_as_truncated(engine):
    body = "\n".join(json.dumps(dict(GOOD, plays=-1)) for _ in range(MAX_PROBLEMS + 5)).encode()
    result = check_rows(engine, "application/x-ndjson", io.BytesIO(body))
    assert result.rows == MAX_PROBLEMS + 5 and len(result.problems) == MAX_PROBLEMS and result.truncated


def test_a_line_nested_too_deep_is_one_problem_and_the_check_goes_on(engine):
    body = "\n".join([json.dumps(GOOD), "[" * 50_000 + "]" * 50_000, json.dumps(dict(GOOD, plays=-1))]).encode()
    result = check_rows(engine, "application/x-ndjson", io.BytesIO(body))
    assert result.rows == 3 and problems(result) == [(2, "row"), (3, "plays")]
    assert "nested deeper than" in result.problems[0]["problem"]
