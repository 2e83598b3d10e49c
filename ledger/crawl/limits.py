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
    """In-process and thread-safe. A caller woken late (a loaded machine) sends late: the
    host's next free slot moves along with it, so that a crawl asking one page of a host at a
    time (`frontier.HostFrontier`) never sends two requests to it closer than the interval."""

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
            with self._lock:
                self._next[host] = max(self._next[host], time.monotonic() + interval)


# KEYS[1]: the host's key (KEYS[2], if given: another limiter's key for the host, whose next
# slot the reservation also waits for); ARGV[1]: interval in microseconds. Returns microseconds
# to wait. A key holds the server-clock time of the host's next free slot and expires once it passed.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nxt = 0
for _, key in ipairs(KEYS) do nxt = math.max(nxt, tonumber(redis.call('GET', key) or '0')) end
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
        delay = self.reserve(host, interval)
        if delay > 0:
            time.sleep(delay)

    def reserve(self, host: str, interval: float, after: RedisHostLimiter | None = None) -> float:
        """Claim the host's next free slot (no sooner than `after`'s next one for the host, if
        given) and return the seconds until it comes, without waiting for it."""
        keys = [self.prefix + host] + ([after.prefix + host] if after is not None else [])
        return int(self._reserve(keys=keys, args=[int(interval * 1_000_000)])) / 1_000_000
