"""A whole crawl: scope, depth, page count, media handed on once, unchanged media not again."""

from __future__ import annotations

import hashlib

from ledger.crawl import Crawler, RedisCrawlState, Skipped, SqliteCrawlState
from tests.helpers.crawl import with_
from tests.helpers.piracy_site import make_png


def _collect(into: list):
    def on_medium(medium):
        into.append((medium, medium.path.read_bytes()))
        medium.path.unlink()

    return on_medium


def test_a_crawl_follows_links_in_scope_to_the_depth_and_hands_on_each_medium(site, work_dir, config):
    site.page("/", '<a href="/d1.html">1</a> <a href="http://elsewhere.invalid/x.html">away</a> <img src="/a.png">')
    site.page("/d1.html", '<a href="/d2.html">2</a> <img src="/b.png">')
    site.page("/d2.html", '<a href="/d3.html">3</a> <img src="/c.png">')
    site.page("/d3.html", "<p>too deep</p>")
    for i, name in enumerate("abc"):
        site.publish(f"/{name}.png", make_png(i), "image/png")
    got: list = []
    with Crawler([site.url("/")], work_dir, with_(config, max_depth=2)) as crawler:
        stats = crawler.run(_collect(got))
    assert "/d3.html" not in site.paths()
    assert (stats.pages, stats.media) == (3, 3)
    assert {m.url: m.page_url for m, _ in got} == {
        site.url("/a.png"): site.url("/"),
        site.url("/b.png"): site.url("/d1.html"),
        site.url("/c.png"): site.url("/d2.html"),
    }
    assert stats.bytes == sum(len(data) for _, data in got)
    assert list(work_dir.iterdir()) == []


def test_a_crawl_stops_at_the_page_count(site, work_dir, config):
    site.page("/", "".join(f'<a href="/p{i}.html">{i}</a>' for i in range(10)))
    for i in range(10):
        site.page(f"/p{i}.html", "<p>x</p>")
    with Crawler([site.url("/")], work_dir, with_(config, max_pages=4)) as crawler:
        stats = crawler.run(lambda m: None)
    assert stats.pages == 4 and len([p for p in site.paths() if p.endswith(".html")]) == 3


def test_one_url_is_fetched_once_however_it_is_spelled(site, work_dir, config):
    base = site.base_url
    shouted = base.upper().replace("HTTP", "http", 1)
    site.page("/", f'<a href="/a.html">a</a> <a href="/a.html#x">b</a> <a href="{shouted}/a.html">c</a>')
    site.page("/a.html", '<a href="/">home</a>')
    with Crawler([site.url("/")], work_dir, config) as crawler:
        crawler.run(lambda m: None)
    assert site.paths().count("/a.html") == 1 and site.paths().count("/") == 1


def test_a_link_without_extension_to_a_medium_is_downloaded_as_one(site, work_dir, config, clip):
    site.page("/", '<a href="/watch?v=1">watch</a>')
    site.publish("/watch?v=1", clip, "video/mp4")
    got: list = []
    with Crawler([site.url("/")], work_dir, config) as crawler:
        stats = crawler.run(_collect(got))
    assert stats.media == 1 and got[0][0].kind == "video" and got[0][0].page_url == site.url("/")
    assert got[0][1] == clip.read_bytes()


def test_the_same_bytes_at_two_urls_are_handed_on_once(site, work_dir, config, clip):
    site.page("/", '<a href="/mirror1/film.mp4">1</a> <a href="/mirror2/film.mp4">2</a>')
    site.publish("/mirror1/film.mp4", clip, "video/mp4")
    site.publish("/mirror2/film.mp4", clip, "video/mp4")
    got: list = []
    with Crawler([site.url("/")], work_dir, config) as crawler:
        stats = crawler.run(_collect(got))
    assert len(got) == 1 and stats.skipped["duplicate_content"] == 1
    assert got[0][0].sha256 == hashlib.sha256(clip.read_bytes()).hexdigest()
    assert list(work_dir.iterdir()) == []  # the duplicate's file is deleted


