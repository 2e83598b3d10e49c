"""Piracy cases over HTTP: a crawler reports a copy it fetched; the service matches it,
reads its watermark, anchors the evidence bundle on chain and drafts the notices. The same
leak reported again is the same case; re-checks close it and fix the link's lifetime; each
role sees only what is theirs; bad input is a clear 4xx.

Media: scikit-image's bundled photographs (skimage.data), scaled to 1080p, as PNG and JPEG."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest
from skimage import data
from typer.testing import CliRunner

from ledger.chain.verify import find_evidence
from ledger.cli import app as cli
from ledger.models import Role
from ledger.piracy import notices
from tests.helpers.cases import LEAK_URL, jpeg, report, wait_anchored
from tests.helpers.distributions import MASTER, decode, distribute, register, wait_ready
from tests.helpers.service import running_service
from watermark import attacks


@pytest.fixture(scope="module")
def parties(service):
    _, _, studio = service.new_account(Role.rights_holder)
    _, _, platform = service.new_account(Role.platform)
    platform_name = platform.get("/accounts/me").json()["name"]
    _, _, crawler = service.new_account(Role.crawler)
    _, _, other_crawler = service.new_account(Role.crawler)
    _, _, other = service.new_account(Role.rights_holder)
    _, _, auditor = service.new_account(Role.auditor)
    work_id = register(studio, MASTER, "Astronaut")
    r = distribute(studio, work_id, MASTER, platform_name, fields={"session": "leaky-session"})
    assert r.status_code == 202, r.text
    dist = wait_ready(studio, r.json()["id"])
    assert dist["status"] == "ready", dist
    leaked = decode(studio.get(dist["copy"]["url"]).content)
    return {
        "studio": studio,
        "platform": platform,
        "platform_name": platform_name,
        "crawler": crawler,
        "other_crawler": other_crawler,
        "other": other,
        "auditor": auditor,
        "work_id": work_id,
        "dist": dist,
        "leaked": leaked,
    }


@pytest.fixture(scope="module")
def opened(service, parties):
    shot = cv2.imencode(".png", np.full((40, 60, 3), 200, np.uint8))[1].tobytes()
    r = report(parties["crawler"], jpeg(attacks.ATTACKS["crop10"](parties["leaked"])), screenshot=shot)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["matched"] and body["created"]
    return wait_anchored(parties["crawler"], body["case"]["id"], service.ledger), shot


def test_a_leaked_copy_becomes_a_case_traced_to_the_platform_with_anchored_evidence(service, parties, opened):
    case, shot = opened
    assert case["work_id"] == parties["work_id"] and case["title"] == "Astronaut"
    assert case["status"] == "open" and case["sightings"] == 1
    assert case["leak"]["payload"] == parties["dist"]["payload"]
    assert case["leak"]["platform"]["name"] == parties["platform_name"]
    assert case["leak"]["distribution_id"] == parties["dist"]["id"]
    assert case["anchor"]["status"] == "confirmed" and case["anchor"]["tx_hash"]
    ledger = service.ledger
    assert case["evidence_registry"] == ledger.chain.addresses["EvidenceRegistry"]

    bundle = parties["crawler"].get(f"/cases/{case['id']}/evidence").content
    assert "0x" + hashlib.sha256(bundle).hexdigest() == case["evidence_hash"]
    parsed = json.loads(bundle)
    assert parsed["url"] == LEAK_URL and parsed["work"]["work_id"] == parties["work_id"]
    assert parsed["watermark"]["distribution"]["session"] == "leaky-session"
    assert parsed["watermark"]["distribution"]["record_anchored"] is True
    assert parsed["screenshot"]["sha256"] == "0x" + hashlib.sha256(shot).hexdigest()
    assert "set-cookie" not in parsed["http"]["headers"] and parsed["http"]["headers"]["server"] == "pirate/1.0"
    copy = parties["crawler"].get(f"/cases/{case['id']}/evidence/copy").content
    assert "0x" + hashlib.sha256(copy).hexdigest() == parsed["content"]["sha256"] == case["content_sha256"]
    assert parties["studio"].get(f"/cases/{case['id']}/evidence/screenshot").content == shot

    rpc = ledger.chain.rpc_url
    found = find_evidence(rpc, case["evidence_registry"], bundle)
    assert found.anchored and found.work_matches and found.work_registered
    assert found.work_id == parties["work_id"] and found.anchored_by == ledger.chain.signer
    tampered = bundle.replace(LEAK_URL.encode(), LEAK_URL.replace("pirate", "p1rate").encode())
    assert not find_evidence(rpc, case["evidence_registry"], tampered).anchored


def test_the_notices_name_the_work_its_registration_the_url_and_the_evidence(parties, opened):
    case, _ = opened
    notices = {n["format"]: n for n in case["notices"]}
    assert set(notices) == {"cn-notice", "dmca"}
    assert all(n["delivery"] == "draft" for n in notices.values())  # no endpoint configured
    cn, dmca = notices["cn-notice"], notices["dmca"]
    assert cn["language"] == "zh-CN" and "通知-删除" in cn["subject"] and "《Astronaut》" in cn["body"]
    assert "信息网络传播权保护条例" in cn["body"] and parties["platform_name"] in cn["body"]
    assert dmca["language"] == "en" and "good faith" in dmca["body"] and "penalty of perjury" in dmca["body"]
    for n in (cn, dmca):
        assert LEAK_URL in n["body"] and case["evidence_hash"] in n["body"] and parties["work_id"] in n["body"]
        # two works of one title are told apart by the subject too
        assert f"{parties['work_id'][:6]}…{parties['work_id'][-4:]}" in n["subject"]


def test_a_still_s_notices_say_the_picture_matches_and_keep_their_items_indented(parties, opened):
    """A still matches a picture: no "0.0 s of the work" in either language; the DMCA letter's
    watermark line is a line of its item 2, indented as the item's other lines."""
    case, _ = opened
    notices = {n["format"]: n["body"] for n in case["notices"]}
    cn, dmca = notices["cn-notice"], notices["dmca"]
    assert "The picture matches the work's picture (confidence" in dmca and " s of the work from " not in dmca
    assert "该图片与作品画面一致（置信度" in cn and "秒内容一致" not in cn
    item = dmca.split("\n2. ", 1)[1].split("\n\n", 1)[0].splitlines()
    assert any(line.startswith("   Its invisible watermark (payload") for line in item), item
    assert all(line.startswith("   ") for line in item[1:]), item


