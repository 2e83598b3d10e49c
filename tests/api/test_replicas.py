"""Three `reelledger serve` replicas on one PostgreSQL database and one external Anvil node,
driven concurrently with registrations, licences, splits, rules, play reports and period
closes through all of them, while the replica leading the background loops is killed with
SIGKILL and started again: every accepted write is on chain exactly once, no client ever sees a
nonce error or a 5xx, another replica leads within seconds, and each period is committed and
finalised once. Clients do what they would behind a load balancer: a request cut off by the
kill is sent again, with its Idempotency-Key, to another replica.

A crawler reports copies of an uploaded photograph at several addresses meanwhile, and each
case's takedown notices go to a slow webhook receiver on loopback; the leader is killed while
it delivers them. Delivery is at least once on the wire: a leader killed after its POST and
before it records the answer leaves that notice to the next leader, which posts it again with
the same Idempotency-Key (the notice's id). So every notice is delivered, and the receiver,
dropping repeats by that key, has each notice exactly once."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from eth_utils import keccak
from sqlmodel import select
from web3 import Web3

from benchmarks.service import ProcessService
from ledger.accounts import create_account
from ledger.chain import artifacts
from ledger.config import Settings
from ledger.db import session
from ledger.models import ChainOp, NoticeDelivery, OpStatus, Role, TakedownNotice
from ledger.service import Ledger
from tests.helpers.cases import Receiver, jpeg
from tests.helpers.chain import ANVIL_DEV_KEY, external_anvil
from tests.helpers.distributions import MASTER, decode
from tests.helpers.settlement import RULE, ndjson

ROOT = Path(__file__).resolve().parents[2]
SERVE = "import sys; from ledger.cli import main; sys.exit(main(['serve']))"
REPLICAS = 3
PLATFORMS = 3  # each with a work licensed, split and priced, and two weekly periods to report and close
EXTRA_WORKS = 12
EXTRA_LICENCES = 6
LOOP = "outbox-reconciler"
NOTICES = "notice-delivery"
LEAKS = 4  # addresses a copy of the photograph is reported at: a case, and its notices, each
RECEIVER_DELAY = 0.3  # seconds the webhook takes to answer: the leader is killed while it delivers
START_TIMEOUT = 180.0  # three processes importing at once on a loaded 2-core machine
# "Try again shortly": a cut-off request's key not yet taken over, a cut-off report not yet
# removed, a report's anchor or a work's split or rule (answered 202) not yet confirmed.
TRANSIENT = {
    "idempotency_key_reused",
    "report_in_flight",
    "reports_not_anchored",
    "nothing_to_settle",
    "work_not_confirmed",
}


class Replica(ProcessService):
    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        super().__init__(directory / "data", [sys.executable, "-c", SERVE], **env)
        self.data_dir.mkdir(parents=True)

    def health(self) -> dict | None:
        try:
            return httpx.get(f"{self.url}/health", timeout=5).json()
        except (httpx.TransportError, ValueError):
            return None

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


@dataclass
class Traffic:
    """Every answer any replica gave, and the writes that were accepted."""

    replicas: list[Replica]
    answers: list[httpx.Response] = field(default_factory=list)
    cut_off: int = 0
    turn: int = 0
    guard: threading.Lock = field(default_factory=threading.Lock)

    def send(
        self, api_key: str, method: str, path: str, headers: dict | None = None, deadline: float = 90.0, **kwargs
    ) -> httpx.Response:
        """Send the request to the next replica; cut off (a replica dies or is down) or told to try
        again shortly, send it again, with the same Idempotency-Key, to the one after."""
        headers = {"Authorization": f"Bearer {api_key}", "Idempotency-Key": uuid.uuid4().hex, **(headers or {})}
        give_up = time.monotonic() + deadline
        while True:
            with self.guard:
                self.turn += 1
                replica = self.replicas[self.turn % len(self.replicas)]
            try:
                response = httpx.request(method, f"{replica.url}{path}", headers=headers, timeout=60, **kwargs)
            except httpx.TransportError:
                with self.guard:
                    self.cut_off += 1
                assert time.monotonic() < give_up, f"{method} {path}: no replica answered"
                time.sleep(0.2)
                continue
            with self.guard:
                self.answers.append(response)
            code = response.json().get("error", {}).get("code") if response.status_code == 409 else None
            if code in TRANSIENT and time.monotonic() < give_up:
                time.sleep(0.5)
                continue
            return response


def test_replicas_share_the_writes_and_a_killed_leader_is_replaced_without_a_nonce_error(tmp_path, postgres_url):
    master_key = base64.b64encode(secrets.token_bytes(32)).decode()
    with external_anvil(tmp_path) as node:
        settings = Settings(
            data_dir=tmp_path / "setup",
            database_url=postgres_url,
            rpc_url=node.url,
            master_key=master_key,
            signer_key=ANVIL_DEV_KEY,
        )
        ledger = Ledger(settings)  # the schema and the accounts, before any replica starts
        studios = [
            create_account(ledger.engine, ledger.keys, name=f"studio-{i}", role=Role.rights_holder)
            for i in range(PLATFORMS)
        ]
        platforms = [
            create_account(ledger.engine, ledger.keys, name=f"platform-{i}", role=Role.platform)
            for i in range(PLATFORMS)
        ]
        crawler = create_account(ledger.engine, ledger.keys, name="crawler", role=Role.crawler)
        receiver = Receiver(failures=0, delay=RECEIVER_DELAY)
        env = {
            "PYTHONPATH": str(ROOT),
            "REELLEDGER_DATABASE_URL": postgres_url,
            "REELLEDGER_RPC_URL": node.url,
            "REELLEDGER_SIGNER_KEY": ANVIL_DEV_KEY,
            "REELLEDGER_MASTER_KEY": master_key,
            "REELLEDGER_RECONCILE_INTERVAL": "0.3",
            "REELLEDGER_WRITE_WAIT": "2",
            "REELLEDGER_DISPUTE_WINDOW": "3",
            "REELLEDGER_PARSE_WORKERS": "1",
            "REELLEDGER_IDEMPOTENCY_TAKEOVER": "3",  # a request cut off by the kill is taken over by its retry
            "REELLEDGER_TAKEDOWN_WEBHOOK": receiver.url,
        }
        replicas = [Replica(tmp_path / f"replica-{i}", env) for i in range(REPLICAS)]
        try:
            with ThreadPoolExecutor(REPLICAS) as pool:  # together: one migrates and deploys, the others wait
                healths = list(pool.map(lambda r: r.start(START_TIMEOUT), replicas))
            assert len({h["contracts"]["WorkRegistry"] for h in healths}) == 1, healths
            assert sorted(loop for h in healths for loop in h["leading"]).count(LOOP) == 1, healths
            _drive_and_check(ledger, node.url, replicas, studios, platforms, crawler, receiver, healths[0])
        finally:
            for replica in replicas:
                if replica.process and replica.process.poll() is None:
                    replica.stop()
            receiver.close()
            ledger.engine.dispose()


def _drive_and_check(ledger, rpc_url, replicas, studios, platforms, crawler, receiver, health) -> None:
    traffic = Traffic(replicas)
    now = int(time.time())
    today = date.today()
    weeks = [(today - timedelta(days=11), today - timedelta(days=5)), (today - timedelta(days=4), today)]
    expected: Counter = Counter()  # what must be on chain once each: "work:0x..", "licence:<end>", ...
    periods: dict[str, str] = {}  # period id -> its platform's API key
    finished = threading.Event()
    answered = Counter()

    def ok(response: httpx.Response, what: str) -> dict:
        assert response.status_code in (200, 201, 202), (what, response.status_code, response.text)
        answered["writes"] += 1
        return response.json()

    def register(studio, title: str) -> str:
        sha = hashlib.sha256(f"{title} {uuid.uuid4()}".encode()).hexdigest()
        body = ok(
            traffic.send(studio.api_key, "POST", "/works", json={"sha256": sha, "title": title, "kind": "film"}), title
        )
        expected[f"work:0x{sha}"] += 1
        return body["work_id"]

    def licence(studio, work_id: str, platform, end: int) -> None:
        grant = {"licensee_id": platform.account.id, "territories": ["CN"], "rights": ["streaming"]}
        grant.update(start=now - 60 * 86_400, end=end)
        ok(traffic.send(studio.api_key, "POST", f"/works/{work_id}/licences", json=grant), f"licence {end}")
        expected[f"licence:{end}"] += 1

    def deal(i: int) -> None:
        """A platform's life: its work licensed, split, priced; a report and a close per week."""
        studio, platform = studios[i], platforms[i]
        work_id = register(studio, f"Series {i}")
        licence(studio, work_id, platform, now + 30 * 86_400 + i)
        payees = [
            {"address": studio.account.address, "bps": 7_000},
            {"address": platforms[i].account.address, "bps": 3_000},
        ]
        ok(traffic.send(studio.api_key, "POST", f"/works/{work_id}/splits", json={"payees": payees}), "split")
        rule = {"effective_from": str(weeks[0][0] - timedelta(days=30)), "rule": RULE}
        ok(traffic.send(studio.api_key, "POST", f"/works/{work_id}/rules", json=rule), "rule")
        for week, (first, last) in enumerate(weeks):
            report_id = f"p{i}-week-{week}"
            rows = [
                {
                    "work": work_id,
                    "territory": "CN",
                    "date": str(first + timedelta(days=d)),
                    "plays": 1_000 + d,
                    "valid_plays": 900 + d,
                    "watch_minutes": 30_000,
                    "ad_revenue": 12_345,
                    "currency": "CNY",
                }
                for d in range((last - first).days + 1)
            ]
            span = {"period_start": str(first), "period_end": str(last), "currency": "CNY"}
            sent = traffic.send(
                platform.api_key,
                "POST",
                "/reports",
                params={"report_id": report_id, **span},
                content=ndjson(rows),
                headers={"content-type": "application/x-ndjson"},
            )
            ok(sent, report_id)
            expected[f"report:{keccak(text=report_id).hex()}"] += 1
            closed = ok(traffic.send(platform.api_key, "POST", "/periods/close", json=span), f"close {report_id}")
            periods[closed["period_id"]] = platform.api_key
            expected[f"commit:{closed['period_id'].removeprefix('0x')}"] += 1
            expected[f"finalise:{closed['period_id'].removeprefix('0x')}"] += 1

    def extra(j: int) -> None:
        studio = studios[j % PLATFORMS]
        work_id = register(studio, f"Reel {j}")
        if j < EXTRA_LICENCES:
            licence(studio, work_id, platforms[j % PLATFORMS], now + 40 * 86_400 + j)

    def leaks() -> None:
        """A studio's photograph registered from its upload, and a crawler's reports of a copy of it
        at LEAKS addresses: a case each, with its notices to deliver."""
        studio = studios[0]
        metadata = {"metadata": '{"title": "Astronaut", "kind": "film"}'}
        sent = traffic.send(
            studio.api_key, "POST", "/works", files={"file": ("master.png", MASTER, "image/png")}, data=metadata
        )
        expected[f"work:{ok(sent, 'photograph')['work_id']}"] += 1
        copy = jpeg(decode(MASTER))
        for k in range(LEAKS):
            sighting = {
                "url": f"http://pirate.example/replicas/{k}.jpg",
                "fetched_at": datetime.now(UTC).isoformat(),
                "page_url": "http://pirate.example/",
                "status": 200,
                "content_type": "image/jpeg",
            }
            files = {"file": ("found.jpg", copy, "application/octet-stream")}
            data = {"sighting": json.dumps(sighting)}
            case = ok(traffic.send(crawler.api_key, "POST", "/cases", files=files, data=data), f"leak {k}")
            assert case["matched"], case

    def killer() -> None:
        """Once a third of the writes are answered and notices are being delivered, SIGKILL the
        replica leading the loops (notice delivery too, when one replica leads both, as the
        first to start does); check that another takes over, then start the killed one again."""
        give_up = time.monotonic() + 300
        while (answered["writes"] < 12 or not receiver.posts) and not finished.is_set():
            assert time.monotonic() < give_up, "no notice was delivered"
            time.sleep(0.05)
        leading = {r: (r.health() or {}).get("leading", []) for r in replicas}
        leader = max((r for r in replicas if LOOP in leading[r]), key=lambda r: NOTICES in leading[r])
        leader.kill()
        killed_at, writes_before, posts_before = time.monotonic(), answered["writes"], len(receiver.posts)
        while not any(LOOP in (r.health() or {}).get("leading", []) for r in replicas if r is not leader):
            assert time.monotonic() - killed_at < 15, "no replica took over the background loops"
            time.sleep(0.1)
        takeover = time.monotonic() - killed_at
        time.sleep(1.0)
        leader.start(START_TIMEOUT)
        print(
            f"leader killed after {writes_before} writes and {posts_before} notice posts "
            f"(it led notice delivery: {NOTICES in leading[leader]}); another led in {takeover:.1f} s"
        )

    with ThreadPoolExecutor(PLATFORMS + 5) as pool:
        kill = pool.submit(killer)
        jobs = [pool.submit(leaks)] + [pool.submit(deal, i) for i in range(PLATFORMS)]
        jobs += [pool.submit(extra, j) for j in range(EXTRA_WORKS)]
        try:
            for job in jobs:
                job.result()
        finally:
            finished.set()
        kill.result()

    # No client saw a nonce error, nor any 5xx: the killed replica's requests were cut off, not refused.
    assert not [a.text for a in traffic.answers if a.status_code >= 500 or "nonce" in a.text.lower()]
    assert traffic.cut_off >= 1  # the kill did cut requests off

    client = replicas[0]
    deadline = time.monotonic() + 60
    while True:  # every write confirmed, every period finalised by whichever replica leads
        states = [
            httpx.get(f"{client.url}/periods/{p}", headers={"Authorization": f"Bearer {key}"}, timeout=10).json()[
                "status"
            ]
            for p, key in periods.items()
        ]
        settled = client.health()["outbox_unfinished"] == 0
        with session(ledger.engine) as db:
            notices = db.exec(select(TakedownNotice)).all()
        delivered = len(notices) >= LEAKS and all(n.delivery == NoticeDelivery.delivered for n in notices)
        if settled and states.count("finalised") == len(periods) and delivered:
            break
        assert time.monotonic() < deadline, (states, client.health())
        time.sleep(0.5)

    on_chain = _events(Web3(Web3.HTTPProvider(rpc_url)), health["contracts"])
    assert {k: on_chain[k] for k in expected} == dict.fromkeys(expected, 1)
    assert sum(on_chain[k] for k in on_chain if k.split(":")[0] in ("commit", "finalise")) == 2 * len(periods)

    # Each notice delivered: at least once on the wire, once after the receiver drops repeats by key.
    posted = Counter({k.lower(): v for k, v in headers.items()}["idempotency-key"] for headers, _ in receiver.posts)
    assert set(posted) == {f"takedown-notice-{n.id}" for n in notices}
    for key in posted:  # a repeat is the same notice, not another
        assert len({body for headers, body in receiver.posts if key in headers.values()}) == 1, key
    repeats = sum(posted.values()) - len(posted)

    # Nothing signed twice: the signer's nonce counts exactly the outbox's operations, one nonce each.
    signer = Web3.to_checksum_address(health["operator"])
    with session(ledger.engine) as db:
        ops = db.exec(select(ChainOp).where(ChainOp.sender == signer)).all()
    assert all(op.status == OpStatus.confirmed for op in ops), Counter(op.status for op in ops)
    assert sorted(op.nonce for op in ops) == list(range(len(ops)))
    assert Web3(Web3.HTTPProvider(rpc_url)).eth.get_transaction_count(signer) == len(ops)
    print(
        f"{answered['writes']} writes through {len(replicas)} replicas, {traffic.cut_off} cut off by the kill "
        f"and sent again; {len(ops)} signer transactions, {len(periods)} periods finalised once each; "
        f"{len(notices)} notices delivered, {repeats} posted again after the kill"
    )


def _events(w3: Web3, contracts: dict[str, str]) -> Counter:
    def logs(name: str, event: str) -> list:
        contract = w3.eth.contract(address=contracts[name], abi=artifacts.load(name).abi)
        return contract.events[event]().get_logs(from_block=0)

    seen: Counter = Counter()
    seen.update(f"work:0x{log['args']['workId'].hex()}" for log in logs("WorkRegistry", "WorkRegistered"))
    seen.update(f"licence:{log['args']['scope']['end']}" for log in logs("LicenseRegistry", "LicenseGranted"))
    seen.update(f"report:{log['args']['reportId'].hex()}" for log in logs("SettlementRegistry", "ReportAnchored"))
    seen.update(f"commit:{log['args']['periodId'].hex()}" for log in logs("SettlementRegistry", "PeriodCommitted"))
    seen.update(f"finalise:{log['args']['periodId'].hex()}" for log in logs("SettlementRegistry", "PeriodFinalized"))
    return seen
