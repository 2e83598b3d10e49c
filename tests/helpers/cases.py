"""Piracy cases over HTTP: a registered photograph and a leaked, watermarked copy of it on a given
service, a copy reported as a crawler reports it (as JPEG), the case's evidence waited for until it
is anchored, and a takedown endpoint that refuses its first posts."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np
import pytest

from ledger.models import Role
from tests.helpers.distributions import MASTER, decode, distribute, register


@pytest.fixture
def leaked_copy():
    def make(svc):
        _, _, studio = svc.new_account(Role.rights_holder)
        _, _, platform = svc.new_account(Role.platform)
        name = platform.get("/accounts/me").json()["name"]
        work_id = register(studio, MASTER, "Astronaut", svc)
        dist_id = distribute(studio, work_id, MASTER, name).json()["id"]
        deadline = time.monotonic() + 60
        while (dist := studio.get(f"/distributions/{dist_id}").json())["status"] not in ("ready", "failed"):
            assert time.monotonic() < deadline, dist["status"]
            svc.ledger.chain.outbox.reconcile()  # the service's own reconciler may be idle in these tests
            time.sleep(0.1)
        assert dist["status"] == "ready", dist
        return work_id, decode(studio.get(dist["copy"]["url"]).content), name

    return make


LEAK_URL = "http://pirate.example/watch/astronaut.jpg"


def jpeg(image: np.ndarray, quality: int = 85) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


def report(client, raw: bytes, url: str = LEAK_URL, screenshot: bytes | None = None, **fields):
    sighting = {
        "url": url,
        "fetched_at": datetime.now(UTC).isoformat(),
        "page_url": "http://pirate.example/",
        "status": 200,
        "http_version": "HTTP/1.1",
        "content_type": "image/jpeg",
        "headers": {"Content-Type": "image/jpeg", "Server": "pirate/1.0", "Set-Cookie": "sid=crawler-secret"},
    }
    sighting.update(fields)
    files = {"file": ("found.jpg", raw, "application/octet-stream")}
    if screenshot is not None:
        files["screenshot"] = ("page.png", screenshot, "image/png")
    return client.post("/cases", files=files, data={"sighting": json.dumps(sighting)})


def wait_anchored(client, case_id: int, ledger, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        case = client.get(f"/cases/{case_id}").json()
        if case["anchor"]["status"] != "pending":
            return case
        ledger.chain.outbox.reconcile()
        time.sleep(0.05)
    raise AssertionError("the evidence anchor stayed pending")


class Receiver:
    """A takedown endpoint on loopback: refuses its first `failures` posts, then takes them; each
    answer comes `delay` seconds after the post (a slow endpoint)."""

    def __init__(self, failures: int, delay: float = 0.0) -> None:
        self.failures, self.posts = failures, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append((dict(self.headers), body))
                time.sleep(delay)
                code = 503 if len(receiver.posts) <= receiver.failures else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/takedown"

    def close(self) -> None:
        self.server.shutdown()
