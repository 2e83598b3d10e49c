"""Bad play reports are refused with a clear 4xx, a dropped upload counts nothing, a correction
of a committed period flows into the next one, and a chain outage leaves a period committing."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from datetime import timedelta

import pytest
from eth_account import Account
from sqlmodel import select

from ledger.advisory import AdvisoryLocks
from ledger.db import session
from ledger.models import ChainOp, PlayReport, PlayRowRecord, Role
from ledger.reports.ingest import reception_lock
from ledger.reports.prepare import rows_of_text, sign_summary, summarise
from ledger.settlement.periods import advance_periods
from tests.helpers.service import running_service, settle
from tests.helpers.settings import make_settings
from tests.helpers.settlement import (
    EPOCH,
    close,
    close_span,
    make_deal,
    ndjson,
    params,
    post_report,
    rows,
    signed_post,
    stored_rows,
    wait_status,
)


@pytest.fixture(scope="module")
def service(settlement_service):
    return settlement_service


def test_an_own_key_platform_signs_its_report_and_nobody_else_can(service):
    key = Account.create()
    deal = make_deal(service, platform_address=key.address)
    items = rows(deal)
    unsigned = post_report(deal, "own-1", items)
    assert unsigned.status_code == 422 and unsigned.json()["error"]["details"]["field"] == "signature"
    forged = signed_post(service, deal, key, "own-1", items, signer=Account.create())
    assert forged.status_code == 422 and "not by the platform" in forged.json()["error"]["message"]
    changed = signed_post(service, deal, key, "own-1", items)  # signed, then one number changed in transit
    assert changed.status_code == 201, changed.text
    assert stored_rows(service, "own-1") == 5
    tampered_items = rows(deal)
    tampered_items[0]["plays"] += 1
    domain = deal.platform.get("/reports/signing-domain").json()["domain"]
    summary = summarise(
        rows_of_text(ndjson(items)),
        platform=deal.platform_address,
        report_id="own-2",
        first_day=(deal.start - EPOCH).days,
        end_day=(deal.end - EPOCH).days + 1,
        currency="CNY",
    )
    response = deal.platform.post(
        "/reports",
        params=params(deal, "own-2"),
        content=ndjson(tampered_items),
        headers={"content-type": "application/x-ndjson", "X-Report-Signature": sign_summary(summary, key.key, domain)},
    )
    assert response.status_code == 422 and stored_rows(service, "own-2") == 0


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda r: r.update(plays=-5), "plays"),
        (lambda r: r.update(valid_plays=2.5), "valid_plays"),
        (lambda r: r.update(ad_revenue="12.5"), "ad_revenue"),
        (lambda r: r.update(work="0x" + "ab" * 32), "work"),
        (lambda r: r.update(currency="XYZ"), "currency"),
        (lambda r: r.update(date="2001-01-01"), "date"),
    ],
)
def test_a_bad_row_refuses_the_whole_report(service, change, field):
    deal = make_deal(service)
    items = rows(deal, days=3)
    change(items[2])
    response = post_report(deal, "bad", items)
    assert response.status_code == 422, response.text
    assert f"row 3: {field}" in response.json()["error"]["message"]
    assert stored_rows(service, "bad") == 0


def _body(kind: str, items: list[dict]) -> str:
    if kind == "text/csv":
        columns = list(items[0])
        return ",".join(columns) + "\n" + "".join(",".join(str(i[c]) for c in columns) + "\n" for i in items)
    if kind == "application/json":
        return json.dumps({"rows": items})
    return "\n\n".join(json.dumps(item) for item in items) + "\n"  # blank lines are not rows


@pytest.mark.parametrize("kind", ["application/x-ndjson", "text/csv", "application/json"])
def test_a_bad_row_deep_in_a_long_report_is_named_by_its_number_in_the_report(service, kind):
    """Rows are parsed in blocks (on other processes for NDJSON); the error still counts from the top."""
    deal = make_deal(service)
    items = rows(deal, days=5)
    many = [dict(items[i % 5], plays=1_000 + i, valid_plays=900 + i) for i in range(45_000)]  # several blocks
    many[43_210]["plays"] = -1
    response = deal.platform.post(
        "/reports",
        params=params(deal, f"deep-{kind}"),
        content=_body(kind, many),
        headers={"content-type": kind},
        timeout=120,
    )
    assert response.status_code == 422, response.text
    assert "row 43211: plays" in response.json()["error"]["message"]
    assert stored_rows(service, f"deep-{kind}") == 0
    del many[43_210]
    accepted = deal.platform.post(
        "/reports",
        params=params(deal, f"deep-{kind}"),
        content=_body(kind, many),
        headers={"content-type": kind},
        timeout=120,
    )
    assert accepted.status_code == 201 and accepted.json()["rows"] == 44_999


def test_unknown_currency_duplicate_id_and_committed_period_are_refused(service):
    deal = make_deal(service)
    unknown = deal.platform.post(
        "/reports",
        params=params(deal, "c-1", currency="XYZ"),
        content=ndjson(rows(deal)),
        headers={"content-type": "application/x-ndjson"},
    )
    assert unknown.status_code == 422 and unknown.json()["error"]["details"]["field"] == "currency"
    assert post_report(deal, "c-1", rows(deal)).status_code == 201
    other = post_report(deal, "c-1", rows(deal, plays=5_000))
    assert other.status_code == 409 and other.json()["error"]["code"] == "report_id_reused"
    assert close(deal).status_code == 201
    late = post_report(deal, "c-2", rows(deal))
    assert late.status_code == 409 and late.json()["error"]["code"] == "period_committed"


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def server_log():
    """What the service logs, from its own loggers: uvicorn's do not reach the root logger."""
    logged = Records()
    levels = {name: logging.getLogger(name).level for name in ("uvicorn.error", "reelledger.api")}
    for name in levels:
        logging.getLogger(name).addHandler(logged)
        logging.getLogger(name).setLevel(logging.INFO)
    yield logged
    for name, level in levels.items():
        logging.getLogger(name).removeHandler(logged)
        logging.getLogger(name).setLevel(level)


