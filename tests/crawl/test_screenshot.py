"""A screenshot is a nicety: taken when chromium is there, False (never an exception) when not."""

from __future__ import annotations

import os

import pytest

from ledger.crawl.screenshot import DEFAULT_CHROMIUM, resolver_rules, screenshot


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
    assert resolver_rules(by_name) is None
    assert resolver_rules(by_name, frozenset({"localhost"})) == []  # the operator let this name be private
    assert resolver_rules(site.url("/")) == []  # an address written in the URL: nothing to look up


def test_a_public_name_is_pinned_to_the_address_looked_up(monkeypatch):
    import socket

    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, **kw: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 0))])
    assert resolver_rules("https://pirate.example/watch") == ["--host-resolver-rules=MAP pirate.example 93.184.215.14"]
