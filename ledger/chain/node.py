"""The local Anvil node that ReelLedger starts and stops itself.

Its state goes to a file in the data directory (`anvil --state`), dumped every
`state_interval` seconds and on a clean exit, so a restart finds every block again.
Anything mined after the last dump and lost in a hard kill is sent again by the
outbox from the signed transactions it keeps.

Anvil rewrites that file in place, so a hard kill during a dump leaves it cut short and
Anvil then refuses to start on it. A copy known to be whole is kept beside it (made at
every start, a few seconds after it, then every `backup_interval` seconds), and a start on
a cut file falls back to that copy; the outbox sends again what the copy lacks. A whole
file that Anvil still will not load (another version's) is set aside and the chain starts
empty, to be filled again by the outbox likewise.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

log = logging.getLogger("reelledger.chain")


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


class _StateRefused(Exception):
    """Anvil exited at once with a usage error, as it does on a state file it cannot load."""


def _write_atomically(path: Path, body: bytes) -> None:
    partial = path.with_suffix(".part")
    with open(partial, "wb") as out:
        out.write(body)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)


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
        backup_interval: float = 30.0,
        block_time: int | None = None,
    ) -> None:
        self.binary = Path(binary)
        # Seconds between blocks mined whether or not a transaction arrives (besides mining each
        # one at once): a write waiting for blocks on top of its own gets them on an idle chain.
        self.block_time = block_time
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
        self.backup_interval = backup_interval
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.RLock()
        self._backups_stop = threading.Event()
        self._backups: threading.Thread | None = None
        self._backed_up_mtime: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.state_file.with_suffix(".pid")

    @property
    def whole_copy(self) -> Path:
        """The last state file read back whole."""
        return self.state_file.with_suffix(".whole.json")

    @property
    def cut_file(self) -> Path:
        """A state file found cut short, kept for a look rather than deleted."""
        return self.state_file.with_suffix(".cut.json")

    @property
    def unloadable_file(self) -> Path:
        """A whole state file Anvil would not load, kept likewise."""
        return self.state_file.with_suffix(".unloadable.json")

    def _copy_if_whole(self, force: bool = False) -> bool:
        """Copy the state file aside if it reads as whole JSON; False if it does not. Unless
        `force`, a file unchanged since the last copy is not read again, and one that changed
        while it was read (Anvil mid-dump) is left for the next round."""
        try:
            before = self.state_file.stat()
            if not force and before.st_mtime_ns == self._backed_up_mtime and self.whole_copy.exists():
                return True
            body = self.state_file.read_bytes()
            after = self.state_file.stat()
            if (before.st_mtime_ns, before.st_size) != (after.st_mtime_ns, after.st_size) or len(body) != after.st_size:
                return False
            if not isinstance(json.loads(body), dict):
                return False
        except (OSError, ValueError):
            return False
        _write_atomically(self.whole_copy, body)
        self._backed_up_mtime = after.st_mtime_ns
        return True

    def _usable_state(self) -> None:
        """Make sure Anvil finds a state file it can read, or none at all."""
        if not self.state_file.exists() or self._copy_if_whole(force=True):
            return
        os.replace(self.state_file, self.cut_file)
        if self.whole_copy.exists():
            log.warning(
                "anvil state file %s was cut short (kept as %s); starting from the last whole copy",
                self.state_file,
                self.cut_file.name,
            )
            _write_atomically(self.state_file, self.whole_copy.read_bytes())
        else:
            log.warning(
                "anvil state file %s was cut short (kept as %s) and there is no whole copy; starting an empty chain",
                self.state_file,
                self.cut_file.name,
            )

    def _set_aside_unloadable(self) -> bool:
        """After Anvil refused the state file (whole JSON it cannot load, say from another
        version): keep it and its copy aside and let the next try start an empty chain, which
        the outbox fills again. False when Anvil's refusal was about something else."""
        try:
            refusal = self.log_file.read_bytes()[-4096:]
        except OSError:
            return False
        if b"'--state" not in refusal or not self.state_file.exists():
            return False
        log.warning(
            "anvil could not load its state file %s (kept as %s); starting an empty chain",
            self.state_file,
            self.unloadable_file.name,
        )
        os.replace(self.state_file, self.unloadable_file)
        self.whole_copy.unlink(missing_ok=True)
        return True

    def _keep_copies(self) -> None:
        # the first copy soon after the start: a new chain's deployments are then kept too
        wait = min(self.backup_interval, 3.0)
        while not self._backups_stop.wait(wait):
            wait = self.backup_interval
            try:
                self._copy_if_whole()
            except OSError as exc:  # a full disk: the node runs on, the copy ages
                log.warning("could not copy anvil's state file: %s", exc)

    def _start_backups(self) -> None:
        self._backups_stop = threading.Event()
        self._backups = threading.Thread(target=self._keep_copies, name="anvil-state-copies", daemon=True)
        self._backups.start()

    def _stop_backups(self) -> None:
        self._backups_stop.set()
        if self._backups is not None and self._backups is not threading.current_thread():
            self._backups.join()
        self._backups = None

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
            try:
                try:
                    self._start(timeout)
                except _StateRefused:
                    if not self._set_aside_unloadable():
                        raise
                    self._start(timeout)
            except _StateRefused:
                raise NodeError(f"anvil exited with code 2; see {self.log_file}") from None
            except OSError as exc:
                raise NodeError(f"could not prepare anvil's state in {self.state_file.parent}: {exc}") from exc

    def _start(self, timeout: float) -> None:
        if self.running:
            return
        self._stop_backups()  # a node that died by itself left its copier running
        if not self.binary.exists():
            raise NodeError(f"anvil not found at {self.binary}: run scripts/run or `npm ci` first")
        self._stop_orphan()
        if not port_is_free(self.port):
            raise NodeError(f"port {self.port} is already in use; set REELLEDGER_ANVIL_PORT or stop what holds it")
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        self._usable_state()
        command = [
            str(self.binary),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--chain-id",
            str(self.chain_id),
            "--state",
            str(self.state_file),
            "--state-interval",
            str(self.state_interval),
            "--silent",
        ]
        if self.allow_origin:
            command += ["--allow-origin", self.allow_origin]
        if self.block_time:
            command += ["--block-time", str(self.block_time)]
        output = open(self.log_file, "ab")
        self._process = subprocess.Popen(
            command, stdout=output, stderr=output, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent
        )
        output.close()
        self.pid_file.write_text(str(self._process.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                code, self._process = self._process.returncode, None
                if code == 2:  # a usage error: the state file is the argument Anvil checks
                    raise _StateRefused()
                raise NodeError(f"anvil exited with code {code}; see {self.log_file}")
            if rpc_answers(self.url, timeout=0.5) == self.chain_id:
                self._start_backups()
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
        self._stop_backups()
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
            self._stop_backups()
            if self._process is None:
                return
            self._process.kill()
            self._process.wait()
            self._process = None
