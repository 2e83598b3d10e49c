"""Idempotency-Key on the write routes whose domain keeps no key of its own (ledger.request_keys):
the same key with the same request answers the first answer again (marked Idempotent-Replayed)
and does nothing more; the key with another request, or on another route, is a 409 that names
it; two requests under one key at once run once; a refused request frees its key; a key left
by a stopped process is taken over once stale; each account's keys are its own; and the kept
answers, API keys among them, are sealed under the master key."""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from skimage import data
from sqlalchemy import func
from sqlmodel import select, update

from api.main import create_app
from ledger.chain import artifacts
from ledger.db import session
from ledger.models import Account, RequestKey, Role
from ledger.request_keys import Answer, Held
from ledger.settlement.periods import advance_periods
from tests.helpers.cases import Receiver
from tests.helpers.distributions import distribute, png, register
from tests.helpers.idempotency import assert_reused, chain_events, licence_terms, post_raw
from tests.helpers.service import running_service, settle, written
from tests.helpers.settlement import make_deal, ndjson, params, rows

REPLAYED = "Idempotent-Replayed"
# POSTs that keep nothing, so that a repeat is harmless: they take no key.
READ_ONLY = {("post", "/reports/check"), ("post", "/match"), ("post", "/detect")}
FETCHED_AT = "2026-11-30T08:00:00+00:00"


@pytest.fixture(scope="module")
def receiver():
    """A takedown endpoint that refuses every notice: notices stay due, and each send shows."""
    r = Receiver(failures=10**9)
    yield r
    r.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def service(request, tmp_path_factory, receiver):
    """The service with a takedown endpoint and its background passes idle (the tests run them)."""
    url = request.getfixturevalue("module_postgres_url") if request.param == "postgresql" else None
    with running_service(
        tmp_path_factory.mktemp("svc") / "data",
        url,
        write_wait=10,
        reconcile_interval=3600,
        takedown_webhook=receiver.url,
    ) as svc:
        yield svc


def new_key() -> str:
    return f"key-{uuid.uuid4().hex}"


def with_key(key: str) -> dict:
    return {"headers": {"Idempotency-Key": key}}


def assert_replayed(first, again) -> None:
    assert REPLAYED not in first.headers, first.headers
    assert again.headers.get(REPLAYED) == "true", (again.status_code, again.text)
    assert (again.status_code, again.json()) == (first.status_code, first.json())


def assert_in_use(response, key: str) -> None:
    assert_reused(response, key)
    assert "being used by another request" in response.json()["error"]["message"]


def count_accounts(service) -> int:
    with session(service.ledger.engine) as db:
        return db.exec(select(func.count()).select_from(Account)).one()


def kept(service, account_id: int, key: str) -> RequestKey | None:
    with session(service.ledger.engine) as db:
        return db.exec(select(RequestKey).where(RequestKey.account_id == account_id, RequestKey.key == key)).first()


def backdate(service, account_id: int, key: str, **ages: timedelta) -> None:
    """Move the key's times into the past, as if it had been taken that long ago."""
    with session(service.ledger.engine) as db:
        row = db.exec(select(RequestKey).where(RequestKey.account_id == account_id, RequestKey.key == key)).one()
        db.exec(
            update(RequestKey)
            .where(RequestKey.id == row.id)
            .values(**{column: getattr(row, column) - age for column, age in ages.items()})
        )
        db.commit()


def until_status(service, client, period_id: str, status: str, timeout: float = 60) -> str:
    """The period's status once it is `status` (or the timeout passed), the outbox settled and the
    periods moved along meanwhile: this service's own reconciler is idle."""
    deadline = time.monotonic() + timeout
    while True:
        settle(service.ledger.chain.outbox)
        advance_periods(service.ledger)  # the reconciler's period pass; reading a period changes nothing
        seen = client.get(f"/periods/{period_id}").json()["status"]
        if seen == status or time.monotonic() > deadline:
            return seen
        time.sleep(0.2)


def my_id(client) -> int:
    return client.get("/accounts/me").json()["id"]


def account_body() -> dict:
    return {"name": f"keyed-{uuid.uuid4().hex[:8]}", "role": "auditor"}


