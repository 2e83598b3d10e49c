"""One HTTP request that cannot outlive its deadline, whatever the server does.

httpx's timeouts bound each wait (connect, one read) but not the whole: a server that sends
one byte a second, in the headers or in the body, never trips a read timeout. So every
request carries a watchdog: the request learns its socket as the connection opens (httpcore's
`trace` extension) and, should the deadline pass, the watchdog shuts the socket down; the
blocked read then fails at once. Connections are not kept alive for that reason: a pooled
connection would be reused without our learning its socket. For a crawler that waits a
second between two requests to a host, that costs little.

The same hook keeps the crawler out of private networks: a piracy site controls its own DNS,
and could point its name at 127.0.0.1 or a cloud metadata address. So when a URL names its
host, the address the connection actually reached (the socket's peer, after DNS, so a
rebinding answer is caught too) must be a public one, checked before a byte of the request
is sent. A URL that gives an address itself (http://10.0.0.5/), or a host the operator lists
in `CrawlConfig.private_hosts`, may be private: the crawl's scope already let that exact
host in.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from ledger.crawl.config import CrawlConfig


class DeadlineExceeded(Exception):
    """The resource took longer than its deadline; the connection was cut."""


class PrivateAddress(Exception):
    """A host given by name was reached at an address that is not public; nothing was sent."""


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def unresolved_name(exc: BaseException) -> str | None:
    """The resolver's own words when `exc` (or what caused it) is a host name that did not
    resolve to any address (no such name, no address for it, or no answer from DNS); None when
    the failure was something else."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, socket.gaierror):
            return cause.strerror or str(cause)
        cause = cause.__cause__ or cause.__context__
    return None


def is_public(address: str) -> bool:
    """A global address, and so is any IPv4 address an IPv6 one carries (mapped, 6to4, Teredo,
    NAT64, IPv4-compatible): ::ffff:127.0.0.1 and 64:ff9b::a9fe:a9fe are not public."""
    ip = ipaddress.ip_address(address)
    if not ip.is_global:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        carried = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
        if any(ip in net for net in (*_NAT64, _IPV4_COMPATIBLE)):
            carried.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        return all(v4.is_global for v4 in carried if v4 is not None)
    return True


def is_address(host: str) -> bool:
    """Whether `host` is an IP address written out, rather than a name to look up."""
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def must_be_public(url: str, private_hosts: frozenset[str]) -> bool:
    """Whether the address `url` reaches must be public: its host is a name not listed in
    `private_hosts` (an address written in the URL is the operator's own choice)."""
    host = (httpx.URL(url).host or "").lower()
    return not is_address(host) and host not in private_hosts


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
    def __init__(self, deadline: float, public_only: bool = False) -> None:
        self.deadline = deadline
        self.public_only = public_only
        self.refused: str | None = None
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True

    def trace(self, name: str, info: dict) -> None:
        if name == "connection.connect_tcp.complete" and self.public_only:
            stream = info["return_value"]
            try:
                peer = stream.get_extra_info("socket").getpeername()[0]
                public = is_public(peer)
            except (AttributeError, OSError, ValueError):  # no socket, or it is gone: nothing to vouch for
                peer, public = None, False
            if not public:
                self.refused = str(peer)
                stream.close()
                raise PrivateAddress(f"reached at {peer}, which is not a public address")
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
    client: httpx.Client,
    config: CrawlConfig,
    url: str,
    headers: dict[str, str],
    deadline: float,
    public_only: bool | None = None,
) -> Iterator[tuple[httpx.Response, _Watchdog]]:
    """A streamed GET of `url`, cut at `deadline` (time.monotonic()). Raises DeadlineExceeded
    when the deadline passed before or while the response headers came; the caller checks
    `watchdog.check()` between body chunks, and maps a read error after the deadline to it.
    `public_only`: whether the address reached must be public; by default, `must_be_public`."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise DeadlineExceeded("deadline passed before the request")
    watchdog = _Watchdog(
        deadline, public_only=must_be_public(url, config.private_hosts) if public_only is None else public_only
    )
    timeout = httpx.Timeout(
        min(config.read_timeout, remaining),
        connect=min(config.connect_timeout, remaining),
        pool=min(config.connect_timeout, remaining),
    )
    watchdog.start()
    try:
        try:
            request = client.build_request(
                "GET", url, headers=headers, timeout=timeout, extensions={"trace": watchdog.trace}
            )
            response = client.send(request, stream=True)
        except httpx.TransportError:
            if watchdog.refused is not None:  # should httpx ever wrap it
                raise PrivateAddress(f"reached at {watchdog.refused}, which is not a public address") from None
            if watchdog.fired:
                raise DeadlineExceeded("deadline passed before the response") from None
            raise
        try:
            yield response, watchdog
        finally:
            response.close()
    finally:
        watchdog.stop()
