"""Cases when something is down: the chain node stopped while evidence is anchored (the case
waits and is anchored later, once), and the takedown endpoint failing (the notice is sent
again with back-off, signed, and its delivery recorded)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import cv2
import numpy as np
import pytest
from skimage import data

from ledger.models import Role
from tests.helpers.cases import (
    Receiver,
    jpeg,
    leaked_copy,  # noqa: F401  (fixture)
    report,
)
from tests.helpers.service import Service, bound_socket, settle, written
from tests.helpers.settings import make_settings


@pytest.fixture
def receiver():
    r = Receiver(failures=1)
    yield r
    r.close()


def test_evidence_waits_for_a_stopped_node_and_is_anchored_once(tmp_path, leaked_copy):
    sock, port = bound_socket()
    settings = make_settings(tmp_path / "data", port=port, reconcile_interval=3600, write_wait=1)
    svc = Service(settings, sock).start()
    try:
        work_id, leaked, _ = leaked_copy(svc)
        _, _, crawler = svc.new_account(Role.crawler)
        _, _, studio = svc.new_account(Role.rights_holder)
        # the studio's operator approval goes through while the node is up
        written(svc, studio.post("/works", json={"sha256": "22" * 32, "title": "warm-up", "kind": "film"}))
        svc.ledger.chain.node.kill()
        r = report(crawler, jpeg(leaked), url="http://pirate.example/offline.jpg")
        assert r.status_code == 201, r.text
        case = r.json()["case"]
        assert case["anchor"]["status"] == "pending" and case["notices"]
        again = report(crawler, jpeg(leaked), url="http://pirate.example/offline.jpg")
        assert again.json()["case"]["id"] == case["id"] and not again.json()["created"]

        # a copy of a work whose own registration is still on its way is not a case yet: 409, try again
        camera = cv2.resize(data.camera(), (1920, 1080))
        pending = studio.post(
            "/works",
            files={"file": ("camera.png", cv2.imencode(".png", camera)[1].tobytes(), "image/png")},
            data={"metadata": json.dumps({"title": "Pending", "kind": "film"})},
        )
        assert pending.status_code == 202, pending.text
        early = report(crawler, jpeg(np.dstack([camera] * 3)), url="http://pirate.example/pending.jpg")
        assert early.status_code == 409 and "not confirmed" in early.text
        assert crawler.get("/cases").json()["total"] == 1

        assert svc.ledger.chain.ensure_node()
        settle(svc.ledger.chain.outbox)
        later = report(crawler, jpeg(np.dstack([camera] * 3)), url="http://pirate.example/pending.jpg")
        assert later.status_code == 201, later.text
        anchored = crawler.get(f"/cases/{case['id']}").json()
        assert anchored["anchor"]["status"] == "confirmed"
        logs = svc.ledger.chain.events(
            "EvidenceRegistry", "EvidenceAnchored", evidenceHash=bytes.fromhex(case["evidence_hash"][2:])
        )
        assert len(logs) == 1 and "0x" + logs[0]["args"]["workId"].hex() == work_id
    finally:
        svc.stop()


def test_notices_are_delivered_signed_with_retries_and_recorded(tmp_path, receiver, leaked_copy):
    sock, port = bound_socket()
    settings = make_settings(
        tmp_path / "data",
        port=port,
        reconcile_interval=0.2,
        takedown_webhook=receiver.url,
        takedown_webhook_secret="s3cret",
    )
    svc = Service(settings, sock).start()
    try:
        _, leaked, _ = leaked_copy(svc)
        _, _, crawler = svc.new_account(Role.crawler)
        case = report(crawler, jpeg(leaked), url="http://pirate.example/sent.jpg").json()["case"]
        assert {n["delivery"] for n in case["notices"]} == {"sending"}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            notices = crawler.get(f"/cases/{case['id']}").json()["notices"]
            if all(n["delivery"] == "delivered" for n in notices):
                break
            time.sleep(0.2)
        assert {n["format"]: n["delivery"] for n in notices} == {"cn-notice": "delivered", "dmca": "delivered"}
        assert sorted(n["attempts"] for n in notices) == [1, 2]  # the first post was refused, then retried
        assert all(n["response_status"] == 200 for n in notices)
        assert len(receiver.posts) == 3
        for headers, body in receiver.posts:
            expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
            assert headers["X-ReelLedger-Signature"] == expected
            sent = json.loads(body)
            assert sent["case"]["evidence_hash"] == case["evidence_hash"]
            assert headers["Idempotency-Key"] == f"takedown-notice-{sent['notice']['id']}"
        assert "s3cret" not in crawler.get(f"/cases/{case['id']}").text
        # sending again on request: the rights holder asks, a delivered notice is not posted twice
        resent = crawler.post(f"/cases/{case['id']}/notices/dmca/send")
        assert resent.status_code == 202
        time.sleep(1)
        assert len(receiver.posts) == 3
        assert crawler.post(f"/cases/{case['id']}/notices/fax/send").status_code == 422
    finally:
        svc.stop()
