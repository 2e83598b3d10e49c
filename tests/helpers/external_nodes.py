"""Hardhat and Ganache as external chains: started from npm's packages on a free loopback
port, waited for, and stopped, the way an operator runs a node that ReelLedger does not manage.

Each node funds ten accounts from a public development mnemonic; `keys` are their private
keys, derived here (eth-account's HD wallet, BIP-44 path m/44'/60'/0'/0/i, as both nodes do),
so a test can hand one to the service as REELLEDGER_SIGNER_KEY and use others as users' own
wallets. The nodes' time moves only forward by their own controls (`advance`), which is how a
dispute window passes without waiting for it.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account

from ledger.chain.node import rpc_answers
from ledger.config import REPO_ROOT
from tests.helpers.settings import free_port

NODE_BIN = REPO_ROOT / "node_modules" / ".bin"
HARDHAT_CONFIG = REPO_ROOT / "tests" / "external" / "hardhat.config.js"
HARDHAT_MNEMONIC = "test test test test test test test test test test test junk"  # as in hardhat.config.js
GANACHE_MNEMONIC = "myth like bonus scare over problem client lizard pioneer submit female collect"
ACCOUNTS = 10


@dataclass(frozen=True)
class NodeKind:
    name: str
    chain_id: int
    mnemonic: str
    hardfork: str

    def command(self, port: int) -> list[str]:
        if self.name == "hardhat":
            return [
                str(NODE_BIN / "hardhat"),
                "node",
                "--config",
                str(HARDHAT_CONFIG),
                "--hostname",
                "127.0.0.1",
                "--port",
                str(port),
            ]
        return [
            str(NODE_BIN / "ganache"),
            "--chain.hardfork",
            self.hardfork,
            "--chain.chainId",
            str(self.chain_id),
            "--server.host",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--wallet.mnemonic",
            self.mnemonic,
            "--wallet.totalAccounts",
            str(ACCOUNTS),
            "--wallet.defaultBalance",
            "10000",
        ]


HARDHAT = NodeKind("hardhat", 31337, HARDHAT_MNEMONIC, "cancun")
GANACHE = NodeKind("ganache", 1337, GANACHE_MNEMONIC, "shanghai")
KINDS = {kind.name: kind for kind in (HARDHAT, GANACHE)}


def development_keys(mnemonic: str, count: int = ACCOUNTS) -> list[str]:
    """The private keys a development node funds from `mnemonic`, in its order."""
    Account.enable_unaudited_hdwallet_features()
    return [
        "0x" + Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{i}").key.hex().removeprefix("0x")
        for i in range(count)
    ]


class ExternalNode:
    """One running node; `stop` ends it (and its log stays beside the test's files)."""

    def __init__(self, kind: NodeKind, log_dir: Path) -> None:
        self.kind = kind
        self.port = free_port()
        self.log_file = log_dir / f"{kind.name}.log"
        self.keys = development_keys(kind.mnemonic)
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> ExternalNode:
        with open(self.log_file, "ab") as log:
            self._process = subprocess.Popen(
                self.kind.command(self.port),
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                cwd=REPO_ROOT,
                env=dict(os.environ, HOME=str(self.log_file.parent), HARDHAT_DISABLE_TELEMETRY_PROMPT="true"),
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.kind.name} exited with {self._process.returncode}: {self.tail()}")
            if rpc_answers(self.url) == self.kind.chain_id:
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.kind.name} did not answer at {self.url} within {timeout:.0f} s: {self.tail()}")

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(15)

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])

    def rpc(self, method: str, *params):
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.loads(response.read())
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    def advance(self, seconds: int) -> int:
        """Move the node's clock forward and mine a block stamped with it; returns that timestamp."""
        self.rpc("evm_increaseTime", seconds)
        self.rpc("evm_mine")
        return int(self.rpc("eth_getBlockByNumber", "latest", False)["timestamp"], 16)
