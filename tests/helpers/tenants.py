"""Two tenants' worlds on one running service, each with one of every resource the API names by
a path parameter (account, work, licence, period and its line, dispute, report, distribution,
case, notice, crawl job), for the tests that walk the OpenAPI document."""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import cv2
import numpy as np
import redis
from skimage import data

from ledger.crawl.job_book import JOBS_ALL, job_key, record_job, submitter_key
from ledger.models import Role
from tests.helpers.service import settle, wait_status, written
from tests.helpers.settlement import DAY, RULE, close_span

PICTURES = {"X": data.coffee, "Y": data.chelsea}  # unlike each other, so neither world's copy matches the other's work


def png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    assert ok
    return buf.tobytes()


@dataclass
class World:
    """One tenant: a rights holder with a work licensed to its platform, a settled period, a
    distribution of the work to that platform, and its crawler's case and crawl job."""

    name: str
    clients: dict = field(default_factory=dict)  # role -> client, this world's accounts
    ids: dict = field(default_factory=dict)  # role -> account id
    addresses: dict = field(default_factory=dict)
    platform_name: str = ""
    master: bytes = b""
    work_id: str = ""
    licence_id: int = 0
    report_id: str = ""
    period_id: str = ""
    line_index: int = 0
    dispute_id: int = 0
    dist_id: int = 0
    case_id: int = 0
    job_id: str = ""
    media_job_id: int = 0

    def params(self) -> dict:
        """Path parameters naming this world's resources, by the names the document gives them."""
        return {
            "account_id": self.ids[Role.rights_holder],
            "work_id": self.work_id,
            "licence_id": self.licence_id,
            "period_id": self.period_id,
            "index": self.line_index,
            "dispute_id": self.dispute_id,
            "report_id": self.report_id,
            "dist_id": self.dist_id,
            "case_id": self.case_id,
            "notice_format": "cn-notice",
            "job_id": self.job_id,
            "media_job_id": self.media_job_id,
        }

    def secrets(self) -> dict[str, str]:
        """Identifiers of this world's resources that another tenant's answers must never show, by
        the path parameter that names them (or the account they belong to)."""
        return {
            "work_id": self.work_id,
            "period_id": self.period_id,
            "report_id": self.report_id,
            "platform": self.platform_name,
            "rights_holder": self.addresses[Role.rights_holder],
            "crawler": self.addresses[Role.crawler],
        }


