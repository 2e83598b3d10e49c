"""The crawler speaks HTTP/2 to a server that offers it (TLS with ALPN), and says so."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ledger.crawl import Crawler
from tests.helpers.crawl import with_
from tests.helpers.piracy_site import MP4_HEAD

FILM = MP4_HEAD + b"an http/2 film"


def self_signed(directory) -> tuple[str, str]:
    """A certificate for 127.0.0.1 that is its own CA, and its key; their paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


@pytest.fixture
def h2_site(tmp_path):
    """hypercorn serving a tiny ASGI site over TLS; yields (base URL, CA path, seen requests)."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    seen: list[tuple[str, str, str]] = []  # (http_version, path, user agent)

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        headers = dict(scope["headers"])
        seen.append((scope["http_version"], scope["path"], headers.get(b"user-agent", b"").decode()))
        routes = {
            "/": (200, b"text/html", b'<video src="/film.mp4"></video>'),
            "/film.mp4": (200, b"video/mp4", FILM),
        }
        status, kind, body = routes.get(scope["path"], (404, b"text/plain", b"no"))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    cert, key = self_signed(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.certfile, config.keyfile = cert, key
    config.accesslog = config.errorlog = None
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    ready = threading.Event()

    def run():
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_until_complete(serve(app, config, shutdown_trigger=stop.wait))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(5)
    for _ in range(100):  # until it listens
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            threading.Event().wait(0.05)
    yield f"https://127.0.0.1:{port}", cert, seen
    loop.call_soon_threadsafe(stop.set)
    thread.join(5)


def test_a_site_offering_http2_is_crawled_over_http2(h2_site, work_dir, config):
    base, ca, seen = h2_site
    got: list = []
    with Crawler([base + "/"], work_dir, with_(config, verify=ca)) as crawler:
        stats = crawler.run(lambda medium: got.append(medium))
    assert stats.media == 1 and got[0].http_version == "HTTP/2"
    assert got[0].path.read_bytes() == FILM
    assert {version for version, _, _ in seen} == {"2"}
    assert [path for _, path, _ in seen] == ["/robots.txt", "/", "/film.mp4"]
    assert {agent for _, _, agent in seen} == {config.user_agent}


def test_a_site_whose_certificate_we_do_not_trust_is_not_crawled(h2_site, work_dir, config):
    base, _, seen = h2_site
    with Crawler([base + "/"], work_dir, config) as crawler:  # the system CAs do not know it
        result = crawler.fetch_medium(base + "/film.mp4")
    assert result.reason == "robots_unreachable"  # robots.txt unreachable: everything is disallowed
    assert seen == [] and list(work_dir.iterdir()) == []
