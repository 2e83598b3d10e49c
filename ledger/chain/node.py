"""The local Anvil node that ReelLedger starts and stops itself.

Its state goes to a file in the data directory (`anvil --state`), dumped every
`state_interval` seconds and on a clean exit, so a restart finds every block again.
Anything mined after the last dump and lost in a hard kill is sent again by the
outbox from the signed transactions it keeps.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path


class NodeError(RuntimeError):
    """The managed node could not be started."""


def rpc_answers(url: str, timeout: float = 1.0) -> int | None:
    """The chain id the endpoint reports, or None if nothing answers."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(json.loads(response.read())["result"], 16)
    except (OSError, ValueError, KeyError):
        return None


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) != 0


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the node gets SIGTERM (and so dumps its state) if ReelLedger dies without stopping it."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class ManagedAnvil:
    def __init__(
        self,
        binary: Path,
        port: int,
        state_file: Path,
        chain_id: int = 31337,
        state_interval: int = 1,
        log_file: Path | None = None,
        allow_origin: str | None = None,
    ) -> None:
        self.binary = Path(binary)
        # The one web origin whose pages may call the node over HTTP (the console's). Anvil's
        # default, any origin, lets every page in a browser on this machine rewrite the chain
        # (anvil_setStorageAt...) with a plain fetch; Anvil refuses a body that is not JSON, so
        # another origin needs a CORS preflight, which then fails. Not covered: Anvil's
        # WebSocket on the same port (browsers do not apply CORS to it, Anvil does not check
        # Origin) and DNS rebinding. The managed node is a development chain.
        self.allow_origin = allow_origin
        self.port = port
        self.state_file = Path(state_file)
        self.chain_id = chain_id
        self.state_interval = state_interval
        self.log_file = Path(log_file) if log_file else self.state_file.with_suffix(".log")
        self._process: subprocess.Popen | None = None
        self._lock = threading.RLock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.state_file.with_suffix(".pid")

    def _stop_orphan(self) -> None:
        """Stop a node that an earlier, killed ReelLedger left running on this state file."""
        try:
            pid = int(self.pid_file.read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return
        if not cmdline or not cmdline[0].endswith(b"anvil") or str(self.state_file).encode() not in cmdline:
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 30.0) -> None:
        with self._lock:
            self._start(timeout)

    def _start(self, timeout: float) -> None:
        if self.running:
            return
        if not self.binary.exists():
            raise NodeError(f"anvil not found at {self.binary}: run scripts/run or `npm ci` first")
        self._stop_orphan()
        if not port_is_free(self.port):
            raise NodeError(f"port {self.port} is already in use; set REELLEDGER_ANVIL_PORT or stop what holds it")
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        command = [
            str(self.binary),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--state", str(self.state_file),
            "--state-interval", str(self.state_interval),
            "--silent",
        ]
        if self.allow_origin:
            command += ["--allow-origin", self.allow_origin]
        log = open(self.log_file, "ab")
        self._process = subprocess.Popen(
            command, stdout=log, stderr=log, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent
        )
        log.close()
        self.pid_file.write_text(str(self._process.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise NodeError(f"anvil exited with code {self._process.returncode}; see {self.log_file}")
            if rpc_answers(self.url, timeout=0.5) == self.chain_id:
                return
            time.sleep(0.1)
        self._process.kill()
        self._process.wait()
        self._process = None
        raise NodeError(f"anvil did not answer on {self.url} within {timeout:.0f}s; see {self.log_file}")

    def stop(self, timeout: float = 15.0) -> None:
        """Stop cleanly: Anvil writes its state file on SIGTERM."""
        with self._lock:
            self._stop(timeout)

    def _stop(self, timeout: float) -> None:
        if not self.running:
            return
        assert self._process is not None
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def kill(self) -> None:
        """Stop abruptly, losing whatever was mined since the last state dump."""
        with self._lock:
            if self._process is None:
                return
            self._process.kill()
            self._process.wait()
            self._process = None