def make_world(service, name: str) -> World:
    w = World(name)
    for role in (Role.rights_holder, Role.platform, Role.crawler):
        w.ids[role], w.addresses[role], w.clients[role] = service.new_account(role)
    owner, platform, crawler = w.clients[Role.rights_holder], w.clients[Role.platform], w.clients[Role.crawler]
    w.platform_name = platform.get("/accounts/me").json()["name"]
    w.master = png(PICTURES[name]())
    work = owner.post(
        "/works",
        files={"file": ("master.png", w.master, "image/png")},
        data={"metadata": json.dumps({"title": f"World {name}", "kind": "film"})},
    )
    w.work_id = written(service, work).json()["work_id"]
    now = int(time.time())
    licence = owner.post(
        f"/works/{w.work_id}/licences",
        json={
            "licensee_id": w.ids[Role.platform],
            "territories": ["CN"],
            "rights": ["streaming"],
            "start": now - 60 * DAY,
            "end": now + 30 * DAY,
            "sublicensable": True,
        },
    )
    w.licence_id = written(service, licence).json()["id"]
    written(
        service,
        owner.post(
            f"/works/{w.work_id}/splits", json={"payees": [{"address": w.addresses[Role.rights_holder], "bps": 10_000}]}
        ),
    )
    start, end = date.today() - timedelta(days=10), date.today() - timedelta(days=4)
    written(
        service,
        owner.post(f"/works/{w.work_id}/rules", json={"effective_from": str(start - timedelta(days=30)), "rule": RULE}),
    )
    w.report_id = f"report-{name}-{uuid.uuid4().hex[:8]}"
    rows = "".join(
        json.dumps(
            {
                "work": w.work_id,
                "territory": "CN",
                "date": str(start + timedelta(days=i)),
                "plays": 100,
                "valid_plays": 90,
                "watch_minutes": 3_000,
                "ad_revenue": 500,
                "currency": "CNY",
            }
        )
        + "\n"
        for i in range(3)
    )
    report = platform.post(
        "/reports",
        params={"report_id": w.report_id, "period_start": str(start), "period_end": str(end), "currency": "CNY"},
        content=rows,
        headers={"content-type": "application/x-ndjson"},
    )
    assert report.status_code == 201, report.text
    closed = close_span(platform, {"period_start": str(start), "period_end": str(end), "currency": "CNY"})
    assert closed.status_code == 201, closed.text
    w.period_id = closed.json()["period_id"]
    settle(service.ledger.chain.outbox)
    lines = owner.get(f"/periods/{w.period_id}/statement", params={"proofs": "false"}).json()["lines"]
    w.line_index = lines[0]["index"]
    disputed = owner.post(
        f"/periods/{w.period_id}/lines/{w.line_index}/dispute", json={"reason": "a test dispute", "claimed_amount": 1}
    )
    assert disputed.status_code == 200, disputed.text
    dist = owner.post(
        f"/works/{w.work_id}/distributions",
        files={"file": ("master.png", w.master, "image/png")},
        data={"distribution": json.dumps({"platform": w.platform_name, "session": f"s-{name}"})},
    )
    assert dist.status_code == 202, dist.text
    w.dist_id = dist.json()["id"]
    hashing = owner.post(  # the master is registered: this job ends refusing it, a job all the same
        "/works/jobs",
        files={"file": ("master.png", w.master, "image/png")},
        data={"metadata": json.dumps({"title": f"World {name} again", "kind": "film"})},
    )
    assert hashing.status_code == 202, hashing.text
    w.media_job_id = hashing.json()["id"]
    sighting = {
        "url": f"http://pirate.example/{name}.png",
        "fetched_at": datetime.now(UTC).isoformat(),
        "status": 200,
        "content_type": "image/png",
    }
    found = crawler.post(
        "/cases",
        files={
            "file": ("found.png", w.master, "application/octet-stream"),
            "screenshot": ("page.png", png(np.full((20, 30, 3), 90, np.uint8)), "image/png"),
        },
        data={"sighting": json.dumps(sighting)},
    )
    assert found.status_code == 201 and found.json()["case"], found.text
    w.case_id = found.json()["case"]["id"]
    # the notice's recipient answers it through the link the notice carries (no account)
    # (its rights holder sends the notice, so only it reads the link's token in full)
    notice = owner.get(f"/cases/{w.case_id}").json()["notices"][0]["body"]
    token = re.search(r"counter-notices\?token=([A-Za-z0-9_-]+)", notice).group(1)
    countered = service.client(None).post(
        "/counter-notices",
        json={
            "token": token,
            "name": f"Uploader {name}",
            "address": "1 Example Road",
            "email": "uploader@example.org",
            "urls": [sighting["url"]],
            "good_faith": True,
        },
    )
    assert countered.status_code == 201, countered.text
    w.job_id = uuid.uuid4().hex[:12]
    record_job(
        redis.Redis.from_url(service.settings.redis_url),
        w.job_id,
        {"seeds": [f"http://pirate.example/{name}/"], "rescan_every": None},
        time.time(),
        w.addresses[Role.crawler],
    )
    return w


def wait_ready(world: World, timeout: float = 120) -> None:
    owner = world.clients[Role.rights_holder]
    wait_status(owner, f"/distributions/{world.dist_id}", ("ready", "failed"), timeout, every=0.2)


def forget_jobs(service, *worlds: World) -> None:
    client = redis.Redis.from_url(service.settings.redis_url)
    for w in worlds:
        client.delete(job_key(w.job_id))
        client.zrem(JOBS_ALL, w.job_id)
        client.zrem(submitter_key(w.addresses[Role.crawler]), w.job_id)
