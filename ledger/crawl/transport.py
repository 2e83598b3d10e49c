"""One HTTP request that cannot outlive its deadline, whatever the server does.

httpx's timeouts bound each wait (connect, one read) but not the whole: a server that sends
one byte a second, in the headers or in the body, never trips a read timeout. So every
request carries a watchdog: the request learns its socket as the connection opens (httpcore's
`trace` extension) and, should the deadline pass, the watchdog shuts the socket down; the
blocked read then fails at once. Connections are not kept alive for that reason: a pooled
connection would be reused without our learning its socket. For a crawler that waits a
second between two requests to a host, that costs little.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from ledger.crawl.config import CrawlConfig


class DeadlineExceeded(Exception):
    """The resource took longer than its deadline; the connection was cut."""


def make_client(config: CrawlConfig) -> httpx.Client:
    return httpx.Client(
        http2=config.http2,
        verify=config.ssl_verify(),
        timeout=httpx.Timeout(config.read_timeout, connect=config.connect_timeout),
        limits=httpx.Limits(max_keepalive_connections=0),
        headers={"User-Agent": config.user_agent},
        follow_redirects=False,
        trust_env=False,  # a crawler's traffic goes where the config says, not where the environment does
    )


class _Watchdog:
    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True

    def trace(self, name: str, info: dict) -> None:
        if name in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            sock = info["return_value"].get_extra_info("socket")
            if sock is not None:
                with self._lock:
                    self._sockets.append(sock)
                    fired = self.fired
                if fired:
                    self._cut(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            self._cut(sock)

    @staticmethod
    def _cut(sock: socket.socket) -> None:
        try:  # the plain socket's shutdown, also under TLS: a reader blocked in it wakes with EOF
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass

    def check(self) -> None:
        if self.fired or time.monotonic() >= self.deadline:
            raise DeadlineExceeded("deadline passed")

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.cancel()


@contextmanager
def guarded_stream(
    client: httpx.Client, config: CrawlConfig, url: str, headers: dict[str, str], deadline: float
) -> Iterator[tuple[httpx.Response, _Watchdog]]:
    """A streamed GET of `url`, cut at `deadline` (time.monotonic()). Raises DeadlineExceeded
    when the deadline passed before or while the response headers came; the caller checks
    `watchdog.check()` between body chunks, and maps a read error after the deadline to it."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise DeadlineExceeded("deadline passed before the request")
    watchdog = _Watchdog(deadline)
    timeout = httpx.Timeout(
        min(config.read_timeout, remaining), connect=min(config.connect_timeout, remaining), pool=min(config.connect_timeout, remaining)
    )
    watchdog.start()
    try:
        try:
            request = client.build_request("GET", url, headers=headers, timeout=timeout, extensions={"trace": watchdog.trace})
            response = client.send(request, stream=True)
        except httpx.TransportError:
            if watchdog.fired:
                raise DeadlineExceeded("deadline passed before the response") from None
            raise
        try:
            yield response, watchdog
        finally:
            response.close()
    finally:
        watchdog.stop()
