"""Politeness: at most one request per interval to one host, however many workers crawl.

A limiter hands out send slots: `wait(host, interval)` returns when this caller may send,
having reserved the slot, so the next caller's slot is at least `interval` later. Slots are
reserved rather than polled for, so waiters are served in turn and none starves.
`LocalHostLimiter` serves the threads of one process; `RedisHostLimiter` serves every
process that shares a Redis, reading the clock of the Redis server so that workers on
machines whose clocks disagree still keep the interval.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class HostLimiter(Protocol):
    def wait(self, host: str, interval: float) -> None:
        """Block until a request to `host` may be sent, and claim that moment."""


class LocalHostLimiter:
    """In-process and thread-safe."""

    def __init__(self) -> None:
        self._next: dict[str, float] = {}  # host -> monotonic time of the next free slot
        self._lock = threading.Lock()

    def wait(self, host: str, interval: float) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(host, 0.0))
            self._next[host] = slot + interval
        if slot > now:
            time.sleep(slot - now)


# KEYS[1]: the host's key; ARGV[1]: interval in microseconds. Returns microseconds to wait.
# The key holds the server-clock time of the host's next free slot and expires once it passed.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local interval = tonumber(ARGV[1])
local slot = math.max(now, nxt)
local ttl_ms = math.ceil((slot + interval - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', slot + interval), 'PX', ttl_ms)
return slot - now
"""


class RedisHostLimiter:
    """Shared by every worker process using the same Redis and `prefix`."""

    def __init__(self, client, prefix: str = "reelledger:crawl:host:") -> None:
        self.client = client
        self.prefix = prefix
        self._reserve = client.register_script(_RESERVE)

    def wait(self, host: str, interval: float) -> None:
        delay_us = int(self._reserve(keys=[self.prefix + host], args=[int(interval * 1_000_000)]))
        if delay_us > 0:
            time.sleep(delay_us / 1_000_000)