def test_every_write_operation_documents_the_idempotency_key():
    document = create_app().openapi()
    writes = {
        (method, path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("post", "put", "patch", "delete")
    }
    assert READ_ONLY <= set(writes)
    missing = [
        f"{method.upper()} {path}"
        for (method, path), operation in writes.items()
        if (method, path) not in READ_ONLY
        and not any(p["in"] == "header" and p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))
    ]
    assert not missing, missing
    assert len(writes) - len(READ_ONLY) >= 20


# ------------------------------------------------------------------ accounts and their API keys


def test_an_account_created_again_under_its_key_is_the_same_account_with_the_same_api_key(service, admin):
    key, body = new_key(), account_body()
    first = post_raw(admin, "/accounts", body, key)
    assert first.status_code == 201, first.text
    accounts = count_accounts(service)
    again = post_raw(admin, "/accounts", body, key, reordered=True)
    assert_replayed(first, again)
    assert count_accounts(service) == accounts
    assert service.client(again.json()["api_key"]).get("/accounts/me").json()["name"] == body["name"]
    assert_reused(post_raw(admin, "/accounts", {**body, "role": "crawler"}, key), key)
    created_id = first.json()["account"]["id"]
    assert_reused(admin.post(f"/accounts/{created_id}/key", **with_key(key)), key)  # another route
    assert service.client(first.json()["api_key"]).get("/accounts/me").status_code == 200  # not rotated
    assert count_accounts(service) == accounts


def test_a_key_rotation_retried_under_its_key_rotates_once_and_a_revocation_revokes_once(service, admin):
    target_id, _, _ = service.new_account(Role.auditor)
    other_id, _, other = service.new_account(Role.auditor)
    key = new_key()
    first = admin.post(f"/accounts/{target_id}/key", **with_key(key))
    assert first.status_code == 200, first.text
    again = admin.post(f"/accounts/{target_id}/key", **with_key(key))
    assert_replayed(first, again)
    rotated = service.client(first.json()["api_key"])
    assert rotated.get("/accounts/me").status_code == 200  # a second rotation would have ended it
    assert_reused(admin.post(f"/accounts/{other_id}/key", **with_key(key)), key)
    assert other.get("/accounts/me").status_code == 200

    key = new_key()
    revoked = admin.delete(f"/accounts/{target_id}/key", **with_key(key))
    assert revoked.status_code == 200 and revoked.json()["key_revoked"], revoked.text
    assert_replayed(revoked, admin.delete(f"/accounts/{target_id}/key", **with_key(key)))
    assert rotated.get("/accounts/me").status_code == 401
    assert_reused(admin.delete(f"/accounts/{other_id}/key", **with_key(key)), key)
    assert other.get("/accounts/me").status_code == 200


def test_a_kept_answer_holds_no_api_key_in_clear_and_opens_only_in_its_own_row(service, admin):
    """The API key a creation or rotation answers is kept sealed (AES-GCM under the master key,
    bound to its row): the database never shows it, and a sealed answer moved to another row
    does not open; the retry is told why rather than answered with another request's key."""
    admin_id = my_id(admin)
    target_id, _, _ = service.new_account(Role.auditor)
    created_key, rotated_key = new_key(), new_key()
    created = post_raw(admin, "/accounts", account_body(), created_key)
    rotated = admin.post(f"/accounts/{target_id}/key", **with_key(rotated_key))
    assert created.status_code == 201 and rotated.status_code == 200
    rows = {k: kept(service, admin_id, k) for k in (created_key, rotated_key)}
    for response, k in ((created, created_key), (rotated, rotated_key)):
        api_key = response.json()["api_key"]
        secret = api_key.split("_", 2)[2]  # rlk_<hex prefix>_<secret>; the secret may itself hold "_"
        assert rows[k].status == response.status_code
        assert api_key.encode() not in rows[k].answer and secret.encode() not in rows[k].answer
    with session(service.ledger.engine) as db:  # swap the two sealed answers
        for k, other in ((created_key, rotated_key), (rotated_key, created_key)):
            db.exec(update(RequestKey).where(RequestKey.id == rows[k].id).values(answer=rows[other].answer))
        db.commit()
    again = admin.post(f"/accounts/{target_id}/key", **with_key(rotated_key))
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "idempotency_answer_unreadable" and rotated_key in again.text
    assert created.json()["api_key"] not in again.text


