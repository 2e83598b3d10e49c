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
from tests.test_service import Service

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
        self.extra_env = dict(PYTHONPATH=str(ROOT), REELLEDGER_MASTER_KEY=self.master_key,
                              REELLEDGER_RECONCILE_INTERVAL="0.2", REELLEDGER_WRITE_WAIT="2")
        if database_url:
            self.extra_env["REELLEDGER_DATABASE_URL"] = database_url

    def settings(self) -> Settings:
        return Settings(data_dir=self.data_dir, anvil_port=self.anvil_port, master_key=self.master_key,
                        database_url=self.database_url)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

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


def test_a_service_killed_mid_burst_keeps_every_accepted_write_once_and_sends_nothing_twice(process):
    ledger = Ledger(process.settings())  # the schema and the studios, before the service starts
    studios = [create_account(ledger.engine, ledger.keys, name=f"studio-{i}", role=Role.rights_holder) for i in range(CLIENTS)]
    ledger.engine.dispose()
    health = process.start()
    signer, registry_address = health["operator"], health["contracts"]["WorkRegistry"]

    writes = [(studios[i % CLIENTS].api_key, f"burst-{i}", hashlib.sha256(f"reel {i}".encode()).hexdigest())
              for i in range(WRITES)]
    answers: dict[str, httpx.Response | Exception] = {}
    answered = threading.Event()

    def write(api_key: str, key: str, sha: str):
        try:
            response = httpx.post(f"{process.url}/works", json={"sha256": sha, "title": f"Reel {key}", "kind": "film"},
                                  headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": key}, timeout=30)
        except httpx.TransportError as exc:  # the service died under this request
            answers[key] = exc
            return
        answers[key] = response
        if sum(isinstance(a, httpx.Response) for a in answers.values()) >= WRITES // 4:
            answered.set()

    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(write, *w) for w in writes]
        assert answered.wait(120), "no write was answered"
        process.kill()  # mid-burst: some writes answered, some in flight, some not yet sent
        for future in futures:
            future.result()

    outcome = Counter(
        "lost in the kill" if isinstance(a, Exception) else "accepted" if a.status_code in (201, 202) else "refused"
        for a in answers.values()
    )
    assert outcome["accepted"] >= 1 and outcome["lost in the kill"] >= 1, outcome
    refused = {k: a for k, a in answers.items() if isinstance(a, httpx.Response) and a.status_code not in (201, 202)}
    assert all(a.status_code == 503 for a in refused.values()), {k: a.text for k, a in refused.items()}

    process.start()
    process.settled()
    w3 = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{process.anvil_port}"))
    registry = w3.eth.contract(address=registry_address, abi=artifacts.load("WorkRegistry").abi)

    def on_chain() -> Counter:
        return Counter("0x" + log["args"]["workId"].hex() for log in registry.events.WorkRegistered().get_logs(from_block=0))

    registered = on_chain()
    by_key = {key: "0x" + sha for _, key, sha in writes}
    for key, answer in answers.items():
        if isinstance(answer, httpx.Response) and answer.status_code in (201, 202):
            assert registered[by_key[key]] == 1, f"accepted write {key} is on chain {registered[by_key[key]]} times"
        if key in refused:
            assert registered[by_key[key]] == 0, f"refused write {key} is on chain"

    # Every client retries what it did not see accepted, and what it did, with the same key.
    retried = {}
    for api_key, key, sha in writes:
        response = httpx.post(f"{process.url}/works", json={"sha256": sha, "title": f"Reel {key}", "kind": "film"},
                              headers={"Authorization": f"Bearer {api_key}", "Idempotency-Key": key}, timeout=60)
        assert response.status_code in (200, 201, 202), (key, response.text)
        assert response.json()["work_id"] == by_key[key]
        before = answers.get(key)
        if isinstance(before, httpx.Response) and before.status_code in (201, 202):
            assert response.json()["chain"]["tx_hash"] == before.json()["chain"]["tx_hash"] or before.json()["chain"]["tx_hash"] is None
        retried[key] = response
    process.settled()
    registered = on_chain()
    assert all(registered[work] == 1 for work in by_key.values()), registered
    assert sum(registered.values()) == WRITES

    # Nothing sent twice: the signer's nonce counts exactly the operations the outbox holds for it.
    check = Ledger(process.settings())
    try:
        with session(check.engine) as db:
            ops = db.exec(select(ChainOp).where(ChainOp.sender == Web3.to_checksum_address(signer))).all()
    finally:
        check.engine.dispose()
    assert all(op.status == OpStatus.confirmed for op in ops), Counter(op.status for op in ops)
    assert w3.eth.get_transaction_count(signer) == len(ops)
    print(f"burst of {WRITES}: {dict(outcome)}; on chain after retries: {sum(registered.values())}, "
          f"signer transactions {len(ops)}")
