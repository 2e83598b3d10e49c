"""A screenshot is a nicety: taken when chromium is there, False (never an exception) when not."""

from __future__ import annotations

import logging
import os

import pytest

from ledger.crawl.guard_proxy import GuardProxy
from ledger.crawl.screenshot import DEFAULT_CHROMIUM, screenshot
from tests.helpers.piracy_site import PiracySite

PNG = bytes.fromhex(  # one transparent pixel
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


def test_without_chromium_a_screenshot_is_false(monkeypatch, tmp_path):
    monkeypatch.setenv("REELLEDGER_CHROMIUM", str(tmp_path / "no-such-chromium"))
    assert screenshot("http://127.0.0.1:9/", tmp_path / "shot.png") is False
    assert not (tmp_path / "shot.png").exists()


def test_a_chromium_that_hangs_is_stopped_at_the_timeout(monkeypatch, tmp_path):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("REELLEDGER_CHROMIUM", str(fake))
    assert screenshot("http://127.0.0.1:9/", tmp_path / "shot.png", timeout=0.5) is False


@pytest.mark.skipif(not os.access(DEFAULT_CHROMIUM, os.X_OK), reason="no chromium on this machine")
def test_a_page_is_captured_as_a_png(site, tmp_path, monkeypatch):
    monkeypatch.delenv("REELLEDGER_CHROMIUM", raising=False)
    site.page("/", "<h1 style='color:red'>Pirated film, watch free</h1>")
    out = tmp_path / "shot.png"
    assert screenshot(site.url("/"), out, timeout=30) is True
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [r.path for r in site.requests() if r.path == "/"]  # chromium really fetched it


def test_a_page_whose_name_leads_to_a_private_address_is_not_taken(site, tmp_path, monkeypatch):
    """The crawl's own rule (transport.py): chromium is not sent where the crawler would not go."""
    fake = tmp_path / "chromium"  # would leave a mark if it were started
    fake.write_text(f"#!/bin/sh\ntouch {tmp_path / 'started'}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("REELLEDGER_CHROMIUM", str(fake))
    by_name = site.url("/").replace("127.0.0.1", "localhost")
    assert screenshot(by_name, tmp_path / "shot.png", timeout=5) is False
    assert not (tmp_path / "started").exists()


def test_the_proxy_lets_through_public_addresses_and_the_page_s_own_origin(site):
    port = int(site.authority.rsplit(":", 1)[1])
    by_name = site.url("/").replace("127.0.0.1", "localhost")
    assert GuardProxy(by_name).addresses_for("localhost", port) == []
    listed = GuardProxy(by_name, frozenset({"localhost"}))  # the operator let this name be private...
    assert "127.0.0.1" in listed.addresses_for("localhost", port)
    assert listed.addresses_for("localhost", 8545) == []  # ...for the page's own origin, not its other ports
    assert GuardProxy("https://pirate.example/", frozenset({"localhost"})).addresses_for("localhost", port) == []
    page = GuardProxy(site.url("/"))  # an address written in the URL is the operator's choice, for that origin
    assert page.addresses_for("127.0.0.1", port) == ["127.0.0.1"]
    assert page.addresses_for("127.0.0.1", 8545) == []
    for private in (
        "10.1.2.3",
        "169.254.169.254",
        "::1",
        "::ffff:127.0.0.1",
        "192.168.0.1",
        "2130706433",
        "localhost.",
    ):
        assert page.addresses_for(private, 80) == [], private
    assert page.addresses_for("93.184.215.14", 443) == ["93.184.215.14"]


def test_a_public_name_is_connected_at_the_addresses_checked(monkeypatch):
    import socket

    answers = {
        "pirate.example": ["2606:2800:21f:cb07:6820:80da:af6b:8b2c", "93.184.215.14"],
        "mixed.example": ["93.184.215.14", "10.0.0.7"],
    }
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, **kw: [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answers.get(host, [])
        ],
    )
    proxy = GuardProxy("https://pirate.example/watch")
    assert proxy.addresses_for("pirate.example", 443) == answers["pirate.example"]  # each tried in turn
    assert proxy.addresses_for("mixed.example", 443) == []  # one private answer is enough to refuse
    assert proxy.addresses_for("nowhere.example", 443) == []


@pytest.mark.skipif(not os.access(DEFAULT_CHROMIUM, os.X_OK), reason="no chromium on this machine")
def test_what_a_page_loads_reaches_public_addresses_only(site, tmp_path, monkeypatch, caplog):
    """A hostile page's images, requests and WebSockets aimed at loopback (the chain node, Redis)
    do not get there; the page's own images do."""
    monkeypatch.delenv("REELLEDGER_CHROMIUM", raising=False)
    caplog.set_level(logging.INFO, logger="reelledger.crawl")
    with PiracySite() as inside:
        other = inside.authority.rsplit(":", 1)[1]
        site.publish("/own.png", PNG, "image/png")
        inside.publish("/pixel.png", PNG, "image/png")
        inside.publish("/by-name.png", PNG, "image/png")
        site.page(
            "/",
            f"""<h1>Watch free</h1><img src="/own.png">
            <img src="http://127.0.0.1:{other}/pixel.png"><img src="http://localhost:{other}/by-name.png">
            <script>
              try {{ new WebSocket("ws://127.0.0.1:{other}/ws"); }} catch (e) {{}}
              fetch("http://127.0.0.1:{other}/fetch", {{mode: "no-cors"}}).catch(() => {{}});
              const xhr = new XMLHttpRequest();  // synchronous: sent before the page has loaded
              xhr.open("GET", "http://[::1]:{other}/xhr", false);
              try {{ xhr.send(); }} catch (e) {{}}
            </script>""",
        )
        assert screenshot(site.url("/"), tmp_path / "shot.png", timeout=30) is True
        assert site.requests("/own.png")
        assert inside.paths() == []
        refused = " ".join(r.getMessage() for r in caplog.records if "refused to reach" in r.getMessage())
        for target in (f"127.0.0.1:{other}", f"localhost:{other}", f"[::1]:{other}"):
            assert target in refused, (target, refused)


def _through(proxy: GuardProxy, head: bytes, then: bytes = b"") -> bytes:
    import socket

    with socket.create_connection(("127.0.0.1", int(proxy.url.rsplit(":", 1)[1])), timeout=10) as sock:
        sock.sendall(head)
        if then:
            assert sock.recv(4096).startswith(b"HTTP/1.1 200 Connection Established")
            sock.sendall(then)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def test_the_proxy_tunnels_and_forwards_to_an_allowed_origin_and_refuses_others(site):
    site.page("/hello", "<p>hello</p>")
    with GuardProxy(site.url("/")) as proxy:
        tunnelled = _through(
            proxy,
            f"CONNECT {site.authority} HTTP/1.1\r\nHost: {site.authority}\r\n\r\n".encode(),
            f"GET /hello HTTP/1.1\r\nHost: {site.authority}\r\nConnection: close\r\n\r\n".encode(),
        )
        assert tunnelled.startswith(b"HTTP/1.1 200") and tunnelled.endswith(b"<p>hello</p>")
        forwarded = _through(
            proxy,
            f"GET {site.url('/hello')} HTTP/1.1\r\nHost: {site.authority}\r\n"
            "Proxy-Connection: keep-alive\r\n\r\n".encode(),
        )
        assert forwarded.startswith(b"HTTP/1.1 200") and forwarded.endswith(b"<p>hello</p>")
        assert len(site.requests("/hello")) == 2

        refused = _through(proxy, b"CONNECT 127.0.0.1:6379 HTTP/1.1\r\nHost: 127.0.0.1:6379\r\n\r\n")
        assert refused.startswith(b"HTTP/1.1 403") and proxy.refused == ["127.0.0.1:6379"]
        assert _through(proxy, b"GET http://localhost:6379/ HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 403")
        assert _through(proxy, b"GET /relative HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 403")
        assert _through(proxy, b"CONNECT 127.0.0.1:99999 HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 403")

        # a connection carries one request: a second one on it, for a host that may not be
        # reached, goes nowhere (the site may keep its side open, the proxy does not)
        second = b"GET http://127.0.0.1:6379/ HTTP/1.1\r\nHost: 127.0.0.1:6379\r\n\r\n"
        answer = _through(
            proxy, f"GET {site.url('/hello')} HTTP/1.1\r\nHost: {site.authority}\r\n\r\n".encode() + second
        )
        assert answer.count(b"HTTP/1.1 ") == 1 and len(site.requests("/hello")) == 3
        assert [r.path for r in site.requests()][-1] == "/hello"
