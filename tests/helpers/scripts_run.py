"""The service as the README starts it: `scripts/run` in a process of its own, on free ports,
with a data directory of its own, and that directory opened in-process afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from ledger.config import REPO_ROOT, Settings
from ledger.service import Ledger
from tests.helpers.settings import free_port

RUN_SCRIPT = REPO_ROOT / "scripts" / "run"


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