def test_a_second_crawl_asks_if_unchanged_and_does_not_hand_on_again(site, work_dir, config, clip, tmp_path):
    site.page("/", '<video src="/film.mp4"></video>')
    site.publish("/film.mp4", clip, "video/mp4")
    got: list = []
    for _ in range(2):  # two crawls, two processes' worth of state: only the file is shared
        state = SqliteCrawlState(tmp_path / "crawl.sqlite")
        with Crawler([site.url("/")], work_dir, config, state=state) as crawler:
            stats = crawler.run(_collect(got))
        state.close()
    first, second = site.requests("/film.mp4")
    assert first.if_none_match is None
    assert second.if_none_match and second.if_modified_since
    assert len(got) == 1 and stats.skipped["unchanged"] == 1 and stats.media == 0
    assert list(work_dir.iterdir()) == []


def test_a_changed_medium_is_fetched_again(site, work_dir, config, tmp_path):
    site.page("/", '<img src="/poster.png">')
    site.publish("/poster.png", make_png(1), "image/png")
    got: list = []
    state_path = tmp_path / "crawl.sqlite"
    with Crawler([site.url("/")], work_dir, config, state=SqliteCrawlState(state_path)) as crawler:
        crawler.run(_collect(got))
    site.publish("/poster.png", make_png(2), "image/png")
    with Crawler([site.url("/")], work_dir, config, state=SqliteCrawlState(state_path)) as crawler:
        crawler.run(_collect(got))
    assert [data for _, data in got] == [make_png(1), make_png(2)]


def test_workers_sharing_redis_state_take_each_url_once(site, work_dir, config, redis_prefix):
    client, prefix = redis_prefix
    site.page("/", '<a href="/a.html">a</a> <img src="/x.png">')
    site.page("/a.html", '<a href="/">home</a> <img src="/x.png"> <img src="/y.png">')
    site.publish("/x.png", make_png(1), "image/png")
    site.publish("/y.png", make_png(1), "image/png")  # the same bytes as x.png
    workers = [
        Crawler([site.url("/")], work_dir, config, state=RedisCrawlState(client, prefix, crawl_id="c1"))
        for _ in range(2)
    ]
    assert workers[0].seed_pages() == [(site.url("/"), 0)] and workers[1].seed_pages() == []
    home = workers[0].crawl_page(site.url("/"), 0)
    assert home.pages == [(site.url("/a.html"), 1)] and home.media == [site.url("/x.png")]
    other = workers[1].crawl_page(site.url("/a.html"), 1)
    assert other.pages == [] and other.media == [site.url("/y.png")]  # "/" and x.png were taken
    first = workers[0].fetch_medium(home.media[0], home.url)
    second = workers[1].fetch_medium(other.media[0], other.url)
    assert first.kind == "image" and isinstance(second, Skipped) and second.reason == "duplicate_content"
    assert RedisCrawlState(client, prefix).validators(site.url("/x.png")).etag
    for w in workers:
        w.close()


def test_a_medium_the_callback_failed_on_is_fetched_again_next_crawl(site, work_dir, config, tmp_path):
    site.page("/", '<img src="/poster.png">')
    site.publish("/poster.png", make_png(3), "image/png")
    state_path = tmp_path / "crawl.sqlite"

    def fail(medium):
        medium.path.unlink()
        raise RuntimeError("the service is down")

    with Crawler([site.url("/")], work_dir, config, state=SqliteCrawlState(state_path)) as crawler:
        try:
            crawler.run(fail)
        except RuntimeError:
            pass
    got: list = []
    with Crawler([site.url("/")], work_dir, config, state=SqliteCrawlState(state_path)) as crawler:
        crawler.run(_collect(got))
    assert [data for _, data in got] == [make_png(3)]
    assert [r.if_none_match for r in site.requests("/poster.png")] == [None, None]


def test_a_worker_records_a_medium_only_when_it_says_so(site, work_dir, config):
    site.publish("/a.png", make_png(4), "image/png")
    site.publish("/b.png", make_png(4), "image/png")
    with Crawler([site.url("/")], work_dir, config) as crawler:
        first = crawler.fetch_medium(site.url("/a.png"), record=False)
        again = crawler.fetch_medium(site.url("/b.png"), record=False)  # not recorded yet: not a duplicate
        crawler.record(first)
        third = crawler.fetch_medium(site.url("/b.png"), record=False)
    assert again.sha256 == first.sha256
    assert isinstance(third, Skipped) and third.reason == "duplicate_content"
