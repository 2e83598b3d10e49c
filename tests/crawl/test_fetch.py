"""A hostile server costs at most a cap of disk and a deadline of time, and every failure
comes back as a reason."""

from __future__ import annotations

import time

import pytest

from ledger.crawl import Crawler, Skipped
from ledger.crawl.transport import PrivateAddress, guarded_stream, make_client
from tests.helpers.crawl import with_
from tests.helpers.piracy_site import MP4_HEAD, make_png

MiB = 1024 * 1024


def _medium(site, work_dir, config, path):
    with Crawler([site.url("/")], work_dir, config) as crawler:
        return crawler.fetch_medium(site.url(path), site.url("/"))


def test_a_5gb_content_length_is_refused_before_reading(site, work_dir, config):
    result = _medium(site, work_dir, with_(config, max_media_bytes=MiB), "/huge.mp4")
    assert isinstance(result, Skipped) and result.reason == "too_large"
    assert "5000000000" in result.detail
    assert list(work_dir.iterdir()) == []
    time.sleep(0.2)  # let the server notice the client left
    assert site.requests("/huge.mp4")[0].sent < 64 * MiB


def test_an_unsized_endless_body_is_abandoned_at_the_cap(site, work_dir, config):
    result = _medium(site, work_dir, with_(config, max_media_bytes=MiB), "/huge-unsized.mp4")
    assert isinstance(result, Skipped) and result.reason == "too_large"
    assert list(work_dir.iterdir()) == []  # the partial file is gone
    time.sleep(0.2)
    assert site.requests("/huge-unsized.mp4")[0].sent < 64 * MiB  # the rest of the 5 GB never came


def test_a_body_trickling_one_byte_a_second_is_abandoned_at_the_deadline(site, work_dir, config):
    started = time.monotonic()
    result = _medium(site, work_dir, with_(config, resource_deadline=2.0, read_timeout=30), "/slow.mp4")
    elapsed = time.monotonic() - started
    assert isinstance(result, Skipped) and result.reason == "timeout"
    assert elapsed < 10  # a byte a second never lets the read timeout (30 s) fire; the deadline does
    assert list(work_dir.iterdir()) == []


def test_headers_trickling_one_byte_a_second_are_abandoned_at_the_deadline(site, work_dir, config):
    started = time.monotonic()
    result = _medium(site, work_dir, with_(config, resource_deadline=2.0, read_timeout=30), "/slow-headers.mp4")
    assert isinstance(result, Skipped) and result.reason == "timeout"
    assert time.monotonic() - started < 10


def test_a_redirect_loop_is_reported_not_followed(site, work_dir, config):
    result = _medium(site, work_dir, config, "/loop/a")
    assert isinstance(result, Skipped) and result.reason == "redirect_loop"
    assert site.paths().count("/loop/a") == 1 and site.paths().count("/loop/b") == 1


def test_more_than_five_redirects_are_not_followed(site, work_dir, config):
    for i in range(7):
        site.redirect(f"/hop/{i}", f"/hop/{i + 1}")
    site.publish("/hop/7", MP4_HEAD, "video/mp4")
    result = _medium(site, work_dir, config, "/hop/0")
    assert isinstance(result, Skipped) and result.reason == "too_many_redirects"
    assert "/hop/6" not in site.paths()  # the sixth hop is never requested


def test_a_redirect_out_of_scope_is_not_followed(site, work_dir, config):
    site.redirect("/away.mp4", "http://elsewhere.invalid/film.mp4")
    result = _medium(site, work_dir, config, "/away.mp4")
    assert isinstance(result, Skipped) and result.reason == "out_of_scope"


def test_redirects_are_followed_and_recorded(site, work_dir, config):
    site.redirect("/dl/film.mp4", "/files/film.mp4", status=301)
    site.publish("/files/film.mp4", MP4_HEAD + b"movie", "video/mp4")
    result = _medium(site, work_dir, config, "/dl/film.mp4")
    assert result.final_url == site.url("/files/film.mp4")
    assert result.redirects == (site.url("/dl/film.mp4"),)
    assert result.path.read_bytes() == MP4_HEAD + b"movie"


