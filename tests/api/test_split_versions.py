"""When a split version is in force, as the chain says it: a work's first version set with
`effective_from` 0 is in force from the start, so it splits what the work earned before it was
agreed; a later one set with 0 takes effect when mined, so no period already past, closed before
or after it, changes its split. The database keeps the start the chain recorded, which is what
settlement reads."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlmodel import col, select

from ledger.db import session
from ledger.models import SplitRecord, Work
from tests.helpers.service import written
from tests.helpers.settlement import DAY, EPOCH, close, make_deal, post_report, rows, wait_status


@pytest.fixture(scope="module")
def service(settlement_service):
    return settlement_service


def chain_starts(service, work_id: str) -> list[int]:
    """Each version's start as the chain holds it, oldest first."""
    return [v.effective_from for v in service.ledger.registries.split_versions(bytes.fromhex(work_id[2:]))]


def stored_starts(service, work_id: str, versions: int, timeout: float = 30.0) -> list[int]:
    """Each version's start as the database holds it, once every version is recorded (a split
    answered 202 gets its version from the reconciler's next pass)."""
    deadline = time.monotonic() + timeout
    while True:
        with session(service.ledger.engine) as db:
            work_pk = db.exec(select(Work.id).where(Work.work_id == work_id)).one()
            records = db.exec(
                select(SplitRecord).where(SplitRecord.work_pk == work_pk).order_by(col(SplitRecord.id))
            ).all()
        recorded = [r for r in records if r.version is not None]
        if len(recorded) == versions or time.monotonic() > deadline:
            assert [r.version for r in recorded] == list(range(1, versions + 1))
            return [r.effective_from for r in recorded]
        time.sleep(0.2)


def settled_versions(deal, period_id: str) -> dict[str, tuple[str, int]]:
    """Payee -> (amount, split version) of a period's statement lines, as each payee reads them."""
    period = wait_status(deal.platform, period_id, "finalised")
    assert period["status"] == "finalised", period
    lines = {}
    for payee in (deal.owner, deal.second_payee):
        statement = payee.get(f"/periods/{period_id}/statement")
        if statement.status_code == 404:  # no line for this payee
            continue
        for line in statement.json()["lines"]:
            lines[line["payee"]] = (line["amount"], line["split_version"])
    return lines


def test_a_later_split_set_with_0_takes_effect_when_mined_and_leaves_past_periods_to_the_first(service):
    deal = make_deal(service)  # its split: version 1, set with effective_from 0
    assert chain_starts(service, deal.work_id) == [0]  # from the start, though set today
    assert stored_starts(service, deal.work_id, 1) == [0]
    listed = deal.owner.get(f"/works/{deal.work_id}/splits").json()
    assert [(v["version"], v["effective_from"]) for v in listed] == [(1, 0)]

    assert post_report(deal, "split-before-v2", rows(deal)).status_code == 201
    closed = close(deal)
    assert closed.status_code == 201, closed.text
    before = settled_versions(deal, closed.json()["period_id"])
    assert {payee: version for payee, (_, version) in before.items()} == {
        deal.owner_address: 1,
        deal.second_address: 1,
    }

    asked = int(time.time())
    second = written(
        service,
        deal.owner.post(
            f"/works/{deal.work_id}/splits",
            json={"payees": [{"address": deal.owner_address, "bps": 10_000}], "effective_from": 0},
        ),
    )
    assert second.json()["version"] == 2
    on_chain = chain_starts(service, deal.work_id)
    assert on_chain[0] == 0 and on_chain[1] >= asked - 5  # when mined
    assert on_chain[1] > ((deal.end - EPOCH).days + 1) * DAY  # after every day already reported
    assert stored_starts(service, deal.work_id, 2) == on_chain
    if second.status_code == 201:
        assert second.json()["effective_from"] == on_chain[1]

    # A week further back, reported and closed only now: still split by version 1, 70/30.
    earlier = replace(deal, start=deal.start - timedelta(days=7), end=deal.end - timedelta(days=7))
    assert earlier.end < date.today()
    assert post_report(earlier, "split-after-v2", rows(earlier)).status_code == 201
    closed_later = close(earlier)
    assert closed_later.status_code == 201, closed_later.text
    after = settled_versions(earlier, closed_later.json()["period_id"])
    assert {payee: version for payee, (_, version) in after.items()} == {
        deal.owner_address: 1,
        deal.second_address: 1,
    }
    assert after == before  # the same rows, the same split
    # The first period, closed again, is what it was.
    assert close(deal).json()["period_id"] == closed.json()["period_id"]