def test_requests_sent_at_once_under_one_key_run_once(service, admin):
    target_id, _, _ = service.new_account(Role.auditor)
    key, senders = new_key(), 6
    admin_key = admin.headers["Authorization"].removeprefix("Bearer ")
    start = threading.Barrier(senders)

    def rotate(_):
        with service.client(admin_key) as client:
            start.wait()
            return client.post(f"/accounts/{target_id}/key", **with_key(key))

    with ThreadPoolExecutor(senders) as pool:
        answers = list(pool.map(rotate, range(senders)))
    made = [a for a in answers if a.status_code == 200]
    assert made, [a.text for a in answers]
    for refused in (a for a in answers if a.status_code != 200):
        assert_in_use(refused, key)
    assert len({a.json()["api_key"] for a in made}) == 1  # one rotation, whatever each sender was told
    assert service.client(made[0].json()["api_key"]).get("/accounts/me").status_code == 200


def test_a_refused_request_leaves_its_key_free_for_a_retry(service, admin):
    taken = account_body()
    assert admin.post("/accounts", json=taken).status_code == 201
    key = new_key()
    refused = post_raw(admin, "/accounts", taken, key)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "account_exists", refused.text
    assert kept(service, my_id(admin), key) is None
    retried = post_raw(admin, "/accounts", account_body(), key)  # a kept key would refuse another body
    assert retried.status_code == 201 and REPLAYED not in retried.headers, retried.text


def test_another_accounts_same_key_is_its_own(service, admin):
    _, _, second_admin = service.new_account(Role.admin)
    key = new_key()
    mine, theirs = account_body(), account_body()
    first = post_raw(admin, "/accounts", mine, key)
    second = post_raw(second_admin, "/accounts", theirs, key)
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert first.json()["account"]["id"] != second.json()["account"]["id"]
    assert_replayed(first, post_raw(admin, "/accounts", mine, key))
    assert_replayed(second, post_raw(second_admin, "/accounts", theirs, key))


def test_a_key_left_running_is_in_use_until_stale_then_a_retry_takes_it_over(service, admin):
    """A request still running holds its key (409); one whose process stopped left its key
    running for good, and after idempotency_takeover a retry runs the request itself. The
    stopped request, were it to finish after all, stores nothing over the retry's answer."""
    admin_id, (target_id, _, _) = my_id(admin), service.new_account(Role.auditor)
    key = new_key()
    stopped = service.ledger.request_keys.claim(Held(admin_id, key, "POST /accounts/{account_id}/key"), None)
    assert_in_use(admin.post(f"/accounts/{target_id}/key", **with_key(key)), key)
    backdate(service, admin_id, key, claimed_at=timedelta(seconds=service.settings.idempotency_takeover + 60))
    taken = admin.post(f"/accounts/{target_id}/key", **with_key(key))
    assert taken.status_code == 200 and REPLAYED not in taken.headers, taken.text
    service.ledger.request_keys.finish(stopped, "0x" + "00" * 32, Answer(200, b'{"api_key": "stale"}'))
    assert_replayed(taken, admin.post(f"/accounts/{target_id}/key", **with_key(key)))
    assert service.client(taken.json()["api_key"]).get("/accounts/me").status_code == 200


def test_a_key_is_kept_for_idempotency_keep_then_is_free_again(service, admin):
    key = new_key()
    assert post_raw(admin, "/accounts", account_body(), key).status_code == 201
    assert_reused(post_raw(admin, "/accounts", account_body(), key), key)
    backdate(service, my_id(admin), key, created_at=timedelta(seconds=service.settings.idempotency_keep + 60))
    later = post_raw(admin, "/accounts", account_body(), key)
    assert later.status_code == 201 and REPLAYED not in later.headers, later.text


# ------------------------------------------------------------------ licences, settlement, cases


def test_a_licence_revoked_again_under_its_key_is_answered_not_revoked_again(service, studio):
    _, _, owner = studio
    platform_id, _, _ = service.new_account(Role.platform)
    work = written(
        service, owner.post("/works", json={"sha256": uuid.uuid4().hex * 2, "title": "Reel", "kind": "film"})
    )
    url = f"/works/{work.json()['work_id']}/licences"
    licence_id, other_id = (
        written(service, owner.post(url, json=licence_terms(platform_id))).json()["id"] for _ in "ab"
    )
    key = new_key()
    first = owner.post(f"/licences/{licence_id}/revoke", **with_key(key))
    assert first.status_code == 200, first.text
    settle(service.ledger.chain.outbox)
    revocations = chain_events(service, "LicenseRegistry", "LicenseRevoked")
    assert_replayed(first, owner.post(f"/licences/{licence_id}/revoke", **with_key(key)))
    assert_reused(owner.post(f"/licences/{other_id}/revoke", **with_key(key)), key)
    settle(service.ledger.chain.outbox)
    assert chain_events(service, "LicenseRegistry", "LicenseRevoked") == revocations
    assert owner.get(f"/licences/{other_id}").json()["status"] != "revoked"


