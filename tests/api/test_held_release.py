"""Held usage settles itself: rows no licence covered are listed with why and what they would
earn, and once a licence covers them the platform's next closed period settles them as
adjustment lines, once, verifiable on chain and by an audit; on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from ledger.db import session
from ledger.models import Account, Adjustment, HeldRelease, PlayRowRecord, ReleasedRow, Role, SettlementPeriod
from ledger.settlement import releases
from tests.helpers.service import written
from tests.helpers.settlement import DAY, Deal, close, close_span, line_leaf, make_deal, ndjson, post_report, rows


@pytest.fixture(scope="module")
def service(settlement_service):
    return settlement_service


def grant(service, deal: Deal, territories: list[str], rights=("streaming",), start_days_ago: int = 60) -> dict:
    now = int(time.time())
    licence = deal.owner.post(
        f"/works/{deal.work_id}/licences",
        json={
            "licensee_id": deal.platform_id,
            "territories": territories,
            "rights": list(rights),
            "start": now - start_days_ago * DAY,
            "end": now + 30 * DAY,
        },
    )
    return written(service, licence).json()


def later_period(deal: Deal, report_id: str, first: date, last: date) -> dict:
    """A report of one CN row dated `first` for the period `first`..`last`, and the period closed."""
    items = [dict(r, date=str(first)) for r in rows(deal, days=1)]
    window = {"period_start": str(first), "period_end": str(last), "currency": "CNY"}
    posted = deal.platform.post(
        "/reports",
        params={"report_id": report_id, **window},
        content=ndjson(items),
        headers={"content-type": "application/x-ndjson"},
    )
    assert posted.status_code == 201, posted.text
    closed = close_span(deal.platform, window)
    assert closed.status_code == 201, closed.text
    return closed.json()


def held_of(client, report_id: str, **params) -> list[dict]:
    listed = client.get("/reports/held", params={"limit": 1000, **params})
    assert listed.status_code == 200, listed.text
    return [h for h in listed.json() if h["report_id"] == report_id]


def test_held_rows_are_settled_by_the_next_period_once_a_licence_covers_them(service):
    deal = make_deal(service)
    _, _, auditor = service.new_account(Role.auditor)
    us_row = rows(deal, days=1, territory="US")  # licensed in CN only: held
    assert post_report(deal, "late-1", rows(deal) + us_row).json()["held_rows"] == 1
    [held] = held_of(deal.platform, "late-1")
    # The row alone: 900 valid plays at 0.01 fen (9) + 30,000 minutes at 0.0005 (15) + half of 12,345 ad
    # revenue (6,172.5): 6,196 fen earned, 619 commission, 5,577 to its payees.
    assert (held["state"], held["reason_code"], held["released_into"]) == ("held", "territory_outside", None)
    assert held["would_earn"] == {"amount": "5577", "currency": "CNY"}
    first = close(deal).json()
    assert first["total"] == "27896"  # the CN rows only, as before any licence for US

    grant(service, deal, ["US"])
    [covered] = held_of(deal.platform, "late-1")
    assert (covered["state"], covered["reason_code"]) == ("held", "covered_now")
    assert close(deal).json()["root"] == first["root"]  # the committed period itself never changes

    next_start = deal.end + timedelta(days=1)
    second = later_period(deal, "late-2", next_start, next_start + timedelta(days=2))
    statement = deal.platform.get(f"/periods/{second['period_id']}/statement").json()
    adjustments = {line["payee"]: int(line["adjustment"]) for line in statement["lines"]}
    # The first period settled again with the US row: 5,410 valid plays (2,000 at 0.01 + 3,410 at 0.015:
    # 91 fen), 180,000 minutes (90), half of 74,070 ad revenue (37,035): 37,196 earned, 3,719 commission,
    # 33,477 net, 70/30 by largest remainder 23,434 + 10,043; it paid 19,527 + 8,369.
    assert adjustments == {deal.owner_address: 23_434 - 19_527, deal.second_address: 10_043 - 8_369}
    assert sum(adjustments.values()) == 33_477 - int(first["total"])
    # Its own row earns 5,577 (70/30: 3,904 + 1,673); the lines carry both, to the last unit.
    amounts = {line["payee"]: int(line["amount"]) for line in statement["lines"]}
    assert amounts == {deal.owner_address: 3_904 + 3_907, deal.second_address: 1_673 + 1_674}
    assert int(second["total"]) == sum(amounts.values()) == 5_577 + 5_581

    registry = service.ledger.chain.contract("SettlementRegistry")
    period_key = bytes.fromhex(second["period_id"][2:])
    for line in statement["lines"]:
        proof = [bytes.fromhex(p[2:]) for p in line["proof"]]
        assert registry.functions.verifyLine(period_key, line_leaf(line), proof).call()
    audit = auditor.get(f"/periods/{second['period_id']}/audit").json()
    assert audit["ok"] and audit["total"] == second["total"], audit

    [released] = held_of(deal.platform, "late-1")
    assert (released["state"], released["reason_code"]) == ("released", "released")
    assert released["released_into"] == second["period_id"]
    assert held_of(deal.platform, "late-1", state="held") == []
    assert [r["row"] for r in held_of(deal.platform, "late-1", state="released")] == [released["row"]]
    with session(service.ledger.engine) as db:
        period = db.exec(select(SettlementPeriod).where(SettlementPeriod.period_id == second["period_id"])).one()
        [named] = period.inputs["held_releases"]
        assert (named["source_period_id"], named["rows"]) == (first["period_id"], [released["row"]])

    # Closing again, and closing the period after, release nothing a second time.
    assert close(deal).json()["root"] == first["root"]
    third_start = next_start + timedelta(days=3)
    third = later_period(deal, "late-3", third_start, third_start)
    statement = deal.platform.get(f"/periods/{third['period_id']}/statement").json()
    assert all(int(line["adjustment"]) == 0 for line in statement["lines"])
    with session(service.ledger.engine) as db:
        assert len(db.exec(select(ReleasedRow).where(ReleasedRow.row_pk == released["row"])).all()) == 1
        period = db.exec(select(SettlementPeriod).where(SettlementPeriod.period_id == third["period_id"])).one()
        assert "held_releases" not in period.inputs

    # A correction of the first report after the release carries only what it changes beyond it.
    corrected = rows(deal) + us_row
    corrected[0]["plays"] += 1_000
    corrected[0]["valid_plays"] += 1_000  # 1,000 more valid plays at the 0.015 fen tier
    assert post_report(deal, "late-1-fix", corrected, supersedes="late-1").status_code == 201
    fourth_start = third_start + timedelta(days=1)
    fourth = later_period(deal, "late-4", fourth_start, fourth_start)
    statement = deal.platform.get(f"/periods/{fourth['period_id']}/statement").json()
    adjustments = {line["payee"]: int(line["adjustment"]) for line in statement["lines"]}
    # 37,211 earned, 3,721 commission, 33,490 net: 23,443 + 10,047 against the 23,434 + 10,043 already
    # carried (the US row is not paid twice).
    assert adjustments == {deal.owner_address: 9, deal.second_address: 4}
    audit = auditor.get(f"/periods/{fourth['period_id']}/audit").json()
    assert audit["ok"], audit

    # An auditor notices a release whose recorded inputs were edited afterwards.
    with session(service.ledger.engine) as db:
        release = db.exec(select(HeldRelease).where(HeldRelease.id == named["pk"])).one()
        release.inputs = {**release.inputs, "released_rows": []}
        db.add(release)
        db.commit()
    problems = auditor.get(f"/periods/{second['period_id']}/audit").json()["problems"]
    assert any("priced from other inputs" in problem for problem in problems), problems
    with session(service.ledger.engine) as db:  # and a released row edited after it was signed
        row = db.get(PlayRowRecord, released["row"])
        row.valid_plays += 1
        db.add(row)
        db.commit()
    problems = auditor.get(f"/periods/{second['period_id']}/audit").json()["problems"]
    assert any("'late-1'" in problem and "row root" in problem for problem in problems), problems


def test_a_licence_granted_before_the_close_settles_the_rows_in_their_own_period(service):
    deal = make_deal(service)
    assert post_report(deal, "early-1", rows(deal) + rows(deal, days=1, territory="US")).json()["held_rows"] == 1
    grant(service, deal, ["US"])
    first = close(deal).json()
    assert first["total"] == "33477"  # the US row settled with the rest (worked out in the test above)
    assert held_of(deal.platform, "early-1") == []
    report = deal.platform.get("/reports/early-1").json()
    assert report["held_rows"] == 0


def test_two_closes_at_once_release_each_row_once(service):
    deal = make_deal(service)
    post_report(deal, "race-1", rows(deal) + rows(deal, days=1, territory="US"))
    assert close(deal).status_code == 201
    grant(service, deal, ["US"])
    answers: list[dict] = []
    starts = [deal.end + timedelta(days=1), deal.end + timedelta(days=2)]

    def close_one(first: date) -> None:
        answers.append(later_period(deal, f"race-{first}", first, first))

    threads = [threading.Thread(target=close_one, args=(first,)) for first in starts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 2
    with session(service.ledger.engine) as db:
        ids = [a["period_id"] for a in answers]
        periods = db.exec(select(SettlementPeriod).where(col(SettlementPeriod.period_id).in_(ids))).all()
        carried = [p for p in periods if p.inputs.get("held_releases")]
        assert len(carried) == 1  # one of the two took the release, the other found nothing left
        release_pk = carried[0].inputs["held_releases"][0]["pk"]
        adjustments = db.exec(select(Adjustment).where(Adjustment.release_pk == release_pk)).all()
        assert sum(int(a.amount) for a in adjustments) == 33_477 - 27_896


def test_a_row_released_by_one_close_fails_on_its_key_in_another_that_read_it_before(service):
    """What keeps two replicas apart even without the platform's lock: the row's key."""
    deal = make_deal(service)
    post_report(deal, "key-1", rows(deal) + rows(deal, days=1, territory="US"))
    first = close(deal).json()
    grant(service, deal, ["US"])
    [held] = held_of(deal.platform, "key-1")
    with session(service.ledger.engine) as one, session(service.ledger.engine) as other:
        platform = one.get(Account, deal.platform_id)
        [release] = releases.release_held(one, platform, "CNY")
        one.commit()
        source = other.exec(select(SettlementPeriod).where(SettlementPeriod.period_id == first["period_id"])).one()
        source_pk = source.id
        with pytest.raises(IntegrityError):
            releases._release(other, source, [(held["row"], deal.work_id)])
        other.rollback()
    next_start = deal.end + timedelta(days=1)
    second = later_period(deal, "key-2", next_start, next_start)  # carries the release made above, once
    with session(service.ledger.engine) as db:
        period = db.exec(select(SettlementPeriod).where(SettlementPeriod.period_id == second["period_id"])).one()
        assert [r["pk"] for r in period.inputs["held_releases"]] == [release.id]
        assert db.exec(select(HeldRelease).where(HeldRelease.source_period_pk == source_pk)).all() == [
            db.get(HeldRelease, release.id)
        ]


def test_held_rows_say_why_and_each_role_sees_only_its_own(service):
    deal = make_deal(service)
    stranger = make_deal(service)  # another owner's work, which the platform holds no licence for
    _, _, auditor = service.new_account(Role.auditor)
    grant(service, deal, ["JP"], start_days_ago=5)  # starts after the report's first day
    grant(service, deal, ["KR"], rights=("download",))
    revoked = grant(service, deal, ["FR"])
    assert deal.owner.post(f"/licences/{revoked['id']}/revoke").json()["status"] == "revoked"
    items = rows(deal, days=1)
    items += rows(deal, days=1, territory="US") + rows(deal, days=1, territory="JP")
    items += rows(deal, days=1, territory="KR") + rows(deal, days=1, territory="FR")
    items += rows(deal, days=1, work_id=stranger.work_id)
    assert post_report(deal, "why-1", items).json()["held_rows"] == 5

    reasons = {(h["work_id"], h["territory"]): h["reason_code"] for h in held_of(deal.platform, "why-1")}
    assert reasons == {
        (deal.work_id, "US"): "territory_outside",
        (deal.work_id, "JP"): "day_outside",
        (deal.work_id, "KR"): "right_not_granted",
        (deal.work_id, "FR"): "licence_revoked",
        (stranger.work_id, "CN"): "no_licence",
    }
    listed = held_of(deal.platform, "why-1")
    assert all(h["would_earn"] == {"amount": "5577", "currency": "CNY"} for h in listed if h["work_id"] == deal.work_id)
    assert all(h["reason"] for h in listed)

    assert {h["work_id"] for h in held_of(deal.owner, "why-1")} == {deal.work_id}
    assert [(h["work_id"], h["territory"]) for h in held_of(stranger.owner, "why-1")] == [(stranger.work_id, "CN")]
    assert held_of(stranger.platform, "why-1") == []
    assert len(held_of(auditor, "why-1")) == 5
    assert deal.platform.get("/reports/held", params={"state": "paid"}).status_code == 422

    # Once the period is settled and the report corrected, its held rows are the correction's to settle.
    assert close(deal).status_code == 201
    items[0]["valid_plays"] -= 1
    assert post_report(deal, "why-1-fix", items, supersedes="why-1").status_code == 201
    assert {h["reason_code"] for h in held_of(deal.platform, "why-1")} == {"corrected"}
    assert {h["reason_code"] for h in held_of(deal.platform, "why-1-fix")} == {"in_correction"}
    assert len(held_of(deal.platform, "why-1-fix")) == 5