def test_404_and_a_connection_closed_mid_body_are_reported(site, work_dir, config):
    missing = _medium(site, work_dir, config, "/gone.mp4")
    broken = _medium(site, work_dir, config, "/broken.mp4")
    assert isinstance(missing, Skipped) and missing.reason == "http_404"
    assert isinstance(broken, Skipped) and broken.reason == "error"
    assert list(work_dir.iterdir()) == []


def test_a_medium_of_the_wrong_type_is_refused(site, work_dir, config):
    site.publish("/fake.mp4", b"<html>an advert</html>", "text/html")
    site.publish("/notes.mp4", b"just text", "text/plain")
    site.publish("/blob.bin", b"PK\x03\x04 a zip, not a film" + bytes(300), "application/octet-stream")
    for path in ("/fake.mp4", "/notes.mp4", "/blob.bin"):
        result = _medium(site, work_dir, config, path)
        assert isinstance(result, Skipped) and result.reason == "bad_type", path
    assert list(work_dir.iterdir()) == []


def test_untyped_bytes_are_taken_when_they_sniff_as_a_medium(site, work_dir, config, clip):
    site.publish("/get?id=7", clip.read_bytes(), "application/octet-stream")
    result = _medium(site, work_dir, config, "/get?id=7")
    assert result.kind == "video" and result.path.read_bytes() == clip.read_bytes()


def test_a_fetched_medium_carries_the_facts_of_its_fetch(site, work_dir, config, clip):
    import hashlib

    site.publish("/films/film.mp4", clip, "video/mp4", headers={"X-Served-By": "pirate-cdn-3"})
    result = _medium(site, work_dir, config, "/films/film.mp4")
    data = clip.read_bytes()
    assert (result.kind, result.status, result.http_version) == ("video", 200, "HTTP/1.1")
    assert result.sha256 == hashlib.sha256(data).hexdigest() and result.size == len(data)
    assert result.headers["x-served-by"] == "pirate-cdn-3" and result.headers["content-type"] == "video/mp4"
    assert result.fetched_at.tzinfo is not None
    assert result.page_url == site.url("/")
    assert result.path.parent == work_dir


def test_every_request_carries_our_user_agent(site, work_dir, config):
    site.page("/", '<a href="/a.html">a</a>')
    site.page("/a.html", "<p>hello</p>")
    with Crawler([site.url("/")], work_dir, with_(config, user_agent="ReelLedgerBot/9 (+test)")) as crawler:
        crawler.run(lambda medium: None)
    assert {r.path for r in site.requests()} == {"/robots.txt", "/", "/a.html"}
    assert {r.user_agent for r in site.requests()} == {"ReelLedgerBot/9 (+test)"}


def test_a_host_name_that_leads_to_a_private_address_is_sent_nothing(site, work_dir, config):
    """A piracy site's DNS could point its name at 127.0.0.1 or a metadata address: the peer
    the connection reached is checked before the request goes out."""
    site.publish("/poster.png", make_png(3), "image/png")
    by_name = site.url("/").replace("127.0.0.1", "localhost")
    with Crawler([by_name], work_dir, config) as crawler:
        refused = crawler.fetch_medium(by_name + "poster.png", by_name)
    assert isinstance(refused, Skipped) and refused.reason == "private_address", refused
    with make_client(config) as client, pytest.raises(PrivateAddress):  # also when the robots.txt check was passed
        with guarded_stream(client, config, by_name + "poster.png", {}, time.monotonic() + 10):
            pass
    assert site.requests() == []  # not even robots.txt was asked for

    with Crawler([by_name], work_dir, with_(config, private_hosts=frozenset({"localhost"}))) as crawler:
        allowed = crawler.fetch_medium(by_name + "poster.png", by_name)  # the operator said this name may be private
    assert not isinstance(allowed, Skipped), allowed
    with Crawler(
        [site.url("/")], work_dir, config
    ) as crawler:  # an address written in the URL is the operator's choice
        assert not isinstance(crawler.fetch_medium(site.url("/poster.png"), site.url("/")), Skipped)