def test_settlement_writes_retried_under_their_keys_are_made_once(service, admin):
    deal = make_deal(service)
    chain = service.ledger.chain

    def report(report_id: str, items: list, key: str):
        return deal.platform.post(
            "/reports",
            params=params(deal, report_id),
            content=ndjson(items),
            headers={"content-type": "application/x-ndjson", "Idempotency-Key": key},
        )

    key = new_key()
    sent = report("keyed-week", rows(deal), key)
    assert sent.status_code == 201, sent.text
    settle(chain.outbox)
    assert_replayed(sent, report("keyed-week", rows(deal), key))  # unkeyed, a resend answers 200
    assert_reused(report("keyed-week", rows(deal, plays=2_000), key), key)
    assert_reused(report("another-week", rows(deal), key), key)
    assert [r["report_id"] for r in deal.platform.get("/reports").json()] == ["keyed-week"]

    key = new_key()
    body = {"period_start": str(deal.start), "period_end": str(deal.end), "currency": "CNY"}
    closed = post_raw(deal.platform, "/periods/close", body, key)
    assert closed.status_code == 201, closed.text
    assert_replayed(closed, post_raw(deal.platform, "/periods/close", body, key, reordered=True))
    assert_reused(post_raw(deal.platform, "/periods/close", {**body, "pools": {"vip": 100}}, key), key)
    period_id = closed.json()["period_id"]
    assert until_status(service, deal.platform, period_id, "committed") == "committed"
    period = f"/periods/{period_id}"
    owner_line = deal.owner.get(f"{period}/statement").json()["lines"][0]["index"]
    second_line = deal.second_payee.get(f"{period}/statement").json()["lines"][0]["index"]

    key = new_key()
    disputed = post_raw(
        deal.second_payee, f"{period}/lines/{second_line}/dispute", {"reason": "the price", "claimed_amount": 1}, key
    )
    assert disputed.status_code == 200, disputed.text
    disputes = chain_events(service, "SettlementRegistry", "Disputed")
    # unkeyed, the same dispute again is refused: the line is disputed already
    assert_replayed(
        disputed,
        post_raw(
            deal.second_payee,
            f"{period}/lines/{second_line}/dispute",
            {"reason": "the price", "claimed_amount": 1},
            key,
        ),
    )
    assert_reused(
        post_raw(
            deal.second_payee, f"{period}/lines/{second_line}/dispute", {"reason": "the date", "claimed_amount": 1}, key
        ),
        key,
    )
    assert chain_events(service, "SettlementRegistry", "Disputed") == disputes

    arbiter_id, _, arbiter = service.new_account(Role.arbiter)
    assert admin.post("/arbiter/handover", json={"account_id": arbiter_id}).status_code == 200
    assert arbiter.post("/arbiter/accept").status_code == 200
    key = new_key()
    decision = {"outcome": "rejected", "reason": "the rule applies"}
    decided = post_raw(arbiter, f"{period}/disputes/0/decide", decision, key)
    assert decided.status_code == 200, decided.text
    assert_replayed(decided, post_raw(arbiter, f"{period}/disputes/0/decide", decision, key))
    assert_reused(post_raw(arbiter, f"{period}/disputes/0/decide", {**decision, "reason": "it does not"}, key), key)
    assert_reused(post_raw(arbiter, f"{period}/disputes/1/decide", decision, key), key)
    assert chain_events(service, "SettlementRegistry", "DisputeDecided") == 1

    chain.w3.provider.make_request("evm_increaseTime", [service.settings.dispute_window + 1])
    chain.w3.provider.make_request("evm_mine", [])
    assert until_status(service, deal.platform, period_id, "finalised") == "finalised"

    key = new_key()
    paid = post_raw(deal.owner, f"{period}/lines/{owner_line}/paid-off-chain", {"payment_ref": "bank-1"}, key)
    assert paid.status_code == 200, paid.text
    assert_replayed(
        paid, post_raw(deal.owner, f"{period}/lines/{owner_line}/paid-off-chain", {"payment_ref": "bank-1"}, key)
    )
    assert_reused(
        post_raw(deal.owner, f"{period}/lines/{owner_line}/paid-off-chain", {"payment_ref": "bank-2"}, key), key
    )
    assert chain_events(service, "SettlementRegistry", "LinePaidOffChain") == 1

    assert deal.platform.post(f"{period}/fund", json={}).status_code == 200
    key = new_key()
    claimed = deal.second_payee.post(f"{period}/lines/{second_line}/claim", **with_key(key))
    assert claimed.status_code == 200, claimed.text
    assert_replayed(claimed, deal.second_payee.post(f"{period}/lines/{second_line}/claim", **with_key(key)))
    assert_reused(deal.second_payee.post(f"{period}/lines/{owner_line}/claim", **with_key(key)), key)
    payout = chain.w3.eth.contract(
        address=deal.second_payee.get(f"{period}/statement").json()["payout"], abi=artifacts.load("PeriodPayout").abi
    )
    assert len(payout.events.LineClaimed().get_logs(from_block=0)) == 1


