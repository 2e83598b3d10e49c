"""A play report whose columns do not say what the ledger settles on is refused whole, over real
HTTP: a misspelt CSV column (named with the one it likely means), an unknown JSON key, a quantity
column left out. Every bad row is listed in the one refusal, up to a cap, with their count, and
nothing of a refused report is stored, signed or anchored on chain."""

from __future__ import annotations

import json
import uuid

import pytest
from eth_utils import keccak
from sqlmodel import select

from ledger.db import session
from ledger.models import ChainOp
from ledger.reports.problems import MAX_LISTED
from tests.helpers.settlement import make_deal, params, post_report, rows, stored_rows


@pytest.fixture(scope="module")
def service(settlement_service):
    return settlement_service


def csv_body(items: list[dict], rename: dict[str, str] | None = None, drop: str | None = None) -> str:
    columns = [c for c in items[0] if c != drop]
    header = [(rename or {}).get(c, c) for c in columns]
    return ",".join(header) + "\n" + "".join(",".join(str(i[c]) for c in columns) + "\n" for i in items)


def fresh(name: str) -> str:
    """A report id no other test's platform used (stored rows are looked up by report id)."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def send(deal, report_id: str, body: str, kind: str):
    return deal.platform.post("/reports", params=params(deal, report_id), content=body, headers={"content-type": kind})


def nothing_reached_the_chain(service, deal, report_id: str) -> bool:
    """No row stored, no anchoring recorded in the outbox, no digest in the registry."""
    chain = service.ledger.chain
    with session(service.ledger.engine) as db:
        anchors = db.exec(
            select(ChainOp.id).where(
                ChainOp.idempotency_key.startswith(f"anchor-report:{chain.chain_id}:{deal.platform_address}:")
            )
        ).all()
    anchored = (
        chain.contract("SettlementRegistry")
        .functions.reportDigest(deal.platform_address, keccak(text=report_id))
        .call()
    )
    return stored_rows(service, report_id) == 0 and not anchors and anchored == b"\0" * 32


def refusal(response) -> dict:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_rows" and "nothing of the report was kept" in error["message"]
    return error["details"]


@pytest.mark.parametrize("misspelt, meant", [("watch_minuts", "watch_minutes"), ("valid_plyas", "valid_plays")])
def test_a_misspelt_csv_column_refuses_the_report_naming_the_column_it_likely_means(service, misspelt, meant):
    deal = make_deal(service)
    report_id = fresh("misspelt")
    response = send(deal, report_id, csv_body(rows(deal), rename={meant: misspelt}), "text/csv")
    details = refusal(response)
    assert {
        "row": 0,
        "field": misspelt,
        "problem": f"is not a column of a play report; did you mean {meant}?",
    } in details["problems"]
    assert any(p["field"] == "header" and f"missing columns: {meant} " in p["problem"] for p in details["problems"])
    assert nothing_reached_the_chain(service, deal, report_id)
    fixed = send(deal, report_id, csv_body(rows(deal)), "text/csv")  # the same id, once the header is right
    assert fixed.status_code == 201, fixed.text
    assert int(fixed.json()["totals"][meant]) > 0


@pytest.mark.parametrize("kind", ["application/x-ndjson", "application/json"])
def test_an_unknown_key_in_a_json_row_refuses_the_report(service, kind):
    deal = make_deal(service)
    unknown_key = fresh("unknown-key")
    items = rows(deal, days=3)
    items[1]["watch_minuts"] = items[1].pop("watch_minutes")
    body = "\n".join(json.dumps(i) for i in items) if kind.endswith("ndjson") else json.dumps({"rows": items})
    details = refusal(send(deal, unknown_key, body, kind))
    assert details["problems"] == [
        {"row": 2, "field": "watch_minuts", "problem": "is not a column of a play report; did you mean watch_minutes?"}
    ]
    assert details["total"] == 1
    assert nothing_reached_the_chain(service, deal, unknown_key)


@pytest.mark.parametrize("quantity", ["plays", "valid_plays", "watch_minutes", "ad_revenue"])
def test_a_report_without_a_quantity_column_is_refused(service, quantity):
    deal = make_deal(service)
    no_column, no_key = fresh("no-column"), fresh("no-key")
    items = rows(deal, days=2)
    details = refusal(send(deal, no_column, csv_body(items, drop=quantity), "text/csv"))
    assert [(p["row"], p["field"]) for p in details["problems"]] == [(0, "header")]
    assert f"missing columns: {quantity} " in details["problems"][0]["problem"]
    left_out = [{k: v for k, v in i.items() if k != quantity} for i in items]
    details = refusal(post_report(deal, no_key, left_out))
    assert [(p["row"], p["field"]) for p in details["problems"]] == [(1, quantity), (2, quantity)]
    assert nothing_reached_the_chain(service, deal, no_column) and nothing_reached_the_chain(service, deal, no_key)


@pytest.mark.parametrize("kind", ["application/x-ndjson", "text/csv"])
def test_every_bad_row_of_a_report_is_listed_in_one_refusal_up_to_the_cap_with_their_count(service, kind):
    deal = make_deal(service)
    many_bad = fresh("many-bad")
    items = rows(deal, days=5)
    many = [
        dict(items[i % 5], plays=1_000 + i, valid_plays=900 + i) for i in range(30_000)
    ]  # blocks on several workers
    bad = list(range(7, 30_000, 199))  # 151 bad rows, spread over every block
    for at in bad:
        many[at]["territory"] = "ZZ"
    many[29_999]["work"] = "0x" + "ef" * 32  # not registered here
    body = "".join(json.dumps(i) + "\n" for i in many) if kind.endswith("ndjson") else csv_body(many)
    details = refusal(
        deal.platform.post(
            "/reports", params=params(deal, many_bad), content=body, headers={"content-type": kind}, timeout=120
        )
    )
    assert details["total"] == len(bad) + 1
    assert len(details["problems"]) == MAX_LISTED
    assert [p["row"] for p in details["problems"]] == [at + 1 for at in bad[:MAX_LISTED]]
    assert {p["field"] for p in details["problems"]} == {"territory"}
    assert nothing_reached_the_chain(service, deal, many_bad)
