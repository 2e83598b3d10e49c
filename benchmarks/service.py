"""A ReelLedger service in a process of its own, on free ports and a data directory of its own:
`ProcessService` starts any command that serves (the tests start `scripts/run` with it, through
tests/helpers/scripts_run.py), `BenchService` is `reelledger serve` on a temporary directory, for
benchmarks."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.writes import free_port

REELLEDGER = Path(sys.executable).parent / "reelledger"


class ProcessService:
    def __init__(self, data_dir: Path, command: list[str], **env: str) -> None:
        self.data_dir = data_dir
        self.api_port, self.anvil_port = free_port(), free_port()
        self.command = command
        self.extra_env: dict[str, str] = dict(env)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / "service.log"

    @property
    def env(self) -> dict[str, str]:
        """This environment without its REELLEDGER_ settings, then the service's own and `extra_env`."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("REELLEDGER_")}
        env.update(
            REELLEDGER_DATA_DIR=str(self.data_dir),
            REELLEDGER_ANVIL_PORT=str(self.anvil_port),
            REELLEDGER_PORT=str(self.api_port),
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60.0) -> dict[str, Any]:
        """Start the command and wait for /health to answer 200; returns that answer."""
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the service exited ({self.process.returncode}):\n{self.log_path.read_text()[-3000:]}"
                )
            try:
                response = httpx.get(self.url + "/health", timeout=2)
                if response.status_code == 200:
                    health: dict[str, Any] = response.json()
                    return health
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the service did not answer /health in time; see {self.log_path}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        assert self.process is not None, "stop() before start()"
        self.process.send_signal(sig)
        self.process.wait(30)


class BenchService(ProcessService):
    def __init__(self, **env: str) -> None:
        data_dir = Path(tempfile.mkdtemp(prefix="reelledger-bench-svc-")) / "data"
        super().__init__(data_dir, [str(REELLEDGER), "serve"], **env)

    def __enter__(self) -> BenchService:
        self.data_dir.mkdir(parents=True)
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

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
