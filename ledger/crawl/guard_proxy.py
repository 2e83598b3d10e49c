"""A forward proxy on loopback through which chromium reaches public addresses only.

A page screenshotted for evidence is a stranger's page, run with its scripts in a browser on
our machine. Left alone, its images, fetches and WebSockets could reach whatever listens on
loopback or the private network: the managed chain node, Redis, a router's admin page.
Chromium is pointed here for every connection, loopback included, and the proxy looks each
host up itself and connects only to an address it has checked (so DNS cannot answer one
address to the check and another to the connection). Only the page's own origin may be
private, when the operator wrote it as an address or listed its name: the crawl's rule
(transport.py), applied to everything the page loads, and no wider (a listed intranet name
does not open the node's port to every page). A plain-HTTP connection carries one request,
so a site that keeps it open cannot slip a second one, for another host, past the check.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

from ledger.crawl.transport import is_address, is_public

MAX_HEAD = 64 * 1024
IDLE_TIMEOUT = 30.0
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
REFUSED = b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
HOP_BY_HOP = {b"connection", b"keep-alive", b"proxy-connection", b"proxy-authorization", b"te", b"trailer"}


def origin_of(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(parts.scheme, 80)


class GuardProxy:
    """Serves one page's screenshot: `with GuardProxy(url, private_hosts) as proxy: ...`."""

    def __init__(self, page_url: str, private_hosts: frozenset[str] = frozenset()) -> None:
        self.page_origin = origin_of(page_url)
        self.private_hosts = frozenset(h.lower() for h in private_hosts)
        self.refused: list[str] = []  # host:port of every connection not made
        self._lock = threading.Lock()
        self._server: socketserver.ThreadingTCPServer | None = None

    def addresses_for(self, host: str, port: int) -> list[str]:
        """The addresses to try for host:port, in order; [] when it may not be reached."""
        host = host.lower().strip("[]")
        own = (host, port) == self.page_origin
        let_private = own and (is_address(host) or host in self.private_hosts)
        if is_address(host):
            return [host] if let_private or is_public(host) else []
        try:
            found = [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
        except (OSError, UnicodeError):
            return []
        if not (let_private or all(is_public(a) for a in found)):
            return []
        return list(dict.fromkeys(found))

    # --- running -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> GuardProxy:
        guard = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = IDLE_TIMEOUT

            def handle(self) -> None:
                guard._serve(self)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._server.allow_reuse_address = True
        self._server.server_bind()
        self._server.server_activate()
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- one client connection -----------------------------------------------------------
    def _serve(self, handler: socketserver.StreamRequestHandler) -> None:
        head = _read_head(handler.rfile)
        if head is None:
            return
        request_line, headers = head
        try:
            method, target, version = request_line.split(b" ", 2)
        except ValueError:
            return
        upstream = None
        try:
            if method == b"CONNECT":
                host, _, port_text = target.decode("latin-1").rpartition(":")
                upstream = self._connect(handler, host, _port(port_text))
                if upstream is None:
                    return
                handler.wfile.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                _pipe(handler, upstream, _all_of(handler))
                return
            try:
                parts = urlsplit(target.decode("latin-1"))
                port = parts.port or 80
            except ValueError:
                parts, port = None, 0
            if parts is None or parts.scheme != "http" or not parts.hostname:
                return self._refuse(handler, target.decode("latin-1"), b"only absolute http URLs and CONNECT")
            body = _body_length(headers)
            if body is None:
                return self._refuse(handler, target.decode("latin-1"), b"a body needs a Content-Length")
            upstream = self._connect(handler, parts.hostname, port)
            if upstream is None:
                return
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            kept = [h for h in headers if h.split(b":", 1)[0].strip().lower() not in HOP_BY_HOP]
            upstream.sendall(
                b" ".join([method, path.encode("latin-1"), version])
                + b"\r\n"
                + b"".join(h + b"\r\n" for h in kept)
                + b"Connection: close\r\n\r\n"
            )
            _pipe(handler, upstream, _exactly(handler, body))
        except OSError:
            pass
        finally:
            if upstream is not None:
                upstream.close()

    def _connect(self, handler, host: str, port: int | None) -> socket.socket | None:
        addresses = self.addresses_for(host, port) if port else []
        if not addresses:
            shown = f"[{host.strip('[]')}]" if ":" in host else host
            self._refuse(handler, f"{shown}:{port}", b"private or unknown address")
            return None
        for address in addresses:
            try:
                return socket.create_connection((address, port), timeout=IDLE_TIMEOUT)
            except OSError:
                continue
        handler.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        return None

    def _refuse(self, handler, target: str, reason: bytes) -> None:
        with self._lock:
            self.refused.append(target)
        handler.wfile.write(REFUSED % (len(reason), reason))


def _port(text: str) -> int | None:
    if not (text.isascii() and text.isdigit()):
        return None
    port = int(text)
    return port if 0 < port < 65536 else None


def _body_length(headers: list[bytes]) -> int | None:
    """The request body's length; None when it is chunked or unreadable (not forwarded)."""
    length = 0
    for line in headers:
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip()
        if name == b"transfer-encoding":
            return None
        if name == b"content-length":
            if not (value.isascii() and value.isdigit()):
                return None
            length = int(value)
    return length


def _read_head(rfile) -> tuple[bytes, list[bytes]] | None:
    """The request line and header lines, or None if the client sent no whole head."""
    lines: list[bytes] = []
    size = 0
    while True:
        try:
            line = rfile.readline(MAX_HEAD)
        except OSError:
            return None
        size += len(line)
        if not line or size > MAX_HEAD:
            return None
        if line in (b"\r\n", b"\n"):
            break
        lines.append(line.rstrip(b"\r\n"))
    return (lines[0], lines[1:]) if lines else None


def _all_of(handler: socketserver.StreamRequestHandler) -> Iterator[bytes]:
    """Everything the client sends (a tunnel); read1 first hands over what the head's reads buffered."""
    while chunk := handler.rfile.read1(65536):
        yield chunk


def _exactly(handler: socketserver.StreamRequestHandler, length: int) -> Iterator[bytes]:
    """One request's body, and nothing after it."""
    while length > 0 and (chunk := handler.rfile.read1(min(length, 65536))):
        length -= len(chunk)
        yield chunk


def _pipe(handler: socketserver.StreamRequestHandler, upstream: socket.socket, sent: Iterator[bytes]) -> None:
    """Send `sent` up while copying the answer down, until either side is done."""
    client = handler.connection

    def up() -> None:
        try:
            for chunk in sent:
                upstream.sendall(chunk)
        except OSError:
            pass
        finally:
            try:
                upstream.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    sender = threading.Thread(target=up, daemon=True)
    sender.start()
    try:
        while chunk := upstream.recv(65536):
            client.sendall(chunk)
    except OSError:
        pass
    finally:
        upstream.close()
        try:
            client.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    sender.join(IDLE_TIMEOUT)
