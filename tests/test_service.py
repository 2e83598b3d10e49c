"""The service as the README starts it (`scripts/run`): embedded defaults, real HTTP on
loopback, a managed Anvil node whose state survives restarts and a hard kill."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from ledger.config import Settings
from ledger.service import Ledger
from tests.conftest import free_port

RUN_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "run"


class Service:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.api_port, self.anvil_port = free_port(), free_port()
        self.process: subprocess.Popen | None = None
        self.extra_env: dict[str, str] = {}
        self.command = [str(RUN_SCRIPT)]

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("REELLEDGER_")}
        env.update(
            REELLEDGER_DATA_DIR=str(self.data_dir),
            REELLEDGER_ANVIL_PORT=str(self.anvil_port),
            REELLEDGER_PORT=str(self.api_port),
        )
        env.update(self.extra_env)
        return env

    def start(self) -> dict:
        log = open(self.data_dir.parent / "service.log", "ab")
        self.process = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.data_dir.parent / "service.log").read_text()[-3000:]
            try:
                response = httpx.get(f"http://127.0.0.1:{self.api_port}/health", timeout=2)
                if response.status_code == 200:
                    return response.json()
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError("the service did not answer /health in time")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        self.process.send_signal(sig)
        self.process.wait(30)

    def ledger(self) -> Ledger:
        """The same data directory opened in-process, as the next run of the service would."""
        return Ledger(Settings(data_dir=self.data_dir, anvil_port=self.anvil_port)).start()


@pytest.fixture
def service(tmp_path):
    svc = Service(tmp_path / "data")
    yield svc
    if svc.process and svc.process.poll() is None:
        svc.stop(signal.SIGKILL)


def test_service_deploys_on_first_start_and_answers_health(service):
    health = service.start()
    assert health["status"] == "ok"
    assert health["chain"]["managed"] is True
    assert set(health["contracts"]) == {
        "WorkRegistry",
        "LicenseRegistry",
        "SplitRegistry",
        "DistributionRegistry",
        "EvidenceRegistry",
        "TestStablecoin",
        "SettlementRegistry",
    }
    assert health["outbox_unfinished"] == 0
    assert (service.data_dir / "reelledger.db").exists()


def test_restart_finds_the_same_contracts_and_state(service):
    first = service.start()
    service.stop()
    assert (service.data_dir / "anvil-state.json").exists()

    ledger = service.ledger()
    work = hashlib.sha256(b"registered between runs").digest()
    owner = ledger.chain.signer
    ledger.registries.register_work(
        "between-runs",
        owner,
        work_id=work,
        owner=owner,
        fingerprint=b"\x01" * 32,
        metadata_hash=b"\x02" * 32,
        metadata_uri="ipfs://between",
    )
    ledger.stop()

    second = service.start()
    assert second["contracts"] == first["contracts"]
    assert second["chain"]["block_number"] > first["chain"]["block_number"]
    service.stop()
    ledger = service.ledger()
    try:
        assert ledger.registries.work(work).owner == owner
    finally:
        ledger.stop()


def test_service_killed_hard_starts_again_with_its_contracts(service):
    first = service.start()
    time.sleep(1.5)  # one periodic state dump
    service.stop(signal.SIGKILL)

    second = service.start()
    assert second["status"] == "ok"
    assert second["contracts"] == first["contracts"]


def test_health_reports_degraded_with_503_when_the_node_is_down(service):
    service.extra_env["REELLEDGER_RECONCILE_INTERVAL"] = "3600"  # nothing restarts the node meanwhile
    service.start()
    anvil_pid = int((service.data_dir / "anvil-state.pid").read_text())
    os.kill(anvil_pid, signal.SIGKILL)

    deadline = time.monotonic() + 10  # a killed process may take a moment to let go of its port
    while (response := httpx.get(f"http://127.0.0.1:{service.api_port}/health", timeout=5)).status_code != 503:
        assert time.monotonic() < deadline, response.text
        time.sleep(0.1)

    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
    assert response.json()["problems"] == ["chain node does not answer"]
