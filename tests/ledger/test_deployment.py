"""The deployment in deploy/ is one a reader can follow: systemd accepts its units, its
environment files set only settings the service knows (a misspelt variable would be ignored
without a word), every replica shares one PostgreSQL database and an external chain, and the
load balancer sends requests to the replicas the README tells the reader to start."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from ledger.config import REPO_ROOT, Settings

DEPLOY = REPO_ROOT / "deploy"
INSTALLED_AT = "/opt/reelledger"  # where the units expect the checkout and its .venv
CLIENT_VARIABLES = {"URL", "API_KEY", "CRAWL_WORK_DIR", "QUEUE_HEARTBEAT_MS", "QUEUE_OUTAGE_S"}  # workers' own


def variables(name: str) -> dict[str, str]:
    lines = (DEPLOY / name).read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return {key.strip(): value.strip() for key, value in pairs}


@pytest.mark.parametrize(
    ("unit", "instance"),
    [
        ("reelledger-replica@.service", "8001"),
        ("reelledger-crawl-worker@.service", "1"),
        ("reelledger-media-worker@.service", "1"),
    ],
)
def test_systemd_accepts_each_unit(tmp_path, unit, instance):
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is needed to check the units (Debian: apt-get install systemd)")
    text = (DEPLOY / "systemd" / unit).read_text()
    assert f"{INSTALLED_AT}/.venv/bin/reelledger" in text
    # Installed here instead, so that systemd finds the command it would run.
    placed = tmp_path / unit.replace("@.", f"@{instance}.")
    placed.write_text(text.replace(INSTALLED_AT, str(REPO_ROOT)))
    checked = subprocess.run(
        ["systemd-analyze", "verify", str(placed)], capture_output=True, text=True, timeout=60, check=False
    )
    assert checked.returncode == 0 and not checked.stderr.strip(), checked.stderr


def test_replica_environment_names_only_settings_and_shares_postgresql_and_an_external_chain():
    env = variables("reelledger.env.example")
    names = {key.removeprefix("REELLEDGER_").lower() for key in env}
    assert names <= set(Settings.model_fields), names - set(Settings.model_fields)
    assert env["REELLEDGER_DATABASE_URL"].startswith("postgresql")  # SQLite is one process only
    assert env["REELLEDGER_RPC_URL"]  # a managed Anvil node would be each replica's own chain
    assert "REELLEDGER_MASTER_KEY" in env  # the same on every replica, or none reads the others' keys
    # Copies and uploads a media job waits on are files: every replica and worker sees the same ones.
    assert env["REELLEDGER_DATA_DIR"].startswith("/") and env["REELLEDGER_MEDIA_JOBS"] == "queue"
    for unit in ("reelledger-replica@.service", "reelledger-media-worker@.service"):
        text = (DEPLOY / "systemd" / unit).read_text()
        assert "EnvironmentFile=/etc/reelledger/reelledger.env" in text and "REELLEDGER_DATA_DIR" not in text


def test_worker_environment_names_only_what_workers_read():
    env = variables("worker.env.example")
    names = {key.removeprefix("REELLEDGER_") for key in env}
    known = CLIENT_VARIABLES | {name.upper() for name in Settings.model_fields}
    assert names <= known, names - known


def test_the_load_balancer_sends_to_the_replicas_the_readme_starts():
    upstream = re.search(r"upstream reelledger \{(.*?)\}", (DEPLOY / "nginx" / "reelledger.conf").read_text(), re.S)
    assert upstream is not None
    ports = set(re.findall(r"server [\w.]+:(\d+)", upstream.group(1)))
    started = set(re.findall(r"reelledger-replica@(\d+)", (REPO_ROOT / "README.md").read_text()))
    assert ports and ports <= started, (ports, started)
