"""The service killed with SIGKILL in the middle of a burst of concurrent writes, then started
again: every write it accepted is on chain exactly once, nothing it refused is on chain, nothing
is sent twice, and clients retrying with their Idempotency-Keys get the same resources. The
service runs as its own process (`reelledger serve`) on loopback with its managed Anvil node."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlmodel import select
from web3 import Web3

from ledger.accounts import create_account
from ledger.chain import artifacts
from ledger.config import Settings
from ledger.db import session
from ledger.models import ChainOp, OpStatus, Role
from ledger.service import Ledger
from tests.helpers.scripts_run import Service

ROOT = Path(__file__).resolve().parents[2]
WRITES = 30
SERVE = "import sys; from ledger.cli import main; sys.exit(main(['serve']))"
CLIENTS = 6


class Process(Service):
    """`reelledger serve` in a process of its own (this checkout's code, no setup step), killed
    and started again on the same data; SQLite or PostgreSQL."""

    def __init__(self, data_dir: Path, database_url: str | None) -> None:
        super().__init__(data_dir)
        self.master_key = base64.b64encode(secrets.token_bytes(32)).decode()
        self.database_url = database_url
        self.command = [sys.executable, "-c", SERVE]
        self.extra_env = {
            "PYTHONPATH": str(ROOT),
            "REELLEDGER_MASTER_KEY": self.master_key,
            "REELLEDGER_RECONCILE_INTERVAL": "0.2",
            "REELLEDGER_WRITE_WAIT": "2",
        }
        if database_url:
            self.extra_env["REELLEDGER_DATABASE_URL"] = database_url

    def settings(self) -> Settings:
        return Settings(
            data_dir=self.data_dir,
            anvil_port=self.anvil_port,
            master_key=self.master_key,
            database_url=self.database_url,
        )

    def kill(self) -> None:
        """SIGKILL to the service process: no shutdown, nothing flushed, requests cut off."""
        Service.stop(self, signal.SIGKILL)

    def settled(self, timeout: float = 90.0) -> dict:
        deadline = time.monotonic() + timeout
        while (health := httpx.get(f"{self.url}/health", timeout=10).json())["outbox_unfinished"]:
            assert time.monotonic() < deadline, health
            time.sleep(0.2)
        return health

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        pid_file = self.data_dir / "anvil-state.pid"
        if pid_file.exists():  # the node a killed service left behind
            try:
                os.kill(int(pid_file.read_text()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass


@pytest.fixture(params=["sqlite", "postgresql"])
def process(request, tmp_path):
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    proc = Process(tmp_path / "data", url)
    yield proc
    proc.stop()


@dataclass(frozen=True)
class Write:
    api_key: str
    key: str  # its Idempotency-Key
    url: str
    body: dict
    on_chain: str  # what names it among the registries' events: a work id, or a licence's end time
    resource: str  # the field of the answer that names what it made


def test_a_service_killed_mid_burst_keeps_every_accepted_write_once_and_sends_nothing_twice(process):
    ledger = Ledger(process.settings())  # the schema and the accounts, before the service starts
    studios = [
        create_account(ledger.engine, ledger.keys, name=f"studio-{i}", role=Role.rights_holder) for i in range(CLIENTS)
    ]
    platform = create_account(ledger.engine, ledger.keys, name="streamer", role=Role.platform).account
    ledger.engine.dispose()
    health = process.start()
    signer = health["operator"]

    def post(write: Write, timeout: float = 30) -> httpx.Response:
        return httpx.post(
            f"{process.url}{write.url}",
            json=write.body,
            timeout=timeout,
            headers={"Authorization": f"Bearer {write.api_key}", "Idempotency-Key": write.key},
        )

    catalogue = []  # one confirmed work per studio, licensed during the burst
    for i, studio in enumerate(studios):
        sha = hashlib.sha256(f"catalogue {i}".encode()).hexdigest()
        first = Write(
            studio.api_key,
            f"catalogue-{i}",
            "/works",
            {"sha256": sha, "title": f"Catalogue {i}", "kind": "film"},
            "0x" + sha,
            "work_id",
        )
        assert post(first, 60).status_code in (201, 202)
        catalogue.append("0x" + sha)
    process.settled()

    now = int(time.time())
    writes = []
    for i in range(WRITES):
        studio = studios[i % CLIENTS]
        if i % 3 == 2:  # a licence on the studio's catalogue work, told apart on chain by its end time
            end = now + 30 * 86_400 + i
            writes.append(
                Write(
                    studio.api_key,
                    f"licence-{i}",
                    f"/works/{catalogue[i % CLIENTS]}/licences",
                    {
                        "licensee_id": platform.id,
                        "territories": ["CN"],
                        "rights": ["streaming"],
                        "start": now - 60,
                        "end": end,
                    },
                    f"licence-end:{end}",
                    "id",
                )
            )
        else:
            sha = hashlib.sha256(f"reel {i}".encode()).hexdigest()
            writes.append(
                Write(
                    studio.api_key,
                    f"work-{i}",
                    "/works",
                    {"sha256": sha, "title": f"Reel {i}", "kind": "film"},
                    "0x" + sha,
                    "work_id",
                )
            )
    answers: dict[str, httpx.Response | Exception] = {}
    answered = threading.Event()

    def write(w: Write):
        try:
            answers[w.key] = post(w)
        except httpx.TransportError as exc:  # the service died under this request
            answers[w.key] = exc
            return
        if sum(isinstance(a, httpx.Response) for a in answers.values()) >= WRITES // 4:
            answered.set()

    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(write, w) for w in writes]
        assert answered.wait(120), "no write was answered"
        process.kill()  # mid-burst: some writes answered, some in flight, some not yet sent
        for future in futures:
            future.result()

    def accepted(answer) -> bool:
        return isinstance(answer, httpx.Response) and answer.status_code in (201, 202)

    outcome = Counter(
        "lost in the kill" if isinstance(a, Exception) else "accepted" if accepted(a) else "refused"
        for a in answers.values()
    )
    assert outcome["accepted"] >= 1 and outcome["lost in the kill"] >= 1, outcome
    refused = {k for k, a in answers.items() if isinstance(a, httpx.Response) and not accepted(a)}
    assert all(answers[k].status_code == 503 for k in refused), {k: answers[k].text for k in refused}

    process.start()
    process.settled()
    w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{process.anvil_port}"))
    works = w3.eth.contract(address=health["contracts"]["WorkRegistry"], abi=artifacts.load("WorkRegistry").abi)
    licences = w3.eth.contract(
        address=health["contracts"]["LicenseRegistry"], abi=artifacts.load("LicenseRegistry").abi
    )

    def on_chain() -> Counter:
        seen = Counter(
            "0x" + log["args"]["workId"].hex() for log in works.events.WorkRegistered().get_logs(from_block=0)
        )
        seen.update(
            f"licence-end:{log['args']['scope']['end']}"
            for log in licences.events.LicenseGranted().get_logs(from_block=0)
        )
        return seen

    chain = on_chain()
    for w in writes:
        if accepted(answers.get(w.key)):
            assert chain[w.on_chain] == 1, f"accepted write {w.key} is on chain {chain[w.on_chain]} times"
        if w.key in refused:
            assert chain[w.on_chain] == 0, f"refused write {w.key} is on chain"

    # Every client sends each write again with its key: what it saw accepted, and what it did not see answered.
    for w in writes:
        response = post(w, 60)
        assert response.status_code in (200, 201, 202), (w.key, response.text)
        if accepted(answers.get(w.key)):
            assert response.json()[w.resource] == answers[w.key].json()[w.resource], w.key
    process.settled()
    chain = on_chain()
    assert all(chain[w.on_chain] == 1 for w in writes), chain
    assert sum(chain.values()) == len(writes) + len(catalogue)

    # Nothing sent twice: the signer's nonce counts exactly the operations the outbox holds for it.
    check = Ledger(process.settings())
    try:
        with session(check.engine) as db:
            ops = db.exec(select(ChainOp).where(ChainOp.sender == Web3.to_checksum_address(signer))).all()
    finally:
        check.engine.dispose()
    assert all(op.status == OpStatus.confirmed for op in ops), Counter(op.status for op in ops)
    assert w3.eth.get_transaction_count(signer) == len(ops)
    print(
        f"burst of {WRITES} writes killed: {dict(outcome)}; on chain after retries: {sum(chain.values())} "
        f"(each once), signer transactions {len(ops)} = outbox operations"
    )