def test_an_upload_cut_off_half_way_counts_nothing_and_can_be_sent_again(service, server_log):
    deal = make_deal(service)
    items = rows(deal, days=5)
    many = [dict(items[i % 5], plays=1_000 + i, valid_plays=900 + i) for i in range(50_000)]  # all distinct
    body = ndjson(many).encode()
    api_key = deal.platform.headers["Authorization"].split()[1]
    query = "&".join(f"{k}={v}" for k, v in params(deal, "cut").items())
    head = (
        f"POST /reports?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {api_key}\r\n"
        f"Content-Type: application/x-ndjson\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", service.settings.port)) as raw:
        raw.sendall(head + body[: len(body) * 6 // 10])
        deadline = time.monotonic() + 30  # the upload is under way: its first batches of rows are stored
        while time.monotonic() < deadline and not stored_rows(service, "cut"):
            time.sleep(0.05)
        assert stored_rows(service, "cut") > 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _report_exists(service, "cut"):
        time.sleep(0.2)
    assert not _report_exists(service, "cut") and stored_rows(service, "cut") == 0
    assert not [line for line in server_log.lines if "Exception" in line], server_log.lines  # a line, not a traceback
    assert any("disconnected before its body ended" in line for line in server_log.lines), server_log.lines
    again = deal.platform.post(
        "/reports",
        params=params(deal, "cut"),
        content=body,
        headers={"content-type": "application/x-ndjson"},
        timeout=120,
    )
    assert again.status_code == 201, again.text
    assert again.json()["rows"] == 50_000 and stored_rows(service, "cut") == 50_000


def _report_exists(service, report_id: str) -> bool:
    with session(service.ledger.engine) as db:
        return db.exec(select(PlayReport.id).where(PlayReport.report_id == report_id)).first() is not None


def test_a_correction_of_a_committed_period_is_carried_into_the_next(service):
    deal = make_deal(service)
    assert post_report(deal, "w1", rows(deal)).status_code == 201
    first = close(deal).json()
    corrected = rows(deal)
    corrected[0]["plays"] += 1_000
    corrected[0]["valid_plays"] += 1_000  # 1,000 more valid plays at the 0.015 fen tier: 15 fen more
    correction = post_report(deal, "w1-fix", corrected, supersedes="w1")
    assert correction.status_code == 201, correction.text
    assert close(deal).json()["root"] == first["root"]  # the committed period is never rewritten

    next_start, next_end = deal.end + timedelta(days=1), deal.end + timedelta(days=3)
    following = [dict(r, date=str(next_start)) for r in rows(deal, days=1)]
    posted = deal.platform.post(
        "/reports",
        params={"report_id": "w2", "period_start": str(next_start), "period_end": str(next_end), "currency": "CNY"},
        content=ndjson(following),
        headers={"content-type": "application/x-ndjson"},
    )
    assert posted.status_code == 201, posted.text
    second = close_span(
        deal.platform, {"period_start": str(next_start), "period_end": str(next_end), "currency": "CNY"}
    )
    assert second.status_code == 201 and second.json()["adjustments_applied"] == 2
    statement = deal.platform.get(f"/periods/{second.json()['period_id']}/statement").json()
    adjustments = {line["payee"]: int(line["adjustment"]) for line in statement["lines"]}
    # Earned 30,995 -> 31,010 fen, commission 3,099 -> 3,101 (floored), net 27,896 -> 27,909: 13 more, which
    # the 70/30 split by largest remainder gives as 19,527 -> 19,536 and 8,369 -> 8,373.
    assert adjustments == {deal.owner_address: 9, deal.second_address: 4}
    _, _, auditor = service.new_account(Role.auditor)
    assert auditor.get(f"/periods/{second.json()['period_id']}/audit").json()["ok"]
    with session(service.ledger.engine) as db:  # someone edits a stored row of the corrected report
        correction_pk = db.exec(select(PlayReport.id).where(PlayReport.report_id == "w1-fix")).one()
        row = db.exec(select(PlayRowRecord).where(PlayRowRecord.report_pk == correction_pk)).first()
        row.valid_plays += 1
        db.add(row)
        db.commit()
    problems = auditor.get(f"/periods/{second.json()['period_id']}/audit").json()["problems"]
    assert any("w1-fix" in problem for problem in problems), problems


@pytest.fixture
def quiet_service(tmp_path):
    """The reconciler stays idle, so the test decides when the node comes back."""
    with running_service(tmp_path / "data", reconcile_interval=3600, write_wait=1, dispute_window=2) as svc:
        yield svc


def test_a_node_down_during_commit_leaves_the_period_committing_until_it_is_back(quiet_service):
    svc = quiet_service
    deal = make_deal(svc)
    assert post_report(deal, "n1", rows(deal)).status_code == 201
    svc.ledger.chain.node.kill()
    closed = close(deal)
    assert closed.status_code == 201, closed.text
    assert closed.json()["status"] == "committing"
    assert close(deal).json()["status"] == "committing"  # asking again records nothing new
    with session(svc.ledger.engine) as db:
        assert len(db.exec(select(ChainOp).where(ChainOp.label == "SettlementRegistry.commitPeriod")).all()) == 1

    assert svc.ledger.chain.ensure_node()
    settle(svc.ledger.chain.outbox)
    advance_periods(svc.ledger)  # the reconciler's period pass, which this idle service leaves to the test
    period = wait_status(deal.platform, closed.json()["period_id"], "committed", timeout=10)
    assert period["status"] in ("committed", "finalised")
    logs = svc.ledger.chain.events(
        "SettlementRegistry", "PeriodCommitted", periodId=bytes.fromhex(period["period_id"][2:])
    )
    assert len(logs) == 1 and "0x" + bytes(logs[0]["args"]["root"]).hex() == period["root"]


def test_a_revenue_pool_and_an_advance_recouped_once_across_periods(service):
    rule = {"pool": "members", "advance": 500, "commission_bps": 0}
    deal = make_deal(service, rule=rule)
    assert post_report(deal, "p1", rows(deal, days=2)).status_code == 201
    first = close(deal, pools={"members": 10_000})
    assert first.status_code == 201, first.text
    lines = deal.platform.get(f"/periods/{first.json()['period_id']}/statement").json()["lines"]
    # The only work in the pool takes all 10,000 fen; 500 recoup the advance; 9,500 split 70/30.
    assert {line["payee"]: line["amount"] for line in lines} == {
        deal.owner_address: "6650",
        deal.second_address: "2850",
    }

    next_start, next_end = deal.end + timedelta(days=1), deal.end + timedelta(days=2)
    as_json = {"rows": [dict(r, date=str(next_start)) for r in rows(deal, days=1)]}  # the JSON body form
    posted = deal.platform.post(
        "/reports",
        params={"report_id": "p2", "period_start": str(next_start), "period_end": str(next_end), "currency": "CNY"},
        content=json.dumps(as_json),
        headers={"content-type": "application/json"},
    )
    assert posted.status_code == 201, posted.text
    second = close_span(
        deal.platform,
        {"period_start": str(next_start), "period_end": str(next_end), "currency": "CNY", "pools": {"members": 10_000}},
    )
    assert second.status_code == 201, second.text
    lines = deal.platform.get(f"/periods/{second.json()['period_id']}/statement").json()["lines"]
    assert {line["payee"]: line["amount"] for line in lines} == {
        deal.owner_address: "7000",
        deal.second_address: "3000",
    }


def test_a_report_left_half_received_by_a_stopped_service_is_removed_at_the_next_start(tmp_path):
    from ledger.reports.ingest import discard_interrupted
    from ledger.service import Ledger

    settings = make_settings(tmp_path / "data")
    ledger = Ledger(settings)  # not started: only the database
    with session(ledger.engine) as db:
        from ledger.models import Account, ReportStatus

        platform = Account(
            name="p", role=Role.platform, address="0x" + "12" * 20, custodial=False, key_prefix="p", key_hash="0" * 64
        )
        db.add(platform)
        db.commit()
        db.add(
            PlayReport(
                platform_id=platform.id,
                report_id="half",
                report_hash="0x" + "00" * 32,
                status=ReportStatus.receiving,
                currency="CNY",
                first_day=1,
                end_day=2,
            )
        )
        db.commit()
    assert discard_interrupted(ledger.engine) == 1
    assert discard_interrupted(ledger.engine) == 0
    ledger.engine.dispose()


def test_a_correction_of_a_correction_carries_only_what_it_changes_again(service):
    deal = make_deal(service)
    assert post_report(deal, "c1", rows(deal)).status_code == 201
    assert close(deal).status_code == 201
    once, twice = rows(deal), rows(deal)
    for corrected, more in ((once, 1_000), (twice, 2_000)):
        corrected[0]["plays"] += more
        corrected[0]["valid_plays"] += more
    assert post_report(deal, "c1-fix", once, supersedes="c1").status_code == 201
    refused = post_report(deal, "c1-other", once, supersedes="c1")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "already_corrected"
    assert post_report(deal, "c1-fix2", twice, supersedes="c1-fix").status_code == 201

    next_start = deal.end + timedelta(days=1)
    following = [dict(r, date=str(next_start)) for r in rows(deal, days=1)]
    query = {"report_id": "c2", "period_start": str(next_start), "period_end": str(next_start), "currency": "CNY"}
    assert (
        deal.platform.post(
            "/reports", params=query, content=ndjson(following), headers={"content-type": "application/x-ndjson"}
        ).status_code
        == 201
    )
    second = close_span(
        deal.platform, {"period_start": str(next_start), "period_end": str(next_start), "currency": "CNY"}
    ).json()
    statement = deal.platform.get(f"/periods/{second['period_id']}/statement").json()
    adjustments = {line["payee"]: int(line["adjustment"]) for line in statement["lines"]}
    # 2,000 more valid plays at 0.015 fen: earned 30,995 -> 31,025, commission 3,099 -> 3,102, net +27, split
    # 19,527 -> 19,546 and 8,369 -> 8,377 by largest remainder; the first correction carried +9/+4 of it.
    assert adjustments == {deal.owner_address: 19, deal.second_address: 8}
    _, _, auditor = service.new_account(Role.auditor)
    audit = auditor.get(f"/periods/{second['period_id']}/audit").json()
    assert audit["ok"], audit["problems"]


def test_a_second_upload_of_a_report_still_arriving_is_refused_not_merged(service):
    deal = make_deal(service)
    with session(service.ledger.engine) as db:  # an upload of "busy" is under way
        from ledger.models import ReportStatus

        db.add(
            PlayReport(
                platform_id=deal.platform_id,
                report_id="busy",
                report_hash="0x" + "00" * 32,
                status=ReportStatus.receiving,
                currency="CNY",
                first_day=1,
                end_day=2,
            )
        )
        db.commit()
    second = post_report(deal, "busy", rows(deal))
    assert second.status_code == 409 and second.json()["error"]["code"] == "report_in_flight"


def test_an_upload_waits_while_the_sweep_of_interrupted_uploads_glances_at_its_report(service):
    deal = make_deal(service)
    sweep = AdvisoryLocks(service.ledger.engine, "sweep")  # a replica's sweep, reading under the lock
    assert sweep.try_lock(reception_lock(deal.platform_id, "swept"))
    threading.Timer(0.5, sweep.close).start()
    response = post_report(deal, "swept", rows(deal))
    assert response.status_code == 201, response.text
    assert stored_rows(service, "swept") == 5


def test_a_close_that_cannot_be_settled_is_refused_before_anything_is_written(service):
    deal = make_deal(service, rule={"pool": "members"})
    assert post_report(deal, "pool-1", rows(deal)).status_code == 201
    missing = close(deal)  # the rule shares a pool the close names no amount for
    assert missing.status_code == 422 and missing.json()["error"]["details"]["field"] == "pools", missing.text
    assert close(deal, pools={"members": 2**63}).status_code == 422  # beyond a 64-bit amount
    assert close(deal, pools={"members": 1_000}).status_code == 201  # nothing was left half-written


def test_path_numbers_out_of_range_are_422(service):
    deal = make_deal(service)
    bogus = "0x" + "ab" * 32
    assert deal.second_payee.post(f"/periods/{bogus}/lines/{2**70}/claim").status_code == 422
    assert deal.platform.get("/periods/not-a-period").status_code == 422
    assert deal.platform.get("/reports/x", params={"platform_id": 2**70}).status_code == 422