def test_a_still_of_footage_names_the_frame_it_shows(parties, opened):
    """A frame grabbed from a film matches the film at one moment: the notices name it, with no duration."""
    case, _ = opened
    bundle = json.loads(parties["crawler"].get(f"/cases/{case['id']}/evidence").content)
    bundle["match"].update(offset_seconds=6.0, duration_seconds=0.0)
    zh, en = notices.draft(bundle, case["evidence_hash"], "Studio", "0x" + "11" * 20, case["id"], work_media="video")
    assert "该图片与作品第 6.0 秒的画面一致（置信度" in zh.body and "0.0 秒" not in zh.body
    assert "The picture matches the work's frame at 6.0 s (confidence" in en.body and "0.0 s" not in en.body


def test_cases_list_and_show_name_each_case_s_work_and_how_a_still_matched(service, parties, opened):
    case, _ = opened
    env = {
        "REELLEDGER_URL": service.url,
        "REELLEDGER_API_KEY": parties["studio"].headers["Authorization"].removeprefix("Bearer "),
        "COLUMNS": "250",
    }
    listed = CliRunner().invoke(cli, ["cases", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    work_id = parties["work_id"]
    lines = listed.output.splitlines()
    at = next(i for i, line in enumerate(lines) if LEAK_URL in line)
    # The case's row: the title, and the shortened id whole, on the row's line or the next one
    # when the table is wider than the terminal and the work's cell wraps between them.
    assert "Astronaut" in lines[at], listed.output
    assert f"{work_id[:6]}…{work_id[-4:]}" in lines[at] + lines[at + 1], listed.output
    shown = CliRunner().invoke(cli, ["cases", "show", str(case["id"])], env=env)
    assert shown.exit_code == 0, shown.output
    assert "the picture matches the work's picture, confidence" in shown.output, shown.output  # a still: no 0.0 s
    assert case["work_media_kind"] == "image" and case["match"]["seconds_compared"] is None


def test_the_same_leak_found_again_is_one_case(service, parties, opened):
    case, _ = opened
    again = report(parties["crawler"], jpeg(attacks.ATTACKS["crop10"](parties["leaked"])))
    assert again.status_code == 200 and not again.json()["created"]
    assert again.json()["case"]["id"] == case["id"]
    # other bytes at the same address, reported by two workers at once: still that one case
    answers = []

    def worker(quality):
        answers.append(report(parties["crawler"], jpeg(parties["leaked"], quality)))

    threads = [threading.Thread(target=worker, args=(q,)) for q in (70, 75)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert [a.status_code for a in answers] == [200, 200]
    assert {a.json()["case"]["id"] for a in answers} == {case["id"]}
    listed = parties["crawler"].get("/cases").json()
    assert listed["total"] == 1 and listed["items"][0]["sightings"] == 4


def test_a_copy_at_a_new_address_is_a_new_case_and_unrelated_content_none(parties, opened):
    case, _ = opened
    elsewhere = report(parties["crawler"], jpeg(parties["leaked"]), url="http://mirror.example/a.jpg")
    assert elsewhere.status_code == 201 and elsewhere.json()["case"]["id"] != case["id"]
    unrelated = report(parties["crawler"], jpeg(cv2.resize(data.coffee(), (1920, 1080))), url="http://x.example/c.jpg")
    assert unrelated.status_code == 200 and unrelated.json() == {"matched": False, "created": False, "case": None}


def test_each_role_sees_only_its_own_cases(parties, opened):
    case, _ = opened
    assert parties["studio"].get(f"/cases/{case['id']}").status_code == 200
    assert case["id"] in [c["id"] for c in parties["auditor"].get("/cases").json()["items"]]
    assert parties["other"].get("/cases").json()["total"] == 0
    assert parties["other"].get(f"/cases/{case['id']}").status_code == 404
    assert parties["other"].get(f"/cases/{case['id']}/evidence").status_code == 404
    assert parties["other_crawler"].get(f"/cases/{case['id']}").status_code == 404
    assert parties["platform"].get("/cases").status_code == 403
    assert report(parties["studio"], jpeg(parties["leaked"])).status_code == 403
    assert report(parties["auditor"], jpeg(parties["leaked"])).status_code == 403
    check = {"alive": False}
    assert parties["studio"].post(f"/cases/{case['id']}/checks", json=check).status_code == 403
    assert parties["other_crawler"].post(f"/cases/{case['id']}/checks", json=check).status_code == 404
    # another crawler finding the same leak is told it is a known work's copy, not shown the case
    theirs = report(parties["other_crawler"], jpeg(attacks.ATTACKS["crop10"](parties["leaked"])))
    assert theirs.status_code == 200 and theirs.json() == {"matched": True, "created": False, "case": None}
    for bad in (
        {"alive": False, "checked_at": "2026-11-01T10:00:00"},
        {"alive": "maybe"},
        {"alive": False, "checked_at": "2099-01-01T00:00:00Z"},
    ):
        refused = parties["crawler"].post(f"/cases/{case['id']}/checks", json=bad)
        assert refused.status_code == 422, refused.text
    assert parties["crawler"].get(f"/cases/{case['id']}").json()["status"] == "open"


def test_rechecks_close_the_case_when_the_link_is_gone_and_record_its_lifetime(parties):
    first = datetime.now(UTC) - timedelta(hours=5)
    r = report(
        parties["crawler"],
        jpeg(parties["leaked"], 80),
        url="http://short-lived.example/a.jpg",
        fetched_at=first.isoformat(),
    )
    case = r.json()["case"]
    crawler = parties["crawler"]
    alive = crawler.post(
        f"/cases/{case['id']}/checks",
        json={"alive": True, "http_status": 200, "checked_at": (first + timedelta(hours=2)).isoformat()},
    )
    assert alive.status_code == 200 and alive.json()["status"] == "open" and alive.json()["checks"] == 1
    gone_at = first + timedelta(hours=4, minutes=18)
    gone = crawler.post(
        f"/cases/{case['id']}/checks", json={"alive": False, "http_status": 404, "checked_at": gone_at.isoformat()}
    ).json()
    assert gone["status"] == "closed" and gone["lifetime_seconds"] == 4 * 3600 + 18 * 60
    summary = parties["studio"].get("/cases/lifetimes").json()
    assert summary["closed"] == 1 and summary["median_lifetime_seconds"] == 4 * 3600 + 18 * 60
    assert parties["studio"].get("/cases", params={"status": "closed"}).json()["total"] == 1


def test_a_link_found_again_after_its_takedown_keeps_its_history(service, parties):
    """Found, taken down, found again, taken down again: the case keeps every life, in its
    answer, its timeline, the lifetimes summary and `cases show`."""
    first = datetime.now(UTC) - timedelta(hours=3)
    crawler, url = parties["crawler"], "http://comes-back.example/a.jpg"
    case = report(crawler, jpeg(parties["leaked"], 75), url=url, fetched_at=first.isoformat()).json()["case"]
    gone = first + timedelta(hours=1)
    crawler.post(f"/cases/{case['id']}/checks", json={"alive": False, "checked_at": gone.isoformat()})
    back = first + timedelta(hours=2)
    again = report(crawler, jpeg(parties["leaked"], 75), url=url, fetched_at=back.isoformat())
    assert again.status_code == 200 and again.json()["case"]["status"] == "open", again.text
    assert again.json()["case"]["history"] == [
        {
            "found_at": first.isoformat().replace("+00:00", "Z"),
            "gone_at": gone.isoformat().replace("+00:00", "Z"),
            "lifetime_seconds": 3600,
            "found_again_at": back.isoformat().replace("+00:00", "Z"),
        }
    ]
    down = back + timedelta(minutes=10)
    closed = crawler.post(f"/cases/{case['id']}/checks", json={"alive": False, "checked_at": down.isoformat()})
    assert closed.json()["status"] == "closed" and closed.json()["lifetime_seconds"] == 600  # from its re-finding
    assert len(closed.json()["history"]) == 1

    studio = parties["studio"]
    steps = studio.get(f"/cases/{case['id']}/timeline").json()["steps"]
    assert [s["kind"] for s in steps] == ["found", "removed", "re_found", "removed"]
    assert [datetime.fromisoformat(s["at"]) for s in steps] == [first, gone, back, down]
    lifetimes = [
        c["lifetime_seconds"]
        for c in studio.get("/cases", params={"limit": 500}).json()["items"]
        if c["lifetime_seconds"] is not None
    ]
    summary = studio.get("/cases/lifetimes").json()
    assert summary["mean_lifetime_seconds"] == (sum(lifetimes) + 3600) // (len(lifetimes) + 1)

    env = {
        "REELLEDGER_URL": service.url,
        "REELLEDGER_API_KEY": studio.headers["Authorization"].removeprefix("Bearer "),
        "COLUMNS": "250",
    }
    shown = CliRunner().invoke(cli, ["cases", "show", str(case["id"])], env=env)
    assert shown.exit_code == 0, shown.output
    minute = "%Y-%m-%d %H:%M UTC"
    assert (
        f"found {first.strftime(minute)}, gone {gone.strftime(minute)} (lifetime 1h00m00s), "
        f"found again {back.strftime(minute)}"
    ) in shown.output, shown.output


@pytest.mark.parametrize(
    "change, field",
    [
        ({"url": "ftp://pirate.example/a.jpg"}, "url"),
        ({"fetched_at": "2026-11-01T10:00:00"}, "fetched_at"),
        ({"fetched_at": "2099-01-01T00:00:00+00:00"}, "fetched_at"),
        ({"sha256": "0x" + "00" * 32}, "sha256"),
        ({"status": 99}, "status"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_sightings_are_refused_with_the_reason(parties, change, field):
    r = report(parties["crawler"], jpeg(parties["leaked"]), **change)
    assert r.status_code == 422, r.text
    assert field in r.text


def test_a_form_without_sighting_or_with_a_fake_screenshot_is_refused(parties):
    raw = jpeg(parties["leaked"])
    bare = parties["crawler"].post("/cases", files={"file": ("f.jpg", raw, "image/jpeg")})
    assert bare.status_code == 422 and "sighting" in bare.text
    fake = report(parties["crawler"], raw, screenshot=b"GIF89a not a png")
    assert fake.status_code == 422 and "PNG" in fake.text


def test_the_same_bytes_at_another_address_are_a_new_case_found_as_before(parties, opened):
    case, _ = opened
    again = report(
        parties["crawler"],
        jpeg(attacks.ATTACKS["crop10"](parties["leaked"])),
        url="http://another-mirror.example/astronaut.jpg",
    )
    assert again.status_code == 201, again.text
    copy = again.json()["case"]
    assert copy["id"] != case["id"] and copy["content_sha256"] == case["content_sha256"]
    assert copy["match"] == case["match"] and copy["leak"] == case["leak"]
    bundle = json.loads(parties["crawler"].get(f"/cases/{copy['id']}/evidence").content)
    assert bundle["url"] == "http://another-mirror.example/astronaut.jpg"


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_service(request, tmp_path):
    """A service of its own, where no distribution has been made yet."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    with running_service(tmp_path / "data", url, write_wait=10) as svc:
        yield svc


def test_a_copy_found_before_any_distribution_is_a_case_on_its_match_alone(fresh_service):
    _, _, studio = fresh_service.new_account(Role.rights_holder)
    _, _, crawler = fresh_service.new_account(Role.crawler)
    register(studio, MASTER, "Astronaut", fresh_service)
    r = report(crawler, jpeg(decode(MASTER)))
    assert r.status_code == 201, r.text  # not a 422 for want of watermark keys: none has marked anything
    assert r.json()["matched"] and r.json()["created"]
    evidence = json.loads(crawler.get(f"/cases/{r.json()['case']['id']}/evidence").content)
    assert evidence["watermark"] == {"found": False}


def test_a_copy_traced_before_any_distribution_reads_no_watermark(fresh_service):
    _, _, crawler = fresh_service.new_account(Role.crawler)
    r = crawler.post("/detect", files={"file": ("found.jpg", jpeg(decode(MASTER)), "application/octet-stream")})
    assert r.status_code == 200, r.text  # not a 422 for want of watermark keys: none has marked anything
    reading = r.json()["watermark"]
    assert (reading["found"], reading["keys_tried"], reading["media_kind"]) == (False, 0, "image")
    assert r.json()["distribution"] is None
