"""Building blocks of the settlement tests: a licensed, split and priced work, and reports."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import select

from ledger.db import session
from ledger.models import PlayReport, PlayRowRecord, Role
from ledger.reports.prepare import rows_of_text, sign_summary, summarise
from tests.helpers.derivatives import derive
from tests.helpers.service import written

DAY = 86_400  # seconds; the licence windows and report days of every builder here count in these
EPOCH = date(1970, 1, 1)
RULE = {
    "valid_play_tiers": [{"from_plays": 0, "price_micro": 10_000}, {"from_plays": 2_000, "price_micro": 15_000}],
    "watch_minute_price_micro": 500,
    "ad_revenue_bps": 5_000,
    "commission_bps": 1_000,
}


@dataclass
class Deal:
    work_id: str
    owner: object
    owner_address: str
    second_payee: object
    second_address: str
    platform_id: int
    platform_address: str
    platform: object
    start: date
    end: date  # inclusive


def make_deal(
    service,
    platform_address: str | None = None,
    bps=(7_000, 3_000),
    rule=RULE,
    second_address: str | None = None,
    owner_address: str | None = None,
) -> Deal:
    """A work licensed to a new platform in CN for streaming, split between two payees, priced by `rule`;
    the period is a week that ended four days ago. `second_address`, `owner_address`: that party brings its own."""
    _, owner_address, owner = service.new_account(Role.rights_holder, address=owner_address)
    _, second_address, second = service.new_account(Role.rights_holder, address=second_address)
    platform_id, platform_addr, platform = service.new_account(Role.platform, address=platform_address)
    work = owner.post(
        "/works", json={"sha256": hashlib.sha256(uuid.uuid4().bytes).hexdigest(), "title": "Drama", "kind": "series"}
    )
    written(service, work)
    work_id = work.json()["work_id"]
    written(service, grant(owner, work_id, platform_id, int(time.time())))
    split = owner.post(
        f"/works/{work_id}/splits",
        json={"payees": [{"address": owner_address, "bps": bps[0]}, {"address": second_address, "bps": bps[1]}]},
    )
    written(service, split)
    today = date.today()
    start, end = today - timedelta(days=10), today - timedelta(days=4)
    priced = owner.post(
        f"/works/{work_id}/rules", json={"effective_from": str(start - timedelta(days=30)), "rule": rule}
    )
    written(service, priced)
    return Deal(work_id, owner, owner_address, second, second_address, platform_id, platform_addr, platform, start, end)


@dataclass
class Derivative:
    work_id: str
    maker: object  # the derivative's owner, its only payee
    maker_address: str
    licence_pk: int  # the parent's licence it derives under


def register_priced_work(service, owner, payees: list[dict] | None, platform_id: int, start: date, title: str) -> str:
    """A work of `owner` licensed to the platform in CN, split among `payees` (none: no split) and priced by RULE."""
    work = owner.post(
        "/works", json={"sha256": hashlib.sha256(uuid.uuid4().bytes).hexdigest(), "title": title, "kind": "series"}
    )
    work_id = written(service, work).json()["work_id"]
    now = int(time.time())
    written(service, grant(owner, work_id, platform_id, now))
    if payees:
        written(service, owner.post(f"/works/{work_id}/splits", json={"payees": payees}))
    priced = owner.post(
        f"/works/{work_id}/rules", json={"effective_from": str(start - timedelta(days=30)), "rule": RULE}
    )
    written(service, priced)
    return work_id


def grant(owner, work_id: str, licensee_id: int, now: int):
    return owner.post(
        f"/works/{work_id}/licences",
        json={
            "licensee_id": licensee_id,
            "territories": ["CN"],
            "rights": ["streaming"],
            "start": now - 60 * DAY,
            "end": now + 30 * DAY,
        },
    )


def make_derivative(
    service, deal: Deal, parent_work_id: str, parent_owner, share_bps: int, min_micro: int = 0, title="Re-edit"
) -> Derivative:
    """A work of a new studio, licensed to the deal's platform and priced like it, registered as a
    re-edit of `parent_work_id` under a licence from `parent_owner` with the given upstream terms."""
    _, maker_address, maker = service.new_account(Role.rights_holder)
    work_id = register_priced_work(
        service, maker, [{"address": maker_address, "bps": 10_000}], deal.platform_id, deal.start, title
    )
    now = int(time.time())
    licence_pk = derive(
        service,
        parent_owner,
        parent_work_id,
        maker,
        work_id,
        share_bps=share_bps,
        min_micro=min_micro,
        territories=("CN",),
        start=now - 60 * DAY,
        end=now + 30 * DAY,
    )
    return Derivative(work_id, maker, maker_address, licence_pk)


def rows(deal: Deal, days=5, plays=1_000, territory="CN", work_id=None) -> list[dict]:
    return [
        {
            "work": work_id or deal.work_id,
            "territory": territory,
            "date": str(deal.start + timedelta(days=i)),
            "plays": plays + i,
            "valid_plays": plays - 100 + i,
            "watch_minutes": 30_000,
            "ad_revenue": 12_345,
            "currency": "CNY",
        }
        for i in range(days)
    ]


def line_leaf(line: dict) -> tuple:
    """A statement line (as the API gives it) as the Merkle leaf the contract checks."""
    return (
        line["index"],
        line["payee"],
        bytes.fromhex(line["work_id"][2:]),
        int(line["amount"]),
        line["rule_version"],
        line["split_version"],
    )


def ndjson(items: list[dict]) -> str:
    return "\n".join(json.dumps(item) for item in items) + "\n"


def params(deal: Deal, report_id: str, **extra) -> dict:
    return {
        "report_id": report_id,
        "period_start": str(deal.start),
        "period_end": str(deal.end),
        "currency": "CNY",
        **extra,
    }


def post_report(deal: Deal, report_id: str, items: list[dict], **extra):
    return deal.platform.post(
        "/reports",
        params=params(deal, report_id, **extra),
        content=ndjson(items),
        headers={"content-type": "application/x-ndjson"},
    )


def close(deal: Deal, **extra):
    return close_span(
        deal.platform, {"period_start": str(deal.start), "period_end": str(deal.end), "currency": "CNY", **extra}
    )


def close_span(client, body: dict, timeout: float = 60.0):
    """Close a period as a client told "try again shortly" would: again while its reports'
    anchoring is still on its way (a nonce another signer took delays it by a pass or two)."""
    deadline = time.monotonic() + timeout
    while True:
        closed = client.post("/periods/close", json=body)
        waiting = closed.status_code == 409 and closed.json()["error"]["code"] == "reports_not_anchored"
        if not waiting or time.monotonic() > deadline:
            return closed
        time.sleep(0.5)


def wait_status(client, period_id: str, status: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/periods/{period_id}").json()
        if body.get("status") == status or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


def signed_post(service, deal, key, report_id: str, items: list[dict], signer=None):
    """Post a report signed with `signer` (default: the platform's own key)."""
    domain = deal.platform.get("/reports/signing-domain").json()["domain"]
    text = ndjson(items)
    summary = summarise(
        rows_of_text(text),
        platform=deal.platform_address,
        report_id=report_id,
        first_day=(deal.start - EPOCH).days,
        end_day=(deal.end - EPOCH).days + 1,
        currency="CNY",
    )
    signature = sign_summary(summary, (signer or key).key, domain)
    return deal.platform.post(
        "/reports",
        params=params(deal, report_id),
        content=text,
        headers={"content-type": "application/x-ndjson", "X-Report-Signature": signature},
    )


def stored_rows(service, report_id: str) -> int:
    with session(service.ledger.engine) as db:
        report = db.exec(select(PlayReport).where(PlayReport.report_id == report_id)).first()
        if report is None:
            return 0
        return len(db.exec(select(PlayRowRecord.id).where(PlayRowRecord.report_pk == report.id)).all())
