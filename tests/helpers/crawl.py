"""The crawl tests' Redis (db 15 of the local server) and a crawl configuration with some fields changed."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import redis

from ledger.crawl import CrawlConfig
from tests.helpers.settings import free_port

REDIS_URL = "redis://127.0.0.1:6379/15"


def with_(config: CrawlConfig, **changes) -> CrawlConfig:
    return replace(config, **changes)


class QueueWorker:
    """A `reelledger crawl worker` or `reelledger media worker` process (`argv`) in a session of its
    own, so that a signal reaches Dramatiq's worker processes too; its output goes to `log`."""

    def __init__(self, argv: list[str], env: dict, log: Path) -> None:
        self.log = open(log, "ab")
        self.proc = subprocess.Popen(argv, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def signal(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """SIGKILL to the worker and its children: no goodbye, nothing acknowledged."""
        self.signal(signal.SIGKILL)
        self.proc.wait(10)
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


class RedisServer:
    """redis-server on its own port, its append-only file in `directory`."""

    def __init__(self, directory: Path) -> None:
        self.port, self.directory = free_port(), directory
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: the append-only file is flushed, as at any orderly stop
            self.proc.wait(10)