def test_case_writes_retried_under_their_keys_are_made_once(service, studio):
    from ledger.piracy.delivery import deliver_due

    _, _, owner = studio
    _, _, crawler = service.new_account(Role.crawler)
    _, _, platform = service.new_account(Role.platform)
    master = png(data.coffee())
    work_id = register(owner, master, "Coffee", service)
    made = distribute(owner, work_id, master, platform.get("/accounts/me").json()["name"])  # its copies are traced
    assert made.status_code == 202, made.text
    deadline = time.monotonic() + 120
    while owner.get(f"/distributions/{made.json()['id']}").json()["status"] not in ("ready", "failed"):
        assert time.monotonic() < deadline, "the distribution was not made"
        settle(service.ledger.chain.outbox)
        time.sleep(0.1)

    def sighting(raw: bytes, key: str, url: str = "http://pirate.example/coffee.png"):
        found = {"url": url, "fetched_at": FETCHED_AT, "status": 200, "content_type": "image/png"}
        return crawler.post(
            "/cases",
            files={"file": ("found.png", raw, "application/octet-stream")},
            data={"sighting": json.dumps(found)},
            **with_key(key),
        )

    key = new_key()
    opened = sighting(master, key)
    assert opened.status_code == 201 and opened.json()["case"], opened.text
    assert_replayed(opened, sighting(master, key))  # unkeyed, the same copy again counts a sighting
    assert_reused(sighting(master, key, url="http://pirate.example/other.png"), key)
    assert_reused(sighting(png(data.chelsea()), key), key)
    case = f"/cases/{opened.json()['case']['id']}"
    settle(service.ledger.chain.outbox)
    assert crawler.get(case).json()["sightings"] == 1

    key = new_key()
    check = {"alive": True, "checked_at": FETCHED_AT, "http_status": 200}
    checked = post_raw(crawler, f"{case}/checks", check, key)
    assert checked.status_code == 200 and checked.json()["checks"] == 1, checked.text
    assert_replayed(checked, post_raw(crawler, f"{case}/checks", check, key, reordered=True))
    assert_reused(post_raw(crawler, f"{case}/checks", {**check, "alive": False}, key), key)
    assert (crawler.get(case).json()["checks"], crawler.get(case).json()["status"]) == (1, "open")

    def attempts() -> dict:
        return {n["format"]: n["attempts"] for n in crawler.get(case).json()["notices"]}

    deliver_due(service.ledger)  # the endpoint refuses: each notice waits for its next attempt
    assert attempts() == {"cn-notice": 1, "dmca": 1}
    key = new_key()
    sent = crawler.post(f"{case}/notices/cn-notice/send", **with_key(key))
    assert sent.status_code == 202, sent.text
    deliver_due(service.ledger)
    assert attempts() == {"cn-notice": 1, "dmca": 1}  # sent again at once (its count starts over), refused again
    assert_replayed(sent, crawler.post(f"{case}/notices/cn-notice/send", **with_key(key)))
    assert attempts() == {"cn-notice": 1, "dmca": 1}  # a send would have started the count over
    assert_reused(crawler.post(f"{case}/notices/dmca/send", **with_key(key)), key)
    assert attempts() == {"cn-notice": 1, "dmca": 1}