def test_a_robots_txt_redirecting_into_a_private_network_is_not_followed(site, work_dir, config):
    """RFC 9309 lets robots.txt redirect to other hosts; the crawl's scope does not apply there,
    so an address elsewhere must be public, even when written as an address."""
    from tests.helpers.piracy_site import PiracySite

    with PiracySite() as internal:  # stands for 169.254.169.254, an admin page, a database...
        site.redirect("/robots.txt", internal.url("/robots.txt"))
        site.publish("/poster.png", make_png(4), "image/png")
        with Crawler([site.url("/")], work_dir, config) as crawler:
            refused = crawler.fetch_medium(site.url("/poster.png"), site.url("/"))
        assert isinstance(refused, Skipped) and refused.reason == "private_address", refused
        assert internal.requests() == []
        assert site.paths() == ["/robots.txt"]  # and nothing else of a site that tried it


def test_a_seed_whose_host_name_does_not_resolve_is_skipped_for_that_reason(work_dir, config):
    """A name under .invalid never resolves (RFC 2606): the skip says so, not that robots.txt was unreachable."""
    with Crawler(["https://pirate.invalid/"], work_dir, config) as crawler:
        stats = crawler.run(lambda medium: None)
        assert dict(stats.skipped) == {"dns_unresolved": 1} and stats.pages == 0
        skipped = crawler.fetch_medium("https://pirate.invalid/film.mp4")
    assert isinstance(skipped, Skipped) and skipped.reason == "dns_unresolved", skipped
    assert "pirate.invalid does not resolve" in skipped.detail


def test_a_redirect_to_a_host_name_that_does_not_resolve_names_that_host(site, work_dir, config):
    site.redirect("/moved.mp4", "http://mirror.invalid/film.mp4")
    with Crawler([site.url("/")], work_dir, with_(config, extra_hosts=frozenset({"mirror.invalid"}))) as crawler:
        skipped = crawler.fetch_medium(site.url("/moved.mp4"), site.url("/"))
    assert isinstance(skipped, Skipped) and skipped.reason == "dns_unresolved", skipped
    assert "mirror.invalid does not resolve" in skipped.detail


def test_a_robots_txt_redirecting_to_a_name_that_does_not_resolve_leaves_the_site_unreachable(site, work_dir, config):
    """The site's own name resolved: what failed is where its robots.txt sent us."""
    site.redirect("/robots.txt", "http://robots.invalid/robots.txt")
    site.publish("/poster.png", make_png(5), "image/png")
    with Crawler([site.url("/")], work_dir, config) as crawler:
        skipped = crawler.fetch_medium(site.url("/poster.png"), site.url("/"))
    assert isinstance(skipped, Skipped) and skipped.reason == "robots_unreachable", skipped


def test_only_a_failed_name_lookup_counts_as_a_name_that_does_not_resolve():
    import socket

    import httpx

    from ledger.crawl.transport import unresolved_name

    def raised(cause: BaseException) -> httpx.ConnectError:
        try:
            try:
                raise cause
            except OSError as exc:
                raise httpx.ConnectError(str(exc)) from exc
        except httpx.ConnectError as wrapped:
            return wrapped

    assert unresolved_name(raised(socket.gaierror(-2, "Name or service not known"))) == "Name or service not known"
    assert unresolved_name(raised(ConnectionRefusedError(111, "Connection refused"))) is None
    assert unresolved_name(httpx.ReadTimeout("slow")) is None


def test_the_crawl_command_says_a_seed_name_does_not_resolve(tmp_path):
    import os
    import subprocess

    from tests.helpers.cli import REELLEDGER

    seeds = tmp_path / "seeds.txt"
    seeds.write_text("https://pirate.invalid/\n")
    env = dict(os.environ, REELLEDGER_API_KEY="rlk_crawler", REELLEDGER_URL="http://127.0.0.1:9", COLUMNS="200")
    crawled = subprocess.run(
        [str(REELLEDGER), "crawl", "run", "--seeds", str(seeds), "--state", str(tmp_path / "state")]
        + ["--no-screenshots"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert crawled.returncode == 0, crawled.stderr
    assert "skipped: 1 dns_unresolved" in crawled.stdout, crawled.stdout


@pytest.mark.parametrize(
    "address, public",
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("64:ff9b::808:808", True),
        ("2002:808:808::1", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:169.254.169.254", False),
        ("64:ff9b::a9fe:a9fe", False),
        ("2002:7f00:1::1", False),
        ("::127.0.0.1", False),
        ("0.0.0.0", False),
    ],
)
def test_an_address_is_public_only_with_every_ipv4_address_it_carries(address, public):
    from ledger.crawl.transport import is_public

    assert is_public(address) is public
