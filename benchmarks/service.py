"""A ReelLedger service in its own process, on a temporary data directory, for benchmarks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.writes import free_port

REELLEDGER = Path(sys.executable).parent / "reelledger"


class BenchService:
    def __init__(self, **env: str) -> None:
        self.data_dir = Path(tempfile.mkdtemp(prefix="reelledger-bench-svc-")) / "data"
        self.api_port, self.anvil_port = free_port(), free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("REELLEDGER_")}
        self.env.update(
            REELLEDGER_DATA_DIR=str(self.data_dir),
            REELLEDGER_ANVIL_PORT=str(self.anvil_port),
            REELLEDGER_PORT=str(self.api_port),
            **env,
        )
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def __enter__(self) -> BenchService:
        self.data_dir.mkdir(parents=True)
        log = open(self.data_dir.parent / "service.log", "ab")
        self.process = subprocess.Popen([str(REELLEDGER), "serve"], env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError(f"the service did not start; see {self.data_dir.parent / 'service.log'}")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(30)

    def create_account(self, role: str, name: str) -> str:
        """An account made on the service's database; returns its API key."""
        out = subprocess.run(
            [str(REELLEDGER), "accounts", "create", "--role", role, "--name", name],
            env=dict(self.env, COLUMNS="200"),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return re.search(r"(rlk_\S+)", out).group(1)

    def memory_kib(self) -> dict[str, int]:
        """The service process's current and peak resident memory."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return {k: int(re.search(rf"{k}:\s+(\d+)", status).group(1)) for k in ("VmRSS", "VmHWM")}
