"""Counter-notices over HTTP, on SQLite and PostgreSQL: the link a case's notices carry opens a
form that files a counter-notice without an account; the counter-notice is anchored beside the
case's evidence (verify evidence passes, and fails once its stored document is altered), the
rights holder's webhook is told, and after the waiting period (time moved, not waited) the case
is due for restoration unless a court action was marked filed in time. The timeline is one list
in the API and CLI; bad links and bad input are a clear 4xx; other rights holders see nothing.

Media: scikit-image's bundled photographs (skimage.data), scaled to 1080p."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from ledger.chain.verify import find_evidence
from ledger.cli import app as cli
from ledger.models import Role
from ledger.piracy import counter_notices
from ledger.piracy.counter_notices import add_business_days
from tests.helpers.cases import LEAK_URL, Receiver, jpeg, report, wait_anchored
from tests.helpers.distributions import MASTER, decode, distribute, register, wait_ready
from tests.helpers.service import running_service, settle
from watermark import attacks

PUBLIC = "https://takedowns.reelledger.example/"
FILING = {
    "name": "Li Wei",
    "address": "1 Example Road, Hangzhou",
    "email": "li.wei@example.org",
    "urls": [LEAK_URL],
    "good_faith": True,
    "explanation": "The clip is my own commentary.",
}


@pytest.fixture(scope="module")
def receiver():
    r = Receiver(failures=0)
    yield r
    r.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def svc(request, tmp_path_factory, receiver):
    url = request.getfixturevalue("module_postgres_url") if request.param == "postgresql" else None
    with running_service(
        tmp_path_factory.mktemp("svc") / "data",
        url,
        write_wait=10,
        takedown_webhook=receiver.url,
        public_base_url=PUBLIC,
        counter_notice_wait_days=10,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def parties(svc):
    _, _, studio = svc.new_account(Role.rights_holder)
    _, _, platform = svc.new_account(Role.platform)
    _, _, crawler = svc.new_account(Role.crawler)
    _, _, other = svc.new_account(Role.rights_holder)
    _, _, auditor = svc.new_account(Role.auditor)
    work_id = register(studio, MASTER, "Astronaut", svc)
    dist = wait_ready(
        studio, distribute(studio, work_id, MASTER, platform.get("/accounts/me").json()["name"]).json()["id"]
    )
    leaked = decode(studio.get(dist["copy"]["url"]).content)
    return {
        "studio": studio,
        "crawler": crawler,
        "other": other,
        "auditor": auditor,
        "platform": platform,
        "work_id": work_id,
        "leaked": leaked,
    }


def open_case(svc, parties, url: str) -> tuple[dict, str]:
    """A case for a leak at `url`, anchored, and the token of the link its notices carry."""
    r = report(parties["crawler"], jpeg(attacks.ATTACKS["crop10"](parties["leaked"])), url=url)
    assert r.status_code == 201, r.text
    case = wait_anchored(parties["crawler"], r.json()["case"]["id"], svc.ledger)
    # the crawler (and anyone but the rights holder, who sends the notices) sees the link without its token
    assert all(f"{PUBLIC}counter-notices?token=…" in n["body"] for n in case["notices"])
    case = parties["studio"].get(f"/cases/{case['id']}").json()
    tokens = {
        re.search(re.escape(PUBLIC) + r"counter-notices\?token=([A-Za-z0-9_-]+)", n["body"]).group(1)
        for n in case["notices"]
    }
    assert len(tokens) == 1  # both notices carry the case's one link, on the public base URL
    return case, tokens.pop()


def wait_for(check, svc, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        svc.ledger.chain.outbox.reconcile()
        time.sleep(0.1)
    return found


@pytest.fixture(scope="module")
def countered(svc, parties):
    case, token = open_case(svc, parties, LEAK_URL)
    filed = parties["studio"].post(  # the link needs no account: the studio's key is ignored
        "/counter-notices", json={**FILING, "token": token}
    )
    assert filed.status_code == 201, filed.text
    return case, token, filed.json()


def steps(client, case_id):
    return client.get(f"/cases/{case_id}/timeline").json()


def test_the_link_shows_what_the_notice_concerns_without_an_account(svc, parties):
    import httpx

    case, token = open_case(svc, parties, "http://pirate.example/watch/form.jpg")
    link = f"{svc.url}/counter-notices"
    shown = httpx.get(link, params={"token": token})
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["case_id"] == case["id"] and body["work_id"] == parties["work_id"] and body["title"] == "Astronaut"
    assert body["urls"] == ["http://pirate.example/watch/form.jpg", "http://pirate.example/"]
    assert "good faith" in body["statement"] and body["waiting_business_days"] == 10 and body["filed_at"] is None
    page = httpx.get(link, params={"token": token}, headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html") and 'id="counter-notice"' in page.text
    assert "http://pirate.example/watch/form.jpg" in page.text and "/console/static/counter-notice.js" in page.text
    assert "<script>" not in page.text  # the filer's data never lands in a script
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"  # the token in the address goes nowhere else


def test_bad_links_and_bad_input_are_a_clear_4xx(svc, parties, countered):
    import httpx

    _, token, _ = countered
    link = f"{svc.url}/counter-notices"
    unknown = httpx.get(link, params={"token": "A" * 43})
    malformed = httpx.get(link, params={"token": "not.a.token"})
    assert unknown.status_code == malformed.status_code == 404
    assert unknown.json() == malformed.json()  # nothing tells a malformed token from an unknown one
    assert httpx.get(link, params={"token": "C" * 5000}).status_code == 422
    assert httpx.get(link).status_code == 422
    assert httpx.post(link, json={**FILING, "token": "B" * 43}).status_code == 404
    for change, field in [
        ({"good_faith": False}, "good_faith"),
        ({"urls": ["http://elsewhere.example/x.jpg"]}, "urls"),
        ({"urls": []}, "urls"),
        ({"name": "x" * 201}, "name"),
        ({"explanation": "x" * 4001}, "explanation"),
        ({"email": "not-an-address"}, "email"),
        ({"surprise": 1}, "surprise"),
    ]:
        refused = httpx.post(link, json={**FILING, "token": token, **change})
        assert refused.status_code == 422, (field, refused.text)
        assert field in refused.text
    missing = {k: v for k, v in FILING.items() if k != "address"}
    assert httpx.post(link, json={**missing, "token": token}).status_code == 422
    # the same filing again is the first one; another one through a used link is refused
    again = httpx.post(link, json={**FILING, "token": token}, headers={"Idempotency-Key": "retry-1"})
    assert again.status_code == 200 and again.json() == countered[2]
    other = httpx.post(link, json={**FILING, "token": token, "name": "Someone Else"})
    assert other.status_code == 409 and other.json()["error"]["code"] == "counter_notice_filed"


def test_an_expired_link_is_gone(svc, parties):
    import httpx

    case, token = open_case(svc, parties, "http://pirate.example/watch/late.jpg")
    with svc.ledger.engine.begin() as db:
        db.execute(
            text("UPDATE counter_notice_link SET expires_at = :at WHERE case_id = :id"),
            {"at": datetime.now(UTC) - timedelta(seconds=1), "id": case["id"]},
        )
    gone = httpx.post(f"{svc.url}/counter-notices", json={**FILING, "token": token, "urls": [case["url"]]})
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "link_expired"


def test_the_counter_notice_is_anchored_and_verifies_until_its_document_is_altered(svc, parties, countered):
    case, _, filed = countered
    studio = parties["studio"]
    notice = wait_for(
        lambda: (
            (n := studio.get(f"/cases/{case['id']}/counter-notice").json())["anchor"]["status"] == "confirmed" and n
        ),
        svc,
    )
    assert notice["document_hash"] == filed["document_hash"]
    assert notice["document"]["filer"]["name"] == "Li Wei" and notice["document"]["urls"] == [LEAK_URL]
    assert notice["document"]["case"]["evidence_hash"] == case["evidence_hash"]
    stored = studio.get(f"/cases/{case['id']}/counter-notice/document").content
    registry = svc.ledger.chain.addresses["EvidenceRegistry"]
    found = find_evidence(svc.ledger.chain.rpc_url, registry, stored)
    assert found.anchored and found.work_matches and found.evidence_hash == filed["document_hash"]

    env = {
        "REELLEDGER_URL": svc.url,
        "REELLEDGER_API_KEY": studio.headers["Authorization"].removeprefix("Bearer "),
        "REELLEDGER_RPC_URL": svc.ledger.chain.rpc_url,
        "REELLEDGER_EVIDENCE_REGISTRY": registry,
        "COLUMNS": "250",
    }
    passed = CliRunner().invoke(cli, ["verify", "evidence", "--case", str(case["id"])], env=env)
    assert passed.exit_code == 0, passed.output
    read = " ".join(passed.output.split())  # however the terminal wrapped it
    assert f"case {case['id']} found hashes to {case['evidence_hash']}" in read, passed.output
    assert f"case {case['id']} countered hashes to {filed['document_hash']}" in read, passed.output

    doc = dict(notice["document"], explanation="altered")
    with svc.ledger.engine.begin() as db:
        db.execute(
            text("UPDATE counter_notice SET document = :doc WHERE case_id = :id"),
            {"doc": json.dumps(doc), "id": case["id"]},
        )
    try:
        failed = CliRunner().invoke(cli, ["verify", "evidence", "--case", str(case["id"])], env=env)
        assert failed.exit_code == 1, failed.output
        assert "countered: the chain holds no anchor" in failed.output and "found hashes to" in failed.output
    finally:
        with svc.ledger.engine.begin() as db:
            db.execute(
                text("UPDATE counter_notice SET document = :doc WHERE case_id = :id"),
                {"doc": json.dumps(notice["document"]), "id": case["id"]},
            )


def test_the_rights_holder_is_told_through_the_webhook(svc, parties, receiver, countered):
    case, _, filed = countered

    def told():
        return [
            (h, json.loads(b))
            for h, b in receiver.posts
            if json.loads(b).get("event") == "counter_notice"
            and json.loads(b)["counter_notice"]["document_hash"] == filed["document_hash"]
        ]

    posts = wait_for(told, svc)
    assert len(posts) == 1
    headers, body = posts[0]
    assert headers["Idempotency-Key"] == f"counter-notice-{body['counter_notice']['id']}"
    assert body["counter_notice"]["document_hash"] == filed["document_hash"]
    assert body["case"]["work_id"] == parties["work_id"]
    assert parties["studio"].get(f"/cases/{case['id']}/counter-notice").json()["rights_holder_notified"] == "delivered"


def test_the_case_is_due_for_restoration_after_the_waiting_period(svc, parties, countered, monkeypatch):
    case, _, filed = countered
    studio = parties["studio"]
    filed_at = datetime.fromisoformat(filed["filed_at"])
    due = datetime.fromisoformat(filed["restoration_due_at"])
    assert due == add_business_days(filed_at, 10) and 12 <= (due - filed_at).days <= 14
    timeline = wait_for(  # both notices delivered to the takedown endpoint: sent
        lambda: (t := steps(studio, case["id"])) and [s["kind"] for s in t["steps"]].count("notice_sent") == 2 and t,
        svc,
    )
    assert timeline["restoration"] == "waiting"
    kinds = [s["kind"] for s in timeline["steps"]]
    assert kinds[0] == "found" and "countered" in kinds and "restoration_due" not in kinds
    found = timeline["steps"][0]
    assert found["anchored_hash"] == case["evidence_hash"] and found["anchor"]["status"] == "confirmed"
    countered_step = next(s for s in timeline["steps"] if s["kind"] == "countered")
    assert countered_step["anchored_hash"] == filed["document_hash"] and countered_step["actor"] == "Li Wei"

    monkeypatch.setattr(counter_notices, "clock", lambda: due - timedelta(minutes=1))
    assert steps(studio, case["id"])["restoration"] == "waiting"
    monkeypatch.setattr(counter_notices, "clock", lambda: due + timedelta(minutes=1))
    timeline = steps(studio, case["id"])
    assert timeline["restoration"] == "due" and timeline["steps"][-1]["kind"] == "restoration_due"
    # a court action filed after the waiting period does not stop restoration
    late = studio.post(f"/cases/{case['id']}/action-filed", json={})
    assert late.status_code == 409 and late.json()["error"]["code"] == "waiting_period_over"
    restored = studio.post(f"/cases/{case['id']}/restored", json={"note": "reinstated by the platform"})
    assert restored.status_code == 200, restored.text
    assert restored.json()["restoration"] == "restored"
    assert [s["kind"] for s in restored.json()["steps"]][-2:] == ["restoration_due", "restored"]
    refound = studio.post(f"/cases/{case['id']}/re-found", json={})
    assert refound.status_code == 200 and refound.json()["steps"][-1]["kind"] == "re_found"
    again = studio.post(f"/cases/{case['id']}/restored", json={"note": "twice"})
    assert again.status_code == 200 and [s["kind"] for s in again.json()["steps"]].count("restored") == 1

    shown = CliRunner().invoke(
        cli,
        ["cases", "timeline", str(case["id"])],
        env={"REELLEDGER_URL": svc.url, "REELLEDGER_API_KEY": studio.headers["Authorization"][7:], "COLUMNS": "250"},
    )
    assert shown.exit_code == 0, shown.output
    for kind in ("found", "countered", "restoration due", "restored", "re-found"):
        assert kind in shown.output
    assert f"{filed['document_hash'][:10]}…" in shown.output and "restoration: restored" in shown.output


def test_a_court_action_filed_in_time_stops_restoration(svc, parties, monkeypatch):
    import httpx

    url = "http://pirate.example/watch/contested.jpg"
    case, token = open_case(svc, parties, url)
    studio = parties["studio"]
    early = studio.post(f"/cases/{case['id']}/action-filed", json={})
    assert early.status_code == 409 and early.json()["error"]["code"] == "no_counter_notice"
    assert studio.post(f"/cases/{case['id']}/acknowledged", json={"note": "ticket 42"}).status_code == 200
    gone = parties["crawler"].post(f"/cases/{case['id']}/checks", json={"alive": False, "http_status": 404})
    assert gone.status_code == 200 and gone.json()["status"] == "closed"
    filed = httpx.post(f"{svc.url}/counter-notices", json={**FILING, "token": token, "urls": [url]}).json()
    assert studio.post(f"/cases/{case['id']}/action-filed", json={"at": "2099-01-01T00:00:00Z"}).status_code == 422
    marked = studio.post(f"/cases/{case['id']}/action-filed", json={"note": "filed at the Hangzhou Internet Court"})
    assert marked.status_code == 200 and marked.json()["restoration"] == "action_filed"
    later = datetime.fromisoformat(filed["restoration_due_at"]) + timedelta(days=30)
    monkeypatch.setattr(counter_notices, "clock", lambda: later)
    timeline = steps(studio, case["id"])
    assert timeline["restoration"] == "action_filed"
    kinds = [s["kind"] for s in timeline["steps"] if s["kind"] != "notice_sent"]
    assert kinds == ["found", "acknowledged", "removed", "countered", "action_filed"]
    times = [datetime.fromisoformat(s["at"]) for s in timeline["steps"]]
    assert times == sorted(times)
    assert studio.post(f"/cases/{case['id']}/restored", json={}).status_code == 409


def test_only_the_cases_parties_see_its_counter_notice(svc, parties, countered):
    case, _, _ = countered
    cid = case["id"]
    assert parties["other"].get(f"/cases/{cid}/timeline").status_code == 404
    assert parties["other"].get(f"/cases/{cid}/counter-notice").status_code == 404
    assert parties["other"].get(f"/cases/{cid}/counter-notice/document").status_code == 404
    assert parties["other"].post(f"/cases/{cid}/acknowledged", json={}).status_code == 404
    assert parties["platform"].get(f"/cases/{cid}/timeline").status_code == 403
    # the crawler that opened the case follows its timeline, but the filer's details are not its to read
    followed = parties["crawler"].get(f"/cases/{cid}/timeline")
    assert followed.status_code == 200 and "countered" in followed.text and "Li Wei" not in followed.text
    assert parties["crawler"].get(f"/cases/{cid}/counter-notice").status_code == 403
    assert parties["crawler"].post(f"/cases/{cid}/acknowledged", json={}).status_code == 403
    assert parties["auditor"].get(f"/cases/{cid}/counter-notice").status_code == 200
    assert "Li Wei" not in parties["crawler"].get(f"/cases/{cid}").text


def test_business_days_skip_weekends():
    friday = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)
    assert add_business_days(friday, 1) == datetime(2026, 12, 7, 15, 30, tzinfo=UTC)  # Monday
    assert add_business_days(friday, 10) == datetime(2026, 12, 18, 15, 30, tzinfo=UTC)
    sunday = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    assert add_business_days(sunday, 14) == datetime(2026, 12, 24, 9, 0, tzinfo=UTC)


def test_a_counter_notice_filed_while_the_chain_is_down_is_anchored_when_it_is_back(svc, parties):
    import httpx

    url = "http://pirate.example/watch/outage.jpg"
    case, token = open_case(svc, parties, url)
    svc.ledger.chain.node.kill()
    try:
        filed = httpx.post(f"{svc.url}/counter-notices", json={**FILING, "token": token, "urls": [url]}, timeout=60)
        assert filed.status_code == 201, filed.text
    finally:
        svc.ledger.chain.ensure_node()  # or the service's reconciler restarts it first
    settle(svc.ledger.chain.outbox)
    notice = parties["studio"].get(f"/cases/{case['id']}/counter-notice").json()
    assert notice["anchor"]["status"] == "confirmed"
    logs = svc.ledger.chain.events(
        "EvidenceRegistry", "EvidenceAnchored", evidenceHash=bytes.fromhex(notice["document_hash"][2:])
    )
    assert len(logs) == 1
