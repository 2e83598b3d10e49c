"""The service as the README starts it (`scripts/run`): embedded defaults, real HTTP on
loopback, a managed Anvil node whose state survives restarts and a hard kill."""

from __future__ import annotations

import hashlib
import os
import signal
import time

import httpx
import pytest

from tests.helpers.scripts_run import Service


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
        "DerivativeRegistry",
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
